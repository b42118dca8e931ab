// Package usbfake holds USB device models for host tests: a bulk-only mass-storage
// device (SCSI direct-access disk) and a USB 2.0 hub. A fake host controller (or a
// test adapter) drives them transfer by transfer; they answer as real devices do,
// including STALLs, and can be told to misbehave (faults) or be unplugged.
//
// The models follow the specifications, not any driver: USB 2.0 chapters 9 and 11,
// USB Mass Storage Class Bulk-Only Transport 1.0, SCSI SPC/SBC.
package usbfake

import (
	"encoding/binary"
	"errors"
	"unicode/utf16"

	"github.com/inferpi/inferpi/driver/usb"
)

// Errors a model returns besides usb.ErrStall.
var (
	// ErrGone: the device has been unplugged; the host sees a transaction error.
	ErrGone = errors.New("usbfake: device unplugged")
	// ErrNoResponse: the device NAKs forever; the host's transfer never completes.
	ErrNoResponse = errors.New("usbfake: device does not respond")
)

// Device is a USB device model.
type Device interface {
	Speed() usb.Speed
	// Control handles a control transfer. out is the OUT data stage; the result is
	// the IN data stage (at most s.Length bytes).
	Control(s usb.Setup, out []byte) (in []byte, err error)
	// BulkOut receives an OUT transfer on endpoint ep.
	BulkOut(ep uint8, data []byte) error
	// BulkIn sends at most max bytes on IN endpoint ep; fewer is a short transfer.
	BulkIn(ep uint8, max int) ([]byte, error)
	// Descriptor returns the device descriptor.
	Descriptor() []byte
}

// Base implements the standard requests of USB 2.0 §9.4 over fixed descriptors;
// device models embed it.
type Base struct {
	speed     usb.Speed
	devDesc   []byte
	cfgDesc   []byte
	strs      []string // string descriptor index 1.. (index 0 is the language list)
	halted    map[uint8]bool
	gone      bool
	Address   uint8
	Config    uint8
	Requests  []usb.Setup // every control request received, in order
	ClearHalt []uint8     // endpoints named by CLEAR_FEATURE(ENDPOINT_HALT), in order
}

func (b *Base) Speed() usb.Speed   { return b.speed }
func (b *Base) Descriptor() []byte { return b.devDesc }

// Unplug makes every later transfer fail as on a pulled device.
func (b *Base) Unplug() { b.gone = true }

// Gone reports whether the device was unplugged.
func (b *Base) Gone() bool { return b.gone }

// Halt sets an endpoint's HALT feature (the device answers STALL until cleared).
func (b *Base) Halt(ep uint8) {
	if b.halted == nil {
		b.halted = map[uint8]bool{}
	}
	b.halted[ep] = true
}

// Halted reports whether an endpoint is halted.
func (b *Base) Halted(ep uint8) bool { return b.halted[ep] }

// SetAddress is what a host controller's Address Device command does on the bus.
func (b *Base) SetAddress(a uint8) { b.Address = a }

// standard answers the standard requests; ok is false for other requests.
func (b *Base) standard(s usb.Setup, out []byte) (in []byte, ok bool, err error) {
	b.Requests = append(b.Requests, s)
	if s.RequestType&(3<<5) != usb.TypeStandard {
		return nil, false, nil
	}
	switch s.Request {
	case usb.ReqGetDescriptor:
		typ, idx := uint8(s.Value>>8), uint8(s.Value)
		var d []byte
		switch typ {
		case usb.DescDevice:
			d = b.devDesc
		case usb.DescConfiguration:
			if idx != 0 {
				return nil, true, usb.ErrStall
			}
			d = b.cfgDesc
		case usb.DescString:
			if idx == 0 {
				d = []byte{4, usb.DescString, 0x09, 0x04} // English (US)
			} else if int(idx) <= len(b.strs) {
				d = stringDescriptor(b.strs[idx-1])
			} else {
				return nil, true, usb.ErrStall
			}
		default:
			return nil, true, usb.ErrStall
		}
		return clip(d, s.Length), true, nil
	case usb.ReqSetConfiguration:
		if s.Value != 0 && s.Value != uint16(b.cfgDesc[5]) {
			return nil, true, usb.ErrStall
		}
		b.Config = uint8(s.Value)
		return nil, true, nil
	case usb.ReqGetConfiguration:
		return []byte{b.Config}, true, nil
	case usb.ReqClearFeature:
		if s.RequestType&0x1F == usb.RecipEndpoint && s.Value == usb.FeatureEndpointHalt {
			ep := uint8(s.Index)
			b.ClearHalt = append(b.ClearHalt, ep)
			delete(b.halted, ep)
			return nil, true, nil
		}
		return nil, true, usb.ErrStall
	case usb.ReqGetStatus:
		return clip([]byte{0, 0}, s.Length), true, nil
	}
	return nil, true, usb.ErrStall
}

func clip(d []byte, n uint16) []byte {
	if len(d) > int(n) {
		d = d[:n]
	}
	return append([]byte(nil), d...)
}

func stringDescriptor(s string) []byte {
	u := utf16.Encode([]rune(s))
	d := []byte{byte(2 + 2*len(u)), usb.DescString}
	for _, c := range u {
		d = binary.LittleEndian.AppendUint16(d, c)
	}
	return d
}

// deviceDescriptor builds an 18-byte device descriptor.
func deviceDescriptor(speed usb.Speed, class, protocol uint8, vendor, product uint16, mps0 uint8) []byte {
	bcd := uint16(0x0200)
	if speed >= usb.SpeedSuper {
		bcd = 0x0320
		mps0 = 9 // 2^9 = 512
	}
	d := []byte{18, usb.DescDevice, byte(bcd), byte(bcd >> 8), class, 0, protocol, mps0,
		byte(vendor), byte(vendor >> 8), byte(product), byte(product >> 8), 0x00, 0x01, 1, 2, 3, 1}
	return d
}

// bulkPacket is the bulk max packet size at a speed (USB 2.0 §5.8.3, USB 3.2 §9.6.6).
func bulkPacket(speed usb.Speed) int {
	switch speed {
	case usb.SpeedFull, usb.SpeedLow:
		return 64
	case usb.SpeedHigh:
		return 512
	}
	return 1024
}
