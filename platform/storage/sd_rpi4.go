//go:build linux && arm64 && !virt

package storage

import (
	"io"
	"time"

	"github.com/inferpi/inferpi/board"
	"github.com/inferpi/inferpi/driver/reg"
	"github.com/inferpi/inferpi/platform/bootlog"
	"github.com/inferpi/inferpi/platform/mailbox"
	"github.com/inferpi/inferpi/soc/bcm2711"
	"github.com/inferpi/inferpi/storage/block"
)

// Controllers are the Pi 4's SD controllers in the order OpenSD tries them:
// EMMC2, the SD slot of a real Pi 4, then the Arasan SDHCI to which QEMU
// raspi4b attaches -drive if=sd (QEMU hw/gpio/bcm2838_gpio.c: bcm2838_gpio_reset
// puts the card on the SDHCI's bus; EMMC2's own bus stays empty). On a real Pi
// the first one answers, so the second (wired to the Wi-Fi chip there) is left
// alone.
// Peripherals are identity-mapped as device memory by the kernel.
func Controllers() []SDController {
	return []SDController{
		{Name: "emmc2", Addr: board.EMMC2, Bank: reg.At(board.EMMC2), Clock: bcm2711.ClockEMMC2},
		{Name: "emmc", Addr: board.SDHCIAlt, Bank: reg.At(board.SDHCIAlt), Clock: bcm2711.ClockEMMC},
	}
}

// OpenSD finds and initialises the SD card, logging each step to log (the
// UART) in the kernel's boot-log format. Without a card the error wraps
// sdhci.ErrNoCard and says what each controller reported.
func OpenSD(log io.Writer) (block.Device, error) {
	l := bootlog.New(log, "sd")
	var clocks Clocks
	if mb, err := mailbox.Firmware(); err != nil {
		l.Printf("%v; base clocks come from the capabilities registers", err)
	} else {
		clocks = mb
		// Switch the card's supply on through the firmware before talking to
		// it, as Circle's EMMC driver does (addon/SDCard emmc.cpp PowerOn). A
		// card the boot firmware left on stays on.
		if _, err := mb.SetPowerState(bcm2711.DeviceSDCard, true); err != nil {
			l.Printf("card power: %v (continuing)", err)
		} else {
			l.Printf("card power: on (firmware)")
		}
		signalAt33V(l, mb)
	}
	h, err := ProbeSD(l, clocks, Controllers()...)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// signalAt33V sets the SD card's signalling to 3.3 V before the card is
// initialised: the Pi 4 switches it with pin 4 of the firmware's GPIO expander
// (Linux bcm2711-rpi-4-b.dts, sd_io_1v8_reg: high for 1.8 V, low for 3.3 V,
// 5 ms to settle), and a boot that left a UHS card at 1.8 V would otherwise
// keep it there. Circle does the same first thing (emmc.cpp Initialize).
func signalAt33V(l *bootlog.Logger, mb *mailbox.Client) {
	if err := mb.SetExpanderGPIO(4, false); err != nil {
		l.Printf("signalling at 3.3 V: %v (continuing)", err)
		return
	}
	time.Sleep(5 * time.Millisecond)
	l.Printf("signalling at 3.3 V (firmware expander GPIO 4 low)")
}
