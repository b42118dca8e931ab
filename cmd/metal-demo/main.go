//go:build linux && arm64

// Command metal-demo is a small interactive firmware that shows the bare-metal
// platform at work: it echoes what you type (with the serial line editor), shows
// the cores running goroutines at once, the memory map the kernel found, and the
// clocks. `make qemu-console` runs it in QEMU with your terminal on the UART.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/inferpi/inferpi/console/serial"
	_ "github.com/inferpi/inferpi/metal/kernel"
	"github.com/inferpi/inferpi/metal/sys"
)

var start = time.Now()

func main() {
	ed := serial.New(os.Stdin, os.Stdout)
	fmt.Println("\nInferPi platform demo: Go on bare metal. Type 'help'.")
	info()
	for {
		fmt.Print("metal> ")
		line, err := ed.ReadLine()
		switch {
		case errors.Is(err, io.EOF):
			return
		case errors.Is(err, serial.ErrInterrupted):
			continue
		case errors.Is(err, serial.ErrLineTooLong):
			fmt.Printf("(line cut to %d bytes)\n", len(line))
		}
		cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch cmd {
		case "":
		case "help":
			fmt.Println("commands: info, mem, cores, clock, gc, reboot, crash; anything else is echoed")
		case "info":
			info()
		case "mem":
			memory()
		case "cores":
			cores()
		case "clock":
			clock()
		case "gc":
			var s runtime.MemStats
			t0 := time.Now()
			runtime.GC()
			runtime.ReadMemStats(&s)
			fmt.Printf("GC in %v: heap %d KB in use, %d collections so far\n", time.Since(t0).Round(time.Microsecond), s.HeapAlloc>>10, s.NumGC)
		case "crash":
			fmt.Println("faulting with SIGSEGV blocked: the Go runtime cannot take it, the kernel reports and stops")
			time.Sleep(50 * time.Millisecond)
			crash()
		case "reboot":
			fmt.Println("rebooting")
			time.Sleep(50 * time.Millisecond)
			sys.Reboot()
		default:
			if arg != "" {
				cmd += " " + arg
			}
			fmt.Printf("you typed %q (%d bytes)\n", cmd, len(cmd))
		}
	}
}

func info() {
	in, err := sys.Info()
	if err != nil {
		fmt.Println("sys.Info:", err)
		return
	}
	emu := ""
	if in.IsQEMU != 0 {
		emu = " (emulated by QEMU)"
	}
	fmt.Printf("board: %s%s, %d cores, GOMAXPROCS %d, %s\n", sys.BoardName(&in), emu, in.Cores, runtime.GOMAXPROCS(0), runtime.Version())
	clock()
	memory()
}

func clock() {
	in, _ := sys.Info()
	fmt.Printf("clocks: ARM %d MHz (max %d MHz), timer %.3f MHz; up %v\n", in.ARMClockHz/1e6, in.ARMMaxHz/1e6, float64(in.CounterHz)/1e6, time.Since(start).Round(time.Millisecond))
}

func memory() {
	in, _ := sys.Info()
	st, _ := sys.MemStats()
	fmt.Println("memory map:")
	for i := 0; i < int(in.NRAM); i++ {
		r := in.RAM[i]
		fmt.Printf("  RAM        %#011x - %#011x  %5d MiB\n", r.Base, r.Base+r.Size, r.Size>>20)
	}
	if in.VideoCore.Size != 0 {
		fmt.Printf("  VideoCore  %#011x - %#011x  %5d MiB  (never used)\n", in.VideoCore.Base, in.VideoCore.Base+in.VideoCore.Size, in.VideoCore.Size>>20)
	}
	fmt.Printf("  kernel     %#011x - %#011x\n", 0, in.KernelEnd)
	fmt.Printf("  DMA pool   %#011x - %#011x  %5d KiB free\n", in.DMAPool.Base, in.DMAPool.Base+in.DMAPool.Size, st.DMAFreeBytes>>10)
	fmt.Printf("free: %d of %d MiB\n", st.FreeBytes>>20, st.TotalBytes>>20)
}

// cores runs one busy goroutine per core and reports where each ran.
func cores() {
	n := runtime.GOMAXPROCS(0)
	var mu sync.Mutex
	where := map[int][]int{}
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			x := uint64(i)
			for k := 0; k < 8; k++ {
				for j := 0; j < 1_000_000; j++ {
					x = x*6364136223846793005 + 1
				}
				c := sys.CurrentCore()
				mu.Lock()
				where[i] = append(where[i], c)
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	seen := map[int]bool{}
	for i := 0; i < n; i++ {
		fmt.Printf("  goroutine %d ran on cores %v\n", i, where[i])
		for _, c := range where[i] {
			seen[c] = true
		}
	}
	var list []int
	for c := range seen {
		list = append(list, c)
	}
	sort.Ints(list)
	fmt.Printf("%d goroutines used cores %v in %v\n", n, list, time.Since(t0).Round(time.Millisecond))
}

// crash blocks SIGSEGV and then writes through a nil pointer: the fault cannot
// become a Go panic, so the kernel prints its fault report and halts.
//
//go:noinline
func crash() {
	runtime.LockOSThread()       // the mask is per thread: stay on the one it is set on
	set := uint64(1) << (11 - 1) // SIGSEGV
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 0 /* SIG_BLOCK */, uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0)
	var p *[64]uint64
	p[7] = 42
}
