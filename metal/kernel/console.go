package kernel

import (
	"sync/atomic"
	"unsafe"

	"github.com/inferpi/inferpi/driver/pl011"
	"github.com/inferpi/inferpi/metal/abi"
)

// The console is the PL011. Threads write through a transmit ring drained by the
// TX interrupt, so a write of a long reply never holds the kernel; reads come from
// a receive ring filled by the RX interrupt, so typed or pasted input is never
// lost while no one is reading. Kernel messages (boot log, fault reports) bypass
// the rings and poll the UART directly.

const (
	txRingSize = 16 << 10
	rxRingSize = 64 << 10
)

var tx struct {
	buf        [txRingSize]byte
	head, tail uint32 // head: next to send; tail: next free
	last       byte   // the last byte queued (for LF -> CRLF)
}

var rx struct {
	buf        [rxRingSize]byte
	head, tail uint32
	received   uint64 // bytes the UART received
	dropped    uint64 // of those, lost to a full ring
	errors     uint64 // of those, dropped for a framing, parity, break or overrun error
	irqs       uint64 // UART interrupts taken
}

// printLock serialises kernel messages from several cores (not the rings: those
// are under the big kernel lock).
var printLock spinlock

type spinlock struct{ v uint32 }

func (l *spinlock) lock() {
	for !atomic.CompareAndSwapUint32(&l.v, 0, 1) {
		for atomic.LoadUint32(&l.v) != 0 {
		}
	}
}

func (l *spinlock) unlock() { atomic.StoreUint32(&l.v, 0) }

// kputs writes s to the UART directly, turning \n into \r\n.
func kputs(s string) {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			uartPut('\r')
		}
		uartPut(s[i])
	}
}

// kline builds one kernel message without allocating.
type kline struct {
	buf     [240]byte
	n       int
	stamped bool
}

func (l *kline) s(s string) *kline {
	for i := 0; i < len(s) && l.n < len(l.buf); i++ {
		l.buf[l.n] = s[i]
		l.n++
	}
	return l
}

func (l *kline) b(p []byte) *kline {
	for i := 0; i < len(p) && l.n < len(l.buf); i++ {
		l.buf[l.n] = p[i]
		l.n++
	}
	return l
}

// x writes v in hexadecimal with a 0x prefix.
func (l *kline) x(v uint64) *kline {
	var d [18]byte
	i := len(d)
	for {
		i--
		d[i] = "0123456789abcdef"[v&15]
		v >>= 4
		if v == 0 {
			break
		}
	}
	i--
	d[i] = 'x'
	i--
	d[i] = '0'
	return l.b(d[i:])
}

// d writes v in decimal.
func (l *kline) d(v uint64) *kline {
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return l.b(d[i:])
}

// mb writes a byte count in MiB.
func (l *kline) mb(v uint64) *kline { return l.d(v >> 20).s(" MiB") }

// print writes the line and a newline to the UART.
func (l *kline) print() {
	printLock.lock()
	if l.stamped {
		writeStamp()
	}
	for i := 0; i < l.n; i++ {
		if l.buf[i] == '\n' {
			uartPut('\r')
		}
		uartPut(l.buf[i])
	}
	uartPut('\r')
	uartPut('\n')
	printLock.unlock()
}

// stamp makes the line a boot-log line: print prefixes it with "[  0.123456] ",
// the time taken when the line is printed, so lines from several cores come out in
// time order.
func (l *kline) stamp() *kline {
	l.stamped = true
	return l
}

func writeStamp() {
	var l kline
	ns := nanotime()
	sec, us := ns/1e9, ns%1e9/1000
	l.s("[")
	for pad := uint64(100); pad > 1 && sec < pad; pad /= 10 {
		l.s(" ")
	}
	l.d(sec).s(".")
	for p := uint64(100000); p > 1 && us < p; p /= 10 {
		l.s("0")
	}
	l.d(us).s("] ")
	for i := 0; i < l.n; i++ {
		uartPut(l.buf[i])
	}
}

// consoleWrite queues p for transmission; it returns how many bytes of p fit.
// Like a Linux tty (ONLCR), a bare "\n" goes out as "\r\n": a serial terminal moves
// down on LF but back to the first column only on CR, and Go programs (and the
// runtime's panic messages) write plain "\n". Caller holds the kernel lock.
func consoleWrite(p []byte) int {
	n := 0
	for n < len(p) {
		b := p[n]
		if b == '\n' && tx.last != '\r' {
			if !txPut('\r') {
				break
			}
			tx.last = '\r'
		}
		if !txPut(b) {
			break
		}
		tx.last = b
		n++
	}
	consoleKick()
	return n
}

// txPut appends one byte to the transmit ring if there is room.
func txPut(b byte) bool {
	next := (tx.tail + 1) % txRingSize
	if next == tx.head {
		return false
	}
	tx.buf[tx.tail] = b
	tx.tail = next
	return true
}

// consoleKick moves queued bytes into the UART FIFO and keeps the TX interrupt
// enabled exactly while bytes remain.
func consoleKick() {
	for tx.head != tx.tail {
		if !uartTryPut(tx.buf[tx.head]) {
			break
		}
		tx.head = (tx.head + 1) % txRingSize
	}
	mask := uint32(pl011.IntRX | pl011.IntRT)
	if tx.head != tx.tail {
		mask |= pl011.IntTX
	}
	uartIRQMask(mask)
}

// consoleDrain waits (polling) until the TX ring is empty: before a fault report,
// so earlier output is not lost or interleaved.
func consoleDrain() {
	for tx.head != tx.tail {
		uartPut(tx.buf[tx.head])
		tx.head = (tx.head + 1) % txRingSize
	}
}

// consoleIRQ services the UART's interrupt. Its causes are acknowledged before
// the receive FIFO is drained, not after: a byte that arrives once the last
// read found the FIFO empty then raises receive or timeout again, where an
// acknowledgement after the drain would clear the interrupt that announced it
// and leave it unseen until the next byte. Linux's pl011_int (amba-pl011.c)
// acknowledges first too, and looks at the status again after each pass.
func consoleIRQ() {
	rx.irqs++
	for pass := 0; pass < 8; pass++ {
		st := uartPending()
		if st == 0 {
			break
		}
		uartAck(st)
		consoleRxPoll()
	}
	wakeConsoleReaders()
	consoleKick()
	wakeConsoleWriters()
}

// consoleRxPoll moves received bytes from the FIFO into the RX ring.
func consoleRxPoll() {
	for {
		b, errs, ok := uartReceive()
		if !ok {
			return
		}
		rx.received++
		if errs != 0 {
			rx.errors++
			continue
		}
		next := (rx.tail + 1) % rxRingSize
		if next == rx.head {
			rx.dropped++
			continue
		}
		rx.buf[rx.tail] = b
		rx.tail = next
	}
}

// consoleRead takes up to len(p) received bytes.
func consoleRead(p []byte) int {
	n := 0
	for n < len(p) && rx.head != rx.tail {
		p[n] = rx.buf[rx.head]
		rx.head = (rx.head + 1) % rxRingSize
		n++
	}
	return n
}

func consoleHasInput() bool { return rx.head != rx.tail }

// sysConsoleStats (buf *abi.ConsoleStats) reports the console's receive
// counters, for the firmware's diagnostic.
func sysConsoleStats(c *percore, t *thread) uint64 {
	p := uintptr(t.ctx.x[0])
	if !userOK(p, unsafe.Sizeof(abi.ConsoleStats{})) {
		return errno(EFAULT)
	}
	*(*abi.ConsoleStats)(ptrAt(p)) = abi.ConsoleStats{RxBytes: rx.received, RxDropped: rx.dropped, RxErrors: rx.errors, RxIRQs: rx.irqs}
	return 0
}
