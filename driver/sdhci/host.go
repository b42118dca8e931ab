// Package sdhci drives a standard SD host controller (SDHCI 3.00) and the SD card
// in it, and exposes the card as a block.Device.
//
// On the Raspberry Pi 4 the SD slot is on EMMC2; QEMU's raspi4b attaches
// `-drive if=sd` to the older EMMC controller instead (QEMU
// hw/gpio/bcm2838_gpio.c: bcm2838_gpio_reset). Both are SDHCI, so the firmware
// probes both with FindCard; their addresses are the caller's (soc/bcm2711).
//
// Data moves by PIO through the buffer data port, not SDMA/ADMA: PIO needs no DMA
// addresses (no bus-address translation, no cache maintenance, no buffer that
// must stay put), and QEMU's generic-sdhci supports it fully. The cost is
// throughput: the CPU copies every word, which on a Pi 4 caps reads near the
// 50 MHz 4-bit bus rate (about 20-25 MB/s) and keeps one core busy while loading.
//
// All register access is 32-bit through reg.Bank (the Pi's controllers need it),
// and writes are spaced while the SD clock is slow (Host.write); timeouts use
// time.Now and time.Sleep.
package sdhci

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/inferpi/inferpi/driver/reg"
)

// Config describes one controller.
type Config struct {
	// Name is used in messages, e.g. "emmc2".
	Name string
	// BaseClock is the controller's base clock in Hz (mailbox clock id 12 for
	// EMMC2, 1 for EMMC). 0 uses the value in the capabilities register.
	BaseClock uint32
	// CommandTimeout bounds one command (default 100 ms); DataTimeout one data
	// block (default 500 ms); InitTimeout the card's power-up (ACMD41; default 1 s,
	// as the SD spec allows).
	CommandTimeout, DataTimeout, InitTimeout time.Duration
	// IgnoreCardDetect skips the card-inserted check, for boards whose card-detect
	// line is not wired to the controller.
	IgnoreCardDetect bool
}

// Host is one SD host controller and the card in it.
type Host struct {
	bank    reg.Bank
	cfg     Config
	version int // host controller spec version (0 = 1.00, 2 = 3.00)
	base    uint32
	card    Card
	ready   bool
	sdClock uint32 // the SD clock running now (0: none yet), for Host.write

	maxBlocksPerRead int // 65535 (the block count register); smaller in tests
	now              func() time.Time
	sleep            func(time.Duration)
}

// Card describes an initialised card.
type Card struct {
	HighCapacity bool   // SDHC/SDXC: block addressing; otherwise SDSC: byte addressing
	Blocks       uint64 // 512-byte blocks
	BusWidth     int    // 1 or 4
	ClockHz      uint32 // the SD clock actually set
	HighSpeed    bool
	RCA          uint16
	Manufacturer byte
	Product      string // the CID product name, e.g. "SD16G"
	SCR          [8]byte
}

func (c Card) String() string {
	kind := "SDSC"
	if c.HighCapacity {
		kind = "SDHC/SDXC"
	}
	speed := "default speed"
	if c.HighSpeed {
		speed = "high speed"
	}
	return fmt.Sprintf("%s card %q, %d MB, %d-bit bus at %d kHz (%s)", kind, c.Product, c.Blocks*512/1e6, c.BusWidth, c.ClockHz/1000, speed)
}

// ErrNoCard is wrapped when no card is inserted or none answers.
var ErrNoCard = errors.New("no SD card")

// New returns a driver for the controller whose registers are bank. Nothing is
// touched until Init.
func New(bank reg.Bank, cfg Config) *Host {
	if cfg.Name == "" {
		cfg.Name = "sdhci"
	}
	if cfg.CommandTimeout == 0 {
		cfg.CommandTimeout = 100 * time.Millisecond
	}
	if cfg.DataTimeout == 0 {
		cfg.DataTimeout = 500 * time.Millisecond
	}
	if cfg.InitTimeout == 0 {
		cfg.InitTimeout = time.Second
	}
	return &Host{bank: bank, cfg: cfg, maxBlocksPerRead: 0xFFFF, now: time.Now, sleep: time.Sleep}
}

// write writes a register. The BCM2711's EMMC2 can lose a write that follows
// another to the same register within two SD clock cycles (a clock-domain
// crossing; Linux sdhci-iproc.c, the comment above sdhci_iproc_writew), which
// at the 400 kHz of card identification is 5 us. As Linux's sdhci_iproc_writel
// does, every write waits four SD clocks (rounded up to a microsecond) while
// the clock is at or below 400 kHz, and 10 us while there is none. At the
// data rates (25 and 50 MHz) two clocks are shorter than a register access.
func (h *Host) write(off uintptr, v uint32) {
	h.bank.Write32(off, v)
	switch {
	case h.sdClock == 0:
		h.sleep(10 * time.Microsecond)
	case h.sdClock <= identClockHz:
		h.sleep(time.Duration((4_000_000+h.sdClock-1)/h.sdClock) * time.Microsecond)
	}
}

// setBits and clearBits are read-modify-writes through write.
func (h *Host) setBits(off uintptr, bits uint32)   { h.write(off, h.bank.Read32(off)|bits) }
func (h *Host) clearBits(off uintptr, bits uint32) { h.write(off, h.bank.Read32(off)&^bits) }

// errorf prefixes messages with the controller's name.
func (h *Host) errorf(format string, args ...any) error {
	return fmt.Errorf("sdhci %s: "+format, append([]any{h.cfg.Name}, args...)...)
}

// CardPresent reports whether the controller sees a card in the slot (present
// state "card inserted"). It is meaningful once the controller is powered, but
// cheap enough to call first when deciding which controller to initialise.
func (h *Host) CardPresent() bool {
	return h.bank.Read32(regPresentState)&psCardInserted != 0
}

// Card returns what Init learnt about the card.
func (h *Host) Card() Card { return h.card }

// waitFor polls until cond holds or timeout passes. It spins first (a data block
// is ready within microseconds at 25-50 MHz) and then sleeps briefly between
// polls, so a slow card does not hog the core.
func (h *Host) waitFor(timeout time.Duration, cond func() bool) bool {
	start := h.now()
	for i := 0; ; i++ {
		if cond() {
			return true
		}
		if h.now().Sub(start) > timeout {
			return cond()
		}
		if i > 1000 {
			h.sleep(10 * time.Microsecond)
		}
	}
}

// resetController does a full software reset and waits for it to finish.
func (h *Host) resetController() error {
	h.setBits(regClockControl, srAll)
	if !h.waitFor(h.cfg.CommandTimeout, func() bool { return h.bank.Read32(regClockControl)&srAll == 0 }) {
		return h.errorf("controller reset did not finish within %v", h.cfg.CommandTimeout)
	}
	return nil
}

// resetLines resets the CMD and/or DAT line state machines after an error
// (spec 3.10 "Error Recovery"), leaving clock and power as they are.
func (h *Host) resetLines(bits uint32) error {
	h.setBits(regClockControl, bits)
	if !h.waitFor(h.cfg.CommandTimeout, func() bool { return h.bank.Read32(regClockControl)&bits == 0 }) {
		return h.errorf("reset of the %s line did not finish", lineNames(bits))
	}
	h.write(regIntStatus, 0xFFFFFFFF)
	return nil
}

func lineNames(bits uint32) string {
	var n []string
	if bits&srCmd != 0 {
		n = append(n, "CMD")
	}
	if bits&srDat != 0 {
		n = append(n, "DAT")
	}
	return strings.Join(n, " and ")
}

// powerOn switches on the card's supply at 3.3 V, voltage and power in one
// write: Circle (emmc.cpp CardReset, RASPPI >= 4) does the same on the Pi 4,
// whose firmware leaves it off, and a second write to the register right after
// the first could be lost (Host.write).
func (h *Host) powerOn() error {
	caps := h.bank.Read32(regCapabilities)
	if caps&capVoltage33 == 0 {
		return h.errorf("controller does not support 3.3 V (capabilities 0x%08X)", caps)
	}
	h.write(regHostControl, h.bank.Read32(regHostControl)&^pcPowerMask|pcVoltage33|pcBusPower)
	h.sleep(2 * time.Millisecond)
	return nil
}

// setClock programs the SD clock to at most hz and returns the rate set. The
// divided clock is base/(2N) (spec 2.2.14): a 10-bit N from version 3.00 on, a
// power of two up to 128 before.
func (h *Host) setClock(hz uint32) (uint32, error) {
	h.clearBits(regClockControl, ccSDClockEnable)
	var n uint32
	if h.base > hz {
		n = (h.base + 2*hz - 1) / (2 * hz)
	}
	var field uint32
	if h.version >= specVersion300 {
		n = min(n, 0x3FF)
		field = (n&0xFF)<<8 | (n>>8&3)<<6
	} else {
		p := uint32(0)
		if n > 0 {
			p = 1
			for p < n && p < 0x80 {
				p <<= 1
			}
		}
		n, field = p, p<<8
	}
	v := h.bank.Read32(regClockControl)
	v = v&^(ccFreqMask|toMask|ccSDClockEnable) | field | toMax | ccInternalEnable
	h.write(regClockControl, v)
	if !h.waitFor(h.cfg.CommandTimeout, func() bool { return h.bank.Read32(regClockControl)&ccInternalStable != 0 }) {
		return 0, h.errorf("internal clock did not become stable (clock control 0x%08X)", h.bank.Read32(regClockControl))
	}
	h.setBits(regClockControl, ccSDClockEnable)
	h.sdClock = h.base
	if n != 0 {
		h.sdClock = h.base / (2 * n)
	}
	return h.sdClock, nil
}

// response kinds, as the command register encodes them with their checks.
const (
	rNone = cmdRespNone
	r1    = cmdResp48 | cmdCRCCheck | cmdIndexCheck // also R6, R7
	r1b   = cmdResp48Busy | cmdCRCCheck | cmdIndexCheck
	r2    = cmdResp136 | cmdCRCCheck
	r3    = cmdResp48 // OCR: no CRC, no index
)

// cmdError is a failed command, with the error status bits.
type cmdError struct {
	cmd    string
	status uint32 // error interrupt status (high half of regIntStatus)
	msg    string
}

func (e *cmdError) Error() string {
	if e.status == 0 {
		return fmt.Sprintf("%s: %s", e.cmd, e.msg)
	}
	var names []string
	for _, n := range errorNames {
		if e.status&n.bit != 0 {
			names = append(names, n.name)
		}
	}
	return fmt.Sprintf("%s: %s (error status 0x%04X)", e.cmd, strings.Join(names, ", "), e.status>>16)
}

func (e *cmdError) timedOut() bool { return e.status&(errCmdTimeout) != 0 }

// command sends one command and returns its response registers. A data transfer
// (data true) is only started: the caller reads the buffer and waits for
// transfer complete. On error the CMD (and DAT) line is reset so the next
// command starts clean.
func (h *Host) command(name string, index int, arg uint32, resp uint32, mode uint32, data bool) ([4]uint32, error) {
	var out [4]uint32
	inhibit := uint32(psCmdInhibit)
	if data || resp == r1b {
		inhibit |= psDatInhibit
	}
	if !h.waitFor(h.cfg.CommandTimeout, func() bool { return h.bank.Read32(regPresentState)&inhibit == 0 }) {
		h.resetLines(srCmd | srDat)
		return out, &cmdError{cmd: name, msg: fmt.Sprintf("controller busy (present state 0x%08X); CMD and DAT lines reset", h.bank.Read32(regPresentState))}
	}
	h.write(regIntStatus, 0xFFFFFFFF)
	cmd := uint32(index)<<cmdIndexShift | resp
	if data {
		cmd |= cmdDataPresent
	}
	h.write(regArgument, arg)
	// Transfer mode and command go in one 32-bit write: writing the command half
	// starts the command, so the mode must already be in place.
	h.write(regCommand, cmd<<16|mode)

	var st uint32
	if !h.waitFor(h.cfg.CommandTimeout, func() bool {
		st = h.bank.Read32(regIntStatus)
		return st&(intCmdComplete|intError) != 0
	}) {
		h.resetLines(srCmd | srDat)
		return out, &cmdError{cmd: name, msg: fmt.Sprintf("no response within %v; CMD and DAT lines reset", h.cfg.CommandTimeout)}
	}
	if st&intError != 0 {
		lines := uint32(srCmd)
		if data || st&^errCmdMask&0xFFFF0000 != 0 {
			lines |= srDat
		}
		h.resetLines(lines)
		return out, &cmdError{cmd: name, status: st & 0xFFFF0000}
	}
	h.write(regIntStatus, intCmdComplete)
	for i := range out {
		out[i] = h.bank.Read32(regResponse0 + uintptr(4*i))
	}
	if resp == r1b {
		// Busy signalling ends with transfer complete (spec 3.7.1.2).
		if err := h.waitTransfer(name, h.cfg.DataTimeout); err != nil {
			return out, err
		}
	}
	return out, nil
}

// waitTransfer waits for transfer complete (or an error) and clears it.
func (h *Host) waitTransfer(name string, timeout time.Duration) error {
	var st uint32
	if !h.waitFor(timeout, func() bool {
		st = h.bank.Read32(regIntStatus)
		return st&(intXferComplete|intError) != 0
	}) {
		h.resetLines(srCmd | srDat)
		return &cmdError{cmd: name, msg: fmt.Sprintf("transfer did not complete within %v; CMD and DAT lines reset", timeout)}
	}
	if st&intError != 0 {
		h.resetLines(srCmd | srDat)
		return &cmdError{cmd: name, status: st & 0xFFFF0000}
	}
	h.write(regIntStatus, intXferComplete)
	return nil
}
