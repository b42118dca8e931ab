//go:build linux && arm64

package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/inferpi/inferpi/driver/dma"
	"github.com/inferpi/inferpi/metal/sys"
)

// checkCores shows the cores computing at the same time. N goroutines, each
// locked to its own thread, alternate short bursts of work with a sample of
// (time, core). A single core time-slicing them (10 ms slices) could never put
// samples from two different cores within half a millisecond of each other; the
// peak number of distinct cores inside any 0.5 ms window is how many ran at once.
// (Under QEMU the peak is bounded by the host's own cores.)
func checkCores() (string, error) {
	n := runtime.GOMAXPROCS(0)
	type sample struct {
		t    int64
		core int
	}
	const bursts = 300
	results := make([][]sample, n)
	sums := make([]uint64, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			<-start
			x := uint64(i)
			out := make([]sample, 0, bursts)
			for b := 0; b < bursts; b++ {
				for j := 0; j < 20_000; j++ {
					x = x*6364136223846793005 + 1442695040888963407
				}
				out = append(out, sample{time.Now().UnixNano(), sys.CurrentCore()})
			}
			results[i], sums[i] = out, x
		}(i)
	}
	close(start)
	wg.Wait()
	// The work itself has a known answer: the LCG run from seed i.
	for i := 0; i < n; i++ {
		x := uint64(i)
		for k := 0; k < bursts*20_000; k++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		if x != sums[i] {
			return "", fmt.Errorf("goroutine %d computed %#x, want %#x", i, sums[i], x)
		}
	}
	var all []sample
	cores := map[int]bool{}
	for _, r := range results {
		all = append(all, r...)
		for _, s := range r {
			cores[s.core] = true
		}
	}
	sort.Slice(all, func(a, b int) bool { return all[a].t < all[b].t })
	const window = int64(500 * time.Microsecond)
	peak := 0
	for i := range all {
		in := map[int]bool{}
		for j := i; j < len(all) && all[j].t-all[i].t <= window; j++ {
			in[all[j].core] = true
		}
		peak = max(peak, len(in))
	}
	var list []int
	for c := range cores {
		list = append(list, c)
	}
	sort.Ints(list)
	if len(cores) != n {
		return "", fmt.Errorf("ran on cores %v, want %d distinct", list, n)
	}
	if peak < 2 {
		return "", fmt.Errorf("never two cores within 0.5 ms: no parallel execution")
	}
	return fmt.Sprintf("cores %v; up to %d cores busy within the same 0.5 ms", list, peak), nil
}

// checkParallelSum hashes chunks on all cores and compares with the sequential result.
func checkParallelSum() (string, error) {
	const chunks = 64
	data := make([]byte, 8<<20)
	for i := range data {
		data[i] = byte(i*7 + i>>8)
	}
	want := make([][32]byte, chunks)
	size := len(data) / chunks
	for i := range want {
		want[i] = sha256.Sum256(data[i*size : (i+1)*size])
	}
	got := make([][32]byte, chunks)
	var wg sync.WaitGroup
	var next atomic.Int32
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= chunks {
					return
				}
				got[i] = sha256.Sum256(data[i*size : (i+1)*size])
			}
		}()
	}
	wg.Wait()
	for i := range want {
		if got[i] != want[i] {
			return "", fmt.Errorf("chunk %d differs", i)
		}
	}
	// A known answer: the sum of i*i for i < 2^20 split over the cores.
	var total atomic.Uint64
	n := runtime.GOMAXPROCS(0)
	per := (1 << 20) / n
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var s uint64
			for i := w * per; i < (w+1)*per; i++ {
				s += uint64(i) * uint64(i)
			}
			total.Add(s)
		}(w)
	}
	wg.Wait()
	const known = 384306618446643200 // sum_{i<2^20} i^2 = (n-1)n(2n-1)/6
	if total.Load() != known {
		return "", fmt.Errorf("sum of squares = %d, want %d", total.Load(), known)
	}
	return fmt.Sprintf("%d SHA-256 chunks and a sum of squares", chunks), nil
}

func checkChannels() (string, error) {
	const n = 10000
	in := make(chan int)
	out := make(chan int, 16)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case v := <-in:
					out <- v * 2
				case <-quit:
					return
				}
			}
		}()
	}
	go func() {
		for i := 1; i <= n; i++ {
			in <- i
		}
	}()
	sum := 0
	timeout := time.After(30 * time.Second)
	for i := 0; i < n; i++ {
		select {
		case v := <-out:
			sum += v
		case <-timeout:
			return "", fmt.Errorf("only %d of %d results", i, n)
		}
	}
	close(quit)
	wg.Wait()
	if want := n * (n + 1); sum != want {
		return "", fmt.Errorf("sum %d, want %d", sum, want)
	}
	return fmt.Sprintf("%d values through 8 workers", n), nil
}

func checkMapsFmt() (string, error) {
	m := map[string]int{}
	for i := 0; i < 100000; i++ {
		m["k"+strconv.Itoa(i)] = i
	}
	for i := 0; i < 100000; i += 997 {
		if m["k"+strconv.Itoa(i)] != i {
			return "", fmt.Errorf("map lost key %d", i)
		}
	}
	s := fmt.Sprintf("%d|%x|%q|%.3f|%v", -42, 255, "hi", 3.14159, []int{1, 2})
	if s != `-42|ff|"hi"|3.142|[1 2]` {
		return "", fmt.Errorf("Sprintf gave %s", s)
	}
	f, err := strconv.ParseFloat("1e-3", 64)
	if err != nil || f != 0.001 {
		return "", fmt.Errorf("ParseFloat: %v %v", f, err)
	}
	if strings.ToUpper("bare metal") != "BARE METAL" {
		return "", fmt.Errorf("strings broken")
	}
	return fmt.Sprintf("%d map entries", len(m)), nil
}

// checkGC churns through several hundred MB while keeping a working set, and checks
// that collections happen, live data survives and the heap does not grow unbounded.
func checkGC() (string, error) {
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	type kept struct {
		i int
		b []byte
	}
	keep := make([]kept, 64)
	total := 0
	for i := 0; i < 3000; i++ {
		b := make([]byte, 128<<10+i%4096)
		b[0], b[len(b)-1] = byte(i), byte(i>>8)
		keep[i%len(keep)] = kept{i, b}
		total += len(b)
	}
	for _, k := range keep {
		if k.b[0] != byte(k.i) || k.b[len(k.b)-1] != byte(k.i>>8) || len(k.b) != 128<<10+k.i%4096 {
			return "", fmt.Errorf("kept buffer %d damaged", k.i)
		}
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if after.NumGC <= before.NumGC {
		return "", fmt.Errorf("no collection ran")
	}
	if after.HeapAlloc > 64<<20 {
		return "", fmt.Errorf("heap %d MB after GC: garbage not freed", after.HeapAlloc>>20)
	}
	return fmt.Sprintf("%d MB allocated, %d collections, %d MB live after GC", total>>20, after.NumGC-before.NumGC, after.HeapAlloc>>20), nil
}

// checkScavengeZero returns memory to the kernel (madvise DONTNEED) and checks
// that fresh allocations of the same memory read as zero, as the runtime assumes.
func checkScavengeZero() (string, error) {
	pattern := bytes.Repeat([]byte{0xA5}, 1<<20)
	zero := make([]byte, 1<<20)
	for round := 0; round < 3; round++ {
		bufs := make([][]byte, 32)
		for i := range bufs {
			bufs[i] = make([]byte, 1<<20)
			copy(bufs[i], pattern)
		}
		bufs = nil
		runtime.GC()
		debug.FreeOSMemory()
		for i := 0; i < 32; i++ {
			b := make([]byte, 1<<20)
			if !bytes.Equal(b, zero) {
				return "", fmt.Errorf("round %d: a fresh allocation is not zero", round)
			}
		}
	}
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	return fmt.Sprintf("%d MB released to the kernel", s.HeapReleased>>20), nil
}

// checkSleep sleeps 24 times for 1..12 ms. No sleep may end early, and none may
// wait for an unrelated event (a sleeper whose deadline is not armed would wait for
// the next 10 ms time slice or forever). The bounds are loose because an emulator's
// host may deschedule it at any moment; the numbers are printed, and on a Pi 4 the
// median is a few microseconds.
func checkSleep() (string, error) {
	var over []time.Duration
	for i := 0; i < 24; i++ {
		d := time.Duration(1+i%12) * time.Millisecond
		t0 := time.Now()
		time.Sleep(d)
		got := time.Since(t0)
		if got < d {
			return "", fmt.Errorf("Sleep(%v) returned after %v", d, got)
		}
		over = append(over, got-d)
	}
	sort.Slice(over, func(a, b int) bool { return over[a] < over[b] })
	median, worst := over[len(over)/2], over[len(over)-1]
	if median > 10*time.Millisecond || worst > time.Second {
		return "", fmt.Errorf("sleeps overshoot by %v (median), up to %v", median, worst)
	}
	return fmt.Sprintf("median overshoot %v, worst %v", median.Round(10*time.Microsecond), worst.Round(10*time.Microsecond)), nil
}

func checkTimers() (string, error) {
	t0 := time.Now()
	<-time.After(20 * time.Millisecond)
	tk := time.NewTicker(5 * time.Millisecond)
	for i := 0; i < 5; i++ {
		<-tk.C
	}
	tk.Stop()
	fired := make(chan struct{})
	time.AfterFunc(5*time.Millisecond, func() { close(fired) })
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		return "", fmt.Errorf("AfterFunc never fired")
	}
	el := time.Since(t0)
	if el < 50*time.Millisecond {
		return "", fmt.Errorf("timers fired early: %v", el)
	}
	return fmt.Sprintf("%v", el.Round(time.Millisecond)), nil
}

type stringer struct{ v *int }

func (s *stringer) String() string { return strconv.Itoa(*s.v) }

func checkNilPanic() (msg string, err error) {
	// fmt recovers from a panicking String method on a nil receiver: the standard
	// library relies on nil dereferences being panics.
	var s *stringer
	if got := fmt.Sprint(s); got != "<nil>" {
		return "", fmt.Errorf("fmt.Sprint(nil Stringer) = %q", got)
	}
	defer func() {
		r := recover()
		e, ok := r.(runtime.Error)
		if !ok || !strings.Contains(e.Error(), "nil pointer dereference") {
			err = fmt.Errorf("recovered %v", r)
			return
		}
		msg = e.Error()
	}()
	var p *[1 << 10]int
	return fmt.Sprint(p[100]), fmt.Errorf("read through a nil pointer did not fault")
}

func checkIndexPanic() (msg string, err error) {
	defer func() {
		r := recover()
		if e, ok := r.(runtime.Error); ok && strings.Contains(e.Error(), "index out of range") {
			msg = e.Error()
			return
		}
		err = fmt.Errorf("recovered %v", r)
	}()
	s := []int{1, 2, 3}
	i := len(s) + rand.IntN(2)
	return fmt.Sprint(s[i]), fmt.Errorf("no panic")
}

// checkPreemption spins in a loop without function calls while the GC runs: the
// GC's stop-the-world can only finish if the kernel delivers SIGURG (tgkill).
func checkPreemption() (string, error) {
	var stop atomic.Bool
	started := make(chan struct{})
	go func() {
		close(started)
		x := 0
		for !stop.Load() {
			x++
		}
		_ = x
	}()
	<-started
	time.Sleep(10 * time.Millisecond)
	t0 := time.Now()
	done := make(chan struct{})
	go func() {
		for i := 0; i < 3; i++ {
			runtime.GC()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		stop.Store(true)
		return "", fmt.Errorf("runtime.GC did not finish beside a spinning goroutine")
	}
	stop.Store(true)
	return fmt.Sprintf("3 collections in %v", time.Since(t0).Round(time.Millisecond)), nil
}

func checkThreads() (string, error) {
	const n = 16
	var wg sync.WaitGroup
	tids := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			runtime.LockOSThread()
			tids[i] = syscall.Gettid()
			time.Sleep(20 * time.Millisecond)
			// Stay locked: the thread exits with the goroutine.
		}(i)
	}
	wg.Wait()
	seen := map[int]bool{}
	for _, t := range tids {
		seen[t] = true
	}
	if len(seen) != n {
		return "", fmt.Errorf("%d distinct thread ids for %d locked goroutines", len(seen), n)
	}
	return fmt.Sprintf("%d threads created and exited", n), nil
}

func checkBuffers() (string, error) {
	st0, err := sys.MemStats()
	if err != nil {
		return "", err
	}
	const size = 64 << 20
	b, err := sys.AllocBuffer(size)
	if err != nil {
		return "", err
	}
	for i := 0; i < len(b); i += 4096 {
		if b[i] != 0 {
			return "", fmt.Errorf("buffer not zeroed at %d", i)
		}
		b[i] = byte(i >> 12)
	}
	for i := 0; i < len(b); i += 4096 {
		if b[i] != byte(i>>12) {
			return "", fmt.Errorf("buffer readback differs at %d", i)
		}
	}
	st1, _ := sys.MemStats()
	if err := sys.FreeBuffer(b); err != nil {
		return "", err
	}
	st2, _ := sys.MemStats()
	// The kernel's buffer account is exact. Free memory is checked too (the frames
	// really left and came back), within what the Go runtime may take or return on
	// its own meanwhile (its scavenger runs on another thread).
	if st1.BufferBytes-st0.BufferBytes != size || st2.BufferBytes != st0.BufferBytes {
		return "", fmt.Errorf("buffer account %d -> %d -> %d MB, want +%d and back", st0.BufferBytes>>20, st1.BufferBytes>>20, st2.BufferBytes>>20, size>>20)
	}
	const slack = 16 << 20
	if int64(st0.FreeBytes)-int64(st1.FreeBytes) < size-slack {
		return "", fmt.Errorf("free memory fell by %d MB, want about %d", (int64(st0.FreeBytes)-int64(st1.FreeBytes))>>20, size>>20)
	}
	if int64(st2.FreeBytes)-int64(st1.FreeBytes) < size-slack {
		return "", fmt.Errorf("freeing returned %d MB, want about %d", (int64(st2.FreeBytes)-int64(st1.FreeBytes))>>20, size>>20)
	}
	if _, err := sys.AllocBuffer(int(st2.TotalBytes) * 2); err == nil {
		return "", fmt.Errorf("a buffer twice the RAM was granted")
	}
	return fmt.Sprintf("%d MB mapped and returned; %d MB free", size>>20, st2.FreeBytes>>20), nil
}

func checkDMA() (string, error) {
	var d sys.DMA
	buf, err := d.AllocCoherent(64<<10, 4096)
	if err != nil {
		return "", err
	}
	defer d.Free(buf)
	if buf.Bus%4096 != 0 || len(buf.Mem) != 64<<10 {
		return "", fmt.Errorf("bad buffer: bus %#x len %d", buf.Bus, len(buf.Mem))
	}
	segs, err := d.Segments(buf.Mem)
	if err != nil || len(segs) != 1 || segs[0] != (dma.Segment{Bus: buf.Bus, Len: len(buf.Mem)}) {
		return "", fmt.Errorf("coherent buffer segments %v %v", segs, err)
	}
	// A Go heap slice is virtually contiguous but may be physically scattered.
	heap := make([]byte, 1<<20)
	segs, err = d.Segments(heap)
	if err != nil {
		return "", err
	}
	n := 0
	for _, s := range segs {
		n += s.Len
	}
	if n != len(heap) {
		return "", fmt.Errorf("segments cover %d of %d bytes", n, len(heap))
	}
	pa, _, _ := sys.VirtToPhys(heap)
	if uintptr(unsafe.Pointer(&heap[0])) == uintptr(pa) {
		return "", fmt.Errorf("heap is identity mapped: virtual memory not in use")
	}
	return fmt.Sprintf("coherent buffer at bus %#x; 1 MB heap slice in %d segments", buf.Bus, len(segs)), nil
}

func checkRandom() (string, error) {
	var a, b [32]byte
	const sysGetrandom = 278 // arm64
	n, _, e := syscall.Syscall(sysGetrandom, uintptr(unsafe.Pointer(&a[0])), 32, 0)
	if e != 0 || n != 32 {
		return "", fmt.Errorf("getrandom: %d %v", n, e)
	}
	syscall.Syscall(sysGetrandom, uintptr(unsafe.Pointer(&b[0])), 32, 0)
	if a == b || a == [32]byte{} {
		return "", fmt.Errorf("getrandom returned repeated or zero bytes")
	}
	return "", nil
}
