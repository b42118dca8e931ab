//go:build linux && arm64

// Package sys is the firmware's window into the bare-metal kernel: machine
// information, device and DMA memory, large model buffers and interrupt waits,
// through InferPi's private system calls (metal/abi). Everything else (threads,
// time, memory for Go) the firmware gets from the Go runtime as usual.
//
// Outside the firmware (hosted linux/arm64) these calls fail with ENOSYS.
package sys

import (
	"errors"
	"fmt"
	"syscall"
	"time"
	"unsafe"

	"github.com/inferpi/inferpi/metal/abi"
)

func call(nr uintptr, a ...uintptr) (uintptr, uintptr, error) {
	var args [3]uintptr
	copy(args[:], a)
	r1, r2, e := syscall.RawSyscall(nr, args[0], args[1], args[2])
	if e != 0 {
		return 0, 0, e
	}
	return r1, r2, nil
}

// blockingCall is for calls that may wait: the runtime lets other goroutines run.
func blockingCall(nr uintptr, a ...uintptr) (uintptr, uintptr, error) {
	var args [3]uintptr
	copy(args[:], a)
	r1, r2, e := syscall.Syscall(nr, args[0], args[1], args[2])
	if e != 0 {
		return 0, 0, e
	}
	return r1, r2, nil
}

// Info returns what the kernel found at boot.
func Info() (abi.Info, error) {
	var info abi.Info
	_, _, err := call(abi.SysInfo, uintptr(unsafe.Pointer(&info)))
	return info, err
}

// BoardName is Info().Board as a string.
func BoardName(info *abi.Info) string {
	n := 0
	for n < len(info.Board) && info.Board[n] != 0 {
		n++
	}
	return string(info.Board[:n])
}

// MemStats returns the kernel's memory accounting.
func MemStats() (abi.MemStats, error) {
	var s abi.MemStats
	_, _, err := call(abi.SysMemStats, uintptr(unsafe.Pointer(&s)))
	return s, err
}

// MapDevice maps size bytes of device registers at physical address pa and
// returns their virtual address (device memory is identity mapped).
func MapDevice(pa, size uint64) (uintptr, error) {
	va, _, err := call(abi.SysMapDevice, uintptr(pa), uintptr(size))
	if err != nil {
		return 0, fmt.Errorf("map device %#x+%#x: %w", pa, size, err)
	}
	return va, nil
}

// ErrNoMemory is returned when the kernel cannot satisfy an allocation.
var ErrNoMemory = errors.New("out of memory")

// Buffer is a large, virtually contiguous, zeroed buffer outside the Go heap
// (physically scattered). It must be freed with FreeBuffer.
func AllocBuffer(size int) ([]byte, error) {
	if size <= 0 {
		return nil, fmt.Errorf("buffer of %d bytes", size)
	}
	va, _, err := blockingCall(abi.SysAllocBuffer, uintptr(size))
	if err != nil {
		if err == syscall.ENOMEM {
			st, _ := MemStats()
			return nil, fmt.Errorf("%w: need %d MiB, %d MiB free", ErrNoMemory, size>>20, st.FreeBytes>>20)
		}
		return nil, err
	}
	return unsafe.Slice((*byte)(ptrAt(va)), size), nil
}

// FreeBuffer returns a buffer from AllocBuffer to the kernel.
func FreeBuffer(b []byte) error {
	if cap(b) == 0 {
		return nil
	}
	b = b[:cap(b)]
	_, _, err := call(abi.SysFreeBuffer, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return err
}

// VirtToPhys returns the physical address of p[0] and how many bytes from there
// are physically contiguous (at most len(p)).
func VirtToPhys(p []byte) (uint64, int, error) {
	pa, run, err := call(abi.SysVirtToPhys, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return uint64(pa), int(run), err
}

// WaitIRQ waits for shared interrupt id (GIC INTID) or the timeout (0: forever).
func WaitIRQ(id int, timeout time.Duration) error {
	_, _, err := blockingCall(abi.SysWaitIRQ, uintptr(id), uintptr(timeout))
	if err == syscall.ETIMEDOUT {
		return fmt.Errorf("interrupt %d: %w", id, err)
	}
	return err
}

// CurrentCore returns the core the calling thread runs on (meaningful with
// runtime.LockOSThread).
func CurrentCore() int {
	c, _, _ := call(abi.SysCurrentCore)
	return int(c)
}

// SetRealtime sets the wall clock.
func SetRealtime(t time.Time) error {
	_, _, err := call(abi.SysSetRealtime, uintptr(t.UnixNano()))
	return err
}

// Watchdog arms the board's watchdog for the given period (1..15 s); the kernel
// keeps it from firing while it still takes timer interrupts, so a hung kernel
// resets the board. 0 stops it. Not available on QEMU virt.
func Watchdog(seconds int) error {
	_, _, err := call(abi.SysWatchdog, uintptr(seconds))
	if err != nil {
		return fmt.Errorf("watchdog: %w", err)
	}
	return nil
}

// Reboot resets the board (QEMU run with -no-reboot exits).
func Reboot() {
	call(abi.SysReboot, 0)
}

func ptrAt(addr uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&addr)) }

// SetStep tells the kernel which step of the firmware is running ("storage:
// USB", "diag: ram"), so that a fault report, an SError or an unexpected exit
// names it. "" clears it. Names longer than 64 bytes are cut.
func SetStep(name string) {
	b := []byte(name)
	if len(b) == 0 {
		call(abi.SysSetStep, 0, 0)
		return
	}
	call(abi.SysSetStep, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
}

// CatchSError makes SErrors taken while the calling thread runs arrive as a
// SIGBUS at addr (a fault the Go runtime turns into a panic under
// debug.SetPanicOnFault) instead of halting the board; addr names the device
// being touched. 0 ends it. The caller must hold its thread
// (runtime.LockOSThread) for as long.
func CatchSError(addr uint64) error {
	_, _, err := call(abi.SysCatchSError, uintptr(addr))
	return err
}

// ConsoleStats returns the UART console's receive counters since boot.
func ConsoleStats() (abi.ConsoleStats, error) {
	var s abi.ConsoleStats
	_, _, err := call(abi.SysConsoleStats, uintptr(unsafe.Pointer(&s)))
	return s, err
}
