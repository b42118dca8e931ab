package sdhci

// Register offsets and bits of the standard SD host controller, named after the
// SD Host Controller Simplified Specification 3.00 (section 2.2, "SD Host Standard
// Register"). The Pi's controllers must be accessed 32 bits at a time, so the 8-
// and 16-bit registers are reached through the 32-bit word that holds them (Linux
// sdhci-iproc shadows them for the same reason); the shift of each narrow
// register inside its word is given with it.
const (
	regArgument2      = 0x00 // SDMA system address / argument 2 (2.2.1)
	regBlockSizeCount = 0x04 // block size [11:0], block count [31:16] (2.2.2, 2.2.3)
	regArgument       = 0x08 // argument 1 (2.2.4)
	regCommand        = 0x0C // transfer mode [15:0], command [31:16] (2.2.5, 2.2.6)
	regResponse0      = 0x10 // response bits 39:8 of a 48-bit response, 0x10-0x1C for R2 (2.2.7)
	regBufferData     = 0x20 // buffer data port (2.2.8)
	regPresentState   = 0x24 // (2.2.9)
	regHostControl    = 0x28 // host control 1 [7:0], power control [15:8] (2.2.10, 2.2.11)
	regClockControl   = 0x2C // clock control [15:0], timeout control [19:16], software reset [26:24] (2.2.14-16)
	regIntStatus      = 0x30 // normal interrupt status [15:0], error interrupt status [31:16] (2.2.17, 2.2.18), write 1 to clear
	regIntEnable      = 0x34 // status enables, same layout (2.2.19, 2.2.20)
	regIntSignal      = 0x38 // signal (IRQ) enables, same layout (2.2.21, 2.2.22)
	regHostControl2   = 0x3C // auto CMD error status [15:0], host control 2 [31:16] (2.2.23, 2.2.24)
	regCapabilities   = 0x40 // (2.2.25)
	regCapabilities1  = 0x44
	regHostVersion    = 0xFC // slot interrupt status [15:0], host controller version [31:16] (2.2.34, 2.2.35)
)

// Transfer mode (low half of regCommand).
const (
	tmDMAEnable     = 1 << 0
	tmBlockCountEn  = 1 << 1
	tmAutoCMD12     = 1 << 2 // auto CMD enable = 01b
	tmReadDirection = 1 << 4 // card to host
	tmMultiBlock    = 1 << 5
)

// Command register (high half of regCommand, shifted into place by command()).
const (
	cmdRespNone    = 0 << 0
	cmdResp136     = 1 << 0
	cmdResp48      = 2 << 0
	cmdResp48Busy  = 3 << 0
	cmdCRCCheck    = 1 << 3
	cmdIndexCheck  = 1 << 4
	cmdDataPresent = 1 << 5
	cmdIndexShift  = 8
)

// Present state.
const (
	psCmdInhibit    = 1 << 0
	psDatInhibit    = 1 << 1
	psBufferReadEn  = 1 << 11
	psCardInserted  = 1 << 16
	psCardStable    = 1 << 17
	psCardDetectPin = 1 << 18
)

// Host control 1 and power control (regHostControl).
const (
	hcDataWidth4 = 1 << 1
	hcHighSpeed  = 1 << 2
	hcDMASelect  = 3 << 3
	pcBusPower   = 1 << 8
	pcVoltage33  = 7 << 9
	pcPowerMask  = 0xF << 8
)

// Clock control, timeout control and software reset (regClockControl).
const (
	ccInternalEnable = 1 << 0
	ccInternalStable = 1 << 1
	ccSDClockEnable  = 1 << 2
	ccFreqMask       = 0xFFC0 // divider [15:8] and its upper bits [7:6]
	toMask           = 0xF << 16
	toMax            = 0xE << 16 // TMCLK * 2^27, the longest data timeout
	srAll            = 1 << 24
	srCmd            = 1 << 25
	srDat            = 1 << 26
)

// Interrupt status: normal bits in the low half, error bits in the high half.
const (
	intCmdComplete  = 1 << 0
	intXferComplete = 1 << 1
	intBufReadReady = 1 << 5
	intError        = 1 << 15

	errCmdTimeout  = 1 << 16
	errCmdCRC      = 1 << 17
	errCmdEndBit   = 1 << 18
	errCmdIndex    = 1 << 19
	errDataTimeout = 1 << 20
	errDataCRC     = 1 << 21
	errDataEndBit  = 1 << 22
	errCurrent     = 1 << 23
	errAutoCMD     = 1 << 24
	errADMA        = 1 << 25
	errCmdMask     = errCmdTimeout | errCmdCRC | errCmdEndBit | errCmdIndex

	// Status bits the driver polls; signals stay off (the driver polls, no IRQ).
	intEnableAll = 0x03FF0000 | intCmdComplete | intXferComplete | intBufReadReady
)

// Capabilities.
const (
	capBaseClockShift = 8
	capBaseClockMask  = 0xFF // MHz, bits 15:8 in spec 3.00 (6 bits before)
	capHighSpeed      = 1 << 21
	capVoltage33      = 1 << 24
)

// Host controller version (bits 23:16 of regHostVersion): 0 = 1.00, 1 = 2.00, 2 = 3.00.
const specVersion300 = 2

var errorNames = []struct {
	bit  uint32
	name string
}{
	{errCmdTimeout, "command timeout"},
	{errCmdCRC, "command CRC error"},
	{errCmdEndBit, "command end bit error"},
	{errCmdIndex, "command index error"},
	{errDataTimeout, "data timeout"},
	{errDataCRC, "data CRC error"},
	{errDataEndBit, "data end bit error"},
	{errCurrent, "current limit error"},
	{errAutoCMD, "auto CMD12 error"},
	{errADMA, "ADMA error"},
}
