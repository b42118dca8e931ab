package sdhci

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// SD commands used here (SD Physical Layer Simplified Specification 4.7.4).
const (
	cmdGoIdle        = 0  // CMD0
	cmdAllSendCID    = 2  // CMD2, R2
	cmdSendRelAddr   = 3  // CMD3, R6
	cmdSwitchFunc    = 6  // CMD6, R1 + 64 bytes
	cmdSelectCard    = 7  // CMD7, R1b
	cmdSendIfCond    = 8  // CMD8, R7
	cmdSendCSD       = 9  // CMD9, R2
	cmdStopTransmit  = 12 // CMD12, R1b
	cmdSetBlockLen   = 16 // CMD16, R1
	cmdReadSingle    = 17 // CMD17, R1 + data
	cmdReadMultiple  = 18 // CMD18, R1 + data
	cmdAppCmd        = 55 // CMD55, R1
	acmdSetBusWidth  = 6  // ACMD6, R1
	acmdSendOpCond   = 41 // ACMD41, R3
	acmdSendSCR      = 51 // ACMD51, R1 + 8 bytes
	blockSize        = 512
	ifCondCheck      = 0x1AA      // CMD8: 2.7-3.6 V, check pattern 0xAA
	ocrVoltageWindow = 0x00FF8000 // 2.7-3.6 V
	ocrHCS           = 1 << 30    // host supports high capacity (ACMD41) / card is (OCR CCS)
	ocrPowerUpDone   = 1 << 31
	switchCheckHS    = 0x00FFFFF1 // CMD6 mode 0: query function 1 (high speed) of group 1
	switchSetHS      = 0x80FFFFF1 // CMD6 mode 1: switch to it
	identClockHz     = 400_000
	defaultClockHz   = 25_000_000
	highSpeedClockHz = 50_000_000
	r1ErrorBits      = 0xFDF98008 // card status error bits (SD spec table 4-42)
)

// Init resets the controller, identifies the card and sets the fastest bus the
// card and controller share. It may be called again after a card change.
func (h *Host) Init() error {
	h.ready = false
	h.card = Card{}
	h.sdClock = 0 // the reset stops it
	if err := h.resetController(); err != nil {
		return err
	}
	h.version = int(h.bank.Read32(regHostVersion) >> 16 & 0xFF)
	caps := h.bank.Read32(regCapabilities)
	h.base = h.cfg.BaseClock
	if h.base == 0 {
		h.base = (caps >> capBaseClockShift & capBaseClockMask) * 1_000_000
	}
	if h.base == 0 {
		return h.errorf("base clock unknown: the capabilities register (0x%08X) does not say; pass it in Config.BaseClock (from the mailbox)", caps)
	}
	if err := h.powerOn(); err != nil {
		return err
	}
	if !h.cfg.IgnoreCardDetect && !h.waitFor(100*time.Millisecond, h.CardPresent) {
		return h.errorf("%w inserted (present state 0x%08X)", ErrNoCard, h.bank.Read32(regPresentState))
	}
	h.write(regIntEnable, intEnableAll)
	h.write(regIntSignal, 0)
	hc := h.bank.Read32(regHostControl) &^ (hcDataWidth4 | hcHighSpeed | hcDMASelect)
	h.write(regHostControl, hc)
	var err error
	if h.card.ClockHz, err = h.setClock(identClockHz); err != nil {
		return err
	}
	h.sleep(time.Millisecond) // at least 74 clocks before the first command
	h.card.BusWidth = 1

	if err := h.identify(); err != nil {
		return err
	}
	if err := h.configureBus(); err != nil {
		return err
	}
	if _, err := h.command("CMD16", cmdSetBlockLen, blockSize, r1, 0, false); err != nil {
		return h.errorf("setting the block length: %v", err)
	}
	h.ready = true
	return nil
}

// identify runs the SD identification sequence (SD spec 4.2, figure 4-2): reset,
// interface condition, operating condition until power-up, CID, RCA, CSD, select.
func (h *Host) identify() error {
	if _, err := h.command("CMD0", cmdGoIdle, 0, rNone, 0, false); err != nil {
		return h.errorf("resetting the card: %v", err)
	}
	v2 := true
	resp, err := h.command("CMD8", cmdSendIfCond, ifCondCheck, r1, 0, false)
	var ce *cmdError
	switch {
	case errors.As(err, &ce) && ce.timedOut():
		v2 = false // a version 1.x card does not know CMD8
	case err != nil:
		return h.errorf("interface condition: %v", err)
	case resp[0]&0xFFF != ifCondCheck:
		return h.errorf("card rejected 3.3 V or the check pattern (CMD8 answered 0x%03X, sent 0x%03X)", resp[0]&0xFFF, ifCondCheck)
	}

	arg := uint32(ocrVoltageWindow)
	if v2 {
		arg |= ocrHCS
	}
	start := h.now()
	var ocr uint32
	for {
		resp, err := h.appCommand("ACMD41", acmdSendOpCond, arg, r3, 0, false)
		if err != nil {
			if errors.As(err, &ce) && ce.timedOut() {
				return h.errorf("%w answers: %v (an MMC or a broken card?)", ErrNoCard, err)
			}
			return h.errorf("operating condition: %v", err)
		}
		if ocr = resp[0]; ocr&ocrPowerUpDone != 0 {
			break
		}
		if h.now().Sub(start) > h.cfg.InitTimeout {
			return h.errorf("card did not finish powering up within %v (OCR 0x%08X)", h.cfg.InitTimeout, ocr)
		}
		h.sleep(10 * time.Millisecond)
	}
	h.card.HighCapacity = v2 && ocr&ocrHCS != 0

	cid, err := h.command("CMD2", cmdAllSendCID, 0, r2, 0, false)
	if err != nil {
		return h.errorf("reading the CID: %v", err)
	}
	h.card.Manufacturer = byte(bits(cid, 127, 120))
	var pnm strings.Builder
	for b := 103; b >= 64; b -= 8 {
		if c := byte(bits(cid, b, b-7)); c >= 0x20 && c < 0x7F {
			pnm.WriteByte(c)
		}
	}
	h.card.Product = strings.TrimSpace(pnm.String())

	resp, err = h.command("CMD3", cmdSendRelAddr, 0, r1, 0, false)
	if err != nil {
		return h.errorf("getting the card's address: %v", err)
	}
	h.card.RCA = uint16(resp[0] >> 16)

	csd, err := h.command("CMD9", cmdSendCSD, uint32(h.card.RCA)<<16, r2, 0, false)
	if err != nil {
		return h.errorf("reading the CSD: %v", err)
	}
	if h.card.Blocks, err = capacity(csd); err != nil {
		return h.errorf("%v", err)
	}
	if _, err := h.command("CMD7", cmdSelectCard, uint32(h.card.RCA)<<16, r1b, 0, false); err != nil {
		return h.errorf("selecting the card: %v", err)
	}
	return nil
}

// bits returns bits hi..lo of a 136-bit response as the SD spec numbers them.
// The controller keeps bits 127:8 (the CRC byte is dropped) in its four response
// registers as bits 119:0 (SDHCI spec 2.2.7, table 2-6), hence the shift by 8.
func bits(r [4]uint32, hi, lo int) uint32 {
	var v uint32
	for b := hi; b >= lo; b-- {
		rb := b - 8
		v = v<<1 | r[rb/32]>>(rb%32)&1
	}
	return v
}

// capacity decodes the card size from the CSD (SD spec 5.3).
func capacity(csd [4]uint32) (uint64, error) {
	switch structure := bits(csd, 127, 126); structure {
	case 0: // CSD 1.0, SDSC: (C_SIZE+1) * 2^(C_SIZE_MULT+2) * 2^READ_BL_LEN bytes
		cSize := uint64(bits(csd, 73, 62))
		mult := bits(csd, 49, 47)
		blLen := bits(csd, 83, 80)
		if blLen < 9 || blLen > 11 {
			return 0, fmt.Errorf("CSD 1.0 gives a read block length of 2^%d bytes", blLen)
		}
		return (cSize + 1) << (mult + 2) << blLen / blockSize, nil
	case 1: // CSD 2.0, SDHC/SDXC: (C_SIZE+1) * 512 KiB
		return (uint64(bits(csd, 69, 48)) + 1) * 1024, nil
	default:
		return 0, fmt.Errorf("CSD structure version %d (SDUC cards over 2 TB) is not supported", structure+1)
	}
}

// configureBus reads the SCR and switches to a 4-bit bus and high speed where
// both the card and the controller can.
func (h *Host) configureBus() error {
	var scr [8]byte
	if err := h.readData("ACMD51", acmdSendSCR, 0, scr[:], len(scr), true); err != nil {
		return h.errorf("reading the SCR: %v", err)
	}
	h.card.SCR = scr
	if scr[1]&0x4 != 0 { // SD_BUS_WIDTHS (SCR bits 51:48) bit 2: 4-bit supported
		if _, err := h.appCommand("ACMD6", acmdSetBusWidth, 2, r1, 0, false); err != nil {
			return h.errorf("switching to a 4-bit bus: %v", err)
		}
		h.setBits(regHostControl, hcDataWidth4)
		h.card.BusWidth = 4
	}

	target := uint32(defaultClockHz)
	// CMD6 exists from SD spec 1.10 (SCR SD_SPEC >= 1); the controller must
	// support high speed too.
	if scr[0]&0xF >= 1 && h.bank.Read32(regCapabilities)&capHighSpeed != 0 {
		ok, err := h.switchHighSpeed()
		if err != nil {
			return err
		}
		if ok {
			h.setBits(regHostControl, hcHighSpeed)
			h.card.HighSpeed = true
			target = highSpeedClockHz
		}
	}
	var err error
	h.card.ClockHz, err = h.setClock(target)
	return err
}

// switchHighSpeed asks the card whether it supports high speed (function 1 of
// group 1) and switches to it. SD spec 4.3.10: support bits 415:400 (byte 13
// bit 1 of the 64-byte status for function 1), selected function 379:376 (low
// nibble of byte 16).
func (h *Host) switchHighSpeed() (bool, error) {
	var st [64]byte
	if err := h.readData("CMD6", cmdSwitchFunc, switchCheckHS, st[:], len(st), false); err != nil {
		return false, h.errorf("querying high speed: %v", err)
	}
	if st[13]&0x02 == 0 {
		return false, nil
	}
	if err := h.readData("CMD6", cmdSwitchFunc, switchSetHS, st[:], len(st), false); err != nil {
		return false, h.errorf("switching to high speed: %v", err)
	}
	return st[16]&0x0F == 1, nil
}

// appCommand sends CMD55 and then the application command.
func (h *Host) appCommand(name string, index int, arg, resp, mode uint32, data bool) ([4]uint32, error) {
	if _, err := h.command("CMD55", cmdAppCmd, uint32(h.card.RCA)<<16, r1, 0, false); err != nil {
		return [4]uint32{}, err
	}
	return h.command(name, index, arg, resp, mode, data)
}
