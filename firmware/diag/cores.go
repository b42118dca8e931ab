package diag

import (
	"crypto/sha256"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"time"
)

// coreWork is the same work for every core: floating point (a square-root and
// multiply-add chain) and integer (SHA-256 of what it produced). On a Pi 4 it
// takes about a millisecond.
func coreWork() [32]byte {
	buf := make([]byte, 64<<10)
	x := 1.0
	for i := 0; i < len(buf); i += 8 {
		x = math.Sqrt(x*1.000001+float64(i)) + 0.5
		bits := math.Float64bits(x)
		for k := 0; k < 8; k++ {
			buf[i+k] ^= byte(bits >> (8 * k))
		}
	}
	return sha256.Sum256(buf)
}

// CoreStats is what ran on one core.
type CoreStats struct {
	Rounds int
	Time   time.Duration // in those rounds
}

// Cores runs the same work on n threads at once, round after round, each
// round noting the core it ran on (core, from the kernel: sys.CurrentCore),
// until every core from 0 to n-1 has done at least minRounds rounds or limit
// has passed. It fails if a core did none, or if any round's result differs.
// The kernel's scheduler moves threads between cores; the rounds show where.
func Cores(n, minRounds int, limit time.Duration, core func() int) ([]CoreStats, error) {
	stats := make([]CoreStats, n)
	var (
		mu      sync.Mutex
		want    [32]byte
		bad     string
		first   = true
		stray   []int
		done    = make(chan struct{})
		once    sync.Once
		wg      sync.WaitGroup
		started = time.Now()
	)
	enough := func() bool {
		for _, s := range stats {
			if s.Rounds < minRounds {
				return false
			}
		}
		return true
	}
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for {
				select {
				case <-done:
					return
				default:
				}
				t0 := time.Now()
				sum := coreWork()
				d := time.Since(t0)
				c := core()
				mu.Lock()
				switch {
				case first:
					want, first = sum, false
				case sum != want && bad == "":
					bad = fmt.Sprintf("core %d computed %x where the others computed %x", c, sum[:4], want[:4])
				}
				if c >= 0 && c < n {
					stats[c].Rounds++
					stats[c].Time += d
				} else {
					stray = append(stray, c)
				}
				if enough() || bad != "" || time.Since(started) > limit {
					once.Do(func() { close(done) })
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	switch {
	case bad != "":
		return stats, fmt.Errorf("the same work gave different results: %s", bad)
	case len(stray) > 0:
		return stats, fmt.Errorf("work ran on core %d, beyond the %d cores", stray[0], n)
	}
	var idle []int
	for c, s := range stats {
		if s.Rounds == 0 {
			idle = append(idle, c)
		}
	}
	if idle != nil {
		return stats, fmt.Errorf("no work ran on core %v within %v: %s", idle, limit, DescribeCores(stats))
	}
	return stats, nil
}

// DescribeCores says how many rounds ran on each core and how long one took.
func DescribeCores(stats []CoreStats) string {
	var parts []string
	for c, s := range stats {
		per := time.Duration(0)
		if s.Rounds > 0 {
			per = s.Time / time.Duration(s.Rounds)
		}
		parts = append(parts, fmt.Sprintf("core %d %d rounds of %.2f ms", c, s.Rounds, float64(per.Microseconds())/1000))
	}
	return strings.Join(parts, ", ")
}
