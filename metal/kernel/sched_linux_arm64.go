package kernel

import (
	"sync/atomic"

	"github.com/inferpi/inferpi/board"
	"github.com/inferpi/inferpi/driver/gic"
	"github.com/inferpi/inferpi/metal/arm64"
)

func intc() gic.GIC { return gic.At(board.GICD, board.GICC) }

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
	if atomic.LoadUint32(&halting) != 0 {
		arm64.Halt() // another core is printing a fault report
	}
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
	if c.id == 0 && watchdogSecs != 0 && (when == 0 || watchdogNext < when) {
		when = watchdogNext
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
			if c.id == 0 {
				watchdogService()
			}
		case id == board.UARTIRQ:
			consoleIRQ()
		case id < 16:
			// A wake-up: nothing to do, finishTrap looks at the run queue and signals.
		default:
			deviceIRQ(id)
		}
		intc().EOI(iar)
	}
}
