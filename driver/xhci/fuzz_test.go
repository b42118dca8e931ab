package xhci

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/inferpi/inferpi/driver/usb"
	"github.com/inferpi/inferpi/driver/usb/usbfake"
	"github.com/inferpi/inferpi/driver/xhci/xhcifake"
)

// byteBank is a register window backed by bytes (zero beyond them).
type byteBank []byte

func (b byteBank) Read32(off uintptr) uint32 {
	if off+4 > uintptr(len(b)) {
		return 0
	}
	return binary.LittleEndian.Uint32(b[off:])
}
func (b byteBank) Write32(uintptr, uint32) {}

// FuzzReadProtocols walks arbitrary extended-capability lists: it must end
// (no loop through "next" pointers) and never index outside the port table.
func FuzzReadProtocols(f *testing.F) {
	qemu := make([]byte, 0x40)
	binary.LittleEndian.PutUint32(qemu[0x00:], 0x10)         // xECP at 0x40 bytes
	binary.LittleEndian.PutUint32(qemu[0x10:], 2|4<<8|2<<24) // USB 2, next +16
	binary.LittleEndian.PutUint32(qemu[0x18:], 1|4<<8)       // ports 1-4
	binary.LittleEndian.PutUint32(qemu[0x20:], 2|3<<24)      // USB 3
	binary.LittleEndian.PutUint32(qemu[0x28:], 5|4<<8)       // ports 5-8
	f.Add(append(make([]byte, 0x30), qemu...), uint8(8))
	loop := make([]byte, 0x20)
	binary.LittleEndian.PutUint32(loop[0x10:], 2|0<<8|3<<24) // next 0 ends it
	f.Add(loop, uint8(5))
	f.Fuzz(func(t *testing.T, b []byte, ports uint8) {
		if len(b) < 4 || ports == 0 {
			return
		}
		hcc := binary.LittleEndian.Uint32(b) << 16
		ps, err := readProtocols(byteBank(b), hcc, int(ports))
		if err == nil && len(ps) != int(ports) {
			t.Fatalf("%d port entries for %d ports", len(ps), ports)
		}
	})
}

// FuzzEvents puts arbitrary TRBs on the event ring of a running controller, as
// a broken or hostile controller might, then reads from the disk: the driver
// must not panic or hang (errors are fine).
func FuzzEvents(f *testing.F) {
	ev := make([]byte, 16)
	binary.LittleEndian.PutUint32(ev[12:], trbTransferEvent<<trbTypeShift|1<<24|3<<16)
	binary.LittleEndian.PutUint32(ev[8:], ccStall<<completionShift)
	f.Add(ev)
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 16*64 {
			return
		}
		s := newSystem(t, xhcifake.QEMU(), 0x4000_0000)
		s.opts.CommandTimeout = 20 * time.Millisecond
		s.msc.ReadTimeout = 20 * time.Millisecond
		s.msc.CommandTimeout = 20 * time.Millisecond
		s.opts.USB.ControlTimeout = 20 * time.Millisecond
		s.hc.Attach(1, usbfake.NewMassStorage(usb.SpeedSuper, make([]byte, 64<<10), 512))
		c := s.start()
		disks, _ := s.bind(c)
		for i := 0; i+16 <= len(b); i += 16 {
			s.hc.InjectEvent(binary.LittleEndian.Uint64(b[i:]), binary.LittleEndian.Uint32(b[i+8:]), binary.LittleEndian.Uint32(b[i+12:]))
		}
		c.mu.Lock()
		_ = c.poll()
		c.mu.Unlock()
		for _, d := range disks {
			_ = d.ReadBlocks(0, make([]byte, 8192))
		}
	})
}
