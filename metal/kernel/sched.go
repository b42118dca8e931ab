package kernel

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
	c := counter()
	return c/cntfrq*1e9 + c%cntfrq*1e9/cntfrq
}

// ticksAfter returns the counter value ns nanoseconds from now.
func ticksAfter(ns uint64) uint64 {
	t := ns/1e9*cntfrq + ns%1e9*cntfrq/1e9
	return counter() + t
}

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
			sendWake(i)
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
	now := counter()
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

// maxCoresOnline is what sched_getaffinity reports: every core, even before the
// last secondary has checked in (the runtime reads it once, early).
func maxCoresOnline() int { return maxCores }
