package mm

// AArch64 VMSAv8-64 translation tables, 4 KiB granule, 48-bit virtual addresses,
// four levels (L0..L3); L1 entries may be 1 GiB blocks and L2 entries 2 MiB blocks.
// (Arm ARM D8.3: descriptor formats.)

// Memory types: indices into MAIR_EL1, whose value the boot code sets to MAIRValue.
const (
	MemDevice   = 0 // Device-nGnRE: MMIO
	MemNormal   = 1 // Normal, write-back read/write-allocate, inner and outer
	MemNormalNC = 2 // Normal, non-cacheable: coherent DMA buffers
)

// MAIRValue is MAIR_EL1: attr0 = 0x04 (Device-nGnRE), attr1 = 0xFF (Normal WB RWA),
// attr2 = 0x44 (Normal NC).
const MAIRValue = 0x04 | 0xFF<<8 | 0x44<<16

// Descriptor bits.
const (
	descValid = 1 << 0
	descTable = 1 << 1 // table (L0-L2) or page (L3); clear = block
	descAF    = 1 << 10
	descSHInn = 3 << 8
	descPXN   = 1 << 53
	descUXN   = 1 << 54
	addrMask  = 0x0000_FFFF_FFFF_F000
)

// Attrs describes a mapping's memory type and permissions. Everything runs at EL1,
// so EL0 never has access (AP=00, UXN set).
type Attrs struct {
	Mem   int  // MemDevice, MemNormal, MemNormalNC
	Exec  bool // executable at EL1 (kernel image text only)
	Block bool // allow 1 GiB / 2 MiB block descriptors where aligned
}

func (a Attrs) leafBits() uint64 {
	b := uint64(a.Mem)<<2 | descAF | descUXN
	if a.Mem != MemDevice {
		b |= descSHInn
	}
	if !a.Exec || a.Mem == MemDevice {
		b |= descPXN
	}
	return b
}

// Memory gives the table code access to physical pages holding tables.
type Memory interface {
	// AllocTable returns a zeroed page for a new table.
	AllocTable() (pa uint64, ok bool)
	// FreeTable returns a table page that became empty.
	FreeTable(pa uint64)
	// Table views the table page at pa.
	Table(pa uint64) *[512]uint64
	// Flush removes every cached translation (TLB and walk caches) on every core.
	// Called between the two steps of break-before-make.
	Flush()
	// Publish orders the stores before it (a table page or a data page
	// zeroed, a table filled) before the stores after it (the entry that
	// makes them reachable), as seen by every core and table walker: DMB
	// ISHST. Linux: smp_wmb() in pmd_install (mm/memory.c) before a new table
	// goes into its parent.
	Publish()
	// Sync makes new entries visible to this core's table walks and the
	// instructions after it: DSB ISHST, then ISB. Linux: __set_pte
	// (arch/arm64/include/asm/pgtable.h) after a kernel entry.
	Sync()
}

// Tables is one translation regime's tables (TTBR0_EL1).
type Tables struct {
	Root uint64 // physical address of the L0 table
	mem  Memory
}

// NewTables allocates an empty L0 table.
func NewTables(mem Memory) (Tables, bool) {
	root, ok := mem.AllocTable()
	return Tables{Root: root, mem: mem}, ok
}

// Attach re-creates a Tables value for an existing root.
func Attach(root uint64, mem Memory) Tables { return Tables{Root: root, mem: mem} }

func index(va uint64, level int) int { return int(va>>(39-9*uint(level))) & 511 }

func levelSize(level int) uint64 { return 1 << (39 - 9*uint(level)) }

// Map maps [va, va+size) to [pa, pa+size). All three must be page aligned. Existing
// mappings in the range are replaced (their frames are not freed: the caller owns
// them). It fails only when a table page cannot be allocated or va is above 2^48.
func (t *Tables) Map(va, pa, size uint64, a Attrs) bool {
	if (va|pa|size)&(PageSize-1) != 0 || va+size > 1<<48 || va+size < va {
		return false
	}
	leaf := a.leafBits()
	// Whatever the caller put in the pages (zeroes) before they become
	// reachable through an entry; Sync after the entries, on every return.
	t.mem.Publish()
	for size > 0 {
		level := 3
		if a.Block {
			for _, l := range [...]int{1, 2} {
				bs := levelSize(l)
				if va%bs == 0 && pa%bs == 0 && size >= bs {
					level = l
					break
				}
			}
		}
		tbl, ok := t.walk(va, level, true)
		if !ok {
			t.mem.Sync()
			return false
		}
		i := index(va, level)
		old := tbl[i]
		e := pa | leaf | descValid // a block descriptor (bit 1 clear) at levels 1-2
		if level == 3 {
			e |= descTable // a page descriptor
		}
		t.replace(tbl, i, e)
		if old&(descValid|descTable) == descValid|descTable && level < 3 {
			t.freeTree(old&addrMask, level+1) // after the flush: no walk can reach it now
		}
		step := levelSize(level)
		va, pa, size = va+step, pa+step, size-step
	}
	t.mem.Sync()
	return true
}

// replace changes a valid entry to another valid one the Arm way: break before
// make (Arm ARM D8.14.1). Without it a core could still hold the old block or an
// old table pointer in its TLB or walk cache next to entries built from the new
// one (a TLB conflict abort on the Cortex-A72, or a walk through a freed table).
func (t *Tables) replace(tbl *[512]uint64, i int, e uint64) {
	if tbl[i]&descValid != 0 {
		tbl[i] = 0
		t.mem.Flush()
	}
	tbl[i] = e
}

// walk returns the table at `level` that holds va's entry, creating intermediate
// tables if create is set (splitting a block that is in the way).
func (t *Tables) walk(va uint64, level int, create bool) (*[512]uint64, bool) {
	tbl := t.mem.Table(t.Root)
	for l := 0; l < level; l++ {
		i := index(va, l)
		e := tbl[i]
		switch {
		case e&descValid == 0:
			if !create {
				return nil, false
			}
			pa, ok := t.mem.AllocTable()
			if !ok {
				return nil, false
			}
			t.mem.Publish() // the zeroed table before the pointer to it
			tbl[i] = pa | descTable | descValid
		case e&descTable == 0: // a block covers this range
			if !create {
				return nil, false
			}
			pa, ok := t.split(e, l)
			if !ok {
				return nil, false
			}
			t.replace(tbl, i, pa|descTable|descValid)
		}
		tbl = t.mem.Table(tbl[i] & addrMask)
	}
	return tbl, true
}

// split turns a block at level l into a table of the next level with the same mapping.
func (t *Tables) split(block uint64, l int) (uint64, bool) {
	pa, ok := t.mem.AllocTable()
	if !ok {
		return 0, false
	}
	sub := t.mem.Table(pa)
	base := block & addrMask
	attrs := block &^ addrMask &^ (descTable | descValid)
	step := levelSize(l + 1)
	for i := range sub {
		e := (base + uint64(i)*step) | attrs | descValid
		if l+1 == 3 {
			e |= descTable
		}
		sub[i] = e
	}
	t.mem.Publish() // the filled table before the pointer to it
	return pa, true
}

func (t *Tables) freeTree(pa uint64, level int) {
	if level < 3 {
		tbl := t.mem.Table(pa)
		for _, e := range tbl {
			if e&(descValid|descTable) == descValid|descTable {
				t.freeTree(e&addrMask, level+1)
			}
		}
	}
	t.mem.FreeTable(pa)
}

// Unmap removes page mappings in [va, va+size), calling release (if not nil) with the
// physical address of every page that was mapped. Blocks partly inside the range are
// split first. Empty tables are kept (cheap, and likely reused).
func (t *Tables) Unmap(va, size uint64, release func(pa uint64)) {
	end := va + size
	for va < end {
		// Find the deepest existing entry for va.
		tbl := t.mem.Table(t.Root)
		level := 0
		for ; level < 3; level++ {
			e := tbl[index(va, level)]
			if e&descValid == 0 || e&descTable == 0 {
				break
			}
			tbl = t.mem.Table(e & addrMask)
		}
		i := index(va, level)
		e := tbl[i]
		step := levelSize(level)
		start := va &^ (step - 1)
		if e&descValid == 0 {
			va = start + step
			continue
		}
		if level < 3 && (start < va || start+step > end) {
			// A block sticks out of the range: split and retry at the next level.
			pa, ok := t.split(e, level)
			if !ok {
				return
			}
			t.replace(tbl, i, pa|descTable|descValid)
			continue
		}
		tbl[i] = 0
		if release != nil {
			base := e & addrMask
			for off := uint64(0); off < step; off += PageSize {
				release(base + off)
			}
		}
		va = start + step
	}
}

// Lookup translates va. ok is false when it is not mapped.
func (t *Tables) Lookup(va uint64) (pa uint64, mem int, ok bool) {
	tbl := t.mem.Table(t.Root)
	for level := 0; level <= 3; level++ {
		e := tbl[index(va, level)]
		if e&descValid == 0 {
			return 0, 0, false
		}
		if level == 3 || e&descTable == 0 {
			size := levelSize(level)
			return e&addrMask&^(size-1) | va&(size-1), int(e>>2) & 7, true
		}
		tbl = t.mem.Table(e & addrMask)
	}
	return 0, 0, false
}
