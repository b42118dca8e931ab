// Package pl011 drives the Arm PrimeCell PL011 UART (the Pi 4's UART0 and QEMU
// virt's console). It is safe for kernel context: no allocation, no blocking.
//
// Register offsets and bits: Arm PL011 TRM (DDI 0183), chapter 3 (Programmers
// Model); Circle lib/serial.cpp defines the same.
package pl011

import "github.com/inferpi/inferpi/driver/reg"

const (
	regDR   = 0x00
	regFR   = 0x18
	regIBRD = 0x24
	regFBRD = 0x28
	regLCRH = 0x2C
	regCR   = 0x30
	regIFLS = 0x34
	regIMSC = 0x38
	regMIS  = 0x40
	regICR  = 0x44

	frBUSY = 1 << 3
	frRXFE = 1 << 4
	frTXFF = 1 << 5

	lcrhFEN   = 1 << 4
	lcrhWLEN8 = 3 << 5

	crUARTEN = 1 << 0
	crTXE    = 1 << 8
	crRXE    = 1 << 9

	// Interrupt bits (IMSC, MIS, ICR).
	IntRX = 1 << 4 // receive FIFO at its trigger level
	IntTX = 1 << 5 // transmit FIFO at or below its trigger level
	IntRT = 1 << 6 // receive timeout: data waiting, line idle
)

// UART is one PL011 at a mapped base address.
type UART struct{ r reg.MMIO }

// At returns the UART whose registers start at base.
func At(base uintptr) UART { return UART{r: reg.At(base)} }

// Divisors returns the integer and fractional baud-rate divisors for a reference
// clock: divisor = clock / (16 * baud), fraction in 1/64ths, rounded.
func Divisors(clock, baud uint32) (ibrd, fbrd uint32) {
	// 64*clock/(16*baud) = 4*clock/baud, rounded to nearest.
	d := (4*uint64(clock) + uint64(baud)/2) / uint64(baud)
	return uint32(d >> 6), uint32(d & 63)
}

// Init programs 8N1 at baud for the given reference clock with FIFOs on, and
// enables receive interrupts (RX and receive timeout). The UART is disabled and
// drained first, as the TRM requires before reprogramming.
func (u UART) Init(clock, baud uint32) {
	u.r.Write32(regCR, 0)
	for i := 0; i < 1_000_000 && u.r.Read32(regFR)&frBUSY != 0; i++ {
	}
	u.r.Write32(regIMSC, 0)
	u.r.Write32(regICR, 0x7FF)
	ibrd, fbrd := Divisors(clock, baud)
	u.r.Write32(regIBRD, ibrd)
	u.r.Write32(regFBRD, fbrd)
	u.r.Write32(regLCRH, lcrhWLEN8|lcrhFEN) // the LCRH write latches the divisors
	u.r.Write32(regIFLS, 0)                 // interrupt at 1/8 full (RX) / 1/8 (TX)
	u.r.Write32(regCR, crUARTEN|crTXE|crRXE)
}

// Enable turns the UART on without touching the baud rate (QEMU, or when the
// firmware already set it up).
func (u UART) Enable() {
	u.r.Write32(regLCRH, lcrhWLEN8|lcrhFEN)
	u.r.Write32(regCR, crUARTEN|crTXE|crRXE)
}

// SetInterrupts sets the interrupt mask (IntRX | IntRT | IntTX ...).
func (u UART) SetInterrupts(mask uint32) { u.r.Write32(regIMSC, mask) }

// Pending returns the masked interrupt status.
func (u UART) Pending() uint32 { return u.r.Read32(regMIS) }

// ClearInterrupts acknowledges interrupts.
func (u UART) ClearInterrupts(mask uint32) { u.r.Write32(regICR, mask) }

// TxFull reports whether the transmit FIFO is full.
func (u UART) TxFull() bool { return u.r.Read32(regFR)&frTXFF != 0 }

// RxEmpty reports whether the receive FIFO is empty.
func (u UART) RxEmpty() bool { return u.r.Read32(regFR)&frRXFE != 0 }

// PutByte sends one byte, waiting for FIFO space (polled).
func (u UART) PutByte(b byte) {
	for u.TxFull() {
	}
	u.r.Write32(regDR, uint32(b))
}

// TryPutByte sends b if the FIFO has room.
func (u UART) TryPutByte(b byte) bool {
	if u.TxFull() {
		return false
	}
	u.r.Write32(regDR, uint32(b))
	return true
}

// GetByte returns a received byte if one is waiting. Error flags (bits 11:8:
// overrun, break, parity, framing) drop the byte.
func (u UART) GetByte() (byte, bool) {
	for {
		b, errs, ok := u.Receive()
		if !ok || errs == 0 {
			return b, ok
		}
	}
}

// Receive takes the next entry of the receive FIFO, if there is one: the byte
// and its error flags (DR bits 11:8: overrun, break, parity, framing; 0 for a
// good byte).
func (u UART) Receive() (b byte, errs uint32, ok bool) {
	if u.RxEmpty() {
		return 0, 0, false
	}
	v := u.r.Read32(regDR)
	return byte(v), v >> 8 & 0xF, true
}
