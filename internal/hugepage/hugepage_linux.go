package hugepage

import (
	"syscall"
	"unsafe"
)

// From Linux's include/uapi/asm-generic/mman-common.h.
const (
	madvHugepage = 14
	madvCollapse = 25 // Linux 6.1
)

func advise(b []byte) bool {
	if syscall.Madvise(b, madvHugepage) != nil {
		return false
	}
	return syscall.Madvise(b, madvCollapse) == nil
}

// interior is the largest stretch [lo, hi) of b made of whole aligned huge pages.
func interior(b []byte) (lo, hi int) {
	if len(b) == 0 {
		return 0, 0
	}
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo = int((Size - addr%Size) % Size)
	if lo >= len(b) {
		return 0, 0
	}
	return lo, lo + (len(b)-lo)/Size*Size
}
