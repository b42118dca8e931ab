package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// A Pool runs one job at a time on several cores: the calling goroutine plus one
// helper goroutine per other core, each helper locked to its own OS thread. Between
// jobs a helper spins on the job counter for up to a millisecond (spinTime: the next
// matrix of a forward pass, or the next token, comes well within it), then parks on
// a channel so an idle session costs no CPU. Only Go primitives are used (atomics, channels, LockOSThread),
// so the pool behaves the same hosted and on the bare-metal kernel, where the OS
// threads are the kernel's threads on the four cores.
//
// A job is n items cut into chunks; every participant takes the next chunk from an
// atomic counter until none are left (see job.work), and the job is over when all
// its items are done. Nobody waits for a helper that has not started (its thread
// may be busy or descheduled): the others simply take its chunks, and a helper that
// wakes late finds nothing left. A Pool is safe for concurrent use: a job submitted
// while another one runs (another session, or a nested call from inside a job) runs
// serially on the caller instead of waiting.
type Pool struct {
	workers int // participants, the caller included
	helpers []*helper
	mu      sync.Mutex // held by the goroutine whose job is current
	wg      sync.WaitGroup

	gen    atomic.Uint64       // bumped once per job (and once at Close)
	cur    atomic.Pointer[job] // the current job, nil between jobs
	closed atomic.Bool

	callerWake chan struct{} // the last chunk's finisher wakes a parked caller

	slots    [2]jobSlot // reused job storage, held under mu (see newJob)
	lastSlot int
}

type helper struct {
	parked atomic.Bool
	wake   chan struct{}
}

// job is one call's work. Its storage is reused for later jobs (newJob), but only
// once no helper is inside it: a helper announces itself in users, then checks that
// the job it loaded is still the current one before reading anything else, so it
// either works on a job that is fully set up or leaves it alone.
type job struct {
	task         task
	n, grain     int
	align        int          // chunks start at multiples of align (0 or 1: anywhere)
	next         atomic.Int64 // first item not yet taken
	done         atomic.Int64 // items finished
	callerParked atomic.Bool
	users        atomic.Int32 // helpers inside work
}

// jobSlot is the storage of one job and of a product's task, which most jobs are.
type jobSlot struct {
	job
	product productTask
}

// newJob returns storage for the next job, to be set up (job.set, and the product
// task when the job is a product) before runAcquired. It reuses one of the pool's
// slots, whose memory the caller and the helpers still have in their caches (a job
// freshly allocated for every matrix would sit in memory the caches have not seen
// since the last garbage collection, and every core would wait on those lines
// where the job starts). A slot some helper is still inside (descheduled between
// its last chunk and leaving) is skipped, and with both slots busy the job is
// allocated, so nobody waits for a late helper. Called with p.mu held.
func (p *Pool) newJob() *jobSlot {
	for i := range p.slots {
		k := (p.lastSlot + 1 + i) % len(p.slots)
		if s := &p.slots[k]; s.users.Load() == 0 {
			p.lastSlot = k
			s.product = productTask{}
			return s
		}
	}
	return new(jobSlot)
}

// set makes j a job of n items of t, cut into chunks of at least grain items that
// start at multiples of align.
func (j *job) set(t task, n, grain, align int) {
	j.task, j.n, j.grain, j.align = t, n, grain, align
	j.next.Store(0)
	j.done.Store(0)
	j.callerParked.Store(false)
}

// task is a job's work on items [lo, hi).
type task interface{ run(lo, hi int) }

// spinTime is how long a waiting participant polls before parking. Parking is
// cheap but waking is not: a futex wake-up on a virtual machine can take as long
// as a whole small matrix. The gaps inside a token (norms, rotary, the KV cache
// write) and between tokens (argmax or sampling over the vocabulary) are tens to
// hundreds of microseconds, so helpers that park sooner are woken late for most
// jobs. After a millisecond with no work (a person typing) the helpers park, and
// an idle session costs no CPU.
const spinTime = time.Millisecond

// spinCheck is how many polls go between two looks at the clock.
const spinCheck = 1 << 10

// spin polls done until it returns true or spinTime has passed; it reports
// whether done did.
func spin(done func() bool) bool {
	var start time.Time
	for i := 1; ; i++ {
		if done() {
			return true
		}
		if i%spinCheck == 0 {
			if start.IsZero() {
				start = time.Now()
			} else if time.Since(start) > spinTime {
				return false
			}
		}
	}
}

// NewPool starts a pool of workers participants (the caller and workers-1 helper
// threads). workers < 1 means 1: everything then runs on the caller.
func NewPool(workers int) *Pool {
	workers = max(workers, 1)
	p := &Pool{workers: workers, callerWake: make(chan struct{}, 1)}
	for i := 1; i < workers; i++ {
		h := &helper{wake: make(chan struct{}, 1)}
		p.helpers = append(p.helpers, h)
		p.wg.Add(1)
		go p.helperLoop(h)
	}
	return p
}

// Workers is the number of cores the pool uses, the caller included.
func (p *Pool) Workers() int { return p.workers }

// Close stops the helpers. Jobs submitted afterwards run on the caller alone.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed.Swap(true) {
		return
	}
	p.gen.Add(1)
	p.wakeHelpers()
	p.wg.Wait()
}

// Parallel calls fn(i) for every i in [0, n), spreading the calls over the pool's
// cores, and returns when all have returned. Calls may run in any order and at the
// same time, so fn must only write what item i owns (e.g. attention for head i).
func (p *Pool) Parallel(n int, fn func(i int)) {
	if n <= 1 || !p.acquire() {
		for i := range n {
			fn(i)
		}
		return
	}
	s := p.newJob()
	s.set(funcTask(fn), n, 1, 1)
	p.runAcquired(&s.job)
}

type funcTask func(i int)

func (f funcTask) run(lo, hi int) {
	for i := lo; i < hi; i++ {
		f(i)
	}
}

// acquire takes the helpers for one job; false means run on the caller alone
// (no helpers, pool closed, or busy with another goroutine's job).
func (p *Pool) acquire() bool {
	if len(p.helpers) == 0 || !p.mu.TryLock() {
		return false
	}
	if p.closed.Load() {
		p.mu.Unlock()
		return false
	}
	return true
}

// runAcquired runs j on every core and releases the pool; the caller holds p.mu
// (acquire).
func (p *Pool) runAcquired(j *job) {
	p.cur.Store(j)
	p.gen.Add(1)
	p.wakeHelpers()
	j.work(p)
	j.wait(p)
	p.cur.Store(nil)
	p.mu.Unlock()
}

// work takes chunks of j until none are left. Chunks shrink as the job goes
// (guided self-scheduling): each takes 1/workers of what is left, at least grain
// items, so the first ones are long sequential streams and the last ones are small
// enough to even out a core that was held up. Every chunk starts a new stream whose
// first lines wait for memory, so chunks are large (1/workers of what is left, at
// least 64 KiB of weights), and attention's heads reach the cores in contiguous
// runs. With align set,
// every chunk but the last is a multiple of it, so every chunk starts at one.
func (j *job) work(p *Pool) {
	div := int64(p.workers)
	for {
		lo := j.next.Load()
		if lo >= int64(j.n) {
			return
		}
		size := max(int64(j.grain), (int64(j.n)-lo)/div)
		if a := int64(j.align); a > 1 {
			size = (size + a - 1) / a * a
		}
		hi := min(lo+size, int64(j.n))
		if !j.next.CompareAndSwap(lo, hi) {
			continue
		}
		j.task.run(int(lo), int(hi))
		if j.done.Add(hi-lo) == int64(j.n) && j.callerParked.CompareAndSwap(true, false) {
			p.callerWake <- struct{}{}
		}
	}
}

// wait returns once every item of j is done: spinning first, then parked until the
// participant finishing the last chunk wakes it. The caller announces parking
// before its last look at done, and finishers count done before looking at
// callerParked, so one of the two sees the other (Go's atomics are sequentially
// consistent).
func (j *job) wait(p *Pool) {
	n := int64(j.n)
	if spin(func() bool { return j.done.Load() == n }) {
		return
	}
	j.callerParked.Store(true)
	if j.done.Load() == n && j.callerParked.CompareAndSwap(true, false) {
		return
	}
	<-p.callerWake
}

// wakeHelpers hands a wake-up to every helper that has parked. A helper announces
// parking before its last look at gen, and gen is bumped before this look at
// parked, so a helper either sees the new job or is woken.
func (p *Pool) wakeHelpers() {
	for _, h := range p.helpers {
		if h.parked.CompareAndSwap(true, false) {
			h.wake <- struct{}{}
		}
	}
}

func (p *Pool) helperLoop(h *helper) {
	runtime.LockOSThread()
	defer p.wg.Done()
	// gen was 0 when the pool was made; the first job may already have bumped it
	// by the time this goroutine runs, and it must not be missed.
	var seen uint64
	for {
		p.waitForJob(h, seen)
		if p.closed.Load() {
			return
		}
		seen = p.gen.Load()
		if j := p.cur.Load(); j != nil {
			j.users.Add(1)
			if p.cur.Load() == j { // still current, so set up and not reused before we leave
				j.work(p)
			}
			j.users.Add(-1)
		}
	}
}

// waitForJob returns once gen differs from seen: spinning first, then parked.
func (p *Pool) waitForJob(h *helper, seen uint64) {
	if spin(func() bool { return p.gen.Load() != seen }) {
		return
	}
	h.parked.Store(true)
	if p.gen.Load() != seen && h.parked.CompareAndSwap(true, false) {
		return // the job came while parking, and nobody has claimed our wake-up
	}
	<-h.wake
}

var defaultPool atomic.Pointer[Pool]
var defaultPoolInit sync.Mutex

// DefaultPool is the pool MatVec and Parallel use: one participant per
// runtime.GOMAXPROCS (one per core unless the program says otherwise), started on
// first use.
func DefaultPool() *Pool {
	if p := defaultPool.Load(); p != nil {
		return p
	}
	defaultPoolInit.Lock()
	defer defaultPoolInit.Unlock()
	if p := defaultPool.Load(); p != nil {
		return p
	}
	p := NewPool(runtime.GOMAXPROCS(0))
	defaultPool.Store(p)
	return p
}

// SetWorkers replaces the default pool with one of n participants (benchmarks,
// `--threads`). Call it at start-up, not while kernels run.
func SetWorkers(n int) {
	defaultPoolInit.Lock()
	defer defaultPoolInit.Unlock()
	if old := defaultPool.Swap(NewPool(n)); old != nil {
		old.Close()
	}
}

// Parallel calls fn(i) for every i in [0, n) on the default pool (see Pool.Parallel).
func Parallel(n int, fn func(i int)) { DefaultPool().Parallel(n, fn) }
