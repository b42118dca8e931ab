// Package abi is the contract between the bare-metal kernel (metal/kernel) and the
// firmware's Go side (metal/sys): the numbers of InferPi's private system calls and
// the layout of the structures they exchange. It has no dependencies.
package abi

// Private system calls live above every Linux number.
const PrivateBase = 0x1000

const (
	SysInfo         = PrivateBase + iota // (buf *Info) -> 0
	SysMapDevice                         // (pa, size) -> va
	SysAllocDMA                          // (size, align) -> va (x0), bus/physical address (x1)
	SysFreeDMA                           // (va, size) -> 0
	SysAllocBuffer                       // (size) -> va of a virtually contiguous, zeroed buffer
	SysFreeBuffer                        // (va, size) -> 0
	SysVirtToPhys                        // (va, len) -> pa (x0), physically contiguous bytes from va (x1)
	SysWaitIRQ                           // (intid, timeout ns) -> 0, or -ETIMEDOUT
	SysReboot                            // (poweroff) -> does not return
	SysCurrentCore                       // () -> core number the caller runs on
	SysSetRealtime                       // (unix ns) -> 0
	SysMemStats                          // (buf *MemStats) -> 0
	SysWatchdog                          // (seconds) -> 0: arm the board's watchdog, kept alive by the kernel's timer; 0 stops it
	SysSetStep                           // (name, len) -> 0: the step running, named by fault reports; len 0 clears it
	SysCatchSError                       // (addr) -> 0: SErrors in the calling thread become SIGBUS at addr; 0 ends it
	SysConsoleStats                      // (buf *ConsoleStats) -> 0
	SysCount
)

// Region is a physical address range.
type Region struct{ Base, Size uint64 }

// Info describes the machine, as the kernel found it at boot.
type Info struct {
	Board            [40]byte // NUL-terminated name
	Cores            uint32
	IsQEMU           uint32
	CounterHz        uint64
	ARMClockHz       uint32
	ARMMaxHz         uint32
	UARTClockHz      uint32
	BoardRevision    uint32
	FirmwareRevision uint32
	HasRNG           uint32
	WatchdogArmed    uint32 // the firmware had left the watchdog armed (it was stopped)
	NRAM             uint32
	RAM              [8]Region
	VideoCore        Region // never used by the kernel
	DMAPool          Region
	KernelEnd        uint64 // end of the kernel image and boot tables
}

// ConsoleStats are the UART console's receive counters since boot.
type ConsoleStats struct {
	RxBytes   uint64 // received
	RxDropped uint64 // lost to a full receive ring
	RxErrors  uint64 // dropped for a framing, parity, break or overrun error
	RxIRQs    uint64 // UART interrupts taken
}

// MemStats is the kernel's memory accounting.
type MemStats struct {
	TotalBytes   uint64 // RAM the kernel manages
	FreeBytes    uint64
	DMAFreeBytes uint64
	BufferBytes  uint64 // in buffers from SysAllocBuffer
	MappedRanges uint64 // virtual ranges reserved
}
