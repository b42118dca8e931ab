package usb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Hub class requests and features (USB 2.0 §11.24, tables 11-15 to 11-17).
const (
	hubPortConnection   = 0
	hubPortEnable       = 1
	hubPortReset        = 4
	hubPortPower        = 8
	hubCPortConnection  = 16
	hubCPortEnable      = 17
	hubCPortOverCurrent = 19
	hubCPortReset       = 20
)

// Port status bits (USB 2.0 table 11-21) and change bits (table 11-22).
const (
	PortConnection  = 1 << 0
	PortEnable      = 1 << 1
	PortSuspend     = 1 << 2
	PortOverCurrent = 1 << 3
	PortReset       = 1 << 4
	PortPower       = 1 << 8
	PortLowSpeed    = 1 << 9
	PortHighSpeed   = 1 << 10

	PortChangeConnection  = 1 << 0
	PortChangeEnable      = 1 << 1
	PortChangeOverCurrent = 1 << 3
	PortChangeReset       = 1 << 4
)

// HubDescriptor is the USB 2.0 hub descriptor (§11.23.2.1).
type HubDescriptor struct {
	Ports           int
	Characteristics uint16
	PowerOnToGood   time.Duration // bPwrOn2PwrGood × 2 ms
	ControlCurrent  uint8         // mA
}

// ThinkTime is the TT think time field (wHubCharacteristics bits 6:5).
func (h HubDescriptor) ThinkTime() int { return int(h.Characteristics>>5) & 3 }

// ParseHubDescriptor decodes a USB 2.0 hub descriptor.
func ParseHubDescriptor(b []byte) (HubDescriptor, error) {
	if len(b) < 7 {
		return HubDescriptor{}, fmt.Errorf("usb: hub descriptor is %d bytes, need 7", len(b))
	}
	if b[1] != DescHub {
		return HubDescriptor{}, fmt.Errorf("usb: descriptor type %#x where a hub descriptor (0x29) was expected", b[1])
	}
	if b[0] < 7 {
		return HubDescriptor{}, fmt.Errorf("usb: hub descriptor says bLength %d, need 7", b[0])
	}
	h := HubDescriptor{
		Ports:           int(b[2]),
		Characteristics: binary.LittleEndian.Uint16(b[3:]),
		PowerOnToGood:   time.Duration(b[5]) * 2 * time.Millisecond,
		ControlCurrent:  b[6],
	}
	if h.Ports == 0 {
		return HubDescriptor{}, errors.New("usb: hub descriptor says the hub has no ports")
	}
	return h, nil
}

// PortStatus is the answer to a hub's GET_STATUS(port) (§11.24.2.7).
type PortStatus struct {
	Status uint16
	Change uint16
}

// ParsePortStatus decodes the 4-byte port status.
func ParsePortStatus(b []byte) (PortStatus, error) {
	if len(b) != 4 {
		return PortStatus{}, fmt.Errorf("usb: hub port status is %d bytes, want 4", len(b))
	}
	return PortStatus{Status: binary.LittleEndian.Uint16(b), Change: binary.LittleEndian.Uint16(b[2:])}, nil
}

func (p PortStatus) Connected() bool { return p.Status&PortConnection != 0 }
func (p PortStatus) Enabled() bool   { return p.Status&PortEnable != 0 }

// Speed of the device on the port, for a USB 2.0 hub.
func (p PortStatus) Speed() Speed {
	switch {
	case p.Status&PortLowSpeed != 0:
		return SpeedLow
	case p.Status&PortHighSpeed != 0:
		return SpeedHigh
	}
	return SpeedFull
}

func (p PortStatus) String() string {
	return fmt.Sprintf("status %#04x change %#04x", p.Status, p.Change)
}

// hub is the state of the hub class driver for one hub.
type hub struct {
	desc HubDescriptor
}

func (d *Device) hubRequest(typ, req uint8, value, index uint16, data []byte) error {
	s := Setup{RequestType: typ, Request: req, Value: value, Index: index, Length: uint16(len(data))}
	_, err := d.Control(s, data)
	return err
}

func (d *Device) setPortFeature(port int, feature uint16) error {
	return d.hubRequest(DirOut|TypeClass|RecipOther, ReqSetFeature, feature, uint16(port), nil)
}

func (d *Device) clearPortFeature(port int, feature uint16) error {
	return d.hubRequest(DirOut|TypeClass|RecipOther, ReqClearFeature, feature, uint16(port), nil)
}

func (d *Device) portStatus(port int) (PortStatus, error) {
	b := make([]byte, 4)
	if err := d.hubRequest(DirIn|TypeClass|RecipOther, ReqGetStatus, 0, uint16(port), b); err != nil {
		return PortStatus{}, err
	}
	return ParsePortStatus(b)
}

// startHub is the hub class driver's set-up: read the hub descriptor, tell the
// host controller the device is a hub, select the configuration and power the
// ports. Port status changes are polled with GET_STATUS rather than read from the
// hub's interrupt endpoint: enumeration happens once, at start-up, and polling
// needs no interrupt transfers in flight.
func (d *Device) startHub() error {
	if d.Loc.Speed >= SpeedSuper {
		// A USB 3 hub shows up twice: as this SuperSpeed hub and as a USB 2 hub on
		// the paired USB 2 root port. The USB 2 half finds every device (at high
		// speed at worst), so the SuperSpeed half is left unconfigured.
		return errors.New("SuperSpeed hub: not driven (its USB 2 half on the companion port is used)")
	}
	b := make([]byte, 71) // 7 + 2 bitmaps of up to 32 bytes
	if err := d.hubRequest(DirIn|TypeClass|RecipDevice, ReqGetDescriptor, DescHub<<8, 0, b); err != nil {
		return fmt.Errorf("read hub descriptor: %w", err)
	}
	desc, err := ParseHubDescriptor(b)
	if err != nil {
		return err
	}
	d.hub = &hub{desc: desc}
	// Single-TT operation: a multi-TT hub runs in single-TT mode in its default
	// alternate setting (USB 2.0 §11.23.1), which is the one selected here.
	if err := d.hd.Configure(nil, &HubConfig{Ports: desc.Ports, ThinkTime: desc.ThinkTime()}); err != nil {
		return fmt.Errorf("configure hub slot: %w", err)
	}
	if err := d.SetConfiguration(d.Config.Value); err != nil {
		return fmt.Errorf("set configuration %d: %w", d.Config.Value, err)
	}
	for p := 1; p <= desc.Ports; p++ {
		if err := d.setPortFeature(p, hubPortPower); err != nil {
			return fmt.Errorf("power port %d: %w", p, err)
		}
	}
	logf(d.opt.Log, "%s: hub with %d ports, power-on to good %v, TT think time %d", d.Name(), desc.Ports, desc.PowerOnToGood, desc.ThinkTime())
	// Power good, then the connect debounce interval (USB 2.0 §7.1.7.3, TATTDB 100 ms).
	d.opt.sleep(desc.PowerOnToGood + d.opt.debounce())
	return nil
}

// resetHubPort resets a connected hub port and returns the speed of the device
// on it (§11.24.2.7.1.5: the hub sets C_PORT_RESET when the reset completes).
func (d *Device) resetHubPort(port int) (Speed, error) {
	if err := d.clearPortFeature(port, hubCPortConnection); err != nil {
		return 0, fmt.Errorf("clear C_PORT_CONNECTION: %w", err)
	}
	if err := d.setPortFeature(port, hubPortReset); err != nil {
		return 0, fmt.Errorf("start port reset: %w", err)
	}
	deadline := time.Now().Add(d.opt.portResetTimeout())
	for {
		d.opt.sleep(10 * time.Millisecond)
		st, err := d.portStatus(port)
		if err != nil {
			return 0, fmt.Errorf("port status during reset: %w", err)
		}
		if !st.Connected() {
			return 0, fmt.Errorf("device left during port reset (%v)", st)
		}
		if st.Change&PortChangeReset != 0 && st.Status&PortReset == 0 {
			if err := d.clearPortFeature(port, hubCPortReset); err != nil {
				return 0, fmt.Errorf("clear C_PORT_RESET: %w", err)
			}
			if !st.Enabled() {
				return 0, fmt.Errorf("port not enabled after reset (%v)", st)
			}
			return st.Speed(), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("port reset did not complete in %v (%v)", d.opt.portResetTimeout(), st)
		}
	}
}

// childLocation is where a device on port of hub d sits.
func (d *Device) childLocation(port int, speed Speed) (Location, error) {
	if d.Loc.Depth >= 5 {
		return Location{}, errors.New("more than five hubs deep (the route string has five tiers)")
	}
	p := port
	if p > 15 {
		p = 15 // route string nibbles saturate at 15 (xHCI §8.9)
	}
	loc := Location{
		RootPort: d.Loc.RootPort,
		Route:    d.Loc.Route | uint32(p)<<(4*d.Loc.Depth),
		Depth:    d.Loc.Depth + 1,
		Speed:    speed,
		Path:     fmt.Sprintf("%s.%d", d.Loc.Path, port),
	}
	if speed < SpeedHigh {
		if d.Loc.Speed == SpeedHigh {
			// This hub's transaction translator turns the high-speed split
			// transactions into full/low-speed ones for the device.
			loc.TTHub, loc.TTPort = d.hd, port
		} else {
			loc.TTHub, loc.TTPort, loc.TTMulti = d.Loc.TTHub, d.Loc.TTPort, d.Loc.TTMulti
		}
	}
	return loc, nil
}
