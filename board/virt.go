//go:build virt

package board

// QEMU `-M virt`: hw/arm/virt.c base_memmap, extended_memmap (with under 256 GiB
// of RAM its regions start at 256 GiB, each aligned to its size: ECAM at
// 0x40_1000_0000) and a15irqmap.
const (
	Name = "QEMU virt"
	Virt = true

	// LoadAddr: QEMU puts the device tree at the start of RAM (0x40000000) only if
	// it fits below the image (hw/arm/boot.c: arm_setup_direct_kernel_boot), so
	// the image starts 2 MiB in.
	LoadAddr = 0x40200000

	UART0    = 0x09000000
	UARTIRQ  = 33 // SPI 1
	GICD     = 0x08000000
	GICC     = 0x08010000
	TimerIRQ = 30

	// PCIe: ECAM for buses 0..255, and the 32-bit MMIO window BARs are assigned from.
	PCIeECAM       = 0x40_1000_0000
	PCIeECAMSize   = 256 << 20
	PCIeMMIO32     = 0x10000000
	PCIeMMIO32Size = 0x2eff0000
	PCIeIRQBase    = 35 // INTA..INTD = SPI 3..6

	DeviceBase = 0x08000000
	DeviceEnd  = 0x40000000

	UARTClockDefault = 24_000_000

	RAMBase = 0x40000000

	BootGB0 = bootDevice
	BootGB1 = bootNormalX
	BootGB2 = 0
	BootGB3 = 0
)
