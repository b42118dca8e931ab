//go:build !(linux && arm64)

package kernel

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// setStep names the step as sys.SetStep does, through the system call.
func setStep(t *testing.T, c *percore, th *thread, name string) {
	t.Helper()
	b := []byte(name + "\x00") // never empty, so the address is valid
	if r := sysSetStepCall(c, th, uint64(uintptr(unsafe.Pointer(&b[0]))), uint64(len(name))); r != 0 {
		t.Fatalf("set_step = %#x", r)
	}
}

func sysSetStepCall(c *percore, th *thread, p, n uint64) uint64 {
	th.ctx.x[0], th.ctx.x[1] = p, n
	return sysSetStep(c, th)
}

// An SError while the USB start-up's thread has registered for it is
// reported with the step and becomes a SIGBUS at the registered address,
// which the Go runtime turns into a panic; elsewhere the board halts.
func TestSErrorDuringUSBStartUp(t *testing.T) {
	c, th := setup(t)
	sigactions[SIGBUS] = sigaction{handler: 0x77000, flags: SA_SIGINFO | SA_ONSTACK}
	stack := make([]byte, 64<<10)
	th.altSP, th.altSize = uintptr(unsafe.Pointer(&stack[0])), uintptr(len(stack))
	th.ctx.sp, th.ctx.pc = 0x5000, 0x9990
	setStep(t, c, th, "storage: USB")
	th.ctx.x[0] = 0xfd500000
	sysCatchSError(c, th)

	threadSError(c, th, 0xbf000002)
	if fake.fatal != "" {
		t.Fatalf("halted: %s", fake.fatal)
	}
	frame := uintptr(th.ctx.sp)
	if th.ctx.pc != 0x77000 || th.ctx.x[0] != SIGBUS {
		t.Fatalf("no SIGBUS handler entry: pc %#x x0 %d", th.ctx.pc, th.ctx.x[0])
	}
	if code, addr := *(*int32)(ptrAt(frame + 8)), *u64At(frame + 16); code != BUS_ADRERR || addr != 0xfd500000 {
		t.Errorf("siginfo: code %d, address %#x", code, addr)
	}
	want := fmt.Sprintf("kernel: SError (ESR 0xbf000002) in thread %d touching the device at 0xfd500000, step: storage: USB: the device did not answer; the thread gets SIGBUS", th.tid)
	if got := string(fake.tx); !strings.Contains(got, want) {
		t.Errorf("console: %q", got)
	}

	// Another thread, or after the start-up ended: nothing says what was
	// interrupted, so the board halts with the report.
	other := &threads[1]
	*other = thread{state: tsRunning, tid: newTID()}
	threadSError(c, other, 0xbf000002)
	if fake.fatal != "SError (asynchronous external abort)" {
		t.Errorf("SError in another thread: fatal %q", fake.fatal)
	}
	fake.fatal = ""
	c.cur = 0
	th.ctx.x[0] = 0
	sysCatchSError(c, th)
	threadSError(c, th, 0xbf000002)
	if fake.fatal == "" {
		t.Error("an SError after the start-up ended did not halt")
	}
}

// The step is kept (cut at 64 bytes) and cleared with an empty name; reports
// say it.
func TestStepNamedInReports(t *testing.T) {
	c, th := setup(t)
	var l kline
	if l.stepName(); string(l.buf[:l.n]) != "no step recorded" {
		t.Errorf("no step: %q", l.buf[:l.n])
	}
	setStep(t, c, th, "diag: ram")
	l = kline{}
	if l.stepName(); string(l.buf[:l.n]) != "step: diag: ram" {
		t.Errorf("step: %q", l.buf[:l.n])
	}
	setStep(t, c, th, strings.Repeat("x", 100))
	if step.n != 64 {
		t.Errorf("a 100-byte name kept %d bytes", step.n)
	}
	if r := sysSetStepCall(c, th, 0, 0); r != 0 || step.n != 0 {
		t.Errorf("clear = %#x, %d bytes left", r, step.n)
	}
	fake.unmapped[0x10000] = true
	if r := sysSetStepCall(c, th, 0x10000, 8); !isErr(r, EFAULT) {
		t.Errorf("unmapped name = %#x", r)
	}
}
