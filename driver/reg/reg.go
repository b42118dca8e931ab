// Package reg is how drivers touch device registers: through a Bank, so that the
// same driver code runs against real MMIO on bare metal and against a fake
// register bank (which can record the access sequence) in host tests.
package reg

import (
	"sync/atomic"
	"unsafe"
)

// Bank is a window of 32-bit device registers addressed by byte offset.
type Bank interface {
	Read32(off uintptr) uint32
	Write32(off uintptr, v uint32)
}

// MMIO is a Bank over mapped device memory (Device-nGnRE on bare metal).
// Accesses are single 32-bit loads and stores that the compiler cannot merge,
// reorder or drop (sync/atomic compiles to LDAR/STLR on arm64).
type MMIO struct{ base unsafe.Pointer }

// At returns an MMIO bank whose registers start at the virtual address base.
func At(base uintptr) MMIO { return MMIO{base: ptrAt(base)} }

// Base is the bank's virtual address.
func (m MMIO) Base() uintptr { return uintptr(m.base) }

func (m MMIO) Read32(off uintptr) uint32 {
	return atomic.LoadUint32((*uint32)(unsafe.Add(m.base, off)))
}

func (m MMIO) Write32(off uintptr, v uint32) {
	atomic.StoreUint32((*uint32)(unsafe.Add(m.base, off)), v)
}

// ptrAt turns a device address into a pointer. Device memory is outside the Go
// heap, so the collector ignores it; the indirection keeps `go vet` from mistaking
// this for a heap pointer smuggled through a uintptr.
func ptrAt(addr uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&addr)) }

// Sub is a Bank offset into another bank.
type Sub struct {
	Bank
	Off uintptr
}

func (s Sub) Read32(off uintptr) uint32     { return s.Bank.Read32(s.Off + off) }
func (s Sub) Write32(off uintptr, v uint32) { s.Bank.Write32(s.Off+off, v) }

// Set sets bits in a register (read-modify-write).
func Set(b Bank, off uintptr, bits uint32) { b.Write32(off, b.Read32(off)|bits) }

// Clear clears bits in a register (read-modify-write).
func Clear(b Bank, off uintptr, bits uint32) { b.Write32(off, b.Read32(off)&^bits) }
