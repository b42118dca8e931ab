package kernel

import (
	"github.com/inferpi/inferpi/board"
	"github.com/inferpi/inferpi/driver/pl011"
	"github.com/inferpi/inferpi/metal/abi"
	"github.com/inferpi/inferpi/metal/arm64"
)

// The hardware seam: the few operations the portable kernel code (system calls,
// scheduling bookkeeping, signals, memory, console rings) needs from the machine.
// hw_other.go has the host versions the unit tests drive.

// uart is a function, not a variable: a variable holding a device pointer would need
// dynamic initialisation, and package initialisers run only after the runtime starts.
func uart() pl011.UART { return pl011.At(board.UART0) }

func counter() uint64 { return arm64.CNTPCT() }

func thisCore() *percore { return (*percore)(ptrAt(arm64.TPIDREL1())) }

// sendWake interrupts core i (it then re-reads the run queue and pending signals).
func sendWake(i int) { intc().SendSGI(sgiWake, 1<<uint(i)) }

func tlbFlush() { arm64.TLBIAll() }

func publishBarrier() { arm64.DMBISHST() }

func syncBarrier() {
	arm64.DSBISHST()
	arm64.ISB()
}

func mapped(addr, n uint64) bool { return tableMapped(addr, n) }

// writableNow is the lock-free check (fast system calls): the MMU translates, so
// no table that another core is changing under the kernel lock is read here.
func writableNow(addr, n uint64) bool {
	return arm64.Writable(uintptr(addr)) && arm64.Writable(uintptr(addr+n-1))
}

func uartPut(b byte)                    { uart().PutByte(b) }
func uartTryPut(b byte) bool            { return uart().TryPutByte(b) }
func uartReceive() (byte, uint32, bool) { return uart().Receive() }
func uartIRQMask(mask uint32)           { uart().SetInterrupts(mask) }
func uartPending() uint32               { return uart().Pending() }
func uartAck(mask uint32)               { uart().ClearInterrupts(mask) }
func jitterSource()                     { uart().RxEmpty() }

func privateCall(nr uint64) sysHandler {
	if nr < abi.PrivateBase || nr >= abi.SysCount {
		return nil
	}
	return privateCalls[nr-abi.PrivateBase].fn
}
