package kernels

// parallelMinWork is the work (multiply-adds, e.g. attention over the KV cache)
// below which splitting across cores does not pay: waking the other cores costs
// about a microsecond.
const parallelMinWork = 1 << 15

// ParallelWork calls fn(i) for every i < items: on every core when the items
// together take at least parallelMinWork multiply-adds (work), on the caller
// otherwise. fn must only write what item i owns (e.g. attention for head i).
func ParallelWork(items, work int, fn func(i int)) {
	if work < parallelMinWork {
		for i := range items {
			fn(i)
		}
		return
	}
	Parallel(items, fn)
}
