package xhci

// Register offsets and bits, named as in the xHCI 1.2 specification (chapter 5).
// Facts cross-checked against Circle include/circle/usb/xhci.h and Linux
// drivers/usb/host/xhci.h.

// Capability registers (§5.3), from the start of BAR0.
const (
	capLength  = 0x00 // CAPLENGTH (bits 7:0) | HCIVERSION (bits 31:16)
	hcsParams1 = 0x04 // MaxSlots 7:0, MaxIntrs 18:8, MaxPorts 31:24
	hcsParams2 = 0x08 // IST 3:0, ERST Max 7:4, Max Scratchpad Bufs Hi 25:21, SPR 26, Lo 31:27
	hccParams1 = 0x10 // AC64 0, CSZ 2, PPC 3, xECP 31:16 (in dwords)
	dbOff      = 0x14 // doorbell array offset (bits 31:2)
	rtsOff     = 0x18 // runtime register space offset (bits 31:5)
)

const (
	hccAC64 = 1 << 0 // 64-bit addressing
	hccCSZ  = 1 << 2 // 64-byte contexts
	hccPPC  = 1 << 3 // port power control
)

// Operational registers (§5.4), from CAPLENGTH.
const (
	opUSBCmd   = 0x00
	opUSBSts   = 0x04
	opPageSize = 0x08
	opCRCRLo   = 0x18
	opCRCRHi   = 0x1C
	opDCBAAPLo = 0x30
	opDCBAAPHi = 0x34
	opConfig   = 0x38
	opPortBase = 0x400 // port n's registers at 0x400 + 0x10×(n-1)
)

const (
	cmdRun   = 1 << 0 // R/S
	cmdReset = 1 << 1 // HCRST

	stsHalted     = 1 << 0  // HCH
	stsHostError  = 1 << 2  // HSE
	stsEventInt   = 1 << 3  // EINT
	stsNotReady   = 1 << 11 // CNR
	stsController = 1 << 12 // HCE

	crcrRCS = 1 << 0 // ring cycle state
	crcrCA  = 1 << 2 // command abort
	crcrCRR = 1 << 3 // command ring running
)

// PORTSC bits (§5.4.8).
const (
	portCCS      = 1 << 0 // current connect status
	portPED      = 1 << 1 // port enabled (write 1 disables!)
	portOCA      = 1 << 3
	portPR       = 1 << 4 // port reset
	portPLSShift = 5      // link state 8:5
	portPLSMask  = 0xF << portPLSShift
	portPP       = 1 << 9 // port power
	portSpeedSh  = 10     // speed 13:10
	portCSC      = 1 << 17
	portPEC      = 1 << 18
	portWRC      = 1 << 19
	portOCC      = 1 << 20
	portPRC      = 1 << 21
	portPLC      = 1 << 22
	portCEC      = 1 << 23
	portWPR      = 1 << 31 // warm port reset (USB 3)

	// Change bits: write 1 to clear.
	portChangeBits = portCSC | portPEC | portWRC | portOCC | portPRC | portPLC | portCEC
	// Bits that keep their value when written back (read-only and RWS fields, as
	// Linux's xhci_port_state_to_neutral keeps): CCS, OCA, speed, DR; PLS, PP, PIC, WCE/WDE/WOE.
	portPreserve = portCCS | portOCA | 0xF<<portSpeedSh | 1<<30 | portPLSMask | portPP | 3<<14 | 7<<25

	plsU0 = 0
)

// Runtime registers (§5.5): interrupter 0 at RTSOFF + 0x20.
const (
	irIMAN     = 0x00
	irIMOD     = 0x04
	irERSTSZ   = 0x08
	irERSTBALo = 0x10
	irERSTBAHi = 0x14
	irERDPLo   = 0x18
	irERDPHi   = 0x1C

	erdpEHB = 1 << 3 // event handler busy (write 1 to clear)
)

// Extended capabilities (§7).
const (
	extCapSupportedProtocol = 2
)
