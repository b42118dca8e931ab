// Package kernel is the small kernel inside the InferPi firmware. It answers the
// Linux system calls that the unmodified Go runtime makes (the runtime is built for
// linux/arm64), schedules the runtime's threads on all cores, turns CPU faults into
// Linux signals, and gives the firmware a narrow API (package metal/sys) for device
// memory, DMA memory and large model buffers.
//
// Kernel code runs in "kernel context": on a per-core kernel stack, with interrupts
// masked, and with register g (R28) pointing at a per-core fake goroutine whose only
// meaningful fields are the stack bounds. Ordinary Go functions work there as long as
// they never allocate, never block, never panic, and never store a Go pointer into
// memory that outlives the call (that would need a write barrier). So all long-lived
// kernel state is integers in fixed arrays, threads are named by index, and the
// build test TestKernelCodeIsRuntimeFree checks the compiled code for allocation and
// write-barrier calls.
//
// A thread is blocked by recording why in its thread struct and switching away; the
// kernel stack holds nothing across that, so one stack per core suffices (the
// "interrupt model" of seL4). Whoever wakes a thread completes its system call
// (result in x0, data copied into its buffer).
package kernel

import "unsafe"

const (
	maxCores       = 4
	maxThreads     = 256
	kstackSize     = 64 << 10
	panicStackSize = 16 << 10
)

// context is a thread's saved state. The exception vectors (vectors_linux_arm64.s)
// store and load it at go_asm.h's context_* offsets, two registers at a time: sp
// and pc are neighbours, as are fpsr and fpcr, and fpsr follows v (layout_test.go).
type context struct {
	x      [31]uint64 // x0..x30
	sp     uint64
	pc     uint64
	pstate uint64
	v      [64]uint64 // q0..q31
	fpsr   uint64
	fpcr   uint64
}

const (
	pstateEL1t  = 0x4 // M[3:0] = EL1 with SP_EL0; DAIF clear: interrupts on
	pstateDAIF  = 0xf << 6
	pstateModeM = 0xf
)

// percore is one core's kernel block; TPIDR_EL1 points at it. The assembly reads
// ctx, ksp, id and g at go_asm.h's percore_* offsets.
type percore struct {
	ctx uintptr // the running thread's context (what the vectors save to and restore from)
	ksp uintptr // top of this core's kernel stack
	id  uintptr
	g   fakeG

	cur        int32  // index of the running thread, or -1 when idle
	idle       uint32 // 1 while waiting in WFI
	sliceEnd   uint64 // counter value when the running thread's time slice ends
	timerArmed uint64 // CVAL programmed
	started    uint32 // the core has entered the kernel
	_          [64]byte
}

// fakeG is the goroutine that g (R28) points at in kernel context. Only its stack
// bounds mean anything: the compiler's stack checks in function prologues read
// them where the runtime's g has them (runtime/runtime2.go, type g: stack.lo,
// stack.hi, then stackguard0 and stackguard1, "offset known to liblink").
type fakeG struct {
	stackLo     uintptr
	stackHi     uintptr
	stackguard0 uintptr
	stackguard1 uintptr
	_           [12]uintptr // the rest of a g, zero
}

var cores [maxCores]percore

// kstacks are the per-core kernel stacks (plus an emergency stack each for reports
// of kernel faults, which may come from a broken stack).
var kstacks [maxCores][kstackSize]byte
var panicStacks [maxCores][panicStackSize]byte

// Thread states.
const (
	tsFree     = iota
	tsRunnable // in the run queue
	tsRunning  // on a core
	tsBlocked  // waiting (see thread.wait)
	tsDead     // exited; slot reusable once no core runs on its stack
)

// Wait reasons.
const (
	waitNone = iota
	waitFutex
	waitSleep
	waitRead  // console read
	waitWrite // console write, TX buffer full
	waitEpoll
	waitIRQ // private: a device interrupt
)

type thread struct {
	ctx   context // percore.ctx points here while the thread runs
	state uint32
	tid   int32
	core  int32 // core it runs on (tsRunning)

	wait     uint32 // waitXxx
	deadline uint64 // counter value when a timed wait ends; 0 = none
	waitAddr uintptr
	waitLen  uintptr
	waitDone uintptr // bytes already done (partial writes)

	sigmask    uint64 // blocked signals (bit n-1 for signal n)
	sigpending uint64
	altSP      uintptr
	altSize    uintptr
	altFlags   int32
	inHandler  int32
}

var threads [maxThreads]thread

// ptrAt makes a pointer to kernel-owned or user memory at addr. The memory is never
// in the Go heap's view of this code, so the collector does not care; the
// indirection keeps `go vet` from mistaking it for a smuggled heap pointer.
func ptrAt(addr uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&addr)) }

func u64At(addr uintptr) *uint64 { return (*uint64)(ptrAt(addr)) }
func u32At(addr uintptr) *uint32 { return (*uint32)(ptrAt(addr)) }

// bytesAt views n bytes at addr.
func bytesAt(addr, n uintptr) []byte { return unsafe.Slice((*byte)(ptrAt(addr)), n) }

func unsafePointer(p *uint64) unsafe.Pointer { return unsafe.Pointer(p) }
