package pl011

import "testing"

func TestDivisors(t *testing.T) {
	// 48 MHz / 115200: 26.0417 -> IBRD 26, FBRD round(0.0417*64) = 3 (the PL011
	// TRM's UARTFBRD rule; 48 MHz is config.txt's default init_uart_clock).
	if i, f := Divisors(48_000_000, 115200); i != 26 || f != 3 {
		t.Errorf("48 MHz: %d %d", i, f)
	}
	// 3 MHz (QEMU's mailbox value): 1.6276 -> 1, 40.
	if i, f := Divisors(3_000_000, 115200); i != 1 || f != 40 {
		t.Errorf("3 MHz: %d %d", i, f)
	}
}
