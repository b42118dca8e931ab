//go:build !virt

package board

// Raspberry Pi 4 (BCM2711) in low-peripheral mode; QEMU raspi4b models the same map.
// Addresses and interrupts: Linux bcm2711.dtsi and bcm283x.dtsi (bus 0x7E00_0000+x
// is ARM 0xFE00_0000+x by the soc ranges; INTID = 32 + the GIC_SPI number). QEMU's
// differences: hw/arm/bcm2838_peripherals.c and hw/gpio/bcm2838_gpio.c.
const (
	Name = "Raspberry Pi 4 (BCM2711)"
	Virt = false

	LoadAddr = 0x80000 // where the firmware loads kernel8.img (config.txt kernel_address)

	UART0    = 0xFE201000
	UARTIRQ  = 153 // SPI 121
	GPIO     = 0xFE200000
	GICD     = 0xFF841000
	GICC     = 0xFF842000
	Mailbox  = 0xFE00B880
	PM       = 0xFE100000 // power management: watchdog, reset
	RNG200   = 0xFE104000
	EMMC2    = 0xFE340000 // SD slot on a real Pi 4
	SDHCIAlt = 0xFE300000 // where QEMU raspi4b attaches -drive if=sd
	EMMC2IRQ = 158
	PCIeRC   = 0xFD500000 // PCIe root complex registers

	// PCIeWindowCPU is the CPU address of the PCIe outbound window (bcm2711.dtsi:
	// the scb ranges map 1 GiB at 0x6_0000_0000).
	PCIeWindowCPU  = 0x6_0000_0000
	PCIeWindowSize = 1 << 30

	TimerIRQ = 30 // EL1 physical timer PPI

	// DeviceBase..DeviceEnd is the peripheral window (mapped Device-nGnRE).
	DeviceBase = 0xFC000000
	DeviceEnd  = 0x1_0000_0000

	// UARTClockDefault is the PL011 reference clock when the mailbox cannot say.
	UARTClockDefault = 48_000_000

	BootGB0 = bootNormalX // RAM with the image at 0x80000
	BootGB1 = 0
	BootGB2 = 0
	BootGB3 = bootDevice // peripherals at 0xFC000000..
)
