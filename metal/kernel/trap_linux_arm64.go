package kernel

import (
	"sync/atomic"
	"unsafe"

	"github.com/inferpi/inferpi/metal/arm64"
)

// Exception kinds, as passed by the vectors.
const (
	vecSync   = 0
	vecIRQ    = 1
	vecFIQ    = 2
	vecSError = 3
	vecLower  = 4
)

// Exception classes (ESR_EL1.EC, Arm ARM D17.2.37).
const (
	ecUnknown     = 0x00
	ecFPTrap      = 0x07
	ecIllegal     = 0x0e
	ecSVC64       = 0x15
	ecSysReg      = 0x18
	ecInstrAbort  = 0x21 // same EL
	ecPCAlign     = 0x22
	ecDataAbort   = 0x25 // same EL
	ecSPAlign     = 0x26
	ecFP64        = 0x2c
	ecSError      = 0x2f
	ecBRK         = 0x3c
	ecInstrAbortL = 0x20
	ecDataAbortL  = 0x24
)

func ptrOf(p *context) unsafe.Pointer { return unsafe.Pointer(p) }

// trap is called by the vectors for every exception taken from a thread, with the
// thread's state saved in its context.
func trap(kind uintptr) {
	if atomic.LoadUint32(&halting) != 0 {
		arm64.Halt() // another core is printing a fault report: stay out of its way
	}
	c := thisCore()
	t := &threads[c.cur]
	switch kind {
	case vecSync:
		esr := arm64.ESR()
		if esr>>26 == ecSVC64 {
			if fastSyscall(t) {
				return
			}
			bkl.lock()
			syscall(c, t)
		} else {
			far := arm64.FAR()
			bkl.lock()
			threadFault(c, t, esr, far)
		}
	case vecIRQ, vecFIQ:
		bkl.lock()
		handleIRQs(c)
	default:
		esr := arm64.ESR()
		bkl.lock()
		threadSError(c, t, esr)
	}
	finishTrap(c)
}

// threadFault turns a synchronous exception in a thread into a signal (so the Go
// runtime's handler makes a nil dereference an ordinary panic), or stops with a
// report when the thread cannot take one.
func threadFault(c *percore, t *thread, esr, far uint64) {
	ec := esr >> 26
	sig, code := 0, 0
	switch ec {
	case ecDataAbort, ecInstrAbort, ecDataAbortL, ecInstrAbortL:
		fsc := esr & 0x3f
		if fsc&0x3c == 0x04 && demandPage(far) {
			return // a page MADV_DONTNEED released: mapped again, the access retries
		}
		switch {
		case fsc == 0x21: // alignment fault
			sig, code = SIGBUS, BUS_ADRALN
		case fsc&0x3c == 0x0c: // permission fault, any level
			sig, code = SIGSEGV, SEGV_ACCERR
		case fsc&0x3c == 0x04 || fsc&0x3c == 0x08: // translation or access flag fault
			sig, code = SIGSEGV, SEGV_MAPERR
		default: // external aborts and the rest
			sig, code = SIGBUS, BUS_ADRERR
		}
	case ecPCAlign, ecSPAlign:
		sig, code = SIGBUS, BUS_ADRALN
		far = t.ctx.pc
	case ecUnknown, ecIllegal, ecSysReg:
		sig, code = SIGILL, ILL_ILLOPC
		far = t.ctx.pc
	case ecBRK:
		sig, code = SIGTRAP, TRAP_BRKPT
		far = t.ctx.pc
	case ecFP64:
		sig, code = SIGFPE, 0
		far = t.ctx.pc
	}
	if sig == 0 || !canDeliver(t, sig) {
		fatalThread(c, t, exceptionName(ec), esr, far)
		return
	}
	deliverSignal(t, sig, code, far)
}

func exceptionName(ec uint64) string {
	switch ec {
	case ecUnknown:
		return "undefined instruction"
	case ecFPTrap:
		return "FP/SIMD access trapped"
	case ecIllegal:
		return "illegal execution state"
	case ecSVC64:
		return "system call"
	case ecSysReg:
		return "system register access trapped"
	case ecInstrAbort, ecInstrAbortL:
		return "instruction abort"
	case ecPCAlign:
		return "PC alignment fault"
	case ecDataAbort, ecDataAbortL:
		return "data abort"
	case ecSPAlign:
		return "SP alignment fault"
	case ecFP64:
		return "floating-point exception"
	case ecSError:
		return "SError"
	case ecBRK:
		return "breakpoint (BRK)"
	}
	return "exception"
}
