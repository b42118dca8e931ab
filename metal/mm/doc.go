// Package mm is the bare-metal kernel's memory bookkeeping: the physical frame
// allocator, the virtual address-space map, and the AArch64 translation tables.
//
// It is portable Go with no hardware access (tables are reached through the Memory
// interface), so it is tested on the host. The kernel calls it from kernel context,
// where no goroutine exists: nothing here allocates, panics on valid input, or stores
// Go pointers into long-lived state (all state is integers in fixed arrays).
package mm

// PageSize is the translation granule (4 KiB).
const PageSize = 4096

// PageShift is log2(PageSize).
const PageShift = 12

// RoundUp rounds x up to a multiple of a (a power of two).
func RoundUp(x, a uint64) uint64 { return (x + a - 1) &^ (a - 1) }

// RoundDown rounds x down to a multiple of a (a power of two).
func RoundDown(x, a uint64) uint64 { return x &^ (a - 1) }
