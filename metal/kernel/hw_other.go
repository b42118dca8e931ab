//go:build !(linux && arm64)

package kernel

import "github.com/inferpi/inferpi/driver/pl011"

// Host stand-ins for the hardware seam (hw_linux_arm64.go), so the portable kernel
// code runs in unit tests: a settable counter, a recording UART, and wake-ups and
// fatal stops that tests can observe.

var fake struct {
	counter   uint64
	core      percore
	wakes     []int
	tlbFlush  int
	publishes int // page-table barriers (mm.Memory Publish and Sync)
	syncs     int
	txLimit   int // bytes the UART FIFO takes before it is "full" (0: unlimited)
	tx        []byte
	rx        []byte
	late      []byte // bytes that arrive just after a read found the FIFO empty
	uartIRQ   uint32 // the UART's raw interrupt status
	irqMask   uint32
	fatal     string
	exitCode  int
	exited    bool
	unmapped  map[uint64]bool // user pages tests declare unmapped
}

func counter() uint64                  { return fake.counter }
func thisCore() *percore               { return &fake.core }
func sendWake(i int)                   { fake.wakes = append(fake.wakes, i) }
func tlbFlush()                        { fake.tlbFlush++ }
func publishBarrier()                  { fake.publishes++ }
func syncBarrier()                     { fake.syncs++ }
func uartPut(b byte)                   { fake.tx = append(fake.tx, b) }
func uartIRQMask(mask uint32)          { fake.irqMask = mask }
func jitterSource()                    {}
func randomWord() (uint32, bool)       { return 0, false }
func sigreturnTrampolineAddr() uintptr { return 0xdead0000 }

func uartTryPut(b byte) bool {
	if fake.txLimit > 0 && len(fake.tx) >= fake.txLimit {
		return false
	}
	fake.tx = append(fake.tx, b)
	return true
}

// uartReceive models the PL011's receive side: reading the last byte clears
// the receive and timeout interrupts; fake.late arrives just as a read finds
// the FIFO empty, and raises them again. A byte 0xFF comes with a framing
// error.
func uartReceive() (byte, uint32, bool) {
	if len(fake.rx) == 0 {
		if len(fake.late) > 0 {
			fake.rx, fake.late = fake.late, nil
			fake.uartIRQ |= pl011.IntRX | pl011.IntRT
		}
		return 0, 0, false
	}
	b := fake.rx[0]
	fake.rx = fake.rx[1:]
	if len(fake.rx) == 0 {
		fake.uartIRQ &^= pl011.IntRX | pl011.IntRT
	}
	if b == 0xFF {
		return b, 1, true
	}
	return b, 0, true
}

func uartPending() uint32 { return fake.uartIRQ & fake.irqMask }
func uartAck(mask uint32) { fake.uartIRQ &^= mask }

// mapped: test buffers live in the Go heap, which the fake tables do not map;
// tests mark pages unmapped explicitly to check EFAULT paths.
func mapped(addr, n uint64) bool {
	for p := addr &^ 4095; p < addr+n; p += 4096 {
		if fake.unmapped[p] {
			return false
		}
	}
	return true
}

func writableNow(addr, n uint64) bool { return mapped(addr, n) }

func fatalThread(c *percore, t *thread, why string, a, b uint64) {
	fake.fatal = why
	c.cur = -1
}

func platformExit(code int) { fake.exitCode, fake.exited = code, true }

func privateCall(nr uint64) sysHandler { return nil }

func cancelIRQWait(i int32) {}
