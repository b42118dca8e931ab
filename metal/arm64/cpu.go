//go:build arm64

// Package arm64 holds the Cortex-A72 primitives the bare-metal kernel needs:
// system registers, barriers, cache and TLB maintenance, and the generic timer.
// Every function is a leaf in assembly (NOSPLIT, no Go runtime use), so it may be
// called from kernel context, where no goroutine exists.
package arm64

// Barriers and hints.
func DSB()      // DSB SY: all memory accesses complete
func DSBISH()   // DSB ISH: inner-shareable (all cores)
func DMB()      // DMB SY
func DMBISHST() // DMB ISHST: earlier stores before later ones, for every core
func DSBISHST() // DSB ISHST: earlier stores complete, for every core (and its table walks)
func ISB()      // ISB: refetch instructions after a system register change
func WFI()      // wait for interrupt (wakes on a pending IRQ even while masked)
func WFE()      // wait for event
func SEV()      // send event to all cores
func Halt()     // mask interrupts and wait forever

// Identification.
func MPIDR() uint64
func MIDR() uint64
func CurrentEL() uint64 // exception level, 0..3
func IDAA64ISAR0() uint64
func IDAA64PFR0() uint64
func IDAA64MMFR0() uint64
func CTR() uint64 // cache type register (line sizes)

// Generic timer (EL1 physical timer; EL1 access is granted by the boot code).
func CNTFRQ() uint64
func CNTPCT() uint64
func SetCNTPCVAL(v uint64)
func SetCNTPCTL(v uint64)

// Exception state.
func ESR() uint64
func FAR() uint64
func ELR() uint64
func SPSR() uint64
func SPEL0() uint64

// Per-core pointer (the kernel keeps its per-core block here).
func TPIDREL1() uintptr
func SetTPIDREL1(v uintptr)

// Writable reports whether a store to va would succeed right now, asking the MMU
// itself (AT S1E1W): safe without locks, unlike a software walk of tables that
// another core may be changing.
func Writable(va uintptr) bool

// Interrupt masking at the current EL.
func MaskIRQ()
func UnmaskIRQ()

// MMU.
func SetTTBR0(pa uint64)  // switch translation table (with DSB/ISB)
func TLBIAll()            // invalidate all EL1 TLB entries on all cores
func TLBIPage(va uintptr) // invalidate one page's entries on all cores (VAE1IS)

// Data cache maintenance by virtual address over [addr, addr+size), to the point of
// coherency, inner shareable. These are what make non-coherent DMA correct.
func DCCleanRange(addr, size uintptr)      // write back dirty lines (before a device reads)
func DCInvalRange(addr, size uintptr)      // discard lines (after a device wrote)
func DCCleanInvalRange(addr, size uintptr) // both
func ICInvalAll()                          // invalidate all instruction caches (after writing code)
