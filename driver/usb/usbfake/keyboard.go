package usbfake

import "github.com/inferpi/inferpi/driver/usb"

// Keyboard is a HID boot keyboard: a device that is neither a hub nor a disk,
// with one interrupt IN endpoint and no bulk endpoints. Host drivers enumerate
// it and leave it alone.
type Keyboard struct {
	Base
}

// NewKeyboard returns a keyboard at a speed (low or full for real keyboards).
func NewKeyboard(speed usb.Speed) *Keyboard {
	k := &Keyboard{}
	k.speed = speed
	k.devDesc = deviceDescriptor(speed, 0, 0, 0x0627, 0x0001, 8)
	// One interface, class 3 (HID), subclass 1 (boot), protocol 1 (keyboard),
	// an 8-byte interrupt IN endpoint polled every 10 ms (HID 1.11 appendix B).
	k.cfgDesc = []byte{9, usb.DescConfiguration, 25, 0, 1, 1, 0, 0xA0, 50,
		9, usb.DescInterface, 0, 0, 1, 3, 1, 1, 0,
		7, usb.DescEndpoint, 0x81, 3, 8, 0, 10}
	k.strs = []string{"QEMU", "QEMU USB Keyboard", "68284"}
	return k
}

// Control answers the standard requests; class requests (SET_IDLE, ...) stall.
func (k *Keyboard) Control(s usb.Setup, out []byte) ([]byte, error) {
	if k.gone {
		return nil, ErrGone
	}
	in, ok, err := k.standard(s, out)
	if !ok {
		return nil, usb.ErrStall
	}
	return in, err
}

func (k *Keyboard) BulkOut(ep uint8, data []byte) error      { return usb.ErrStall }
func (k *Keyboard) BulkIn(ep uint8, max int) ([]byte, error) { return nil, usb.ErrStall }
