//go:build !virt

package board

import "github.com/inferpi/inferpi/soc/bcm2711"

// Raspberry Pi 4: a BCM2711 in low-peripheral mode (its addresses are the SoC's,
// soc/bcm2711); QEMU raspi4b models the same map.
const (
	Name = "Raspberry Pi 4 (BCM2711)"
	Virt = false

	LoadAddr = 0x80000 // where the firmware loads kernel8.img (config.txt kernel_address)

	UART0    = bcm2711.UART0 // the console: GPIO 14/15
	UARTIRQ  = bcm2711.UART0IRQ
	GICD     = bcm2711.GICD
	GICC     = bcm2711.GICC
	TimerIRQ = bcm2711.TimerIRQ

	EMMC2    = bcm2711.EMMC2 // SD slot on a real Pi 4
	SDHCIAlt = bcm2711.EMMC  // where QEMU raspi4b attaches -drive if=sd

	PCIeRC         = bcm2711.PCIeRC
	PCIeWindowCPU  = bcm2711.PCIeWindowCPU
	PCIeWindowSize = bcm2711.PCIeWindowSize

	// DeviceBase..DeviceEnd is the peripheral window (mapped Device-nGnRE).
	DeviceBase = bcm2711.PeripheralBase
	DeviceEnd  = bcm2711.PeripheralEnd

	// UARTClockDefault is the PL011 reference clock when the mailbox cannot say
	// (config.txt init_uart_clock's default).
	UARTClockDefault = 48_000_000

	BootGB0 = bootNormalX // RAM with the image at 0x80000
	BootGB1 = 0
	BootGB2 = 0
	BootGB3 = bootDevice // peripherals at 0xFC000000..
)
