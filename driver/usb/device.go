package usb

import (
	"errors"
	"fmt"
	"time"
)

// Device is an enumerated USB device: addressed, described and (unless it is
// of no interest) configured.
type Device struct {
	Loc          Location
	Descriptor   DeviceDescriptor
	Config       *Configuration // the active configuration
	Manufacturer string
	Product      string
	Serial       string

	host   Host
	hd     HostDevice
	opt    *Options
	parent *Device // the hub this device hangs from; nil on a root port
	port   int     // port on parent
	hub    *hub    // set when the device is a hub
}

// Name is how logs and errors refer to the device: "usb 2" (root port 2),
// "usb 1.3" (port 3 of the hub on root port 1).
func (d *Device) Name() string { return "usb " + d.Loc.Path }

// Speed is the speed the device runs at.
func (d *Device) Speed() Speed { return d.Loc.Speed }

// Host returns the host-controller side of the device.
func (d *Device) Host() HostDevice { return d.hd }

// IsHub reports whether the device is a hub.
func (d *Device) IsHub() bool { return d.hub != nil }

func (d *Device) String() string {
	s := fmt.Sprintf("%s: %04x:%04x", d.Name(), d.Descriptor.Vendor, d.Descriptor.Product)
	if d.Manufacturer != "" || d.Product != "" {
		s += fmt.Sprintf(" %q %q", d.Manufacturer, d.Product)
	}
	return s + ", " + d.Loc.Speed.String()
}

// Control runs a control transfer on endpoint 0 with the standard timeout.
func (d *Device) Control(s Setup, data []byte) (int, error) {
	if int(s.Length) != len(data) {
		return 0, fmt.Errorf("%s: %v with a %d-byte buffer", d.Name(), s, len(data))
	}
	n, err := d.hd.Control(s, data, d.opt.controlTimeout())
	if err != nil {
		return n, d.wrap(err, "%v", s)
	}
	return n, nil
}

// Bulk moves data on a bulk endpoint (see HostDevice.Bulk).
func (d *Device) Bulk(ep uint8, buf []byte, timeout time.Duration) (int, error) {
	n, err := d.hd.Bulk(ep, buf, timeout)
	if err != nil {
		return n, d.wrap(err, "bulk %s endpoint %d, %d bytes", dirName(ep), ep&0x0F, len(buf))
	}
	return n, nil
}

// ClearHalt clears a halted (stalled) endpoint on both sides: the device gets
// CLEAR_FEATURE(ENDPOINT_HALT), the host resets its endpoint state, so that both
// restart with data toggle / sequence number 0 (USB 2.0 §9.4.5).
func (d *Device) ClearHalt(ep uint8) error {
	s := Setup{RequestType: DirOut | TypeStandard | RecipEndpoint, Request: ReqClearFeature, Value: FeatureEndpointHalt, Index: uint16(ep)}
	if _, err := d.Control(s, nil); err != nil {
		return fmt.Errorf("clear halt of endpoint %#02x: %w", ep, err)
	}
	if err := d.hd.ResetEndpoint(ep); err != nil {
		return d.wrap(err, "reset host endpoint %#02x", ep)
	}
	return nil
}

// Connected reports whether the device is still attached (asks the root port,
// or the parent hub over its control endpoint).
func (d *Device) Connected() bool {
	if d.parent == nil {
		return d.host.RootPortConnected(d.Loc.RootPort)
	}
	if !d.parent.Connected() {
		return false
	}
	st, err := d.parent.portStatus(d.port)
	return err == nil && st.Connected()
}

// wrap adds the device name and turns a failure of a device that has gone away
// into ErrDisconnected, which is what callers need to know.
func (d *Device) wrap(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if !errors.Is(err, ErrDisconnected) && !errors.Is(err, ErrStall) && !d.Connected() {
		return fmt.Errorf("%s: %s: %w (%v)", d.Name(), what, ErrDisconnected, err)
	}
	return fmt.Errorf("%s: %s: %w", d.Name(), what, err)
}

func dirName(ep uint8) string {
	if ep&DirIn != 0 {
		return "IN"
	}
	return "OUT"
}

// GetDescriptor reads a descriptor of up to n bytes.
func (d *Device) GetDescriptor(typ, index uint8, lang uint16, n int) ([]byte, error) {
	b := make([]byte, n)
	s := Setup{RequestType: DirIn | TypeStandard | RecipDevice, Request: ReqGetDescriptor,
		Value: uint16(typ)<<8 | uint16(index), Index: lang, Length: uint16(n)}
	got, err := d.Control(s, b)
	if err != nil {
		return nil, err
	}
	return b[:got], nil
}

// SetConfiguration selects configuration value v.
func (d *Device) SetConfiguration(v uint8) error {
	s := Setup{RequestType: DirOut | TypeStandard | RecipDevice, Request: ReqSetConfiguration, Value: uint16(v)}
	_, err := d.Control(s, nil)
	return err
}

// readString reads string descriptor index in the device's first language; errors
// give "" (many devices stall string requests, and names are only for logs).
func (d *Device) readString(index uint8, lang uint16) string {
	if index == 0 {
		return ""
	}
	b, err := d.GetDescriptor(DescString, index, lang, 255)
	if err != nil {
		return ""
	}
	s, err := ParseString(b)
	if err != nil {
		return ""
	}
	return s
}

// describe reads the device and configuration descriptors and the names.
func (d *Device) describe() error {
	head, err := d.GetDescriptor(DescDevice, 0, 0, 8)
	if err != nil {
		return fmt.Errorf("read device descriptor head: %w", err)
	}
	mps, err := ParseMaxPacket0(head, d.Loc.Speed)
	if err != nil {
		return err
	}
	if mps != d.Loc.Speed.DefaultMaxPacket0() {
		if err := d.hd.SetMaxPacket0(mps); err != nil {
			return fmt.Errorf("set endpoint 0 max packet %d: %w", mps, err)
		}
	}
	b, err := d.GetDescriptor(DescDevice, 0, 0, 18)
	if err != nil {
		return fmt.Errorf("read device descriptor: %w", err)
	}
	if d.Descriptor, err = ParseDeviceDescriptor(b, d.Loc.Speed); err != nil {
		return err
	}
	if d.Descriptor.Configurations == 0 {
		return errors.New("device has no configurations")
	}
	head, err = d.GetDescriptor(DescConfiguration, 0, 0, 9)
	if err != nil {
		return fmt.Errorf("read configuration descriptor head: %w", err)
	}
	if len(head) < 4 {
		return fmt.Errorf("configuration descriptor head is %d bytes", len(head))
	}
	total := int(head[2]) | int(head[3])<<8
	if total < 9 {
		return fmt.Errorf("configuration descriptor says wTotalLength %d", total)
	}
	b, err = d.GetDescriptor(DescConfiguration, 0, 0, total)
	if err != nil {
		return fmt.Errorf("read configuration descriptor (%d bytes): %w", total, err)
	}
	if d.Config, err = ParseConfiguration(b); err != nil {
		return err
	}
	if langs, err := d.GetDescriptor(DescString, 0, 0, 255); err == nil && len(langs) >= 4 {
		lang := uint16(langs[2]) | uint16(langs[3])<<8
		d.Manufacturer = d.readString(d.Descriptor.ManufacturerIndex, lang)
		d.Product = d.readString(d.Descriptor.ProductIndex, lang)
		d.Serial = d.readString(d.Descriptor.SerialIndex, lang)
	}
	return nil
}

// configure enables the bulk endpoints of every interface's default alternate
// setting on the host, then selects the configuration. Interrupt and isochronous
// endpoints are left out: no driver here uses them, and leaving them out avoids
// bandwidth errors from devices we only pass by.
func (d *Device) configure() error {
	var eps []EndpointConfig
	for _, ifc := range d.Config.Interfaces {
		if ifc.Alternate != 0 {
			continue
		}
		for _, ep := range ifc.Endpoints {
			if ep.Type() == Bulk {
				eps = append(eps, ep.Config())
			}
		}
	}
	if err := d.hd.Configure(eps, nil); err != nil {
		return fmt.Errorf("configure %d endpoints: %w", len(eps), err)
	}
	if err := d.SetConfiguration(d.Config.Value); err != nil {
		return fmt.Errorf("set configuration %d: %w", d.Config.Value, err)
	}
	return nil
}

// Interfaces returns the default alternate settings of the active configuration
// that match class/subclass/protocol (-1 matches anything).
func (d *Device) Interfaces(class, subclass, protocol int) []*Interface {
	var out []*Interface
	if d.Config == nil {
		return nil
	}
	for i := range d.Config.Interfaces {
		ifc := &d.Config.Interfaces[i]
		if ifc.Alternate != 0 {
			continue
		}
		if ifc.Match(class, subclass, protocol) {
			out = append(out, ifc)
		}
	}
	return out
}
