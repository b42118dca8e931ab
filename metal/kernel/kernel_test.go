//go:build !(linux && arm64)

package kernel

import (
	"encoding/binary"
	"strings"
	"testing"
	"unsafe"

	"github.com/inferpi/inferpi/driver/pl011"
	"github.com/inferpi/inferpi/metal/abi"
	"github.com/inferpi/inferpi/metal/mm"
)

// The kernel's portable code (system calls, scheduling bookkeeping, signals,
// memory, console rings) runs here against the host seam in hw_other.go. "Physical
// memory" is a Go buffer, so page tables and frames are real memory.

var ram []byte

func setup(t *testing.T) (*percore, *thread) {
	t.Helper()
	threads = [maxThreads]thread{}
	cores = [maxCores]percore{}
	runq.head, runq.n = 0, 0
	files = [maxFiles]file{}
	sigactions = [nsig + 1]sigaction{}
	tx.head, tx.tail, tx.last, rx.head, rx.tail = 0, 0, 0, 0, 0
	fake.counter, fake.wakes, fake.tx, fake.rx, fake.txLimit, fake.fatal, fake.exited = 1000, nil, nil, nil, 0, "", false
	fake.late, fake.uartIRQ = nil, 0
	fake.unmapped = map[uint64]bool{}
	fake.core = percore{}
	nextDeadline, lastTID = 0, 0
	step.n = 0
	serrorCatch.tid, serrorCatch.addr = 0, 0
	cntfrq = 62_500_000
	if ram == nil {
		ram = make([]byte, 66<<20)
	}
	base := mm.RoundUp(uint64(uintptr(unsafe.Pointer(&ram[0]))), 2<<20)
	frames.Init(base)
	frames.AddRAM(base, 64<<20)
	root, ok := mm.NewTables(&tableMem)
	if !ok {
		t.Fatal("no table")
	}
	tablesRoot = root.Root
	vspace.Init(userBase, userTop)
	usable.Init(userBase, userTop)
	c := thisCore()
	c.cur = 0
	c.started = 1
	for i := range cores {
		cores[i].cur = -1
	}
	th := &threads[0]
	th.state = tsRunning
	th.tid = newTID()
	return c, th
}

func call(c *percore, t *thread, nr uint64, args ...uint64) uint64 {
	t.ctx.x = [31]uint64{}
	copy(t.ctx.x[:], args)
	t.ctx.x[8] = nr
	syscall(c, t)
	return t.ctx.x[0]
}

// addr passes test memory to a system call as its address. Keeping the pointer in
// a global makes the value live on the (non-moving) heap and stay alive: a
// stack variable could move when the test's stack grows, leaving the kernel code
// writing to the old copy.
func addr[T any](p *T) uint64 {
	keepAlive = append(keepAlive, p)
	return uint64(uintptr(unsafe.Pointer(p)))
}

var keepAlive []any

func isErr(r uint64, e int) bool { return r == errno(e) }

func TestMmapReserveCommitAndFree(t *testing.T) {
	c, th := setup(t)
	free0 := frames.Free()
	// A PROT_NONE reservation costs no frames.
	res := call(c, th, SYS_MMAP, 0, 64<<20, 0, MAP_PRIVATE|MAP_ANONYMOUS, ^uint64(0), 0)
	if int64(res) < 0 || !inUserWindow(res, 64<<20) || frames.Free() != free0 {
		t.Fatalf("reserve = %#x, frames %d -> %d", res, free0, frames.Free())
	}
	// The runtime then commits inside it with MAP_FIXED, possibly spanning
	// two reservations.
	res2 := call(c, th, SYS_MMAP, res+64<<20, 8<<20, 0, MAP_PRIVATE|MAP_ANONYMOUS, ^uint64(0), 0)
	if res2 != res+64<<20 {
		t.Logf("second reservation not adjacent (%#x): fine, but the span test needs it", res2)
	}
	at := res + 62<<20
	r := call(c, th, SYS_MMAP, at, 4<<20, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, ^uint64(0), 0)
	if r != at {
		t.Fatalf("fixed commit = %#x", r)
	}
	if got := free0 - frames.Free(); got < (4<<20)/mm.PageSize {
		t.Errorf("commit used %d frames", got)
	}
	tb := tables()
	pa, _, ok := tb.Lookup(at + 3<<20 + 5)
	if !ok {
		t.Fatal("committed page not mapped")
	}
	// Fresh memory reads as zero; write to it.
	p := (*byte)(ptrAt(uintptr(pa)))
	if *p != 0 {
		t.Error("fresh memory not zero")
	}
	*p = 0x5a
	// madvise(DONTNEED) gives the frames back; the first touch maps a zero page
	// (the runtime trusts scavenged pages to read as zero).
	freeBefore := frames.Free()
	if r := call(c, th, SYS_MADVISE, mm.RoundDown(at+3<<20, mm.PageSize), 1<<20, MADV_DONTNEED); r != 0 {
		t.Fatalf("madvise = %#x", r)
	}
	// (Minus one: splitting the 2 MiB block the range was in takes a table page.)
	if frames.Free() < freeBefore+(1<<20)/mm.PageSize-1 {
		t.Errorf("MADV_DONTNEED returned %d frames, want %d", frames.Free()-freeBefore, (1<<20)/mm.PageSize)
	}
	if _, _, ok := tb.Lookup(at + 3<<20 + 5); ok {
		t.Error("released page still mapped")
	}
	if !demandPage(at + 3<<20 + 5) {
		t.Fatal("a released page of a usable range was not mapped back")
	}
	pa, _, _ = tb.Lookup(at + 3<<20 + 5)
	p = (*byte)(ptrAt(uintptr(pa)))
	if *p != 0 {
		t.Error("a page mapped back after MADV_DONTNEED is not zero")
	}
	// A PROT_NONE reservation is never mapped on demand.
	if demandPage(res + 70<<20) {
		t.Error("a PROT_NONE reservation was mapped on demand")
	}
	// MAP_FIXED again over committed memory gives fresh zero pages.
	*p = 7
	call(c, th, SYS_MMAP, at, 4<<20, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, ^uint64(0), 0)
	pa, _, _ = tb.Lookup(at + 3<<20 + 5)
	if *(*byte)(ptrAt(uintptr(pa))) != 0 {
		t.Error("MAP_FIXED over old pages kept their contents")
	}
	// munmap returns the frames and the range.
	if r := call(c, th, SYS_MUNMAP, res, 72<<20); r != 0 {
		t.Fatalf("munmap = %#x", r)
	}
	// Every data frame comes back; only the page-table pages for the range stay
	// (empty tables are kept for reuse).
	if kept := free0 - frames.Free(); kept > 3 {
		t.Errorf("frames not returned: %d still used", kept)
	}
	if _, _, ok := tb.Lookup(at); ok {
		t.Error("unmapped page still mapped")
	}
	if fake.tlbFlush == 0 {
		t.Error("no TLB flush after unmapping")
	}
}

func TestMmapArguments(t *testing.T) {
	c, th := setup(t)
	cases := []struct {
		name string
		args []uint64
		want int
	}{
		{"file mapping", []uint64{0, 4096, PROT_READ, MAP_PRIVATE, 3, 0}, ENODEV},
		{"zero length", []uint64{0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, ^uint64(0), 0}, EINVAL},
		{"fixed, unaligned", []uint64{userBase + 1, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, ^uint64(0), 0}, EINVAL},
		{"fixed over the identity map", []uint64{0x80000, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, ^uint64(0), 0}, ENOMEM},
		{"more than RAM", []uint64{0, 1 << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, ^uint64(0), 0}, ENOMEM},
	}
	for _, tc := range cases {
		if r := call(c, th, SYS_MMAP, tc.args...); !isErr(r, tc.want) {
			t.Errorf("%s: mmap = %#x, want -%d", tc.name, r, tc.want)
		}
	}
	// A free hint in the window is honoured; one in the kernel's range is not.
	hint := uint64(0x2000_0000_0000)
	if r := call(c, th, SYS_MMAP, hint, 1<<20, 0, MAP_PRIVATE|MAP_ANONYMOUS, ^uint64(0), 0); r != hint {
		t.Errorf("hint ignored: %#x", r)
	}
	if r := call(c, th, SYS_MMAP, 0x40_0000_0000, 1<<20, 0, MAP_PRIVATE|MAP_ANONYMOUS, ^uint64(0), 0); !inUserWindow(r, 1<<20) {
		t.Errorf("hint in the identity range used: %#x", r)
	}
	if r := call(c, th, SYS_MUNMAP, 0x80000, 4096); !isErr(r, EINVAL) {
		t.Errorf("munmap of kernel memory = %#x", r)
	}
	if frames.Free() == 0 || vspace.Count() == 0 {
		t.Error("bookkeeping lost")
	}
}

func TestFutex(t *testing.T) {
	c, th := setup(t)
	var word uint32 = 5
	if r := call(c, th, SYS_FUTEX, addr(&word), FUTEX_WAIT|FUTEX_PRIVATE_FLAG, 4); !isErr(r, EAGAIN) {
		t.Fatalf("wait on a changed value = %#x", r)
	}
	fake.unmapped[addr(&word)&^4095] = true
	if r := call(c, th, SYS_FUTEX, addr(&word), FUTEX_WAIT|FUTEX_PRIVATE_FLAG, 5); !isErr(r, EFAULT) {
		t.Errorf("wait on an unmapped word = %#x", r)
	}
	delete(fake.unmapped, addr(&word)&^4095)
	// Thread 0 waits with a 1 ms timeout; thread 1 (another thread) waits forever.
	ts := [2]uint64{0, 1_000_000}
	if r := call(c, th, SYS_FUTEX, addr(&word), FUTEX_WAIT|FUTEX_PRIVATE_FLAG, 5, addr(&ts)); r != 0 || th.state != tsBlocked || c.cur != -1 {
		t.Fatalf("wait did not block: r=%#x state=%d", r, th.state)
	}
	if th.deadline == 0 || nextDeadline != th.deadline {
		t.Error("timed wait without a deadline")
	}
	t1 := &threads[1]
	t1.state, t1.tid = tsRunning, newTID()
	c.cur = 1
	call(c, t1, SYS_FUTEX, addr(&word), FUTEX_WAIT|FUTEX_PRIVATE_FLAG, 5)
	// A third thread wakes one waiter.
	t2 := &threads[2]
	t2.state, t2.tid = tsRunning, newTID()
	c.cur = 2
	if r := call(c, t2, SYS_FUTEX, addr(&word), FUTEX_WAKE|FUTEX_PRIVATE_FLAG, 1); r != 1 {
		t.Fatalf("wake woke %d", r)
	}
	if runq.n != 1 || (th.state == tsRunnable) == (t1.state == tsRunnable) {
		t.Fatalf("one waiter should be runnable: %d %d", th.state, t1.state)
	}
	// The timeout expires for whoever still waits with one.
	if th.state == tsBlocked {
		fake.counter = th.deadline
		expireDeadlines()
		if th.state != tsRunnable || th.ctx.x[0] != errno(ETIMEDOUT) {
			t.Errorf("timeout: state %d x0 %#x", th.state, th.ctx.x[0])
		}
	}
	if r := call(c, t2, SYS_FUTEX, addr(&word), FUTEX_WAKE|FUTEX_PRIVATE_FLAG, 10); r > 1 {
		t.Errorf("second wake woke %d", r)
	}
}

func TestClocksAndSleep(t *testing.T) {
	c, th := setup(t)
	fake.counter = 62_500_000*3 + 62_500 // 3.001 s
	var ts [2]uint64
	if r := call(c, th, SYS_CLOCK_GETTIME, CLOCK_MONOTONIC, addr(&ts)); r != 0 || ts[0] != 3 || ts[1] != 1_000_000 {
		t.Errorf("clock_gettime = %#x %v", r, ts)
	}
	if r := call(c, th, SYS_CLOCK_GETTIME, 99, addr(&ts)); !isErr(r, EINVAL) {
		t.Errorf("bad clock = %#x", r)
	}
	if !fastSyscall(&threads[0]) {
		// x8 still holds 113 from the last call.
		t.Error("clock_gettime not on the lock-free path")
	}
	bad := [2]uint64{0, 2e9}
	if r := call(c, th, SYS_NANOSLEEP, addr(&bad), 0); !isErr(r, EINVAL) {
		t.Errorf("nanosleep with 2e9 ns = %#x", r)
	}
	req := [2]uint64{0, 5_000_000}
	call(c, th, SYS_NANOSLEEP, addr(&req), 0)
	if th.state != tsBlocked || th.deadline != fake.counter+312_500 {
		t.Errorf("nanosleep: state %d deadline %d", th.state, th.deadline)
	}
}

func TestFcntlAndFiles(t *testing.T) {
	c, th := setup(t)
	for fd := uint64(0); fd <= 2; fd++ {
		if r := call(c, th, SYS_FCNTL, fd, 1); r != 0 { // F_GETFD
			t.Errorf("F_GETFD(%d) = %#x", fd, r)
		}
		if r := call(c, th, SYS_FCNTL, fd, 3); r&0x800 != 0 || r != 2 { // F_GETFL: no O_NONBLOCK
			t.Errorf("F_GETFL(%d) = %#x", fd, r)
		}
	}
	if r := call(c, th, SYS_FCNTL, 9, 1); !isErr(r, EBADF) {
		t.Errorf("F_GETFD(9) = %#x", r)
	}
	if r := call(c, th, SYS_OPENAT, 0, 0, 0); !isErr(r, ENOENT) {
		t.Errorf("openat = %#x", r)
	}
	if r := call(c, th, 999); !isErr(r, ENOSYS) {
		t.Errorf("unknown call = %#x", r)
	}
	var mask uint64
	if r := call(c, th, SYS_SCHED_GETAFFINITY, 0, 8192, addr(&mask)); r != 8 || mask != 0xf {
		t.Errorf("sched_getaffinity = %#x mask %#x", r, mask)
	}
	if r := call(c, th, SYS_SCHED_GETAFFINITY, 0, 4, addr(&mask)); !isErr(r, EINVAL) {
		t.Errorf("sched_getaffinity with a 4-byte set = %#x", r)
	}
}

func TestEventfdEpoll(t *testing.T) {
	c, th := setup(t)
	efd := call(c, th, SYS_EVENTFD2, 0, 0)
	ep := call(c, th, SYS_EPOLL_CREATE1, 0)
	if int64(efd) < 3 || int64(ep) < 3 || efd == ep {
		t.Fatalf("fds %d %d", efd, ep)
	}
	ev := [2]uint64{1, 0xfeedbeef} // events, then data at offset 8
	if r := call(c, th, SYS_EPOLL_CTL, ep, 1, efd, addr(&ev)); r != 0 {
		t.Fatalf("epoll_ctl = %#x", r)
	}
	var out [4]uint64
	if r := call(c, th, SYS_EPOLL_PWAIT, ep, addr(&out), 4, 0); r != 0 {
		t.Errorf("poll with nothing ready = %#x", r)
	}
	// Wait with a timeout: blocks; a write to the eventfd from another thread wakes it.
	call(c, th, SYS_EPOLL_PWAIT, ep, addr(&out), 4, 100)
	if th.state != tsBlocked || th.wait != waitEpoll {
		t.Fatal("epoll_pwait did not block")
	}
	t1 := &threads[1]
	t1.state, t1.tid = tsRunning, newTID()
	c.cur = 1
	one := uint64(1)
	if r := call(c, t1, SYS_WRITE, efd, addr(&one), 8); r != 8 {
		t.Fatalf("eventfd write = %#x", r)
	}
	if th.state != tsRunnable || th.ctx.x[0] != 1 || out[1] != 0xfeedbeef || uint32(out[0]) != 1 {
		t.Errorf("woken waiter: state %d x0 %d event %#x", th.state, th.ctx.x[0], out)
	}
	var v uint64
	if r := call(c, t1, SYS_READ, efd, addr(&v), 8); r != 8 || v != 1 {
		t.Errorf("eventfd read = %#x %d", r, v)
	}
	if r := call(c, t1, SYS_READ, efd, addr(&v), 8); !isErr(r, EAGAIN) {
		t.Errorf("empty eventfd read = %#x", r)
	}
}

func TestConsoleReadWrite(t *testing.T) {
	c, th := setup(t)
	msg := []byte("hello\nCRLF stays\r\n")
	if r := call(c, th, SYS_WRITE, 1, addr(&msg[0]), uint64(len(msg))); r != uint64(len(msg)) || string(fake.tx) != "hello\r\nCRLF stays\r\n" {
		t.Errorf("write = %d, uart got %q", r, fake.tx)
	}
	// A slow UART: the ring fills and the writer waits, then finishes as it drains.
	fake.tx, fake.txLimit = nil, 10
	big := make([]byte, txRingSize+100)
	for i := range big {
		big[i] = byte('a' + i%26) // no newlines: the UART gets exactly these bytes
	}
	call(c, th, SYS_WRITE, 1, addr(&big[0]), uint64(len(big)))
	if th.state != tsBlocked || th.wait != waitWrite {
		t.Fatalf("writer did not wait for the ring: state %d", th.state)
	}
	if fake.irqMask&(1<<5) == 0 {
		t.Error("TX interrupt not enabled while bytes wait")
	}
	for round := 0; th.state == tsBlocked && round < 100; round++ {
		fake.txLimit += 4096 // the UART sent some
		consoleKick()
		wakeConsoleWriters()
	}
	fake.txLimit = 0
	consoleKick()
	if th.state != tsRunnable || th.ctx.x[0] != uint64(len(big)) || string(fake.tx) != string(big) {
		t.Fatalf("writer: state %d result %d, uart got %d bytes", th.state, th.ctx.x[0], len(fake.tx))
	}
	// Reading: no input blocks; input arriving completes the read.
	th.state = tsRunning
	c.cur = 0
	buf := make([]byte, 64)
	call(c, th, SYS_READ, 0, addr(&buf[0]), 64)
	if th.state != tsBlocked || th.wait != waitRead {
		t.Fatal("read did not block")
	}
	fake.rx = []byte("typed\r")
	consoleRxPoll()
	wakeConsoleReaders()
	if th.state != tsRunnable || th.ctx.x[0] != 6 || string(buf[:6]) != "typed\r" {
		t.Errorf("read: state %d n %d %q", th.state, th.ctx.x[0], buf[:6])
	}
	fake.unmapped[addr(&buf[0])&^4095] = true
	th.state, c.cur = tsRunning, 0
	if r := call(c, th, SYS_READ, 0, addr(&buf[0]), 64); !isErr(r, EFAULT) {
		t.Errorf("read into unmapped memory = %#x", r)
	}
}

// A byte that arrives just after the interrupt handler found the receive FIFO
// empty must not be left there unannounced: the handler acknowledges before it
// drains (amba-pl011.c), so the byte's interrupt stands and the handler's
// next look takes it.
func TestUARTByteAfterTheDrainIsSeen(t *testing.T) {
	setup(t)
	consoleKick() // the receive interrupts enabled
	fake.rx, fake.late = []byte("ab"), []byte("c")
	fake.uartIRQ = pl011.IntRX | pl011.IntRT
	consoleIRQ()
	got := make([]byte, 8)
	n := consoleRead(got)
	if string(got[:n]) != "abc" && (len(fake.rx) == 0 || uartPending() == 0) {
		t.Fatalf("read %q; %q left in the FIFO with interrupt status %#x: the last byte waits unseen", got[:n], fake.rx, fake.uartIRQ)
	}
	if len(fake.rx) != 0 || fake.uartIRQ != 0 {
		t.Errorf("FIFO %q, interrupt status %#x after the handler", fake.rx, fake.uartIRQ)
	}
}

// The receive counters /diag reports: bytes, bytes with a line error (0xFF in
// the fake), bytes lost to a full ring, interrupts.
func TestConsoleStats(t *testing.T) {
	c, th := setup(t)
	rx.received, rx.dropped, rx.errors, rx.irqs = 0, 0, 0, 0
	consoleKick()
	fake.rx = []byte("ok\xff\r")
	fake.uartIRQ = pl011.IntRX
	consoleIRQ()
	var st abi.ConsoleStats
	th.ctx.x[0] = addr(&st)
	if r := sysConsoleStats(c, th); r != 0 {
		t.Fatalf("console_stats = %#x", r)
	}
	if st != (abi.ConsoleStats{RxBytes: 4, RxErrors: 1, RxIRQs: 1}) {
		t.Errorf("stats %+v", st)
	}
	buf := make([]byte, 8)
	if n := consoleRead(buf); string(buf[:n]) != "ok\r" {
		t.Errorf("read %q", buf[:n])
	}
}

func TestCloneAndExit(t *testing.T) {
	c, th := setup(t)
	th.ctx.pc = 0x1234
	th.sigmask = 0x10
	tid := call(c, th, SYS_CLONE, 0x50f00, 0xabc000, 1, 2, 3)
	if int64(tid) <= 0 || uint64(th.tid) == tid {
		t.Fatalf("clone = %#x", tid)
	}
	i := findThread(int32(tid))
	n := &threads[i]
	if n.state != tsRunnable || n.ctx.x[0] != 0 || n.ctx.sp != 0xabc000 || n.ctx.pc != 0x1234 || n.sigmask != 0x10 {
		t.Errorf("child: %+v", n.ctx)
	}
	c.cur = i
	n.state = tsRunning
	call(c, n, SYS_EXIT, 0)
	if n.state != tsFree || c.cur != -1 {
		t.Error("exit did not free the thread")
	}
	c.cur = 0
	call(c, th, SYS_EXIT_GROUP, 3)
	if !fake.exited || fake.exitCode != 3 {
		t.Error("exit_group did not stop the machine")
	}
}

func TestSignalsSetup(t *testing.T) {
	c, th := setup(t)
	act := [4]uint64{0x77000, SA_SIGINFO | SA_ONSTACK, 0, 1 << (SIGURG - 1)}
	var old [4]uint64
	if r := call(c, th, SYS_RT_SIGACTION, SIGSEGV, addr(&act), addr(&old), 8); r != 0 || old != [4]uint64{} {
		t.Fatalf("rt_sigaction = %#x old %v", r, old)
	}
	if r := call(c, th, SYS_RT_SIGACTION, SIGSEGV, 0, addr(&old), 8); r != 0 || old[0] != 0x77000 || old[3] != act[3] {
		t.Errorf("query = %#x %v", r, old)
	}
	if r := call(c, th, SYS_RT_SIGACTION, SIGKILL, addr(&act), 0, 8); !isErr(r, EINVAL) {
		t.Errorf("SIGKILL handler = %#x", r)
	}
	if r := call(c, th, SYS_RT_SIGACTION, 65, 0, 0, 8); !isErr(r, EINVAL) {
		t.Errorf("signal 65 = %#x", r)
	}
	// sigprocmask: block, unblock, set; SIGKILL can never be blocked.
	set, oldset := uint64(1<<(SIGURG-1)|1<<(SIGKILL-1)), uint64(0)
	call(c, th, SYS_RT_SIGPROCMASK, 0, addr(&set), 0, 8)
	if th.sigmask != 1<<(SIGURG-1) {
		t.Errorf("mask after SIG_BLOCK %#x", th.sigmask)
	}
	call(c, th, SYS_RT_SIGPROCMASK, 1, addr(&set), addr(&oldset), 8)
	if th.sigmask != 0 || oldset != 1<<(SIGURG-1) {
		t.Errorf("SIG_UNBLOCK: mask %#x old %#x", th.sigmask, oldset)
	}
	// sigaltstack: query when none, set, query.
	var ss [3]uint64
	call(c, th, SYS_SIGALTSTACK, 0, addr(&ss))
	if ss[1] != SS_DISABLE {
		t.Errorf("no altstack: flags %d", ss[1])
	}
	stack := make([]byte, 32<<10)
	nss := [3]uint64{addr(&stack[0]), 0, uint64(len(stack))}
	if r := call(c, th, SYS_SIGALTSTACK, addr(&nss), 0); r != 0 || th.altSize != 32<<10 {
		t.Errorf("set altstack = %#x", r)
	}
	small := [3]uint64{addr(&stack[0]), 0, 100}
	if r := call(c, th, SYS_SIGALTSTACK, addr(&small), 0); !isErr(r, ENOMEM) {
		t.Errorf("tiny altstack = %#x", r)
	}
}

// ucontextGo mirrors the Go runtime's view of the arm64 Linux signal frame
// (runtime/defs_linux_arm64.go: ucontext, stackt, sigcontext), so the test checks
// that the kernel writes what the runtime reads.
type ucontextGo struct {
	ucFlags    uint64
	ucLink     uint64
	ssSP       uint64
	ssFlags    int32
	_          [4]byte
	ssSize     uint64
	ucSigmask  uint64
	_          [(1024 - 64) / 8]byte
	_          [8]byte
	faultAddr  uint64
	regs       [31]uint64
	sp, pc, ps uint64
	_          [8]byte
	reserved   [4096]byte
}

func TestSignalFrameMatchesTheRuntimesLayout(t *testing.T) {
	if off := unsafe.Offsetof(ucontextGo{}.faultAddr); off != ucMcontext {
		t.Fatalf("uc_mcontext at %d in the runtime's layout, kernel uses %d", off, ucMcontext)
	}
	if off := unsafe.Offsetof(ucontextGo{}.reserved); off != ucMcontext+scReserved {
		t.Fatalf("__reserved at %d, kernel uses %d", off, ucMcontext+scReserved)
	}
	c, th := setup(t)
	stack := make([]byte, 64<<10)
	th.altSP, th.altSize = uintptr(unsafe.Pointer(&stack[0])), uintptr(len(stack))
	sigactions[SIGSEGV] = sigaction{handler: 0x77000, flags: SA_SIGINFO | SA_ONSTACK, mask: 1 << (SIGURG - 1)}
	for i := range th.ctx.x {
		th.ctx.x[i] = uint64(1000 + i)
	}
	th.ctx.sp, th.ctx.pc, th.ctx.pstate = 0x5000, 0x9990, pstateEL1t|0x20000000
	th.ctx.v[3], th.ctx.fpcr = 0x1234, 0x3000000
	saved := th.ctx
	deliverSignal(th, SIGSEGV, SEGV_MAPERR, 0x8)

	frame := uintptr(th.ctx.sp)
	if frame < th.altSP || frame+sigframeSize > th.altSP+th.altSize || frame%16 != 0 {
		t.Fatalf("frame at %#x not on the alternate stack", frame)
	}
	if th.ctx.pc != 0x77000 || th.ctx.x[0] != SIGSEGV || th.ctx.x[1] != uint64(frame) || th.ctx.x[2] != uint64(frame)+siginfoSize || th.ctx.x[30] != 0xdead0000 {
		t.Errorf("handler entry: pc %#x x0..2 %#x %#x %#x lr %#x", th.ctx.pc, th.ctx.x[0], th.ctx.x[1], th.ctx.x[2], th.ctx.x[30])
	}
	if th.ctx.x[28] != saved.x[28] || th.ctx.x[20] != saved.x[20] {
		t.Error("other registers must keep their values (R28 is g)")
	}
	info := unsafe.Slice((*byte)(ptrAt(frame)), siginfoSize)
	if binary.LittleEndian.Uint32(info) != SIGSEGV || int32(binary.LittleEndian.Uint32(info[8:])) != SEGV_MAPERR || binary.LittleEndian.Uint64(info[16:]) != 8 {
		t.Errorf("siginfo %x", info[:24])
	}
	uc := (*ucontextGo)(ptrAt(frame + siginfoSize))
	if uc.faultAddr != 8 || uc.pc != 0x9990 || uc.sp != 0x5000 || uc.regs[28] != 1028 || uc.ssSize != 64<<10 || uc.ssFlags != 0 {
		t.Errorf("ucontext: fault %#x pc %#x sp %#x r28 %d ss %d/%d", uc.faultAddr, uc.pc, uc.sp, uc.regs[28], uc.ssSize, uc.ssFlags)
	}
	if binary.LittleEndian.Uint32(uc.reserved[:]) != fpsimdMagic || binary.LittleEndian.Uint64(uc.reserved[16+3*8:]) != 0x1234 {
		t.Error("fpsimd record missing")
	}
	if th.sigmask&(1<<(SIGSEGV-1)) == 0 || th.sigmask&(1<<(SIGURG-1)) == 0 {
		t.Errorf("mask during the handler %#x", th.sigmask)
	}
	// The runtime's sigpanic setup rewrites pc, lr, sp and r28 in the frame;
	// rt_sigreturn must put exactly that back.
	uc.pc, uc.regs[30], uc.sp, uc.regs[28] = 0xABCD0, 0x9994, 0x4ff0, 0x777
	th.ctx.sp = uint64(frame) // the handler returned: SP is back at the frame
	th.ctx.x[8] = SYS_RT_SIGRETURN
	syscall(c, th)
	if th.ctx.pc != 0xABCD0 || th.ctx.x[30] != 0x9994 || th.ctx.sp != 0x4ff0 || th.ctx.x[28] != 0x777 || th.ctx.x[5] != 1005 {
		t.Errorf("after rt_sigreturn: pc %#x lr %#x sp %#x r28 %#x x5 %d", th.ctx.pc, th.ctx.x[30], th.ctx.sp, th.ctx.x[28], th.ctx.x[5])
	}
	if th.ctx.v[3] != 0x1234 || th.ctx.fpcr != 0x3000000 || th.sigmask != 0 {
		t.Errorf("FP state or mask not restored: v3 %#x fpcr %#x mask %#x", th.ctx.v[3], th.ctx.fpcr, th.sigmask)
	}
	if th.ctx.pstate&pstateModeM != pstateEL1t || th.ctx.pstate&pstateDAIF != 0 {
		t.Errorf("pstate %#x: must stay EL1t with interrupts on", th.ctx.pstate)
	}
}

func TestTgkillPreemptsThreadOnAnotherCore(t *testing.T) {
	c, th := setup(t)
	sigactions[SIGURG] = sigaction{handler: 0x77000, flags: SA_SIGINFO | SA_ONSTACK}
	other := &threads[3]
	other.state, other.tid, other.core = tsRunning, newTID(), 2
	if r := call(c, th, SYS_TGKILL, 1, uint64(other.tid), SIGURG); r != 0 {
		t.Fatalf("tgkill = %#x", r)
	}
	if other.sigpending&(1<<(SIGURG-1)) == 0 || len(fake.wakes) != 1 || fake.wakes[0] != 2 {
		t.Errorf("pending %#x wakes %v", other.sigpending, fake.wakes)
	}
	if r := call(c, th, SYS_TGKILL, 1, 9999, SIGURG); !isErr(r, ESRCH) {
		t.Errorf("tgkill to nobody = %#x", r)
	}
	// A blocked signal stays pending; SIGURG with the default action is ignored.
	other.sigmask = 1 << (SIGURG - 1)
	stack := make([]byte, 16<<10)
	other.altSP, other.altSize = uintptr(unsafe.Pointer(&stack[0])), uintptr(len(stack))
	deliverSignals(c, other)
	if other.sigpending == 0 || other.ctx.pc == 0x77000 {
		t.Error("blocked signal delivered")
	}
	other.sigmask = 0
	deliverSignals(c, other)
	if other.sigpending != 0 || other.ctx.pc != 0x77000 || other.ctx.x[0] != SIGURG {
		t.Error("unblocked signal not delivered")
	}
}

func TestScheduler(t *testing.T) {
	c, _ := setup(t)
	for i := range cores {
		cores[i].started = 1
	}
	cores[1].idle, cores[2].idle = 1, 1
	for i := int32(1); i <= 3; i++ {
		threads[i].tid = newTID()
		runqPush(i)
	}
	// Two idle cores: each gets exactly one wake-up, however many threads arrive.
	if len(fake.wakes) != 2 || fake.wakes[0] == fake.wakes[1] {
		t.Errorf("wakes %v", fake.wakes)
	}
	if runqPop() != 1 || runqPop() != 2 || runqPop() != 3 || runq.n != 0 {
		t.Error("run queue is not FIFO")
	}
	_ = c
}

// Every call the table answers without doing its work says why; a stub returns
// its fixed result, and the strace line shows the reason.
func TestStubsSayWhy(t *testing.T) {
	c, th := setup(t)
	for nr, e := range syscalls {
		if e.name == "" {
			if e.fn != nil || e.why != "" || e.errno != 0 {
				t.Errorf("call %d has no name", nr)
			}
			continue
		}
		if e.fn != nil {
			continue
		}
		if e.why == "" {
			t.Errorf("the stub %s (%d) gives no reason", e.name, nr)
		}
		if r := call(c, th, uint64(nr)); r != errno(e.errno) {
			t.Errorf("%s = %#x, want %#x", e.name, r, errno(e.errno))
		}
	}
	straceOn = 1
	defer func() { straceOn = 0 }()
	fake.tx = nil
	call(c, th, SYS_OPENAT, 0, 0, 0)
	if out := string(fake.tx); !strings.Contains(out, "openat(") || !strings.Contains(out, noFiles) {
		t.Errorf("strace line %q does not give openat's reason", out)
	}
}

// sysinfo fills struct sysinfo at the offsets of include/uapi/linux/sysinfo.h
// (64-bit): uptime at 0, totalram at 32, freeram at 40, mem_unit at 104, and
// nothing past its 112 bytes.
func TestSysinfo(t *testing.T) {
	c, th := setup(t)
	fake.counter = 5 * cntfrq
	var buf [120]byte
	for i := range buf {
		buf[i] = 0xee
	}
	if r := call(c, th, SYS_SYSINFO, addr(&buf)); r != 0 {
		t.Fatalf("sysinfo = %#x", r)
	}
	le := binary.LittleEndian
	if got := le.Uint64(buf[0:]); got != nanotime()/1e9 {
		t.Errorf("uptime %d, want %d", got, nanotime()/1e9)
	}
	if got := le.Uint64(buf[32:]); got != frames.Total()*mm.PageSize {
		t.Errorf("totalram %d, want %d", got, frames.Total()*mm.PageSize)
	}
	if got := le.Uint64(buf[40:]); got != frames.Free()*mm.PageSize {
		t.Errorf("freeram %d, want %d", got, frames.Free()*mm.PageSize)
	}
	if got := le.Uint32(buf[104:]); got != 1 {
		t.Errorf("mem_unit %d", got)
	}
	for i, b := range buf[112:] {
		if b != 0xee {
			t.Errorf("byte %d past struct sysinfo written", 112+i)
		}
	}
}
