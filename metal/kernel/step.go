package kernel

// The step the firmware says is running (sys.SetStep: "storage: USB",
// "loading llama-demo", "diag: ram"), so that whatever stops the board (a
// fault report, an SError, the program's exit) names it. A person at the UART
// then knows where it stopped even when the last boot-log line is long gone.
var step struct {
	name [64]byte
	n    int
}

// sysSetStep (name, len) records the step; an empty name clears it.
func sysSetStep(c *percore, t *thread) uint64 {
	p, n := uintptr(t.ctx.x[0]), uintptr(t.ctx.x[1])
	n = min(n, uintptr(len(step.name)))
	if n > 0 && !userOK(p, n) {
		return errno(EFAULT)
	}
	step.n = copy(step.name[:], bytesAt(p, n))
	return 0
}

// stepName appends "step: <name>" when one is set; reports end with it.
func (l *kline) stepName() *kline {
	if step.n == 0 {
		return l.s("no step recorded")
	}
	return l.s("step: ").b(step.name[:step.n])
}

// serrorCatch is the thread that expects SErrors (sys.CatchSError) and the
// device address it is touching. The Pi 4's PCIe root complex answers an
// access to a device that is absent or not ready with an abort, which the
// Cortex-A72 takes as an SError: asynchronous, after the access, with no fault
// address. The USB start-up registers itself while it touches the root
// complex and the VL805, so that such an SError costs the firmware its USB
// (it goes on to the SD card), not the board.
var serrorCatch struct {
	tid  int32
	addr uint64
}

// sysCatchSError (addr) makes the calling thread the one that takes SErrors,
// touching the device at addr; 0 ends it.
func sysCatchSError(c *percore, t *thread) uint64 {
	if addr := t.ctx.x[0]; addr != 0 {
		serrorCatch.tid, serrorCatch.addr = t.tid, addr
	} else if serrorCatch.tid == t.tid {
		serrorCatch.tid, serrorCatch.addr = 0, 0
	}
	return 0
}

// threadSError handles an SError taken while thread t ran. When t is the
// thread that registered for it and can take a SIGBUS, the SError is reported
// and becomes a SIGBUS at the registered address: the Go runtime makes that a
// panic the start-up recovers from (debug.SetPanicOnFault). The state allows
// it then: an SError is taken at the first instruction boundary with SErrors
// unmasked, which in thread context is right after the access that caused it,
// in the same thread (the kernel never touches PCIe). Anywhere else (another
// thread, no registration, kernel context) nothing says what was interrupted,
// and the board halts with the report.
func threadSError(c *percore, t *thread, esr uint64) {
	if serrorCatch.tid == 0 || serrorCatch.tid != t.tid || !canDeliver(t, SIGBUS) {
		fatalThread(c, t, "SError (asynchronous external abort)", esr, 0)
		return
	}
	var l kline
	l.stamp()
	l.s("kernel: SError (ESR ").x(esr).s(") in thread ").d(uint64(t.tid)).s(" touching the device at ").x(serrorCatch.addr).
		s(", ").stepName().s(": the device did not answer; the thread gets SIGBUS").print()
	deliverSignal(t, SIGBUS, BUS_ADRERR, serrorCatch.addr)
}
