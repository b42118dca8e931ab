// Package bcm2711 is the Raspberry Pi 4's SoC: where its peripherals are, and
// the ones the kernel needs before any driver runs (the VideoCore mailbox
// property interface, the PM watchdog, the RNG200, the GPIO pin functions).
// Everything here is safe in kernel context (no allocation, no package
// initialiser, bounded polling), except the String methods, which name ids
// in the Go side's messages.
package bcm2711

// Peripheral addresses in low-peripheral mode, ARM physical (BCM2711 ARM
// Peripherals, §1.2 "Address map": the main peripherals' bus 0x7E00_0000+x is
// ARM 0xFE00_0000+x; Linux bcm2711.dtsi and bcm283x.dtsi give each block's bus
// address and the soc ranges that translate it). QEMU raspi4b models the same
// map (hw/arm/bcm2838_peripherals.c).
const (
	// PeripheralBase..PeripheralEnd is the peripheral window (the main
	// peripherals, the ARM local block and the GIC), mapped as device memory.
	PeripheralBase = 0xFC000000
	PeripheralEnd  = 0x1_0000_0000

	Mailbox = 0xFE00B880 // VideoCore mailbox 0 (bcm283x.dtsi: mailbox@7e00b880)
	PM      = 0xFE100000 // power management: watchdog, reset (bcm2711.dtsi: watchdog@7e100000)
	RNG200  = 0xFE104000 // bcm2711.dtsi: rng@7e104000
	GPIO    = 0xFE200000 // §5.2: GPIO at bus 0x7E20_0000 (bcm2711.dtsi: gpio@7e200000)
	UART0   = 0xFE201000 // PL011 (§11.5: UART0 at bus 0x7E20_1000)
	EMMC    = 0xFE300000 // Arasan SDHCI (bcm283x.dtsi: mmc@7e300000): QEMU raspi4b's -drive if=sd
	EMMC2   = 0xFE340000 // the Pi 4's SD slot (bcm2711.dtsi: mmc@7e340000)
	PCIeRC  = 0xFD500000 // PCIe root complex registers (bcm2711.dtsi: pcie@7d500000, scb ranges)

	// The GIC-400's distributor and CPU interface (bcm2711.dtsi: gicv2 reg
	// 0x40041000 and 0x40042000, which the soc ranges put at 0xFF841000).
	GICD = 0xFF841000
	GICC = 0xFF842000

	// PCIeWindowCPU is the CPU address of the PCIe outbound window (bcm2711.dtsi:
	// the scb ranges map 1 GiB at 0x6_0000_0000).
	PCIeWindowCPU  = 0x6_0000_0000
	PCIeWindowSize = 1 << 30
)

// Interrupt ids at the GIC (INTID = 32 + the GIC_SPI number in bcm2711.dtsi).
const (
	MailboxIRQ = 65  // SPI 33 (mailbox)
	UART0IRQ   = 153 // SPI 121 (uart0)
	TimerIRQ   = 30  // the EL1 physical timer's PPI (bcm2711.dtsi: timer, PPI 14)
)
