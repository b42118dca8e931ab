package bootlog

import (
	"syscall"
	"time"
	"unsafe"
)

// Uptime is the time since boot: CLOCK_MONOTONIC, which InferPi's kernel counts
// from the board's start (metal/kernel syscall.go clockGettime) and Linux from
// its own boot. The Go runtime hides its monotonic clock's origin, so ask the
// kernel directly.
func Uptime() time.Duration {
	const clockMonotonic = 1
	var ts syscall.Timespec
	_, _, e := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&ts)), 0)
	if e != 0 {
		return time.Since(start)
	}
	return time.Duration(ts.Nano())
}

var start = time.Now()
