package mm

// MaxSpan is how much physical address space the frame allocator tracks from its
// base (8 GiB covers the largest Pi 4, whose RAM starts at 0).
const MaxSpan = 8 << 30

const maxFrames = MaxSpan / PageSize

// Frames allocates 4 KiB physical frames from a bitmap (1 = in use). Frames that are
// not RAM, or are reserved, stay marked in use forever.
type Frames struct {
	base  uint64 // physical address of frame 0
	used  [maxFrames / 64]uint64
	free  uint64 // free frames
	total uint64 // frames ever added as RAM
	hint  uint64 // word index where the next search starts
}

// Init marks everything in [base, base+MaxSpan) in use; AddRAM then frees the RAM
// ranges. base is 0 on the Pi; tests use the address of a host buffer.
func (f *Frames) Init(base uint64) {
	for i := range f.used {
		f.used[i] = ^uint64(0)
	}
	f.base = RoundDown(base, PageSize)
	f.free, f.total, f.hint = 0, 0, 0
}

// span clips [lo, hi) to the tracked range and returns frame numbers.
func (f *Frames) span(lo, hi uint64) (uint64, uint64) {
	lo, hi = max(lo, f.base), min(hi, f.base+MaxSpan)
	if hi <= lo {
		return 0, 0
	}
	return (lo - f.base) / PageSize, (hi - f.base) / PageSize
}

// AddRAM makes [base, base+size) available (whole frames inside it only).
func (f *Frames) AddRAM(base, size uint64) {
	lo, hi := f.span(RoundUp(base, PageSize), RoundDown(base+size, PageSize))
	for n := lo; n < hi; n++ {
		if f.setFree(n) {
			f.total++
		}
	}
}

// Reserve takes [base, base+size) out of use (kernel image, tables, firmware areas).
func (f *Frames) Reserve(base, size uint64) {
	lo, hi := f.span(RoundDown(base, PageSize), RoundUp(base+size, PageSize))
	for n := lo; n < hi; n++ {
		if f.used[n/64]&(1<<(n%64)) == 0 {
			f.used[n/64] |= 1 << (n % 64)
			f.free--
		}
	}
}

func (f *Frames) setFree(n uint64) bool {
	w, b := n/64, uint64(1)<<(n%64)
	if f.used[w]&b == 0 {
		return false
	}
	f.used[w] &^= b
	f.free++
	return true
}

// Free returns frames, counts. Total is all RAM ever added.
func (f *Frames) Free() uint64  { return f.free }
func (f *Frames) Total() uint64 { return f.total }

// IsUsed reports whether the frame holding pa is allocated or reserved.
func (f *Frames) IsUsed(pa uint64) bool {
	if pa < f.base || pa >= f.base+MaxSpan {
		return true
	}
	n := (pa - f.base) / PageSize
	return f.used[n/64]&(1<<(n%64)) != 0
}

// Alloc takes one frame. ok is false when memory is exhausted.
func (f *Frames) Alloc() (pa uint64, ok bool) {
	if f.free == 0 {
		return 0, false
	}
	nw := uint64(len(f.used))
	for i := uint64(0); i < nw; i++ {
		w := (f.hint + i) % nw
		if f.used[w] == ^uint64(0) {
			continue
		}
		bit := trailingOnes(f.used[w])
		f.used[w] |= 1 << bit
		f.free--
		f.hint = w
		return f.base + (w*64+bit)*PageSize, true
	}
	return 0, false
}

// AllocRange takes n physically contiguous frames whose first address is a multiple
// of align bytes (a power of two >= PageSize) and below limit (0 = no limit).
func (f *Frames) AllocRange(n, align, limit uint64) (pa uint64, ok bool) {
	if n == 0 || n > f.free {
		return 0, false
	}
	if align < PageSize {
		align = PageSize
	}
	step := align / PageSize
	end := uint64(maxFrames)
	if limit != 0 {
		if limit <= f.base {
			return 0, false
		}
		end = min(end, (limit-f.base)/PageSize)
	}
	// Frame numbers are relative to base; alignment is of physical addresses.
	first := (RoundUp(f.base, align) - f.base) / PageSize
	for start := first; start+n <= end; start += step {
		if f.used[start/64] == ^uint64(0) && step <= 64 && start%64 == 0 {
			continue
		}
		run := uint64(0)
		for run < n && f.used[(start+run)/64]&(1<<((start+run)%64)) == 0 {
			run++
		}
		if run == n {
			for i := start; i < start+n; i++ {
				f.used[i/64] |= 1 << (i % 64)
			}
			f.free -= n
			return f.base + start*PageSize, true
		}
		// Skip past the used frame that ended the run, keeping alignment.
		next := start + run + 1
		start = first + (next-first+step-1)/step*step - step
	}
	return 0, false
}

// Release returns one frame allocated with Alloc or AllocRange.
func (f *Frames) Release(pa uint64) {
	if pa >= f.base && pa < f.base+MaxSpan {
		f.setFree((pa - f.base) / PageSize)
	}
}

func trailingOnes(x uint64) uint64 {
	n := uint64(0)
	for x&1 == 1 {
		x >>= 1
		n++
	}
	return n
}
