package sysinfo

import (
	"strings"
	"testing"

	"github.com/inferpi/inferpi/metal/abi"
)

// A 2 GB Raspberry Pi 4 as QEMU raspi4b presents it: the first GiB up to the
// VideoCore's 64 MB, then the second GiB.
func pi4() (abi.Info, abi.MemStats) {
	info := abi.Info{
		Cores: 4, IsQEMU: 1, CounterHz: 54_000_000, ARMClockHz: 1_500_000_000, ARMMaxHz: 1_500_000_000,
		UARTClockHz: 48_000_000, BoardRevision: 0xb03115, FirmwareRevision: 0x548e1a34, HasRNG: 1, WatchdogArmed: 1,
		NRAM: 2, VideoCore: abi.Region{Base: 0x3c000000, Size: 64 << 20},
		DMAPool: abi.Region{Base: 0x3a000000, Size: 32 << 20}, KernelEnd: 0x2c0000,
	}
	info.RAM[0] = abi.Region{Base: 0, Size: 0x3c000000}
	info.RAM[1] = abi.Region{Base: 0x40000000, Size: 1 << 30}
	copy(info.Board[:], "Raspberry Pi 4 (BCM2711)")
	mem := abi.MemStats{TotalBytes: 1984 << 20, FreeBytes: 1900 << 20, DMAFreeBytes: 31 << 20, BufferBytes: 6 << 20}
	return info, mem
}

func TestSummaryAndDescribe(t *testing.T) {
	info, mem := pi4()
	if got, want := Summary(&info, &mem), "Raspberry Pi 4 (BCM2711), 4 cores at 1500 MHz (QEMU), 1.9 GB RAM"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	var b strings.Builder
	Describe(&b, &info, &mem)
	want := `Board:      Raspberry Pi 4 (BCM2711) (emulated by QEMU)
            board revision 0xb03115, VideoCore firmware 0x548e1a34
Cores:      4
Clocks:     ARM 1500 MHz, system timer 54 MHz, UART 48 MHz
Memory map:
  0x000000000-0x03c000000   960 MB  RAM
  0x040000000-0x080000000   1.0 GB  RAM
  0x03c000000-0x040000000    64 MB  VideoCore (GPU firmware): never used
  0x03a000000-0x03c000000    32 MB  DMA pool (device buffers)
  kernel image and boot tables end at 0x2c0000
Memory:     1.9 GB managed, 1.9 GB free, 6 MB in model buffers, 31 MB free for DMA
Hardware RNG: yes. Watchdog: left armed by the boot firmware; stopped at boot.
`
	if b.String() != want {
		t.Errorf("Describe:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestSparseInfo(t *testing.T) {
	// QEMU virt: no mailbox, so no clock; a bogus RAM count must not overrun.
	info := abi.Info{Cores: 4, CounterHz: 62_500_000, NRAM: 99}
	copy(info.Board[:], "QEMU virt")
	var b strings.Builder
	Describe(&b, &info, &abi.MemStats{TotalBytes: 2 << 30})
	for _, want := range []string{"Clocks:     ARM unknown, system timer 62.5 MHz\n", "Hardware RNG: no. Watchdog: not armed.\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in:\n%s", want, b.String())
		}
	}
	if strings.Count(b.String(), "RAM\n") != 8 {
		t.Errorf("want the 8 slots listed:\n%s", b.String())
	}
	if got := Summary(&info, &abi.MemStats{TotalBytes: 2 << 30}); got != "QEMU virt, 4 cores, 2.0 GB RAM" {
		t.Errorf("Summary = %q", got)
	}
}
