package kernel

// Signals, because the Go runtime needs them for correctness: a nil dereference
// becomes a panic through its SIGSEGV handler, and asynchronous preemption (so a
// goroutine spinning without calls cannot stall the GC) arrives as SIGURG sent
// with tgkill. Frames follow the Linux arm64 rt_sigframe layout (linux.go).

type sigaction struct {
	handler uint64
	flags   uint64
	mask    uint64
}

var sigactions [nsig + 1]sigaction

func sigbit(sig int) uint64 { return 1 << uint(sig-1) }

func sysRtSigaction(c *percore, t *thread) uint64 {
	sig, act, old, size := int(t.ctx.x[0]), uintptr(t.ctx.x[1]), uintptr(t.ctx.x[2]), t.ctx.x[3]
	if sig < 1 || sig > nsig || size != 8 {
		return errno(EINVAL)
	}
	if old != 0 {
		if !userOK(old, 32) {
			return errno(EFAULT)
		}
		a := sigactions[sig]
		*u64At(old) = a.handler
		*u64At(old + 8) = a.flags
		*u64At(old + 16) = 0 // sa_restorer
		*u64At(old + 24) = a.mask
	}
	if act != 0 {
		if sig == SIGKILL || sig == 19 { // SIGSTOP
			return errno(EINVAL)
		}
		if !userOK(act, 32) {
			return errno(EFAULT)
		}
		sigactions[sig] = sigaction{handler: *u64At(act), flags: *u64At(act + 8), mask: *u64At(act + 24)}
	}
	return 0
}

func sysRtSigprocmask(c *percore, t *thread) uint64 {
	how, set, old := t.ctx.x[0], uintptr(t.ctx.x[1]), uintptr(t.ctx.x[2])
	if old != 0 {
		if !userOK(old, 8) {
			return errno(EFAULT)
		}
		*u64At(old) = t.sigmask
	}
	if set != 0 {
		if !userOK(set, 8) {
			return errno(EFAULT)
		}
		s := *u64At(set)
		switch how {
		case 0: // SIG_BLOCK
			t.sigmask |= s
		case 1: // SIG_UNBLOCK
			t.sigmask &^= s
		case 2: // SIG_SETMASK
			t.sigmask = s
		default:
			return errno(EINVAL)
		}
		t.sigmask &^= sigbit(SIGKILL) | sigbit(19)
	}
	return 0
}

func onAltStack(t *thread, sp uint64) bool {
	return t.altSize != 0 && sp > uint64(t.altSP) && sp <= uint64(t.altSP+t.altSize)
}

func sysSigaltstack(c *percore, t *thread) uint64 {
	ss, old := uintptr(t.ctx.x[0]), uintptr(t.ctx.x[1])
	if old != 0 {
		if !userOK(old, 24) {
			return errno(EFAULT)
		}
		flags := uint32(0)
		if t.altSize == 0 {
			flags = SS_DISABLE
		} else if onAltStack(t, t.ctx.sp) {
			flags = SS_ONSTACK
		}
		*u64At(old) = uint64(t.altSP)
		*u64At(old + 8) = uint64(flags)
		*u64At(old + 16) = uint64(t.altSize)
	}
	if ss != 0 {
		if !userOK(ss, 24) {
			return errno(EFAULT)
		}
		if onAltStack(t, t.ctx.sp) {
			return errno(EPERM)
		}
		flags := *u32At(ss + 8)
		if flags&SS_DISABLE != 0 {
			t.altSP, t.altSize = 0, 0
		} else {
			size := uintptr(*u64At(ss + 16))
			if size < 2048 {
				return errno(12) // ENOMEM: smaller than MINSIGSTKSZ
			}
			t.altSP, t.altSize = uintptr(*u64At(ss)), size
		}
	}
	return 0
}

func findThread(tid int32) int32 {
	for i := range threads {
		if threads[i].state != tsFree && threads[i].tid == tid {
			return int32(i)
		}
	}
	return -1
}

func sysTgkill(c *percore, t *thread) uint64 {
	return signalThread(int32(t.ctx.x[1]), int(t.ctx.x[2]))
}

func sysTkill(c *percore, t *thread) uint64 {
	return signalThread(int32(t.ctx.x[0]), int(t.ctx.x[1]))
}

// sysKill sends to "the process": the calling thread takes it.
func sysKill(c *percore, t *thread) uint64 {
	return signalThread(t.tid, int(t.ctx.x[1]))
}

func signalThread(tid int32, sig int) uint64 {
	if sig < 0 || sig > nsig {
		return errno(EINVAL)
	}
	i := findThread(tid)
	if i < 0 {
		return errno(ESRCH)
	}
	if sig == 0 {
		return 0
	}
	w := &threads[i]
	w.sigpending |= sigbit(sig)
	// A thread running on another core is interrupted so it sees the signal now
	// (asynchronous preemption depends on it); others see it when they next run.
	if w.state == tsRunning && w.core != int32(thisCore().id) {
		sendWake(int(w.core))
	}
	return 0
}

// canDeliver reports whether a synchronous signal can go to a handler.
func canDeliver(t *thread, sig int) bool {
	a := sigactions[sig]
	return a.handler > SIG_IGN && t.sigmask&sigbit(sig) == 0
}

// deliverSignals delivers one pending, unblocked signal to t (about to run on c).
func deliverSignals(c *percore, t *thread) {
	ready := t.sigpending &^ t.sigmask
	if ready == 0 {
		return
	}
	sig := 1
	for ready&1 == 0 {
		ready >>= 1
		sig++
	}
	t.sigpending &^= sigbit(sig)
	a := sigactions[sig]
	if a.handler == SIG_IGN || a.handler == SIG_DFL && (sig == SIGURG || sig == 17 || sig == 28) {
		return // ignored, or ignored by default (SIGURG, SIGCHLD, SIGWINCH)
	}
	if a.handler == SIG_DFL {
		fatalThread(c, t, "fatal signal with no handler", uint64(sig), 0)
		return
	}
	deliverSignal(t, sig, SI_TKILL, 0)
}

// deliverSignal builds an rt_sigframe and points t at the handler.
func deliverSignal(t *thread, sig, code int, addr uint64) {
	a := sigactions[sig]
	sp := t.ctx.sp
	if a.flags&SA_ONSTACK != 0 && t.altSize != 0 && !onAltStack(t, sp) {
		sp = uint64(t.altSP + t.altSize)
	}
	sp = (sp - sigframeSize) &^ 15
	frame := uintptr(sp)
	if !userOK(frame, sigframeSize) {
		fatalThread(thisCore(), t, "cannot write signal frame", uint64(sig), sp)
		return
	}
	clear(bytesAt(frame, sigframeSize))
	// siginfo
	*u32At(frame) = uint32(sig)
	*u32At(frame + 8) = uint32(int32(code))
	*u64At(frame + 16) = addr
	if code == SI_TKILL {
		*u32At(frame + 16) = 1 // si_pid
	}
	// ucontext
	uc := frame + siginfoSize
	*u64At(uc + ucStack) = uint64(t.altSP)
	if t.altSize == 0 {
		*u32At(uc + ucStack + 8) = SS_DISABLE
	} else if onAltStack(t, t.ctx.sp) {
		*u32At(uc + ucStack + 8) = SS_ONSTACK
	}
	*u64At(uc + ucStack + 16) = uint64(t.altSize)
	*u64At(uc + ucSigmask) = t.sigmask
	mc := uc + ucMcontext
	*u64At(mc + scFaultAddress) = addr
	for i := 0; i < 31; i++ {
		*u64At(mc + scRegs + uintptr(i)*8) = t.ctx.x[i]
	}
	*u64At(mc + scSP) = t.ctx.sp
	*u64At(mc + scPC) = t.ctx.pc
	*u64At(mc + scPstate) = t.ctx.pstate
	fp := mc + scReserved
	*u32At(fp) = fpsimdMagic
	*u32At(fp + 4) = fpsimdSize
	*u32At(fp + 8) = uint32(t.ctx.fpsr)
	*u32At(fp + 12) = uint32(t.ctx.fpcr)
	for i := 0; i < 64; i++ {
		*u64At(fp + 16 + uintptr(i)*8) = t.ctx.v[i]
	}
	// A zero record (magic 0, size 0) follows: already cleared.

	if a.flags&SA_NODEFER == 0 {
		t.sigmask |= sigbit(sig)
	}
	t.sigmask |= a.mask
	t.ctx.x[0] = uint64(sig)
	t.ctx.x[1] = uint64(frame)
	t.ctx.x[2] = uint64(uc)
	t.ctx.x[30] = uint64(sigreturnTrampolineAddr())
	t.ctx.sp = sp
	t.ctx.pc = a.handler
	t.ctx.pstate = pstateEL1t
}

// sysRtSigreturn restores the (possibly modified) context from the frame at SP.
func sysRtSigreturn(c *percore, t *thread) uint64 {
	frame := uintptr(t.ctx.sp)
	if !userOK(frame, sigframeSize) {
		fatalThread(c, t, "rt_sigreturn with a bad frame", t.ctx.sp, 0)
		return keep
	}
	uc := frame + siginfoSize
	mc := uc + ucMcontext
	for i := 0; i < 31; i++ {
		t.ctx.x[i] = *u64At(mc + scRegs + uintptr(i)*8)
	}
	t.ctx.sp = *u64At(mc + scSP)
	t.ctx.pc = *u64At(mc + scPC)
	// Only the condition flags may change; the thread always runs at EL1t with
	// interrupts enabled.
	t.ctx.pstate = *u64At(mc + scPstate)&0xF000_0000 | pstateEL1t
	fp := mc + scReserved
	if *u32At(fp) == fpsimdMagic {
		t.ctx.fpsr = uint64(*u32At(fp + 8))
		t.ctx.fpcr = uint64(*u32At(fp + 12))
		for i := 0; i < 64; i++ {
			t.ctx.v[i] = *u64At(fp + 16 + uintptr(i)*8)
		}
	}
	t.sigmask = *u64At(uc + ucSigmask) &^ (sigbit(SIGKILL) | sigbit(19))
	return keep
}
