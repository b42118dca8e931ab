package bcm2711

import "github.com/inferpi/inferpi/driver/reg"

// GPIO registers (BCM2711 ARM Peripherals, §5.2 "Register View"; Linux
// drivers/pinctrl/bcm/pinctrl-bcm2835.c: GPFSEL0, GP_GPIO_PUP_PDN_CNTRL_REG0).
const (
	gpfsel0             = 0x00 // GPFSEL0..5: 10 pins a register, 3 bits a pin
	gpioPupPdnCntrlReg0 = 0xE4 // GPIO_PUP_PDN_CNTRL_REG0..3: 16 pins a register, 2 bits a pin

	// Pins is the number of GPIO pins (GPIO 0..57).
	Pins = 58
)

// Function is a pin's function select (§5.2 GPFSELn: FSELm; pinctrl-bcm2835.c
// enum bcm2835_fsel).
type Function uint32

const (
	Input  Function = 0b000
	Output Function = 0b001
	Alt0   Function = 0b100
	Alt1   Function = 0b101
	Alt2   Function = 0b110
	Alt3   Function = 0b111
	Alt4   Function = 0b011
	Alt5   Function = 0b010
)

// Pull is a pin's resistor (§5.2 GPIO_PUP_PDN_CNTRL_REGn; pinctrl-bcm2835.c
// BCM2711_PULL_NONE, _UP, _DOWN).
type Pull uint32

const (
	PullNone Pull = 0b00
	PullUp   Pull = 0b01
	PullDown Pull = 0b10
)

// PinControl sets the GPIO pins' functions and pulls through the GPIO
// block's registers (on the Pi: reg.At(GPIO)).
type PinControl struct{ regs reg.Bank }

// NewPinControl drives the GPIO block whose registers are regs.
func NewPinControl(regs reg.Bank) PinControl { return PinControl{regs} }

// SetFunction selects pin's function; a pin out of range is ignored.
func (p PinControl) SetFunction(pin int, f Function) {
	if pin < 0 || pin >= Pins {
		return
	}
	off := uintptr(gpfsel0 + 4*(pin/10))
	shift := 3 * uint(pin%10)
	p.regs.Write32(off, p.regs.Read32(off)&^(7<<shift)|uint32(f)<<shift)
}

// SetPull selects pin's resistor; a pin out of range is ignored.
func (p PinControl) SetPull(pin int, pull Pull) {
	if pin < 0 || pin >= Pins {
		return
	}
	off := uintptr(gpioPupPdnCntrlReg0 + 4*(pin/16))
	shift := 2 * uint(pin%16)
	p.regs.Write32(off, p.regs.Read32(off)&^(3<<shift)|uint32(pull)<<shift)
}
