package kernels

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inferpi/inferpi/internal/racedetect"
)

func TestParallelRunsEveryIndexOnce(t *testing.T) {
	for _, workers := range []int{0, 1, 2, 3, 5} {
		p := NewPool(workers)
		for _, n := range []int{0, 1, 2, 3, 7, 100, 1000} {
			counts := make([]atomic.Int32, n)
			p.Parallel(n, func(i int) { counts[i].Add(1) })
			for i := range counts {
				if c := counts[i].Load(); c != 1 {
					t.Fatalf("%d workers, n=%d: index %d ran %d times", workers, n, i, c)
				}
			}
		}
		p.Close()
	}
}

// TestParallelUsesSeveralThreads: with 2+ workers, items really run at the same
// time (each waits until another one has started).
func TestParallelUsesSeveralThreads(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs GOMAXPROCS >= 2")
	}
	p := NewPool(2)
	defer p.Close()
	var started atomic.Int32
	var overlapped atomic.Bool
	p.Parallel(2, func(i int) {
		started.Add(1)
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if started.Load() == 2 {
				overlapped.Store(true)
				return
			}
			runtime.Gosched()
		}
	})
	if !overlapped.Load() {
		t.Fatal("the two items never ran at the same time")
	}
}

// TestPoolParksAndWakes leaves the pool idle past the spinning phase, so the helpers
// park, and checks that the next jobs still run everywhere.
func TestPoolParksAndWakes(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	for round := 0; round < 5; round++ {
		var sum atomic.Int64
		p.Parallel(100, func(i int) { sum.Add(int64(i)) })
		if sum.Load() != 4950 {
			t.Fatalf("round %d: sum %d", round, sum.Load())
		}
		time.Sleep(time.Duration(round) * 20 * time.Millisecond)
	}
}

// TestParallelNestedAndConcurrent: jobs from several goroutines at once, and jobs
// started from inside a job, run (serially when the pool is busy) without deadlock.
func TestParallelNestedAndConcurrent(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	var wg sync.WaitGroup
	var total atomic.Int64
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 50; r++ {
				p.Parallel(8, func(i int) {
					p.Parallel(4, func(j int) { total.Add(1) })
				})
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("deadlock")
	}
	if total.Load() != 4*50*8*4 {
		t.Fatalf("ran %d items, want %d", total.Load(), 4*50*8*4)
	}
}

func TestPoolAfterClose(t *testing.T) {
	p := NewPool(4)
	p.Close()
	p.Close() // twice is fine
	n := 0
	p.Parallel(10, func(i int) { n++ }) // serial on the caller: no race on n
	if n != 10 {
		t.Fatalf("after Close: %d items ran", n)
	}
}

func TestSetWorkers(t *testing.T) {
	SetWorkers(3)
	if w := DefaultPool().Workers(); w != 3 {
		t.Errorf("Workers() = %d after SetWorkers(3)", w)
	}
	var sum atomic.Int64
	Parallel(10, func(i int) { sum.Add(int64(i)) })
	if sum.Load() != 45 {
		t.Errorf("sum %d", sum.Load())
	}
	SetWorkers(runtime.GOMAXPROCS(0))
}

// TestPoolReusesJobsSafely runs thousands of short jobs back to back on four
// participants, so helpers arrive late, leave late and meet job storage that has
// been reused (newJob): every item must still run exactly once, with the right job.
func TestPoolReusesJobsSafely(t *testing.T) {
	p := NewPool(4)
	defer p.Close()
	for round := range 3000 {
		n := 1 + round%9
		counts := make([]atomic.Int32, n)
		p.Parallel(n, func(i int) { counts[i].Add(1) })
		for i := range counts {
			if c := counts[i].Load(); c != 1 {
				t.Fatalf("round %d: item %d of %d ran %d times", round, i, n, c)
			}
		}
	}
}

// TestSplitProductAllocatesNothing: a product split across the cores takes its job
// from the pool's slots and x's quantized copy from a pool of them, so decoding
// allocates nothing per matrix (see newJob for why that matters).
func TestSplitProductAllocatesNothing(t *testing.T) {
	if racedetect.Enabled {
		t.Skip("the race detector makes sync.Pool drop what it is given")
	}
	// AllocsPerRun runs with GOMAXPROCS 1: the default pool must exist before it.
	if DefaultPool().Workers() < 2 {
		t.Skip("needs a pool of 2 or more workers")
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for _, enc := range []Encoding{F16, Q4_0, Q4_1, Q4_K, Q6_K} {
		m := randomMatrix(rng, 1024, 512, enc) // 1 MiB ... 288 KiB: split
		x := randomVector(rng, 512)
		out := make([]float32, 1024)
		if a := testing.AllocsPerRun(50, func() { MatVec(out, m, x) }); a != 0 {
			t.Errorf("%v: MatVec allocated %v times per call", enc, a)
		}
	}
	// A pair of matrices in different encodings, with a step (a feed-forward's gate
	// and up projections in a Q4_K_M model).
	gate, up := randomMatrix(rng, 1024, 512, Q4_K), randomMatrix(rng, 1024, 512, Q6_K)
	x := randomVector(rng, 512)
	h, g := make([]float32, 1024), make([]float32, 1024)
	step := func(lo, hi int) { SwiGLU(h[lo:hi], g[lo:hi]) }
	if a := testing.AllocsPerRun(50, func() { MatMulPairThen(h, g, gate, up, x, 1, step) }); a != 0 {
		t.Errorf("Q4_K and Q6_K pair: MatMulPairThen allocated %v times per call", a)
	}
}

// TestInputAllocatesNothing: an Input kept and prepared again for matrices of
// several encodings (every activation kind) costs no allocation once warm.
func TestInputAllocatesNothing(t *testing.T) {
	if racedetect.Enabled {
		t.Skip("the race detector makes sync.Pool drop what it is given")
	}
	rng := rand.New(rand.NewPCG(8, 8))
	ms := []Matrix{randomMatrix(rng, 64, 512, Q4_K), randomMatrix(rng, 32, 512, Q6_K),
		randomMatrix(rng, 32, 512, Q5_0), randomMatrix(rng, 32, 512, Q4_1), randomMatrix(rng, 32, 512, F16)}
	x := randomVector(rng, 512)
	out := make([]float32, 64)
	var in Input
	run := func() {
		in.Prepare(x, Q4_K, Q6_K, Q5_0, Q4_1, F16)
		for _, m := range ms {
			in.Rows(out, m, 0, m.Rows)
		}
		in.Release()
	}
	if a := testing.AllocsPerRun(50, run); a != 0 {
		t.Errorf("Prepare, Rows and Release allocated %v times per round", a)
	}
}
