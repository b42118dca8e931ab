package mm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

type fakeMem struct {
	pages   map[uint64]*[512]uint64
	next    uint64
	freed   int
	flushes int
}

func (m *fakeMem) Flush()   { m.flushes++ }
func (m *fakeMem) Publish() {}
func (m *fakeMem) Sync()    {}

func newFakeMem() *fakeMem { return &fakeMem{pages: map[uint64]*[512]uint64{}, next: 0x100000} }

func (m *fakeMem) AllocTable() (uint64, bool) {
	pa := m.next
	m.next += PageSize
	m.pages[pa] = new([512]uint64)
	return pa, true
}
func (m *fakeMem) FreeTable(pa uint64)          { delete(m.pages, pa); m.freed++ }
func (m *fakeMem) Table(pa uint64) *[512]uint64 { return m.pages[pa] }

func TestTablesMapLookupUnmap(t *testing.T) {
	mem := newFakeMem()
	tb, _ := NewTables(mem)
	// 4 KiB pages, skipping page 0 like the kernel does.
	if !tb.Map(PageSize, PageSize, 2<<20-PageSize, Attrs{Mem: MemNormal}) {
		t.Fatal("map failed")
	}
	if _, _, ok := tb.Lookup(0); ok {
		t.Error("page 0 must stay unmapped")
	}
	if pa, mt, ok := tb.Lookup(0x1234); !ok || pa != 0x1234 || mt != MemNormal {
		t.Errorf("Lookup(0x1234) = %#x %d %v", pa, mt, ok)
	}
	// A 1 GiB block and a 2 MiB block.
	if !tb.Map(1<<30, 1<<30, 1<<30, Attrs{Mem: MemNormal, Block: true}) {
		t.Fatal("map block failed")
	}
	if !tb.Map(0xFE00_0000, 0xFE00_0000, 4<<20, Attrs{Mem: MemDevice, Block: true}) {
		t.Fatal("map device failed")
	}
	if pa, mt, ok := tb.Lookup(0xFE20_1018); !ok || pa != 0xFE20_1018 || mt != MemDevice {
		t.Errorf("device lookup = %#x %d %v", pa, mt, ok)
	}
	if pa, _, ok := tb.Lookup(1<<30 + 0x12345678); !ok || pa != 1<<30+0x12345678 {
		t.Errorf("block lookup = %#x %v", pa, ok)
	}
	// Unmapping one page from the middle of the 1 GiB block splits it.
	var released []uint64
	tb.Unmap(1<<30+5*PageSize, PageSize, func(pa uint64) { released = append(released, pa) })
	if len(released) != 1 || released[0] != 1<<30+5*PageSize {
		t.Errorf("released %#x", released)
	}
	if _, _, ok := tb.Lookup(1<<30 + 5*PageSize); ok {
		t.Error("unmapped page still mapped")
	}
	if mem.flushes == 0 {
		t.Error("a block was split without break-before-make (no flush)")
	}
	for _, va := range []uint64{1<<30 + 4*PageSize, 1<<30 + 6*PageSize, 1<<30 + 100<<20} {
		if pa, _, ok := tb.Lookup(va); !ok || pa != va {
			t.Errorf("neighbour %#x lost after split: %#x %v", va, pa, ok)
		}
	}
	// Scattered frames behind a contiguous virtual range (the model buffer case).
	va := uint64(0x10_0000_0000)
	for i := uint64(0); i < 8; i++ {
		if !tb.Map(va+i*PageSize, 0x4000_0000+(7-i)*PageSize, PageSize, Attrs{Mem: MemNormal}) {
			t.Fatal("map failed")
		}
	}
	if pa, _, _ := tb.Lookup(va + 7*PageSize + 8); pa != 0x4000_0008 {
		t.Errorf("scattered lookup = %#x", pa)
	}
	// Out of range.
	if tb.Map(1<<48, 0, PageSize, Attrs{}) {
		t.Error("mapping above 2^48 succeeded")
	}
}

func TestTablesReplaceTableWithBlockFreesTables(t *testing.T) {
	mem := newFakeMem()
	tb, _ := NewTables(mem)
	tb.Map(2<<20, 2<<20, PageSize, Attrs{Mem: MemNormal})
	before := len(mem.pages)
	tb.Map(2<<20, 2<<20, 2<<20, Attrs{Mem: MemNormal, Block: true})
	if len(mem.pages) != before-1 || mem.freed != 1 {
		t.Errorf("L3 table not freed: %d -> %d pages", before, len(mem.pages))
	}
}

// orderedMem is fakeMem checking what the barriers must order. A page zeroed
// (a new table, or a data page the caller cleared) must not be reachable from
// the tables before a Publish has come between its zeroing and the entry that
// points to it, and Map must end with a Sync after its last entry.
type orderedMem struct {
	*fakeMem
	pending    map[uint64]bool        // zeroed since the last Publish
	synced     map[uint64][512]uint64 // the tables as the last Sync saw them
	violations []string
}

func newOrderedMem() *orderedMem {
	return &orderedMem{fakeMem: newFakeMem(), pending: map[uint64]bool{}}
}

func (m *orderedMem) AllocTable() (uint64, bool) {
	pa, ok := m.fakeMem.AllocTable()
	m.pending[pa] = true
	return pa, ok
}

// zeroed records that the caller cleared a data page (the kernel's commit).
func (m *orderedMem) zeroed(pa uint64) { m.pending[pa] = true }

// unordered lists the entries that reach a page still pending.
func (m *orderedMem) unordered(when string) {
	for tpa, tbl := range m.pages {
		for i, e := range tbl {
			if e&descValid != 0 && m.pending[e&addrMask] {
				m.violations = append(m.violations, fmt.Sprintf("%s: entry %d of table %#x reaches %#x, zeroed with no Publish since", when, i, tpa, e&addrMask))
			}
		}
	}
}

func (m *orderedMem) Publish() {
	m.unordered("at a Publish")
	clear(m.pending)
}

func (m *orderedMem) Sync() {
	m.synced = map[uint64][512]uint64{}
	for pa, tbl := range m.pages {
		m.synced[pa] = *tbl
	}
}

// check is called after Map returned: nothing reaches a pending page, and the
// tables are what the last Sync saw.
func (m *orderedMem) check(t *testing.T) {
	t.Helper()
	m.unordered("after Map")
	if m.synced == nil {
		m.violations = append(m.violations, "Map ended without a Sync")
	}
	for pa, tbl := range m.pages {
		if s, ok := m.synced[pa]; !ok || s != *tbl {
			m.violations = append(m.violations, fmt.Sprintf("table %#x changed after the last Sync", pa))
		}
	}
	for _, v := range m.violations {
		t.Error(v)
	}
	m.violations, m.synced = nil, nil
}

// New tables and freshly zeroed pages become reachable only after a Publish
// (DMB ISHST in the kernel), and every Map ends with a Sync (DSB ISHST, ISB):
// the publication order Linux keeps (pmd_install, __set_pte).
func TestTablesPublishInOrder(t *testing.T) {
	mem := newOrderedMem()
	tb, _ := NewTables(mem)
	mem.zeroed(0x4000_0000)
	if !tb.Map(0x10_0000_0000, 0x4000_0000, PageSize, Attrs{Mem: MemNormal}) { // L1, L2, L3 tables
		t.Fatal("map failed")
	}
	mem.check(t)
	mem.zeroed(0x4020_0000)
	if !tb.Map(0x10_0020_0000, 0x4020_0000, 2<<20, Attrs{Mem: MemNormal, Block: true}) { // a 2 MiB block
		t.Fatal("map failed")
	}
	mem.check(t)
	if !tb.Map(1<<30, 1<<30, 1<<30, Attrs{Mem: MemNormal, Block: true}) {
		t.Fatal("map failed")
	}
	mem.check(t)
	// Splitting the 1 GiB block for one page: the new table is filled before
	// it replaces the block.
	mem.zeroed(0x5000_0000)
	if !tb.Map(1<<30+PageSize, 0x5000_0000, PageSize, Attrs{Mem: MemNormal}) {
		t.Fatal("map failed")
	}
	mem.check(t)
	tb.Unmap(1<<30+8*PageSize, PageSize, nil)
	mem.unordered("after Unmap")
	for _, v := range mem.violations {
		t.Error(v)
	}
}

func TestFrames(t *testing.T) {
	var f Frames
	f.Init(0)
	f.AddRAM(0, 64<<20)
	f.Reserve(0, PageSize)    // page 0
	f.Reserve(0x80000, 2<<20) // kernel image
	f.AddRAM(1<<30, 1<<20)    // a second region
	want := uint64(64<<20+1<<20)/PageSize - 1 - (2<<20)/PageSize
	if f.Free() != want || f.Total() != (64<<20+1<<20)/PageSize {
		t.Fatalf("free %d total %d, want %d", f.Free(), f.Total(), want)
	}
	seen := map[uint64]bool{}
	for i := 0; i < 1000; i++ {
		pa, ok := f.Alloc()
		if !ok || seen[pa] || pa == 0 || (pa >= 0x80000 && pa < 0x80000+2<<20) {
			t.Fatalf("bad frame %#x %v", pa, ok)
		}
		seen[pa] = true
	}
	pa, ok := f.AllocRange(512, 2<<20, 0)
	if !ok || pa%(2<<20) != 0 {
		t.Fatalf("AllocRange = %#x %v", pa, ok)
	}
	for i := uint64(0); i < 512; i++ {
		if !f.IsUsed(pa + i*PageSize) {
			t.Fatal("range not marked used")
		}
	}
	if _, ok := f.AllocRange(1, PageSize, 16<<20); !ok {
		t.Error("low allocation failed")
	}
	if pa, ok := f.AllocRange(1024, PageSize, 0); !ok || pa < 1<<30 && pa+1024*PageSize > 64<<20 {
		t.Errorf("contiguous range crosses a hole: %#x", pa)
	}
	// Exhaust and release.
	n := f.Free()
	var got []uint64
	for {
		pa, ok := f.Alloc()
		if !ok {
			break
		}
		got = append(got, pa)
	}
	if uint64(len(got)) != n || f.Free() != 0 {
		t.Fatalf("allocated %d of %d", len(got), n)
	}
	for _, pa := range got {
		f.Release(pa)
	}
	if f.Free() != n {
		t.Errorf("after release free = %d, want %d", f.Free(), n)
	}
}

func TestVSpace(t *testing.T) {
	var v VSpace
	v.Init(1<<40, 2<<40)
	a, ok := v.FindFree(64<<20, 64<<20)
	if !ok || a != 1<<40 {
		t.Fatalf("FindFree = %#x", a)
	}
	if !v.Reserve(a, 64<<20) || v.Reserve(a+PageSize, PageSize) {
		t.Fatal("reserve/overlap check wrong")
	}
	b, _ := v.FindFree(PageSize, PageSize)
	if b != a+64<<20 {
		t.Fatalf("next free = %#x", b)
	}
	v.Reserve(b, PageSize)
	if v.Count() != 1 {
		t.Errorf("adjacent ranges not merged: %d", v.Count())
	}
	// Punch a hole, then fill it.
	v.Release(a+PageSize, PageSize)
	if v.Count() != 2 || v.IsFree(a, PageSize) || !v.IsFree(a+PageSize, PageSize) {
		t.Fatalf("release split wrong: %v %v", v.At(0), v.At(1))
	}
	if c, _ := v.FindFree(PageSize, PageSize); c != a+PageSize {
		t.Errorf("hole not found: %#x", c)
	}
	if !v.Covered(a, PageSize) || v.Covered(a, 2*PageSize) {
		t.Error("Covered wrong")
	}
	// Random operations against a reference bitmap.
	r := rand.New(rand.NewPCG(1, 2))
	var w VSpace
	w.Init(0, 256*PageSize)
	ref := make([]bool, 256)
	for i := 0; i < 5000; i++ {
		s, n := uint64(r.IntN(256)), uint64(1+r.IntN(16))
		if s+n > 256 {
			n = 256 - s
		}
		if r.IntN(2) == 0 {
			free := true
			for j := s; j < s+n; j++ {
				free = free && !ref[j]
			}
			if got := w.Reserve(s*PageSize, n*PageSize); got != free {
				t.Fatalf("Reserve(%d,%d) = %v, want %v", s, n, got, free)
			}
			if free {
				for j := s; j < s+n; j++ {
					ref[j] = true
				}
			}
		} else {
			w.Release(s*PageSize, n*PageSize)
			for j := s; j < s+n; j++ {
				ref[j] = false
			}
		}
		for j := range ref {
			if w.IsFree(uint64(j)*PageSize, PageSize) == ref[j] {
				t.Fatalf("step %d page %d: free=%v ref=%v", i, j, !ref[j], ref[j])
			}
		}
	}
}
