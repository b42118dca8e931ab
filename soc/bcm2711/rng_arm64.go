package bcm2711

import "github.com/inferpi/inferpi/driver/reg"

// RNG200 (Linux drivers/char/hw_random/iproc-rng200.c register map): a FIFO of
// 32-bit words from a ring-oscillator source.
const (
	rngCtrl          = 0x00
	rngSoftReset     = 0x04
	rbgSoftReset     = 0x08
	rngTotalBitCount = 0x0c
	rngBitThreshold  = 0x10
	rngIntStatus     = 0x18
	rngFIFOData      = 0x20
	rngFIFOCount     = 0x24

	rngCtrlEnable = 1
	rngFIFOMask   = 0xff
)

// RNGProbe is the address of the RNG200's FIFO count register: a read of it
// that does not fault says the block exists (QEMU raspi4b maps nothing there).
const RNGProbe = RNG200 + rngFIFOCount

func rng() reg.MMIO { return reg.At(RNG200) }

// RNGStart enables the generator (after a probe said it exists).
func RNGStart() {
	if rng().Read32(rngCtrl)&rngCtrlEnable != 0 {
		return
	}
	rng().Write32(rngCtrl, 0)
	rng().Write32(rngSoftReset, 1)
	rng().Write32(rbgSoftReset, 1)
	rng().Write32(rngSoftReset, 0)
	rng().Write32(rbgSoftReset, 0)
	rng().Write32(rngIntStatus, 0xffffffff)
	rng().Write32(rngBitThreshold, 0x40000) // warm-up bits before the FIFO fills
	rng().Write32(rngCtrl, rngCtrlEnable)
}

// RNGRead returns one random word if the FIFO has one.
func RNGRead() (uint32, bool) {
	if rng().Read32(rngFIFOCount)&rngFIFOMask == 0 {
		return 0, false
	}
	return rng().Read32(rngFIFOData), true
}
