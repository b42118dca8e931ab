// Package hugepage asks the host's kernel to back large buffers (model weights,
// the benchmark's read buffer) with 2 MiB pages instead of 4 KiB ones.
//
// Decoding streams every weight once per token, and with 4 KiB pages every 4 KiB
// of it needs a translation the TLB no longer holds; once the weights have fallen
// out of the caches, so have the page tables, and each walk waits for memory at
// the start of every matrix, where no prefetch has run ahead. Measured decoding
// llama-50m q4_0 from memory on the 2-vCPU development VM, the matrices took
// 1.45-1.50 ms per token in huge pages against 1.68-2.09 ms in small ones, and
// the 9 MB classifier 378-414 against 519-606 µs. The firmware needs none of
// this: its page tables map RAM with 2 MiB and 1 GiB blocks (metal/mm).
package hugepage

// Size is the huge page size advised for.
const Size = 2 << 20

// Advise backs the whole 2 MiB pages inside b with huge pages where the host can
// (Linux: MADV_HUGEPAGE, then MADV_COLLAPSE, which since Linux 6.1 moves pages
// already filled into huge ones at once). It is advice: the contents stay as they
// are, and where the host cannot (another OS, an older kernel, THP disabled), b
// keeps its small pages. It reports whether the host took it.
func Advise(b []byte) bool {
	lo, hi := interior(b)
	if hi <= lo {
		return false
	}
	return advise(b[lo:hi])
}
