package diag

import (
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/inferpi/inferpi/firmware/loader"
)

// RAMResult is a pattern pass over a buffer.
type RAMResult struct {
	Bytes         int
	Write, Verify time.Duration
	Bad           int // 8-byte words that did not read back as written
	FirstBad      int // byte offset of the first, when Bad > 0
	Want, Got     uint64
}

// GBps is the throughput of d over the buffer, in GB/s.
func (r RAMResult) GBps(d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(r.Bytes) / d.Seconds() / 1e9
}

func (r RAMResult) String() string {
	s := fmt.Sprintf("%s, pattern written at %.2f GB/s, read back at %.2f GB/s", loader.Size(int64(r.Bytes)), r.GBps(r.Write), r.GBps(r.Verify))
	if r.Bad > 0 {
		s += fmt.Sprintf("; %d words wrong, the first at offset %#x: %#016x instead of %#016x", r.Bad, r.FirstBad, r.Got, r.Want)
	}
	return s
}

// patternWord is the value the pass writes at word i: it differs in every bit
// position between neighbouring words and across address lines, so stuck bits,
// shorted data lines and aliased addresses all show.
func patternWord(i int) uint64 { return uint64(i)*0x9E3779B97F4A7C15 ^ 0x5555_5555_AAAA_AAAA }

// PatternPass writes the pattern over mem (8-byte aligned, a multiple of 8
// bytes) with workers goroutines at once, then reads it back the same way, and
// times both. afterWrite, if not nil, runs in between (tests damage the memory
// there).
func PatternPass(mem []byte, workers int, afterWrite func()) RAMResult {
	words := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(mem))), len(mem)/8)
	workers = max(workers, 1)
	chunk := (len(words) + workers - 1) / workers
	each := func(f func(lo, hi int)) time.Duration {
		var wg sync.WaitGroup
		start := time.Now()
		for lo := 0; lo < len(words); lo += chunk {
			hi := min(lo+chunk, len(words))
			wg.Add(1)
			go func() {
				defer wg.Done()
				f(lo, hi)
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	r := RAMResult{Bytes: len(words) * 8}
	r.Write = each(func(lo, hi int) {
		for i := lo; i < hi; i++ {
			words[i] = patternWord(i)
		}
	})
	if afterWrite != nil {
		afterWrite()
	}
	var mu sync.Mutex
	r.FirstBad = -1
	r.Verify = each(func(lo, hi int) {
		bad, first := 0, -1
		var want, got uint64
		for i := lo; i < hi; i++ {
			if v := words[i]; v != patternWord(i) {
				if first < 0 {
					first, want, got = i, patternWord(i), v
				}
				bad++
			}
		}
		if bad == 0 {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		r.Bad += bad
		if r.FirstBad < 0 || first*8 < r.FirstBad {
			r.FirstBad, r.Want, r.Got = first*8, want, got
		}
	})
	return r
}
