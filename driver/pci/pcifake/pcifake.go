// Package pcifake models PCI configuration space for host tests: functions whose
// BARs answer the sizing protocol, bridges that route configuration cycles by the
// bus numbers written into them, read-only fields that stay read-only.
package pcifake

import (
	"github.com/inferpi/inferpi/driver/pci"
)

// Function is one function's 4 KiB configuration space.
type Function struct {
	regs     [1024]uint32
	barMask  [6]uint32 // bits of each BAR register software can write
	barFlags [6]uint32 // read-only low bits (memory type, prefetchable, I/O)
	children map[[2]uint8]*Function
}

// NewEndpoint returns a type-0 function.
func NewEndpoint(vendor, device uint16, class uint32) *Function {
	f := &Function{}
	f.regs[0] = uint32(device)<<16 | uint32(vendor)
	f.regs[2] = class<<8 | 0x01 // revision 1
	return f
}

// NewBridge returns a PCI-to-PCI bridge (type-1 header, class 0x060400).
func NewBridge(vendor, device uint16) *Function {
	f := NewEndpoint(vendor, device, 0x060400)
	f.regs[3] = 1 << 16
	f.regs[0x24/4] = 0x00010001 // prefetchable window is 64-bit capable
	f.children = map[[2]uint8]*Function{}
	return f
}

// SetClass changes the class code (the BCM2711 sets its root port's from a
// private register).
func (f *Function) SetClass(class uint32) { f.regs[2] = class<<8 | f.regs[2]&0xFF }

// SetMultiFunction sets the multi-function bit of the header type.
func (f *Function) SetMultiFunction() { f.regs[3] |= 0x80 << 16 }

// AddBAR gives BAR index a memory range of size bytes (a power of two).
func (f *Function) AddBAR(index int, size uint64, mem64, prefetch bool) {
	mask := ^(size - 1)
	flags := uint32(0)
	if prefetch {
		flags |= 1 << 3
	}
	if mem64 {
		flags |= 2 << 1
		if index < 5 { // a broken device may claim 64 bits in the last slot
			f.barMask[index+1] = uint32(mask >> 32)
		}
	}
	f.barMask[index] = uint32(mask) &^ 0xF
	f.barFlags[index] = flags
	f.regs[4+index] = flags
}

// AddIOBAR gives BAR index an I/O range.
func (f *Function) AddIOBAR(index int, size uint32) {
	f.barMask[index] = ^(size - 1) &^ 3
	f.barFlags[index] = 1
	f.regs[4+index] = 1
}

// Plug puts child at device/function on the bridge's secondary bus.
func (f *Function) Plug(dev, fn uint8, child *Function) { f.children[[2]uint8{dev, fn}] = child }

// BAR returns the address programmed into BAR index (both halves of a 64-bit BAR).
func (f *Function) BAR(index int) uint64 {
	lo := uint64(f.regs[4+index] &^ 0xF)
	if f.regs[4+index]&(2<<1) != 0 {
		lo |= uint64(f.regs[5+index]) << 32
	}
	return lo
}

// Reg returns a raw register for tests.
func (f *Function) Reg(off int) uint32 { return f.regs[off/4] }

func (f *Function) isBridge() bool { return (f.regs[3]>>16)&0x7F == 1 }

// Read32 reads a register.
func (f *Function) Read32(off int) uint32 { return f.regs[(off&0xFFC)/4] }

// Write32 writes a register the way hardware takes it.
func (f *Function) Write32(off int, v uint32) {
	i := (off & 0xFFC) / 4
	switch {
	case i == 0, i == 2: // IDs and class are read-only
	case i == 1: // command; status bits are write-1-to-clear (none set here)
		f.regs[1] = v & 0x07FF
	case i == 3: // cache line size and latency timer only
		f.regs[3] = f.regs[3]&^0xFFFF | v&0xFFFF
	case i >= 4 && i < 10 && (!f.isBridge() || i < 6):
		b := i - 4
		f.regs[i] = v&f.barMask[b] | f.barFlags[b]
	case i == 0x24/4 && f.isBridge():
		f.regs[i] = v&0xFFF0FFF0 | 0x00010001
	default:
		f.regs[i] = v
	}
}

// Space is a pci.Config over a tree of functions: bus 0 holds the root
// functions; other buses are reached through bridges, by the secondary and
// subordinate bus numbers written into them.
type Space struct {
	root map[[2]uint8]*Function
}

// NewSpace returns an empty hierarchy.
func NewSpace() *Space { return &Space{root: map[[2]uint8]*Function{}} }

// Plug puts f at device/function on bus 0.
func (s *Space) Plug(dev, fn uint8, f *Function) { s.root[[2]uint8{dev, fn}] = f }

// Lookup finds the function a configuration cycle to a reaches.
func (s *Space) Lookup(a pci.Address) *Function {
	return lookup(s.root, 0, a)
}

func lookup(fs map[[2]uint8]*Function, bus uint8, a pci.Address) *Function {
	if a.Bus == bus {
		return fs[[2]uint8{a.Device, a.Function}]
	}
	for _, f := range fs {
		if !f.isBridge() {
			continue
		}
		sec, sub := uint8(f.regs[6]>>8), uint8(f.regs[6]>>16)
		if sec > bus && a.Bus >= sec && a.Bus <= sub {
			return lookup(f.children, sec, a)
		}
	}
	return nil
}

func (s *Space) Read32(a pci.Address, off int) uint32 {
	if f := s.Lookup(a); f != nil {
		return f.Read32(off)
	}
	return 0xFFFFFFFF
}

func (s *Space) Write32(a pci.Address, off int, v uint32) {
	if f := s.Lookup(a); f != nil {
		f.Write32(off, v)
	}
}
