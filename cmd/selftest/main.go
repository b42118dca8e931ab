//go:build linux && arm64

// Command selftest is a firmware image that checks, on bare metal, that the stock
// Go runtime works on InferPi's kernel: goroutines on all cores at once, channels,
// the garbage collector under allocation churn, maps, fmt, strconv, timers, UART
// input, nil dereferences as ordinary panics, asynchronous preemption, and the
// kernel's own memory API, and the engines' NEON kernels on the worker pool. It prints one line per check and ends with
// "N passed, N failed", which `make qemu-selftest` asserts.
//
// The UART check waits for the line "selftest-input <token>" (the harness types
// it, and so can a person at a serial terminal).
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	_ "github.com/inferpi/inferpi/metal/kernel"
	"github.com/inferpi/inferpi/metal/sys"
)

type check struct {
	name string
	fn   func() (string, error)
}

var checks = []check{
	{"cores: goroutines on every core at once", checkCores},
	{"parallel computation matches its known result", checkParallelSum},
	{"channels and select", checkChannels},
	{"maps, fmt and strconv", checkMapsFmt},
	{"garbage collector under allocation churn", checkGC},
	{"freed memory comes back zeroed (madvise)", checkScavengeZero},
	{"time.Sleep accuracy", checkSleep},
	{"timers: time.After, Ticker, AfterFunc", checkTimers},
	{"nil dereference is a recoverable panic", checkNilPanic},
	{"out-of-range index is a recoverable panic", checkIndexPanic},
	{"asynchronous preemption: GC beside a tight loop", checkPreemption},
	{"many OS threads (LockOSThread)", checkThreads},
	{"engine kernels: NEON MatVec/MatMul on the worker pool, all cores", checkKernels},
	{"kernel buffers: allocate, use, free", checkBuffers},
	{"DMA memory and address translation", checkDMA},
	{"getrandom", checkRandom},
	{"device interrupts through the kernel (sys.WaitIRQ)", checkWaitIRQ},
	{"UART input: a typed line and a 10 KB line", checkUARTInput},
}

func main() {
	info, err := sys.Info()
	if err != nil {
		fmt.Println("sys.Info:", err)
	}
	fmt.Printf("selftest: %s, %d cores, GOMAXPROCS %d, %s\n", sys.BoardName(&info), info.Cores, runtime.GOMAXPROCS(0), runtime.Version())
	passed, failed := 0, 0
	for _, c := range checks {
		start := time.Now()
		detail, err := run(c.fn)
		ms := time.Since(start).Milliseconds()
		if err != nil {
			failed++
			fmt.Printf("FAIL %s: %v (%d ms)\n", c.name, err, ms)
			continue
		}
		passed++
		if detail != "" {
			detail = ": " + detail
		}
		fmt.Printf("ok   %s%s (%d ms)\n", c.name, detail, ms)
	}
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	os.Stdout.Sync()
	time.Sleep(100 * time.Millisecond) // let the UART drain
	if failed > 0 {
		os.Exit(1)
	}
}

// run calls fn, turning a panic into a failure and a hang into one after a minute.
func run(fn func() (string, error)) (detail string, err error) {
	type result struct {
		detail string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- result{"", fmt.Errorf("panic: %v", r)}
			}
		}()
		d, e := fn()
		done <- result{d, e}
	}()
	select {
	case r := <-done:
		return r.detail, r.err
	case <-time.After(60 * time.Second):
		return "", fmt.Errorf("no result after 60 s")
	}
}

func checkUARTInput() (string, error) {
	fmt.Println("selftest: waiting for input")
	r := bufio.NewReaderSize(os.Stdin, 64<<10)
	deadline := time.Now().Add(30 * time.Second)
	var token string
	for token == "" && time.Now().Before(deadline) {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("reading stdin: %v", err)
		}
		if t, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "selftest-input "); ok {
			token = t
		}
	}
	if token == "" {
		return "", fmt.Errorf("no selftest-input line")
	}
	fmt.Println("selftest: got token", token, "; send the long line")
	long, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	long = strings.TrimRight(long, "\r\n")
	if len(long) != 10240 || strings.Trim(long, "0123456789") != "" {
		return "", fmt.Errorf("long line: %d bytes, want 10240 digits", len(long))
	}
	for i := range long {
		if long[i] != byte('0'+i%10) {
			return "", fmt.Errorf("long line corrupted at byte %d", i)
		}
	}
	return "token " + token + ", 10240-byte line intact", nil
}

func must(cond bool, format string, args ...any) error {
	if cond {
		return nil
	}
	return fmt.Errorf(format, args...)
}

var _ = debug.FreeOSMemory
