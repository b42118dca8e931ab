package kernel

import (
	"sync/atomic"

	"github.com/inferpi/inferpi/metal/arm64"
)

// Fault reports: when the kernel itself faults, or a thread faults in a way the Go
// runtime cannot take (no handler, signal blocked, SError), print what a person
// needs to find the bug (exception class, fault address, registers, the faulting
// PC and LR with their Go function names) and stop every core.

var halting uint32

// kernelFault is called by kernelTrap on a fresh stack after an exception in
// kernel context. It never returns.
func kernelFault(kind uintptr) {
	c := thisCore()
	f := &panicFrames[c.id]
	stopAll()
	consoleDrain()
	var l kline
	l.s("\n*** kernel fault on cpu").d(uint64(c.id)).s(": ")
	switch kind {
	case vecSync:
		l.s(exceptionName(arm64.ESR() >> 26))
	case vecIRQ, vecFIQ:
		l.s("interrupt while interrupts were masked")
	case vecSError:
		l.s("SError (asynchronous external abort)")
	default:
		l.s("exception from a lower exception level")
	}
	l.print()
	l = kline{}
	l.s("ESR ").x(arm64.ESR()).s("  FAR ").x(arm64.FAR()).s("  SPSR ").x(f.pstate).print()
	l = kline{}
	l.stepName().print()
	reportRegs(f.x[:], f.sp, f.pc)
	halt()
}

// fatalThread reports a thread fault that cannot become a signal, and stops.
func fatalThread(c *percore, t *thread, why string, a, b uint64) {
	stopAll()
	consoleDrain()
	var l kline
	l.s("\n*** fatal: ").s(why).s(" in thread ").d(uint64(t.tid)).s(" on cpu").d(uint64(c.id)).print()
	l = kline{}
	l.s("ESR/signal ").x(a).s("  fault address ").x(b).print()
	l = kline{}
	l.stepName().print()
	reportRegs(t.ctx.x[:], t.ctx.sp, t.ctx.pc)
	halt()
}

func reportRegs(x []uint64, sp, pc uint64) {
	var l kline
	l.s("PC ").x(pc).s(" ")
	symbol(&l, pc)
	l.print()
	l = kline{}
	l.s("LR ").x(x[30]).s(" ")
	symbol(&l, x[30])
	l.print()
	l = kline{}
	l.s("SP ").x(sp).s("  g (x28) ").x(x[28]).print()
	for i := 0; i < 30; i += 4 {
		l = kline{}
		for j := i; j < i+4 && j < 30; j++ {
			l.s("x").d(uint64(j)).s("=").x(x[j]).s("  ")
		}
		l.print()
	}
	backtrace(x[29])
}

// backtrace follows Go's arm64 frame-pointer chain (x29 -> {saved x29, x30}) while
// it stays in mapped memory and moves up the stack.
func backtrace(fp uint64) {
	for i := 0; i < 24 && fp != 0 && fp%8 == 0; i++ {
		if !mappedKernel(fp, 16) {
			return
		}
		lr := *u64At(uintptr(fp + 8))
		if lr == 0 {
			return
		}
		var l kline
		l.s("  called from ").x(lr).s(" ")
		symbol(&l, lr)
		l.print()
		next := *u64At(uintptr(fp))
		if next <= fp {
			return
		}
		fp = next
	}
}

// mappedKernel reports whether [addr, addr+n) is mapped (kernel stacks and user
// memory alike), without faulting.
func mappedKernel(addr, n uint64) bool {
	if tablesRoot == 0 {
		return addr >= 0x1000 && addr < 1<<30
	}
	return userOK(uintptr(addr), uintptr(n))
}

// stopAll makes the other cores stop at their next kernel entry.
func stopAll() {
	atomic.StoreUint32(&halting, 1)
	intc().SendSGI(sgiWake, 0xff)
}

func halt() {
	kputs("system halted\n")
	arm64.Halt()
}

// symbol appends the Go function containing pc, found in the binary's own pclntab
// (runtime/symtab.go's pcHeader and functab layout, Go 1.20+): no symbol file
// needed on the board.
func symbol(l *kline, pc uint64) {
	tab := pclntabAddr()
	if *u32At(tab) != 0xfffffff1 && *u32At(tab) != 0xfffffff0 {
		l.s("(no symbol table)")
		return
	}
	text := uint64(textStart())
	if pc < text || pc >= uint64(textEnd()) {
		l.s("(outside Go text)")
		return
	}
	nfunc := int(*u64At(tab + 8))
	funcnameOff := uintptr(*u64At(tab + 32))
	pclnOff := uintptr(*u64At(tab + 64))
	ftab := tab + pclnOff
	off := uint32(pc - text)
	lo, hi := 0, nfunc
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if *u32At(ftab + uintptr(mid)*8) <= off {
			lo = mid
		} else {
			hi = mid
		}
	}
	entry := *u32At(ftab + uintptr(lo)*8)
	fn := ftab + uintptr(*u32At(ftab + uintptr(lo)*8 + 4))
	nameOff := *u32At(fn + 4)
	name := tab + funcnameOff + uintptr(nameOff)
	n := uintptr(0)
	for n < 120 && *(*byte)(ptrAt(name + n)) != 0 {
		n++
	}
	l.b(bytesAt(name, n)).s("+").x(uint64(off - entry))
}
