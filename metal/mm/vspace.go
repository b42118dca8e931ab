package mm

// MaxRanges bounds the number of separately reserved virtual ranges. The Go runtime
// makes a few dozen (heap arenas, summaries, stacks); adjacent ones are merged.
const MaxRanges = 1024

// Range is a reserved virtual range [Start, End).
type Range struct{ Start, End uint64 }

// VSpace tracks which virtual addresses are reserved. It knows nothing about what
// is mapped there: that is the translation tables' business.
type VSpace struct {
	r      [MaxRanges]Range // sorted, non-overlapping, non-adjacent
	n      int
	lo, hi uint64 // where FindFree searches
}

// Init sets the window that FindFree allocates from.
func (v *VSpace) Init(lo, hi uint64) { v.n, v.lo, v.hi = 0, lo, hi }

// Count is the number of separate ranges.
func (v *VSpace) Count() int { return v.n }

// At returns range i (for reports and tests).
func (v *VSpace) At(i int) Range { return v.r[i] }

// IsFree reports whether no byte of [start, start+size) is reserved.
func (v *VSpace) IsFree(start, size uint64) bool {
	end := start + size
	if end < start {
		return false
	}
	for i := 0; i < v.n; i++ {
		if v.r[i].Start < end && start < v.r[i].End {
			return false
		}
	}
	return true
}

// Covered reports whether every byte of [start, start+size) is reserved.
func (v *VSpace) Covered(start, size uint64) bool {
	end := start + size
	for i := 0; i < v.n && start < end; i++ {
		if v.r[i].Start > start {
			return false
		}
		if v.r[i].End > start {
			start = v.r[i].End
		}
	}
	return start >= end
}

// Reserve marks [start, start+size) reserved; it fails if any of it already is, or
// if the table is full.
func (v *VSpace) Reserve(start, size uint64) bool {
	if size == 0 || !v.IsFree(start, size) {
		return false
	}
	end := start + size
	i := 0
	for i < v.n && v.r[i].End <= start {
		i++
	}
	mergePrev := i > 0 && v.r[i-1].End == start
	mergeNext := i < v.n && v.r[i].Start == end
	switch {
	case mergePrev && mergeNext:
		v.r[i-1].End = v.r[i].End
		v.remove(i)
	case mergePrev:
		v.r[i-1].End = end
	case mergeNext:
		v.r[i].Start = start
	default:
		if v.n == MaxRanges {
			return false
		}
		copy(v.r[i+1:v.n+1], v.r[i:v.n])
		v.r[i] = Range{start, end}
		v.n++
	}
	return true
}

// Release un-reserves [start, start+size), splitting ranges as needed. Releasing
// addresses that are not reserved is not an error (Linux munmap semantics). It fails
// only if a split would overflow the table.
func (v *VSpace) Release(start, size uint64) bool {
	end := start + size
	for i := 0; i < v.n; i++ {
		r := v.r[i]
		if r.End <= start || r.Start >= end {
			continue
		}
		switch {
		case r.Start >= start && r.End <= end: // wholly inside: drop
			v.remove(i)
			i--
		case r.Start < start && r.End > end: // hole in the middle: split
			if v.n == MaxRanges {
				return false
			}
			copy(v.r[i+2:v.n+1], v.r[i+1:v.n])
			v.r[i] = Range{r.Start, start}
			v.r[i+1] = Range{end, r.End}
			v.n++
			return true
		case r.Start < start: // overlaps our start: trim its end
			v.r[i].End = start
		default: // overlaps our end: trim its start
			v.r[i].Start = end
		}
	}
	return true
}

func (v *VSpace) remove(i int) {
	copy(v.r[i:v.n-1], v.r[i+1:v.n])
	v.n--
}

// FindFree returns the lowest free address in the window with size bytes free after
// it, aligned to align (a power of two). It does not reserve.
func (v *VSpace) FindFree(size, align uint64) (uint64, bool) {
	if align < PageSize {
		align = PageSize
	}
	cand := RoundUp(v.lo, align)
	for i := 0; i <= v.n; i++ {
		limit := v.hi
		if i < v.n {
			if v.r[i].End <= cand {
				continue
			}
			limit = v.r[i].Start
		}
		if limit > v.hi {
			limit = v.hi
		}
		if cand+size >= cand && cand+size <= limit {
			return cand, true
		}
		if i < v.n {
			cand = RoundUp(v.r[i].End, align)
		}
		if cand >= v.hi {
			break
		}
	}
	return 0, false
}
