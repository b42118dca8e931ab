package kernel

import "github.com/inferpi/inferpi/metal/mm"

// One address space for everything. Physical memory is identity-mapped below
// userBase (RAM as normal memory, peripherals as device memory, page 0 never);
// the Go runtime's mmap and the firmware's large buffers get virtual ranges in
// [userBase, userTop) backed by whatever frames are free.
const (
	userBase = 0x100_0000_0000  // 1 TiB: above every physical address we map
	userTop  = 0x8000_0000_0000 // 2^47, the runtime's arena limit
	block2M  = 2 << 20
)

var (
	frames     mm.Frames
	vspace     mm.VSpace // every reserved range, PROT_NONE included
	tablesRoot uint64
	tableMem   kernelTables

	// usable are the ranges the program mapped readable or writable. Their pages
	// may be absent, after MADV_DONTNEED gave the frames back; the first touch then
	// maps a zeroed page (demandPage), as on Linux.
	usable mm.VSpace
)

// kernelTables gives package mm the kernel's table pages through the identity map.
type kernelTables struct{}

func (kernelTables) AllocTable() (uint64, bool) {
	pa, ok := frames.Alloc()
	if ok {
		clear(bytesAt(uintptr(pa), mm.PageSize))
	}
	return pa, ok
}

func (kernelTables) FreeTable(pa uint64) { frames.Release(pa) }

func (kernelTables) Table(pa uint64) *[512]uint64 { return (*[512]uint64)(ptrAt(uintptr(pa))) }

func (kernelTables) Flush() { tlbFlush() }

func (kernelTables) Publish() { publishBarrier() }

func (kernelTables) Sync() { syncBarrier() }

func tables() mm.Tables { return mm.Attach(tablesRoot, &tableMem) }

// userOK reports whether [addr, addr+n) is memory a system call may use, mapping
// pages that MADV_DONTNEED released.
func userOK(addr uintptr, n uintptr) bool {
	if addr < mm.PageSize || addr+n < addr {
		return false
	}
	if mapped(uint64(addr), uint64(n)) {
		return true
	}
	end := uint64(addr + n)
	for p := uint64(addr) &^ (mm.PageSize - 1); p < end; p += mm.PageSize {
		if !mapped(p, 1) && !demandPage(p) {
			return false
		}
	}
	return true
}

// demandPage maps a zeroed page at va if va lies in a usable range whose page was
// released by MADV_DONTNEED. It reports whether va is now mapped.
func demandPage(va uint64) bool {
	page := mm.RoundDown(va, mm.PageSize)
	if !usable.Covered(page, mm.PageSize) {
		return false
	}
	if tb := tables(); lookupOK(&tb, page) {
		return true // another core mapped it first
	}
	return commit(page, mm.PageSize, mm.MemNormal)
}

// tableMapped reports whether every page of [addr, addr+n) is mapped in the
// kernel's tables.
func tableMapped(addr, n uint64) bool {
	tb := tables()
	end := addr + n
	for p := addr &^ (mm.PageSize - 1); p < end; p += mm.PageSize {
		if _, _, ok := tb.Lookup(p); !ok {
			return false
		}
	}
	return true
}

func inUserWindow(addr, size uint64) bool {
	return addr >= userBase && addr+size <= userTop && addr+size > addr
}

// commit backs [va, va+size) with zeroed frames, using 2 MiB blocks where the range
// allows. Pages already mapped are left alone. On failure what was mapped stays
// mapped (the caller unmaps).
func commit(va, size uint64, memType int) bool {
	tb := tables()
	end := va + size
	for va < end {
		if va%block2M == 0 && end-va >= block2M {
			if _, _, mapped := tb.Lookup(va); !mapped && rangeUnmapped(tb, va, block2M) {
				if pa, ok := frames.AllocRange(block2M/mm.PageSize, block2M, 0); ok {
					clear(bytesAt(uintptr(pa), block2M))
					if !tb.Map(va, pa, block2M, mm.Attrs{Mem: memType, Block: true}) {
						for i := uint64(0); i < block2M; i += mm.PageSize {
							frames.Release(pa + i)
						}
						return false
					}
					va += block2M
					continue
				}
			}
		}
		if _, _, mapped := tb.Lookup(va); !mapped {
			pa, ok := frames.Alloc()
			if !ok {
				return false
			}
			clear(bytesAt(uintptr(pa), mm.PageSize))
			if !tb.Map(va, pa, mm.PageSize, mm.Attrs{Mem: memType}) {
				frames.Release(pa)
				return false
			}
		}
		va += mm.PageSize
	}
	return true
}

func rangeUnmapped(tb mm.Tables, va, size uint64) bool {
	for p := va; p < va+size; p += mm.PageSize {
		if _, _, ok := tb.Lookup(p); ok {
			return false
		}
	}
	return true
}

// decommit unmaps [va, va+size) and frees its frames.
func decommit(va, size uint64) {
	tb := tables()
	tb.Unmap(va, size, func(pa uint64) { frames.Release(pa) })
	tlbFlush()
}

func sysMmap(c *percore, t *thread) uint64 {
	addr, length, prot, flags := t.ctx.x[0], t.ctx.x[1], t.ctx.x[2], t.ctx.x[3]
	if flags&MAP_ANONYMOUS == 0 {
		return errno(ENODEV) // there are no files to map
	}
	if length == 0 || length > userTop {
		return errno(EINVAL)
	}
	size := mm.RoundUp(length, mm.PageSize)
	if flags&MAP_FIXED != 0 {
		if addr%mm.PageSize != 0 {
			return errno(EINVAL)
		}
		if !inUserWindow(addr, size) {
			return errno(ENOMEM)
		}
		// Linux semantics: whatever was there is replaced by fresh zero pages.
		decommit(addr, size)
		vspace.Release(addr, size)
		usable.Release(addr, size)
		if !vspace.Reserve(addr, size) {
			return errno(ENOMEM)
		}
	} else {
		addr = mm.RoundDown(addr, mm.PageSize)
		if addr == 0 || !inUserWindow(addr, size) || !vspace.IsFree(addr, size) {
			var ok bool
			if addr, ok = vspace.FindFree(size, mm.PageSize); !ok {
				return errno(ENOMEM)
			}
		}
		if !vspace.Reserve(addr, size) {
			return errno(ENOMEM)
		}
	}
	if prot&(PROT_READ|PROT_WRITE|PROT_EXEC) != 0 {
		if !commit(addr, size, mm.MemNormal) || !usable.Reserve(addr, size) {
			decommit(addr, size)
			vspace.Release(addr, size)
			return errno(ENOMEM)
		}
	}
	return addr
}

func sysMunmap(c *percore, t *thread) uint64 {
	addr, length := t.ctx.x[0], t.ctx.x[1]
	size := mm.RoundUp(length, mm.PageSize)
	if addr%mm.PageSize != 0 || length == 0 || !inUserWindow(addr, size) {
		return errno(EINVAL)
	}
	decommit(addr, size)
	vspace.Release(addr, size)
	usable.Release(addr, size)
	return 0
}

func sysMprotect(c *percore, t *thread) uint64 {
	addr, length, prot := t.ctx.x[0], t.ctx.x[1], t.ctx.x[2]
	size := mm.RoundUp(length, mm.PageSize)
	if addr%mm.PageSize != 0 || !inUserWindow(addr, size) || !vspace.Covered(addr, size) {
		return errno(ENOMEM)
	}
	if prot&(PROT_READ|PROT_WRITE|PROT_EXEC) == 0 {
		decommit(addr, size)
		usable.Release(addr, size)
		return 0
	}
	usable.Release(addr, size) // then one range again, merged with its neighbours
	if !commit(addr, size, mm.MemNormal) || !usable.Reserve(addr, size) {
		return errno(ENOMEM)
	}
	return 0
}

// sysMadvise: after MADV_DONTNEED the pages must read as zero, because the
// runtime (madvdontneed=1, the Linux default) trusts scavenged pages to come back
// zeroed. As on Linux their frames go back to the kernel (so a model loaded after
// /exit can use the memory a chat's heap had), and the first touch maps a fresh
// zero page. Everything else is advice.
func sysMadvise(c *percore, t *thread) uint64 {
	addr, length, advice := t.ctx.x[0], t.ctx.x[1], t.ctx.x[2]
	if addr%mm.PageSize != 0 {
		return errno(EINVAL)
	}
	if advice != MADV_DONTNEED {
		return 0
	}
	size := mm.RoundUp(length, mm.PageSize)
	if !inUserWindow(addr, size) {
		return errno(EINVAL)
	}
	decommit(addr, size)
	return 0
}

func lookupOK(tb *mm.Tables, va uint64) bool {
	_, _, ok := tb.Lookup(va)
	return ok
}
