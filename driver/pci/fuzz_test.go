package pci_test

import (
	"encoding/binary"
	"testing"

	"github.com/inferpi/inferpi/driver/pci"
	"github.com/inferpi/inferpi/driver/pci/pcifake"
)

// noise is a configuration space that answers every read with bytes taken from
// the fuzz input (as a broken or hostile device might) and ignores writes.
type noise []byte

func (n noise) Read32(a pci.Address, off int) uint32 {
	if len(n) < 4 {
		return 0xFFFFFFFF
	}
	i := int(a.Packed()>>12*31+uint32(off)*7) % (len(n) - 3)
	return binary.LittleEndian.Uint32(n[i:])
}
func (n noise) Write32(pci.Address, int, uint32) {}

// FuzzEnumerate runs enumeration over garbage configuration space and over
// topologies built from the input: it must end without panicking, and whatever
// it assigns must be aligned and inside the windows.
func FuzzEnumerate(f *testing.F) {
	f.Add([]byte{0x86, 0x80, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(fs []*pci.Function, err error) {
			if err != nil {
				return
			}
			for _, fn := range fs {
				for _, bar := range fn.BARs {
					if !bar.Assigned {
						continue
					}
					w := virt.Mem
					if bar.Bus >= virt.Pref.Bus {
						w = virt.Pref
					}
					if bar.Bus%bar.Size != 0 || bar.Bus < w.Bus || bar.Bus+bar.Size > w.Bus+w.Size {
						t.Fatalf("%v BAR%d at %#x size %#x", fn, bar.Index, bar.Bus, bar.Size)
					}
				}
			}
		}
		check(pci.Enumerate(noise(b), virt, pci.Options{MaxBus: 6, Devices: 4}))
		check(pci.Enumerate(build(b), virt, pci.Options{}))
	})
}

// build makes a well-formed hierarchy from the input bytes: each byte pair adds
// an endpoint with a BAR, or a bridge that later functions go behind.
func build(b []byte) *pcifake.Space {
	s := pcifake.NewSpace()
	var bridges []*pcifake.Function
	for i := 0; i+1 < len(b) && i < 64; i += 2 {
		kind, arg := b[i], b[i+1]
		dev := kind % 32
		var fn *pcifake.Function
		if kind&0x80 != 0 && len(bridges) < 8 {
			fn = pcifake.NewBridge(0x1234, uint16(i))
		} else {
			fn = pcifake.NewEndpoint(0x1234, uint16(i), 0x0C0330)
			fn.AddBAR(int(arg%3)*2, 1<<(12+arg%20), arg&0x40 != 0, arg&0x20 != 0)
		}
		if len(bridges) == 0 || kind&0x40 == 0 {
			s.Plug(dev, 0, fn)
		} else {
			bridges[int(arg)%len(bridges)].Plug(dev, 0, fn)
		}
		if kind&0x80 != 0 && len(bridges) < 8 {
			bridges = append(bridges, fn)
		}
	}
	return s
}
