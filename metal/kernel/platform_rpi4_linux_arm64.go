//go:build !virt

package kernel

import (
	"github.com/inferpi/inferpi/board"
	"github.com/inferpi/inferpi/driver/reg"
	"github.com/inferpi/inferpi/metal/abi"
	"github.com/inferpi/inferpi/metal/arm64"
	"github.com/inferpi/inferpi/soc/bcm2711"
)

// Raspberry Pi 4 and QEMU raspi4b start-up.

var platform struct {
	boardRev         uint32
	fwRev            uint32
	armMem           board.Region
	vcMem            board.Region
	uartClock        uint32
	armClock         uint32 // Hz after raising it
	armMax           uint32
	hasRNG           bool
	watchdogWasArmed bool
	isQEMU           bool
}

var mboxMsg bcm2711.Message

func mboxGet(tag uint32, req0 uint32, n int) ([2]uint32, bool) {
	var resp [2]uint32
	req := [1]uint32{req0}
	ok := mboxMsg.Query(tag, req[:], resp[:n])
	return resp, ok
}

// platformEarly brings up the console: GPIO 14/15 to ALT0 (UART0) with the usual
// pulls, and the PL011 at 115200 8N1 from the clock the firmware reports.
func platformEarly() {
	// QEMU's generic timer runs at 62.5 MHz, the Pi 4's at 54 MHz (the armstub sets
	// CNTFRQ from the crystal): the simplest tell that we are emulated.
	platform.isQEMU = cntfrq != 54_000_000
	// UART0 on GPIO 14 (TXD0) and 15 (RXD0), ALT0, the receive line pulled up
	// (bcm283x.dtsi: uart0_gpio14; BCM2711 ARM Peripherals §5.3, alternative
	// function assignments).
	pins := bcm2711.NewPinControl(reg.At(bcm2711.GPIO))
	pins.SetFunction(14, bcm2711.Alt0)
	pins.SetFunction(15, bcm2711.Alt0)
	pins.SetPull(14, bcm2711.PullNone)
	pins.SetPull(15, bcm2711.PullUp)
	// Bluetooth's UART0 pins (GPIO 30-33, ALT3) become inputs, so they cannot drive
	// UART0's receive line too: no disable-bt overlay needed.
	for pin := 30; pin <= 33; pin++ {
		pins.SetFunction(pin, bcm2711.Input)
	}

	clock := uint32(board.UARTClockDefault)
	if r, ok := mboxGet(bcm2711.TagClockRate, uint32(bcm2711.ClockUART), 2); ok && r[1] != 0 {
		clock = r[1]
	}
	platform.uartClock = clock
	uart().Init(clock, 115200)
}

// platformMemory finds RAM: the mailbox reports the ARM part of the first GiB and
// where the VideoCore's memory is; the board revision says how much RAM exists above
// 1 GiB, which the VideoCore cannot address (raspberrypi/firmware issue #1191; the
// Raspberry Pi documentation's new-style revision codes, bits 22:20).
func platformMemory(out *[8]board.Region) int {
	n := 0
	if r, ok := mboxGet(bcm2711.TagFirmwareRevision, 0, 1); ok {
		platform.fwRev = r[0]
	}
	if r, ok := mboxGet(bcm2711.TagBoardRevision, 0, 1); ok {
		platform.boardRev = r[0]
	}
	if r, ok := mboxGet(bcm2711.TagVCMemory, 0, 2); ok {
		platform.vcMem = board.Region{Base: uint64(r[0]), Size: uint64(r[1])}
	}
	if r, ok := mboxGet(bcm2711.TagARMMemory, 0, 2); ok && r[1] != 0 {
		platform.armMem = board.Region{Base: uint64(r[0]), Size: uint64(r[1])}
	} else {
		platform.armMem = board.Region{Base: 0, Size: 0x3b400000} // 1 GB board, gpu_mem=76
	}
	out[n] = platform.armMem
	n++
	ram := uint64(1) << 30
	if platform.boardRev&(1<<23) != 0 { // new-style revision code: RAM in bits 22:20
		ram = uint64(256<<20) << ((platform.boardRev >> 20) & 7)
	}
	if ram > 1<<30 {
		top := ram
		if top > board.DeviceBase {
			top = board.DeviceBase // the 64 MiB under the peripherals is not RAM
		}
		out[n] = board.Region{Base: 1 << 30, Size: top - 1<<30}
		n++
	}
	if ram > 4<<30 {
		out[n] = board.Region{Base: 4 << 30, Size: ram - 4<<30}
		n++
	}
	return n
}

// platformReserved lists memory the kernel must never hand out.
func platformReserved(out *[8]board.Region) int {
	out[0] = platform.vcMem
	return 1
}

// platformDevices lists the ranges mapped as device memory.
func platformDevices(out *[8]board.Region) int {
	out[0] = board.Region{Base: board.DeviceBase, Size: board.DeviceEnd - board.DeviceBase}
	out[1] = board.Region{Base: board.PCIeWindowCPU, Size: board.PCIeWindowSize}
	return 2
}

// platformLate runs after the MMU tables are final: watchdog, clocks, RNG.
func platformLate() {
	if bcm2711.WatchdogArmed() {
		platform.watchdogWasArmed = true
		bcm2711.WatchdogStop()
	}
	if r, ok := mboxGet(bcm2711.TagMaxClockRate, uint32(bcm2711.ClockARM), 2); ok {
		platform.armMax = r[1]
		var resp [2]uint32
		req := [3]uint32{uint32(bcm2711.ClockARM), r[1], 0}
		mboxMsg.Query(bcm2711.TagSetClockRate, req[:], resp[:])
	}
	if r, ok := mboxGet(bcm2711.TagClockMeasured, uint32(bcm2711.ClockARM), 2); ok && r[1] != 0 {
		platform.armClock = r[1]
	} else if r, ok := mboxGet(bcm2711.TagClockRate, uint32(bcm2711.ClockARM), 2); ok {
		platform.armClock = r[1]
	}
	// QEMU raspi4b maps nothing at the RNG200 and aborts the access: probe it.
	if _, faulted := probeRead32(bcm2711.RNGProbe); !faulted {
		platform.hasRNG = true
		bcm2711.RNGStart()
	}
}

func platformLog() {
	var l kline
	l.stamp()
	l.s("board: revision ").x(uint64(platform.boardRev)).s(", firmware ").x(uint64(platform.fwRev))
	if platform.isQEMU {
		l.s(" (QEMU raspi4b)")
	}
	l.print()
	l = kline{}
	l.stamp()
	l.s("memory: ARM ").x(platform.armMem.Base).s("+").mb(platform.armMem.Size).s(", VideoCore ").x(platform.vcMem.Base).s("+").mb(platform.vcMem.Size).s(" (never used)")
	l.print()
	l = kline{}
	l.stamp()
	l.s("clocks: ARM ").d(uint64(platform.armClock) / 1e6).s(" MHz (max ").d(uint64(platform.armMax) / 1e6).s("), UART ref ").d(uint64(platform.uartClock) / 1e6).s(" MHz, timer ").d(cntfrq / 1000).s(" kHz")
	l.print()
	l = kline{}
	l.stamp()
	if platform.watchdogWasArmed {
		l.s("watchdog: the firmware left it armed; stopped")
	} else {
		l.s("watchdog: off")
	}
	l.print()
	l = kline{}
	l.stamp()
	if platform.hasRNG {
		l.s("rng: RNG200 hardware generator")
	} else {
		l.s("rng: no RNG200 (QEMU): getrandom uses timer-jitter seeded ChaCha, not for secrets")
	}
	l.print()
}

// startSecondaries releases cores 1..3 from the firmware's spin table (core n reads
// 0xd8 + 8n: raspberrypi/tools armstubs/armstub8.S, spin_cpu0..3; Linux
// bcm2711.dtsi cpu-release-addr). Under QEMU's ELF boot they are already in Boot.
// Called while page 0 is still mapped by the boot tables.
func startSecondaries(entry uintptr) {
	for n := uintptr(1); n < maxCores; n++ {
		slot := 0xd8 + 8*n
		*u64At(slot) = uint64(entry)
		arm64.DCCleanInvalRange(slot, 8)
	}
	arm64.DSB()
	arm64.SEV()
}

func randomWord() (uint32, bool) {
	if !platform.hasRNG {
		return 0, false
	}
	for i := 0; i < 1000; i++ {
		if v, ok := bcm2711.RNGRead(); ok {
			return v, true
		}
	}
	return 0, false
}

// platformExit resets the board (QEMU run with -no-reboot exits).
func platformExit(code int) {
	bcm2711.Reset()
	arm64.Halt()
}

func platformDTB(dtb uintptr) {}

func fillPlatformInfo(info *abi.Info) {
	info.ARMClockHz = platform.armClock
	info.ARMMaxHz = platform.armMax
	info.UARTClockHz = platform.uartClock
	info.BoardRevision = platform.boardRev
	info.FirmwareRevision = platform.fwRev
	if platform.hasRNG {
		info.HasRNG = 1
	}
	if platform.watchdogWasArmed {
		info.WatchdogArmed = 1
	}
	info.VideoCore = abi.Region{Base: platform.vcMem.Base, Size: platform.vcMem.Size}
}

// watchdogSet arms the PM watchdog for secs seconds, or stops it for 0.
func watchdogSet(secs uint64) bool {
	if secs == 0 {
		bcm2711.WatchdogStop()
	} else {
		bcm2711.WatchdogArm(uint32(secs))
	}
	return true
}
