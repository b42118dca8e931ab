package pci_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/driver/pci"
	"github.com/inferpi/inferpi/driver/pci/pcifake"
)

// QEMU virt's windows (QEMU hw/arm/virt.c: VIRT_PCIE_MMIO, VIRT_HIGH_PCIE_MMIO).
var virt = pci.Windows{
	Mem:  pci.Window{CPU: 0x1000_0000, Bus: 0x1000_0000, Size: 0x2EFF_0000},
	Pref: pci.Window{CPU: 0x80_0000_0000, Bus: 0x80_0000_0000, Size: 0x80_0000_0000},
}

// QEMU virt with -device qemu-xhci: host bridge at 00:00.0, virtio-net at
// 00:01.0, the xHCI (1b36:000d, one 64-bit non-prefetchable 16 KiB BAR) at 00:02.0.
func TestVirtWithXHCI(t *testing.T) {
	s := pcifake.NewSpace()
	s.Plug(0, 0, pcifake.NewEndpoint(0x1b36, 0x0008, 0x060000))
	net := pcifake.NewEndpoint(0x1af4, 0x1000, 0x020000)
	net.AddIOBAR(0, 32)
	net.AddBAR(1, 4096, false, false)
	net.AddBAR(4, 16384, true, true)
	s.Plug(1, 0, net)
	xhci := pcifake.NewEndpoint(0x1b36, 0x000d, 0x0C0330)
	xhci.AddBAR(0, 16384, true, false)
	s.Plug(2, 0, xhci)

	var log strings.Builder
	fs, err := pci.Enumerate(s, virt, pci.Options{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 3 {
		t.Fatalf("%d functions, want 3", len(fs))
	}
	x := pci.Find(fs, 0x0C0330)
	if x == nil || x.Addr != (pci.Address{Device: 2}) || len(x.BARs) != 1 {
		t.Fatalf("xHCI = %v", x)
	}
	// Largest first in the 32-bit window: the xHCI's 16 KiB at the window base,
	// virtio's 4 KiB after it; virtio's 64-bit prefetchable BAR in the 64-bit window.
	if b := x.BARs[0]; !b.Mem64 || b.Size != 16384 || b.Bus != 0x1000_0000 || b.CPU != 0x1000_0000 {
		t.Errorf("xHCI BAR %+v", b)
	}
	if got := xhci.BAR(0); got != 0x1000_0000 {
		t.Errorf("xHCI BAR0 programmed %#x", got)
	}
	if got := net.BAR(1); got != 0x1000_4000 {
		t.Errorf("virtio BAR1 programmed %#x, want 0x10004000", got)
	}
	if got := net.BAR(4); got != 0x80_0000_0000 {
		t.Errorf("virtio BAR4 programmed %#x, want 0x8000000000", got)
	}
	// Memory space and bus master on; I/O space off (the I/O BAR is unused).
	if c := xhci.Reg(4) & 0xFFFF; c != 0x6 {
		t.Errorf("xHCI command %#x, want 0x6", c)
	}
	if c := net.Reg(4) & 0xFFFF; c != 0x6 {
		t.Errorf("virtio command %#x, want 0x6", c)
	}
	// A function without BARs (the host bridge) says so, rather than printing
	// an empty list.
	if !strings.Contains(log.String(), "00:02.0 1b36:000d class 0c0330: BAR0 64-bit 16 KiB at bus 0x10000000") ||
		!strings.Contains(log.String(), "pci 00:00.0 1b36:0008 class 060000: no BARs; command 0x0000\n") {
		t.Errorf("log:\n%s", log.String())
	}
}

// The Pi 4: root port on bus 0, VL805 on bus 1, outbound window CPU
// 0x6_0000_0000 = PCI 0xF800_0000 (Linux bcm2711.dtsi: pcie0 ranges; Circle
// lib/bcmpciehostbridge.cpp: enable_bridge, enable_device).
func TestPi4RootPortAndVL805(t *testing.T) {
	s := pcifake.NewSpace()
	rp := pcifake.NewBridge(0x14e4, 0x2711)
	s.Plug(0, 0, rp)
	vl := pcifake.NewEndpoint(0x1106, 0x3483, 0x0C0330)
	vl.AddBAR(0, 4096, true, false)
	rp.Plug(0, 0, vl)
	w := pci.Windows{Mem: pci.Window{CPU: 0x6_0000_0000, Bus: 0xF800_0000, Size: 64 << 20}}
	fs, err := pci.Enumerate(s, w, pci.Options{MaxBus: 1, Devices: 1})
	if err != nil {
		t.Fatal(err)
	}
	x := pci.Find(fs, 0x0C0330)
	if x == nil || x.Addr != (pci.Address{Bus: 1}) {
		t.Fatalf("VL805 = %v", x)
	}
	if b := x.BARs[0]; b.Bus != 0xF800_0000 || b.CPU != 0x6_0000_0000 {
		t.Errorf("VL805 BAR %+v", b)
	}
	// Bus numbers: primary 0, secondary 1, subordinate 1.
	if got := rp.Reg(0x18) & 0xFFFFFF; got != 0x010100 {
		t.Errorf("bus numbers %#x, want 0x010100", got)
	}
	// A 1 MiB window at 0xF800_0000: base 0xF800, limit 0xF800 (the bridge spec's
	// Memory Base and Limit, in 1 MiB units; Circle enable_bridge writes the same).
	if got := rp.Reg(0x20); got != 0xF800_F800 {
		t.Errorf("memory window %#x, want 0xf800f800", got)
	}
	if got := rp.Reg(0x24) & 0xFFF0FFF0; got != 0x0000_FFF0 {
		t.Errorf("prefetchable window %#x, want closed (0x0000fff0)", got)
	}
	if rp.Reg(4)&0x6 != 0x6 || vl.Reg(4)&0x6 != 0x6 {
		t.Errorf("command: bridge %#x, VL805 %#x", rp.Reg(4), vl.Reg(4))
	}
}

// Two levels of bridges, a multi-function device, big alignments: everything
// fits in its bridge's window, nothing overlaps, buses are numbered depth first.
func TestNestedBridges(t *testing.T) {
	s := pcifake.NewSpace()
	b1 := pcifake.NewBridge(1, 1)
	b2 := pcifake.NewBridge(1, 2)
	b3 := pcifake.NewBridge(1, 3)
	s.Plug(1, 0, b1)
	s.Plug(3, 0, b3)
	b1.Plug(0, 0, b2)
	gpu := pcifake.NewEndpoint(2, 1, 0x030000)
	gpu.AddBAR(0, 16<<20, false, false)
	gpu.AddBAR(2, 256<<20, true, true)
	b2.Plug(0, 0, gpu)
	mf := pcifake.NewEndpoint(2, 2, 0x0C0330)
	mf.SetMultiFunction()
	mf.AddBAR(0, 8192, true, false)
	mf2 := pcifake.NewEndpoint(2, 3, 0x0C0320)
	mf2.AddBAR(0, 4096, false, false)
	b1.Plug(5, 0, mf)
	b1.Plug(5, 1, mf2)
	nic := pcifake.NewEndpoint(2, 4, 0x020000)
	nic.AddBAR(0, 128<<10, false, false)
	b3.Plug(0, 0, nic)

	fs, err := pci.Enumerate(s, virt, pci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 7 {
		t.Fatalf("%d functions, want 7", len(fs))
	}
	bus := map[string]uint32{"b1": b1.Reg(0x18) & 0xFFFFFF, "b2": b2.Reg(0x18) & 0xFFFFFF, "b3": b3.Reg(0x18) & 0xFFFFFF}
	want := map[string]uint32{"b1": 0x020100, "b2": 0x020201, "b3": 0x030300}
	for k := range want {
		if bus[k] != want[k] {
			t.Errorf("%s bus numbers %#x, want %#x", k, bus[k], want[k])
		}
	}
	type rng struct{ lo, hi uint64 }
	var bars []rng
	for _, f := range fs {
		for _, b := range f.BARs {
			if !b.Assigned {
				t.Errorf("%v BAR%d unassigned", f, b.Index)
				continue
			}
			if b.Bus%b.Size != 0 {
				t.Errorf("%v BAR%d at %#x not aligned to its size %#x", f, b.Index, b.Bus, b.Size)
			}
			bars = append(bars, rng{b.Bus, b.Bus + b.Size})
			// Inside every bridge window above it.
			for p := f.Parent; p != nil; p = p.Parent {
				win := p.MemWindow
				if b.Prefetch && b.Mem64 {
					win = p.PrefWindow
				}
				if b.Bus < win[0] || b.Bus+b.Size > win[1] {
					t.Errorf("%v BAR%d %#x+%#x outside bridge %v window %#x", f, b.Index, b.Bus, b.Size, p.Addr, win)
				}
				if win[0]%(1<<20) != 0 || win[1]%(1<<20) != 0 {
					t.Errorf("bridge %v window %#x not on 1 MiB boundaries", p.Addr, win)
				}
			}
		}
	}
	sort.Slice(bars, func(i, j int) bool { return bars[i].lo < bars[j].lo })
	for i := 1; i < len(bars); i++ {
		if bars[i].lo < bars[i-1].hi {
			t.Errorf("BARs overlap: %#x and %#x", bars[i-1], bars[i])
		}
	}
	if gpu.BAR(2) < 0x80_0000_0000 {
		t.Errorf("64-bit prefetchable BAR at %#x, want the 64-bit window", gpu.BAR(2))
	}
	if b2.Reg(0x28) != 0x80 || b2.Reg(0x2C) != 0x80 {
		t.Errorf("prefetchable window upper halves %#x %#x", b2.Reg(0x28), b2.Reg(0x2C))
	}
}

func TestWindowTooSmall(t *testing.T) {
	s := pcifake.NewSpace()
	f := pcifake.NewEndpoint(1, 1, 0x030000)
	f.AddBAR(0, 256<<20, false, false)
	s.Plug(0, 0, f)
	_, err := pci.Enumerate(s, pci.Windows{Mem: pci.Window{CPU: 0xF800_0000, Bus: 0xF800_0000, Size: 64 << 20}}, pci.Options{})
	if err == nil || !strings.Contains(err.Error(), "do not fit") {
		t.Fatalf("err = %v", err)
	}
}

func TestBadBAR(t *testing.T) {
	s := pcifake.NewSpace()
	f := pcifake.NewEndpoint(1, 1, 0x030000)
	f.AddBAR(5, 4096, true, false) // 64-bit in the last slot
	s.Plug(0, 0, f)
	_, err := pci.Enumerate(s, virt, pci.Options{})
	if err == nil || !strings.Contains(err.Error(), "00:00.0: BAR 5") {
		t.Fatalf("err = %v", err)
	}
}
