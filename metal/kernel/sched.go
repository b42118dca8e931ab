package kernel

import (
	"github.com/inferpi/inferpi/board"
	"github.com/inferpi/inferpi/driver/gic"
	"github.com/inferpi/inferpi/metal/arm64"
)

// Scheduling: one run queue for all cores under the big kernel lock; a thread runs
// until it blocks, yields, or its 10 ms slice ends while others wait. Idle cores
// sleep in WFI with interrupts masked (WFI still wakes on a pending interrupt) and
// are woken by a software-generated interrupt when work arrives.

// bkl is the big kernel lock: every kernel path that touches shared state holds it.
// Kernel code never runs with interrupts enabled, so a core never spins on it
// against itself.
var bkl spinlock

var runq struct {
	buf  [maxThreads]int32
	head int
	n    int
}

func intc() gic.GIC { return gic.At(board.GICD, board.GICC) }

const (
	sgiWake  = 0 // software interrupt: "look at the run queue" / "deliver a signal"
	sliceNS  = 10_000_000
	maxSleep = ^uint64(0)
)

var (
	cntfrq       uint64 // counter ticks per second
	nextDeadline uint64 // earliest thread deadline in counter ticks, 0 = none
	ncores       int    // cores that have started
)

func nanotime() uint64 {
	c := arm64.CNTPCT()
	return c/cntfrq*1e9 + c%cntfrq*1e9/cntfrq
}

// ticksAfter returns the counter value ns nanoseconds from now.
func ticksAfter(ns uint64) uint64 {
	t := ns/1e9*cntfrq + ns%1e9*cntfrq/1e9
	return arm64.CNTPCT() + t
}

func thisCore() *percore { return (*percore)(ptrAt(arm64.TPIDREL1())) }

func runqPush(i int32) {
	runq.buf[(runq.head+runq.n)%maxThreads] = i
	runq.n++
	threads[i].state = tsRunnable
	wakeIdleCore()
}

func runqPop() int32 {
	i := runq.buf[runq.head]
	runq.head = (runq.head + 1) % maxThreads
	runq.n--
	return i
}

// wakeIdleCore sends a wake-up interrupt to one idle core that has not been sent
// one yet (idle == 2 marks a wake-up in flight, so a burst of new threads wakes as
// many cores as there are threads).
func wakeIdleCore() {
	self := thisCore().id
	for i := range cores {
		c := &cores[i]
		if c.started != 0 && c.idle == 1 && uintptr(i) != self {
			c.idle = 2
			intc().SendSGI(sgiWake, 1<<i)
			return
		}
	}
}

// makeRunnable finishes a blocked thread's wait with result r in x0.
func makeRunnable(i int32, r uint64) {
	t := &threads[i]
	t.ctx.x[0] = r
	t.wait = waitNone
	t.deadline = 0
	runqPush(i)
}

// block parks the current thread of core c until something makes it runnable.
func block(c *percore, why uint32, deadline uint64) {
	t := &threads[c.cur]
	t.state = tsBlocked
	t.wait = why
	t.deadline = deadline
	if deadline != 0 && (nextDeadline == 0 || deadline < nextDeadline) {
		nextDeadline = deadline
	}
	c.cur = -1
}

// expireDeadlines wakes threads whose timed waits are over.
func expireDeadlines() {
	if nextDeadline == 0 {
		return
	}
	now := arm64.CNTPCT()
	if now < nextDeadline {
		return
	}
	next := uint64(0)
	for i := range threads {
		t := &threads[i]
		if t.state != tsBlocked || t.deadline == 0 {
			continue
		}
		if t.deadline <= now {
			r := uint64(0)
			if t.wait == waitFutex || t.wait == waitIRQ {
				r = errno(ETIMEDOUT)
			}
			if t.wait == waitIRQ {
				cancelIRQWait(int32(i))
			}
			makeRunnable(int32(i), r)
		} else if next == 0 || t.deadline < next {
			next = t.deadline
		}
	}
	nextDeadline = next
}

// finishTrap decides what core c runs next, delivers its pending signals, programs
// the timer and drops the kernel lock. It returns with c.ctx set for resumeThread.
func finishTrap(c *percore) {
	expireDeadlines()
	consoleKick()
	if c.cur >= 0 {
		t := &threads[c.cur]
		switch {
		case t.state != tsRunning:
			c.cur = -1
		case arm64.CNTPCT() >= c.sliceEnd:
			if runq.n > 0 {
				// Slice over and others are waiting: to the back of the queue.
				runqPush(c.cur)
				c.cur = -1
			} else {
				c.sliceEnd = ticksAfter(sliceNS) // nobody waiting: a fresh slice
			}
		}
	}
	for c.cur < 0 {
		if runq.n > 0 {
			i := runqPop()
			threads[i].state = tsRunning
			threads[i].core = int32(c.id)
			c.cur = i
			c.sliceEnd = ticksAfter(sliceNS)
			if runq.n > 0 {
				wakeIdleCore() // more work than this core: pass it on
			}
			break
		}
		idle(c)
	}
	t := &threads[c.cur]
	deliverSignals(c, t)
	c.ctx = uintptr(ptrOf(&t.ctx))
	armTimer(c)
	bkl.unlock()
}

// idle waits for an interrupt with the kernel lock released, then handles it.
func idle(c *percore) {
	c.idle = 1
	armTimer(c)
	bkl.unlock()
	arm64.WFI()
	bkl.lock()
	c.idle = 0
	handleIRQs(c)
	expireDeadlines()
}

// armTimer programs this core's timer for the earliest moment it must look again:
// the end of the running thread's slice, or the next thread deadline. Every core
// arms for the deadline, so the core that set it (which always passes here right
// after) wakes on time even when all others sleep with older settings.
func armTimer(c *percore) {
	when := uint64(0)
	if c.cur >= 0 && c.idle == 0 {
		when = c.sliceEnd
	}
	if nextDeadline != 0 && (when == 0 || nextDeadline < when) {
		when = nextDeadline
	}
	if when == 0 {
		arm64.SetCNTPCTL(0)
		c.timerArmed = 0
		return
	}
	if when != c.timerArmed {
		arm64.SetCNTPCVAL(when)
		c.timerArmed = when
	}
	arm64.SetCNTPCTL(1)
}

// handleIRQs acknowledges and handles every pending interrupt of this core.
func handleIRQs(c *percore) {
	for {
		iar := intc().Ack()
		id := int(iar & 0x3ff)
		if id == gic.Spurious {
			return
		}
		switch {
		case id == board.TimerIRQ:
			// Mask until armTimer reprograms it: the line is level-triggered.
			arm64.SetCNTPCTL(2)
			c.timerArmed = 0
		case id == board.UARTIRQ:
			consoleRxPoll()
			uart().ClearInterrupts(0x7FF)
			wakeConsoleReaders()
			consoleKick()
			wakeConsoleWriters()
		case id < 16:
			// A wake-up: nothing to do, finishTrap looks at the run queue and signals.
		default:
			deviceIRQ(id)
		}
		intc().EOI(iar)
	}
}
