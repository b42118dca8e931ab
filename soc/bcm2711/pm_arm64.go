package bcm2711

import "github.com/inferpi/inferpi/driver/reg"

// PM watchdog (Linux drivers/watchdog/bcm2835_wdt.c constants): every write
// carries the password; WDOG counts 65536 ticks per second in 20 bits (~16 s max).
const (
	pmRSTC        = 0x1c
	pmRSTS        = 0x20
	pmWDOG        = 0x24
	pmPassword    = 0x5a000000
	rstcWRCFGMask = 0x30
	rstcFullReset = 0x20
	rstcReset     = 0x102
	wdogTicksPerS = 65536
)

func pm() reg.MMIO { return reg.At(PM) }

// WatchdogArmed reports whether the watchdog is set to reset the board (newer
// firmware can leave it armed: a bare-metal kernel then reboots after ~16 s).
func WatchdogArmed() bool { return pm().Read32(pmRSTC)&rstcWRCFGMask == rstcFullReset }

// WatchdogStop disarms the watchdog.
func WatchdogStop() { pm().Write32(pmRSTC, pmPassword|rstcReset) }

// WatchdogArm (re)starts the watchdog: the board resets unless it is armed
// again within seconds (at most 15).
func WatchdogArm(seconds uint32) {
	if seconds > 15 {
		seconds = 15
	}
	pm().Write32(pmWDOG, pmPassword|(seconds*wdogTicksPerS)&0xFFFFF)
	v := pm().Read32(pmRSTC)
	pm().Write32(pmRSTC, pmPassword|v&^rstcWRCFGMask|rstcFullReset)
}

// Reset resets the board now (QEMU started with -no-reboot exits instead).
func Reset() {
	pm().Write32(pmWDOG, pmPassword|10)
	v := pm().Read32(pmRSTC)
	pm().Write32(pmRSTC, pmPassword|v&^rstcWRCFGMask|rstcFullReset)
}
