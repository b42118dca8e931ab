// Package sysinfo formats what the kernel found at boot (metal/abi.Info) and its
// memory accounting (metal/abi.MemStats) for the firmware's banner and its /info
// command: board, cores, clocks, the RAM map with the VideoCore's region that the
// kernel never touches, and the memory free for models. Portable, so it is tested
// on the host with recorded values.
package sysinfo

import (
	"fmt"
	"io"

	"github.com/inferpi/inferpi/metal/abi"
)

// Board returns the board name the kernel recorded.
func Board(info *abi.Info) string {
	n := 0
	for n < len(info.Board) && info.Board[n] != 0 {
		n++
	}
	return string(info.Board[:n])
}

// Summary is the banner's one line: "Raspberry Pi 4 (BCM2711), 4 cores at 1500 MHz, 1.9 GB RAM".
func Summary(info *abi.Info, mem *abi.MemStats) string {
	s := fmt.Sprintf("%s, %d cores", Board(info), info.Cores)
	if info.ARMClockHz != 0 {
		s += fmt.Sprintf(" at %d MHz", info.ARMClockHz/1_000_000)
	}
	if info.IsQEMU != 0 {
		s += " (QEMU)"
	}
	return s + ", " + size(mem.TotalBytes) + " RAM"
}

// Describe writes the /info report.
func Describe(w io.Writer, info *abi.Info, mem *abi.MemStats) {
	fmt.Fprintf(w, "Board:      %s", Board(info))
	if info.IsQEMU != 0 {
		fmt.Fprint(w, " (emulated by QEMU)")
	}
	fmt.Fprintln(w)
	if info.BoardRevision != 0 || info.FirmwareRevision != 0 {
		fmt.Fprintf(w, "            board revision %#x, VideoCore firmware %#x\n", info.BoardRevision, info.FirmwareRevision)
	}
	fmt.Fprintf(w, "Cores:      %d\n", info.Cores)
	fmt.Fprint(w, "Clocks:     ARM ")
	switch {
	case info.ARMClockHz == 0:
		fmt.Fprint(w, "unknown")
	case info.ARMMaxHz != 0 && info.ARMMaxHz != info.ARMClockHz:
		fmt.Fprintf(w, "%d MHz (max %d MHz)", info.ARMClockHz/1_000_000, info.ARMMaxHz/1_000_000)
	default:
		fmt.Fprintf(w, "%d MHz", info.ARMClockHz/1_000_000)
	}
	fmt.Fprintf(w, ", system timer %s", hz(info.CounterHz))
	if info.UARTClockHz != 0 {
		fmt.Fprintf(w, ", UART %s", hz(uint64(info.UARTClockHz)))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Memory map:")
	n := min(int(info.NRAM), len(info.RAM))
	for _, r := range info.RAM[:n] {
		fmt.Fprintf(w, "  %s  RAM\n", region(r))
	}
	if info.VideoCore.Size != 0 {
		fmt.Fprintf(w, "  %s  VideoCore (GPU firmware): never used\n", region(info.VideoCore))
	}
	if info.DMAPool.Size != 0 {
		fmt.Fprintf(w, "  %s  DMA pool (device buffers)\n", region(info.DMAPool))
	}
	if info.KernelEnd != 0 {
		fmt.Fprintf(w, "  kernel image and boot tables end at %#x\n", info.KernelEnd)
	}
	fmt.Fprintf(w, "Memory:     %s managed, %s free, %s in model buffers, %s free for DMA\n",
		size(mem.TotalBytes), size(mem.FreeBytes), size(mem.BufferBytes), size(mem.DMAFreeBytes))
	rng := "no"
	if info.HasRNG != 0 {
		rng = "yes"
	}
	wd := "not armed"
	if info.WatchdogArmed != 0 {
		wd = "left armed by the boot firmware; stopped at boot"
	}
	fmt.Fprintf(w, "Hardware RNG: %s. Watchdog: %s.\n", rng, wd)
}

func region(r abi.Region) string {
	return fmt.Sprintf("%#09x-%#09x %8s", r.Base, r.Base+r.Size, size(r.Size))
}

func size(n uint64) string {
	switch {
	case n >= 10<<30:
		return fmt.Sprintf("%.0f GB", float64(n)/(1<<30))
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d KB", n>>10)
}

func hz(v uint64) string {
	if v%1_000_000 == 0 {
		return fmt.Sprintf("%d MHz", v/1_000_000)
	}
	return fmt.Sprintf("%.1f MHz", float64(v)/1e6)
}
