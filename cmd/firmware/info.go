//go:build linux && arm64

package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/inferpi/inferpi/firmware/sysinfo"
	"github.com/inferpi/inferpi/metal/sys"
	"github.com/inferpi/inferpi/platform/mailbox"
	"github.com/inferpi/inferpi/soc/bcm2711"
)

// describeMachine is the menu's /info: what the kernel found at boot (cores,
// memory map, clocks) and, where there is a VideoCore, what it says now.
func describeMachine(w io.Writer) {
	info, err := sys.Info()
	if err != nil {
		fmt.Fprintf(w, "machine information unavailable: %v\n", err)
		return
	}
	mem, err := sys.MemStats()
	if err != nil {
		fmt.Fprintf(w, "memory statistics unavailable: %v\n", err)
	}
	sysinfo.Describe(w, &info, &mem)
	fmt.Fprintf(w, "Go:         %s, GOMAXPROCS %d, %d goroutines\n", runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumGoroutine())
	mb, err := mailbox.Firmware()
	if err != nil {
		return // QEMU virt: no VideoCore
	}
	var facts []string
	if hz, err := mb.MeasuredClockRate(bcm2711.ClockARM); err == nil && hz != 0 {
		facts = append(facts, fmt.Sprintf("ARM measured at %d MHz", hz/1_000_000))
	}
	if mc, err := mb.Temperature(); err == nil {
		facts = append(facts, fmt.Sprintf("SoC at %.1f °C", float64(mc)/1000))
	}
	if th, err := mb.Throttled(false); err == nil {
		facts = append(facts, "throttling: "+th.String())
	}
	if len(facts) > 0 {
		fmt.Fprintf(w, "VideoCore:  %s\n", strings.Join(facts, ", "))
	}
}
