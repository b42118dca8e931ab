//go:build virt

package kernel

import (
	"github.com/inferpi/inferpi/board"
	"github.com/inferpi/inferpi/metal/abi"
	"github.com/inferpi/inferpi/metal/arm64"
	"github.com/inferpi/inferpi/metal/fdt"
)

// QEMU virt start-up: memory from the device tree, secondaries through PSCI.

var platform struct {
	dtb     uintptr
	dtbSize uint64
	isQEMU  bool
}

const (
	psciCPUOn     = 0xC4000003
	psciSystemOff = 0x84000008
)

func platformDTB(dtb uintptr) {
	// With an ELF image QEMU leaves the tree at the start of RAM (x0 is 0).
	if dtb == 0 {
		dtb = board.RAMBase
	}
	if s := fdt.TotalSize(bytesAt(dtb, 64)); s != 0 {
		platform.dtb, platform.dtbSize = dtb, uint64(s)
	}
}

func platformEarly() {
	platform.isQEMU = true
	uart().Enable()
}

func platformMemory(out *[8]board.Region) int {
	if platform.dtb == 0 {
		out[0] = board.Region{Base: board.RAMBase, Size: 128 << 20} // QEMU's default -m
		return 1
	}
	var r [8]fdt.Range
	n, _ := fdt.Memory(bytesAt(platform.dtb, uintptr(platform.dtbSize)), r[:])
	for i := 0; i < n; i++ {
		out[i] = board.Region{Base: r[i].Base, Size: r[i].Size}
	}
	return n
}

func platformReserved(out *[8]board.Region) int {
	if platform.dtb == 0 {
		return 0
	}
	out[0] = board.Region{Base: uint64(platform.dtb), Size: platform.dtbSize}
	return 1
}

func platformDevices(out *[8]board.Region) int {
	out[0] = board.Region{Base: board.DeviceBase, Size: board.DeviceEnd - board.DeviceBase}
	out[1] = board.Region{Base: board.PCIeECAM, Size: board.PCIeECAMSize}
	return 2
}

func platformLate() {}

func platformLog() {
	var l kline
	l.stamp()
	l.s("board: QEMU virt, device tree at ").x(uint64(platform.dtb)).print()
}

func startSecondaries(entry uintptr) {
	for n := uint64(1); n < maxCores; n++ {
		psciCall(psciCPUOn, n, uint64(entry), n)
	}
}

func randomWord() (uint32, bool) { return 0, false }

func platformExit(code int) {
	psciCall(psciSystemOff, 0, 0, 0)
	arm64.Halt()
}

func fillPlatformInfo(info *abi.Info) {}

// watchdogSet: QEMU virt has no watchdog here.
func watchdogSet(secs uint64) bool { return secs == 0 }
