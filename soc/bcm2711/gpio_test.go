package bcm2711

import "testing"

// regs is a register bank in a map, every register reset to all ones so that
// a field written shows and the bits around it must survive.
type regs map[uintptr]uint32

func (r regs) Read32(off uintptr) uint32 {
	if v, ok := r[off]; ok {
		return v
	}
	return 0xFFFFFFFF
}

func (r regs) Write32(off uintptr, v uint32) { r[off] = v }

// The console's pins as the datasheet places them: GPIO 14 and 15 (TXD0,
// RXD0) ALT0 in GPFSEL1 bits 14:12 and 17:15; GPIO 14 without a resistor and
// GPIO 15 pulled up in GPIO_PUP_PDN_CNTRL_REG0 bits 29:28 and 31:30; GPIO
// 30-33 inputs in GPFSEL3 bits 11:0. Pins out of range touch nothing.
func TestPinControl(t *testing.T) {
	r := regs{}
	p := NewPinControl(r)
	p.SetFunction(14, Alt0)
	p.SetFunction(15, Alt0)
	p.SetPull(14, PullNone)
	p.SetPull(15, PullUp)
	for pin := 30; pin <= 33; pin++ {
		p.SetFunction(pin, Input)
	}
	p.SetFunction(Pins, Output)
	p.SetPull(-1, PullDown)
	want := regs{
		0x04: 0xFFFFFFFF&^(7<<12|7<<15) | 4<<12 | 4<<15,
		0xE4: 0xFFFFFFFF&^(3<<28|3<<30) | 1<<30,
		0x0C: 0xFFFFFFFF &^ 0xFFF,
	}
	if len(r) != len(want) {
		t.Errorf("registers written: %#x, want %#x", r, want)
	}
	for off, v := range want {
		if r[off] != v {
			t.Errorf("register %#x = %#08x, want %#08x", off, r[off], v)
		}
	}
	p.SetFunction(57, Alt5)
	p.SetPull(57, PullDown)
	if r[0x14]>>21&7 != 0b010 || r[0xF0]>>18&3 != 0b10 {
		t.Errorf("GPIO 57: GPFSEL5 %#08x, GPIO_PUP_PDN_CNTRL_REG3 %#08x", r[0x14], r[0xF0])
	}
}
