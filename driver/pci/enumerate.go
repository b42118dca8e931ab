package pci

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Window is a range of memory addresses for BARs, as the CPU and as the bus see
// it (they differ on the Pi 4: CPU 0x6_0000_0000 is PCI 0xF800_0000).
type Window struct {
	CPU  uint64
	Bus  uint64
	Size uint64
}

func (w Window) String() string {
	return fmt.Sprintf("bus %#x-%#x (CPU %#x)", w.Bus, w.Bus+w.Size-1, w.CPU)
}

// Windows are the memory ranges the host bridge forwards to PCI.
type Windows struct {
	// Mem takes every non-prefetchable BAR and any BAR Pref cannot take. It must
	// lie below 4 GiB on the bus (bridge memory windows are 32-bit).
	Mem Window
	// Pref, if Size is not 0, takes 64-bit prefetchable BARs.
	Pref Window
}

// BAR is one base address register.
type BAR struct {
	Index    int // 0-5; a 64-bit BAR also uses Index+1
	Size     uint64
	Bus      uint64 // assigned bus address
	CPU      uint64 // the same address as the CPU sees it
	Assigned bool
	Mem64    bool
	Prefetch bool
	IO       bool // I/O space: sized, never assigned (no I/O window is used)
}

// Function is one PCI function found by Enumerate.
type Function struct {
	Addr     Address
	Vendor   uint16
	Device   uint16
	Class    uint32 // base class 23:16, subclass 15:8, programming interface 7:0
	Header   uint8  // 0 endpoint, 1 PCI-to-PCI bridge
	BARs     []BAR
	Command  uint16 // as written at the end of enumeration
	Parent   *Function
	Children []*Function // functions behind a bridge

	Secondary, Subordinate uint8     // bridge bus numbers
	MemWindow, PrefWindow  [2]uint64 // bridge windows on the bus: [base, end), empty when equal
}

// IsBridge reports whether the function is a PCI-to-PCI bridge.
func (f *Function) IsBridge() bool { return f.Header == headerBridge }

func (f *Function) String() string {
	return fmt.Sprintf("%v %04x:%04x class %06x", f.Addr, f.Vendor, f.Device, f.Class)
}

// Options tune Enumerate.
type Options struct {
	Log io.Writer
	// MaxBus is the highest bus number to give a bridge (default 255); the
	// BCM2711 root complex has one bus behind its root port.
	MaxBus int
	// Devices limits the device numbers scanned on a bus (default 32); a root
	// complex whose config access faults on absent devices passes 1.
	Devices int
}

func (o *Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

type enumerator struct {
	cfg     Config
	opt     Options
	nextBus int
	all     []*Function
}

// Enumerate scans from bus 0, assigns bus numbers and BARs, programs bridge
// windows and enables memory decoding and bus mastering. It returns every
// function found, in scan order (a bridge before what is behind it).
func Enumerate(cfg Config, w Windows, opt Options) ([]*Function, error) {
	if opt.MaxBus <= 0 || opt.MaxBus > 255 {
		opt.MaxBus = 255
	}
	if opt.Devices <= 0 || opt.Devices > 32 {
		opt.Devices = 32
	}
	if w.Mem.Size == 0 {
		return nil, errors.New("pci: no memory window given")
	}
	if w.Mem.Bus+w.Mem.Size > 1<<32 {
		return nil, fmt.Errorf("pci: memory window %v reaches above 4 GiB on the bus (bridge windows are 32-bit)", w.Mem)
	}
	e := &enumerator{cfg: cfg, opt: opt, nextBus: 1}
	root, err := e.scanBus(0, nil)
	if err != nil {
		return e.all, err
	}
	if err := e.assign(root, w.Mem, false, w.Pref.Size == 0); err != nil {
		return e.all, err
	}
	if w.Pref.Size != 0 {
		if err := e.assign(root, w.Pref, true, false); err != nil {
			return e.all, err
		}
	}
	for _, f := range e.all {
		e.program(f, w)
	}
	return e.all, nil
}

// Find returns the first function with the given class code (e.g. 0x0C0330 for
// an xHCI controller), or nil.
func Find(fs []*Function, class uint32) *Function {
	for _, f := range fs {
		if f.Class == class {
			return f
		}
	}
	return nil
}

func (e *enumerator) scanBus(bus int, parent *Function) ([]*Function, error) {
	var out []*Function
	for dev := 0; dev < e.opt.Devices; dev++ {
		a := Address{Bus: uint8(bus), Device: uint8(dev)}
		if !present(e.cfg.Read32(a, regID)) {
			continue
		}
		functions := 1
		if (e.cfg.Read32(a, regHeader)>>16)&headerMulti != 0 {
			functions = 8
		}
		for fn := 0; fn < functions; fn++ {
			a.Function = uint8(fn)
			id := e.cfg.Read32(a, regID)
			if !present(id) {
				continue
			}
			f, err := e.probe(a, id, parent)
			if err != nil {
				return out, err
			}
			out = append(out, f)
		}
	}
	return out, nil
}

// present tells a function from an empty slot (vendor 0xFFFF; 0 is not a valid
// vendor either).
func present(id uint32) bool {
	v := id & 0xFFFF
	return v != 0xFFFF && v != 0
}

func (e *enumerator) probe(a Address, id uint32, parent *Function) (*Function, error) {
	f := &Function{
		Addr:   a,
		Vendor: uint16(id),
		Device: uint16(id >> 16),
		Class:  e.cfg.Read32(a, regClass) >> 8,
		Header: uint8(e.cfg.Read32(a, regHeader)>>16) & 0x7F,
		Parent: parent,
	}
	e.all = append(e.all, f)
	// No decoding while BARs are sized and moved (the sizing pattern would
	// otherwise claim addresses).
	cmd := e.cfg.Read32(a, regCommand) & 0xFFFF
	e.cfg.Write32(a, regCommand, cmd&^(cmdIO|cmdMemory|cmdBusMaster))
	nBARs := 0
	switch f.Header {
	case headerDevice:
		nBARs = 6
	case headerBridge:
		nBARs = 2
	default:
		e.opt.logf("pci %v: header type %d not supported; left alone", f, f.Header)
		return f, nil
	}
	if err := e.sizeBARs(f, nBARs); err != nil {
		return f, err
	}
	if f.IsBridge() {
		if e.nextBus > e.opt.MaxBus {
			return f, fmt.Errorf("pci %v: no bus number left for the bridge (maximum %d)", f.Addr, e.opt.MaxBus)
		}
		f.Secondary = uint8(e.nextBus)
		e.nextBus++
		// Open the bus range wide while scanning behind the bridge, then close it
		// to what was found (bridge spec §3.2.5.3).
		busRegs := e.cfg.Read32(a, regBusNumbers) &^ 0xFFFFFF
		e.cfg.Write32(a, regBusNumbers, busRegs|uint32(a.Bus)|uint32(f.Secondary)<<8|uint32(e.opt.MaxBus)<<16)
		children, err := e.scanBus(int(f.Secondary), f)
		f.Children = children
		f.Subordinate = uint8(e.nextBus - 1)
		e.cfg.Write32(a, regBusNumbers, busRegs|uint32(a.Bus)|uint32(f.Secondary)<<8|uint32(f.Subordinate)<<16)
		if err != nil {
			return f, err
		}
	}
	return f, nil
}

// sizeBARs finds each BAR's size by writing all-ones and reading back which
// address bits stick (PCI 3.0 §6.2.5.1).
func (e *enumerator) sizeBARs(f *Function, n int) error {
	for i := 0; i < n; i++ {
		off := regBAR0 + 4*i
		orig := e.cfg.Read32(f.Addr, off)
		e.cfg.Write32(f.Addr, off, 0xFFFFFFFF)
		lo := e.cfg.Read32(f.Addr, off)
		e.cfg.Write32(f.Addr, off, orig)
		if lo == 0 {
			continue // not implemented
		}
		if lo&barIO != 0 {
			mask := uint64(lo&^3) | 0xFFFF_FFFF_FFFF_0000 // I/O BARs decode at most 16 bits
			if size := ^mask + 1; size != 0 && size&(size-1) == 0 {
				f.BARs = append(f.BARs, BAR{Index: i, Size: size, IO: true})
			}
			continue
		}
		b := BAR{Index: i, Prefetch: lo&barPrefetch != 0}
		mask := uint64(lo&^0xF) | 0xFFFF_FFFF_0000_0000
		if lo&(3<<1) == barType64 {
			if i == n-1 {
				return fmt.Errorf("pci %v: BAR %d says 64-bit but is the last BAR", f.Addr, i)
			}
			origHi := e.cfg.Read32(f.Addr, off+4)
			e.cfg.Write32(f.Addr, off+4, 0xFFFFFFFF)
			hi := e.cfg.Read32(f.Addr, off+4)
			e.cfg.Write32(f.Addr, off+4, origHi)
			mask = uint64(hi)<<32 | uint64(lo&^0xF)
			b.Mem64 = true
			i++
		}
		if mask == 0 {
			continue
		}
		b.Size = ^mask + 1
		if b.Size == 0 || b.Size&(b.Size-1) != 0 || mask&(b.Size-1) != 0 {
			return fmt.Errorf("pci %v: BAR %d reads back %#x after sizing: not a power-of-two size", f.Addr, b.Index, mask)
		}
		f.BARs = append(f.BARs, b)
	}
	return nil
}

// item is something to place in a window: a BAR, or a bridge's whole window.
type item struct {
	size, align uint64
	bar         *BAR
	bridge      *Function
}

func alignUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }

// goesTo says whether a BAR belongs in the prefetchable window (pref) or in the
// memory window. Only 64-bit prefetchable BARs go to the prefetchable window:
// it may lie above 4 GiB, where 32-bit BARs cannot reach.
func goesTo(b *BAR, pref bool, prefAvailable bool) bool {
	if b.IO {
		return false
	}
	inPref := prefAvailable && b.Prefetch && b.Mem64
	return inPref == pref
}

// items lists what the functions on one bus need in one window, largest
// alignment first so that packing them in order wastes nothing.
func (e *enumerator) items(fs []*Function, pref, prefAvailable bool) []item {
	var out []item
	for _, f := range fs {
		for i := range f.BARs {
			b := &f.BARs[i]
			if goesTo(b, pref, prefAvailable) {
				out = append(out, item{size: b.Size, align: b.Size, bar: b})
			}
		}
		if f.IsBridge() {
			size, align := e.span(f.Children, pref, prefAvailable)
			if size > 0 {
				out = append(out, item{size: alignUp(size, bridgeAlign), align: max(align, bridgeAlign), bridge: f})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].align > out[j].align })
	return out
}

// span is the size and alignment the functions on a bus need in a window.
func (e *enumerator) span(fs []*Function, pref, prefAvailable bool) (size, align uint64) {
	var cur uint64
	align = 1
	for _, it := range e.items(fs, pref, prefAvailable) {
		cur = alignUp(cur, it.align) + it.size
		align = max(align, it.align)
	}
	return cur, align
}

// assign places everything that goes into window w.
func (e *enumerator) assign(root []*Function, w Window, pref, memTakesAll bool) error {
	prefAvailable := !memTakesAll
	size, align := e.span(root, pref, prefAvailable)
	if size == 0 {
		return nil
	}
	base := alignUp(w.Bus, align)
	if base+size > w.Bus+w.Size || base < w.Bus {
		return fmt.Errorf("pci: %s need %#x bytes (aligned to %#x) and do not fit the window %v",
			describe(e.items(root, pref, prefAvailable)), size, align, w)
	}
	e.place(root, base, w, pref, prefAvailable)
	return nil
}

func describe(its []item) string {
	var parts []string
	for _, it := range its {
		if it.bar != nil {
			parts = append(parts, fmt.Sprintf("BAR of %#x", it.size))
		} else {
			parts = append(parts, fmt.Sprintf("bridge %v window of %#x", it.bridge.Addr, it.size))
		}
	}
	return strings.Join(parts, ", ")
}

func (e *enumerator) place(fs []*Function, cur uint64, w Window, pref, prefAvailable bool) {
	for _, it := range e.items(fs, pref, prefAvailable) {
		cur = alignUp(cur, it.align)
		if it.bar != nil {
			it.bar.Bus = cur
			it.bar.CPU = w.CPU + (cur - w.Bus)
			it.bar.Assigned = true
		} else {
			win := &it.bridge.MemWindow
			if pref {
				win = &it.bridge.PrefWindow
			}
			*win = [2]uint64{cur, cur + it.size}
			e.place(it.bridge.Children, cur, w, pref, prefAvailable)
		}
		cur += it.size
	}
}

// program writes a function's BARs, a bridge's windows, and the command register.
func (e *enumerator) program(f *Function, w Windows) {
	a := f.Addr
	var cmd uint16
	var assigned []string
	for _, b := range f.BARs {
		if !b.Assigned {
			continue
		}
		off := regBAR0 + 4*b.Index
		flags := uint32(0)
		if b.Prefetch {
			flags |= barPrefetch
		}
		if b.Mem64 {
			flags |= barType64
			e.cfg.Write32(a, off, uint32(b.Bus)|flags)
			e.cfg.Write32(a, off+4, uint32(b.Bus>>32))
		} else {
			e.cfg.Write32(a, off, uint32(b.Bus)|flags)
		}
		cmd |= cmdMemory
		kind := "32-bit"
		if b.Mem64 {
			kind = "64-bit"
		}
		if b.Prefetch {
			kind += " prefetchable"
		}
		assigned = append(assigned, fmt.Sprintf("BAR%d %s %s at bus %#x (CPU %#x)", b.Index, kind, sizeString(b.Size), b.Bus, b.CPU))
	}
	for _, b := range f.BARs {
		if b.IO {
			assigned = append(assigned, fmt.Sprintf("BAR%d I/O %d bytes (not used)", b.Index, b.Size))
		}
	}
	if f.IsBridge() {
		// I/O window closed; memory windows as placed, or closed.
		e.cfg.Write32(a, regIOWindow, ioWindowEmpty)
		e.cfg.Write32(a, regIOUpper, 0)
		if m := f.MemWindow; m[1] > m[0] {
			e.cfg.Write32(a, regMemWindow, uint32(m[0]>>16)&0xFFF0|(uint32((m[1]-1)>>16)&0xFFF0)<<16)
			assigned = append(assigned, fmt.Sprintf("memory window %#x-%#x", m[0], m[1]-1))
		} else {
			e.cfg.Write32(a, regMemWindow, memWindowOff)
		}
		if p := f.PrefWindow; p[1] > p[0] {
			e.cfg.Write32(a, regPrefWindow, uint32(p[0]>>16)&0xFFF0|(uint32((p[1]-1)>>16)&0xFFF0)<<16)
			e.cfg.Write32(a, regPrefBaseHi, uint32(p[0]>>32))
			e.cfg.Write32(a, regPrefLimitHi, uint32((p[1]-1)>>32))
			assigned = append(assigned, fmt.Sprintf("prefetchable window %#x-%#x", p[0], p[1]-1))
		} else {
			e.cfg.Write32(a, regPrefWindow, memWindowOff)
			e.cfg.Write32(a, regPrefBaseHi, 0)
			e.cfg.Write32(a, regPrefLimitHi, 0)
		}
		assigned = append(assigned, fmt.Sprintf("buses %d-%d", f.Secondary, f.Subordinate))
		cmd |= cmdMemory
	}
	if cmd&cmdMemory != 0 {
		// Bus mastering lets the device (or, through a bridge, what is behind it)
		// do DMA.
		cmd |= cmdBusMaster
	}
	// The status half is write-1-to-clear: writing zeros there changes nothing.
	e.cfg.Write32(a, regCommand, uint32(cmd))
	f.Command = cmd
	if len(assigned) == 0 {
		assigned = []string{"no BARs"}
	}
	e.opt.logf("pci %v: %s; command %#04x", f, strings.Join(assigned, ", "), cmd)
}

func sizeString(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
