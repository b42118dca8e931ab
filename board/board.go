// Package board says where things are on the machine the firmware is built for.
// The Raspberry Pi 4 (and QEMU's raspi4b model of it) is the default build; the
// `virt` build tag selects QEMU's virt machine (Cortex-A72, GICv2, PL011, PCIe ECAM),
// which the USB tests use because QEMU's raspi4b has no PCIe.
//
// Only addresses and wiring live here; drivers live in driver/, the kernel's
// board-specific start-up in metal/kernel (platform_*.go).
package board

// Boot-time 1 GiB identity-map blocks (descriptor attribute bits, or 0 for none):
// just enough for the kernel's Go code to run until it builds the real tables.
const (
	bootNormal  = 1<<0 | 1<<2 | 3<<8 | 1<<10 | 1<<53 | 1<<54 // block, MAIR 1 (normal WB), inner shareable, AF, XN
	bootNormalX = 1<<0 | 1<<2 | 3<<8 | 1<<10 | 1<<54         // the same, executable (holds the image)
	bootDevice  = 1<<0 | 0<<2 | 1<<10 | 1<<53 | 1<<54        // block, MAIR 0 (device nGnRE), AF, XN
)

// Region is a physical address range.
type Region struct{ Base, Size uint64 }
