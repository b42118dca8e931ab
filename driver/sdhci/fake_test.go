package sdhci

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"
)

// fakeCard models an SD card's command state machine (SD spec 4.2-4.3) closely
// enough to answer the identification sequence and serve reads from image.
type fakeCard struct {
	image                []byte
	sdhc, v2             bool // high capacity; answers CMD8
	fourBit, highSpeed   bool // SCR says 4-bit; CMD6 offers high speed
	busyPolls            int  // ACMD41 answers "busy" this many times
	silent               bool // answers nothing
	failReads, failBlock int  // the next failReads reads stop with a data timeout after failBlock blocks
	state                string
	rca                  uint16
	app, wide, hsActive  bool
}

func (c *fakeCard) blocks() uint64 { return uint64(len(c.image)) / 512 }

// setBits stores v in bits hi..lo (SD numbering) of a 136-bit response as the
// controller's response registers hold it: bits 127:8 as register bits 119:0
// (SDHCI spec table 2-6).
func setBits(r *[4]uint32, hi, lo int, v uint32) {
	for b := lo; b <= hi; b++ {
		rb := b - 8
		if v>>(b-lo)&1 != 0 {
			r[rb/32] |= 1 << (rb % 32)
		}
	}
}

func (c *fakeCard) cid() (r [4]uint32) {
	setBits(&r, 127, 120, 0x03)
	for i, ch := range []byte("SD16G") {
		hi := 103 - 8*i
		setBits(&r, hi, hi-7, uint32(ch))
	}
	return r
}

func (c *fakeCard) csd() (r [4]uint32) {
	if c.sdhc {
		setBits(&r, 127, 126, 1)
		setBits(&r, 69, 48, uint32(c.blocks()/1024-1))
		return r
	}
	// CSD 1.0 with 512-byte blocks and the largest multiplier: C_SIZE counts 256 KiB.
	setBits(&r, 83, 80, 9)
	setBits(&r, 49, 47, 7)
	setBits(&r, 73, 62, uint32(len(c.image)/(512*512)-1))
	return r
}

const statusTran = 4 << 9 // card status CURRENT_STATE = tran

// handle runs one command. It returns the response, data blocks to send (for
// data commands) and error status bits (a command timeout when the card stays
// silent, as real cards do for illegal commands).
func (c *fakeCard) handle(index int, arg uint32, count int) (resp [4]uint32, data [][]byte, errBits uint32) {
	timeout := uint32(errCmdTimeout)
	if c.silent {
		return resp, nil, timeout
	}
	app := c.app
	c.app = false
	if c.state == "data" && index != cmdStopTransmit {
		return resp, nil, timeout // only CMD12 is legal while sending data
	}
	if app {
		switch index {
		case acmdSendOpCond:
			if c.state != "idle" {
				return resp, nil, timeout
			}
			ocr := uint32(ocrVoltageWindow)
			if c.busyPolls > 0 || c.sdhc && arg&ocrHCS == 0 {
				c.busyPolls--
				return [4]uint32{ocr}, nil, 0
			}
			c.state = "ready"
			ocr |= ocrPowerUpDone
			if c.sdhc {
				ocr |= ocrHCS
			}
			return [4]uint32{ocr}, nil, 0
		case acmdSendSCR:
			scr := make([]byte, 8)
			scr[0] = 2 // SD_SPEC 2.00
			scr[1] = 0x01
			if c.fourBit {
				scr[1] = 0x05
			}
			return [4]uint32{statusTran}, [][]byte{scr}, 0
		case acmdSetBusWidth:
			c.wide = arg == 2
			return [4]uint32{statusTran}, nil, 0
		}
	}
	switch index {
	case cmdGoIdle:
		c.state, c.rca, c.wide, c.hsActive = "idle", 0, false, false
		return resp, nil, 0
	case cmdSendIfCond:
		if !c.v2 {
			return resp, nil, timeout
		}
		return [4]uint32{arg & 0xFFF}, nil, 0
	case cmdAppCmd:
		if c.rca != 0 && uint16(arg>>16) != c.rca {
			return resp, nil, timeout
		}
		c.app = true
		return [4]uint32{1 << 5}, nil, 0
	case cmdAllSendCID:
		if c.state != "ready" {
			return resp, nil, timeout
		}
		c.state = "ident"
		return c.cid(), nil, 0
	case cmdSendRelAddr:
		c.state, c.rca = "stby", 0x1234
		return [4]uint32{uint32(c.rca)<<16 | 3<<9}, nil, 0
	case cmdSendCSD:
		if c.state != "stby" || uint16(arg>>16) != c.rca {
			return resp, nil, timeout
		}
		return c.csd(), nil, 0
	case cmdSelectCard:
		if uint16(arg>>16) != c.rca {
			return resp, nil, timeout
		}
		c.state = "tran"
		return [4]uint32{3 << 9}, nil, 0
	case cmdSwitchFunc:
		st := make([]byte, 64)
		st[16] = 0xF
		if c.highSpeed {
			st[13] = 0x02
			st[16] = 1
			if arg>>31 == 1 && arg&0xF == 1 {
				c.hsActive = true
			}
		}
		return [4]uint32{statusTran}, [][]byte{st}, 0
	case cmdSetBlockLen:
		if arg != 512 {
			return [4]uint32{statusTran | 1<<29}, nil, 0
		}
		return [4]uint32{statusTran}, nil, 0
	case cmdReadSingle, cmdReadMultiple:
		if c.state != "tran" {
			return resp, nil, timeout
		}
		lba := uint64(arg)
		if !c.sdhc {
			if arg%512 != 0 {
				return [4]uint32{statusTran | 1<<30}, nil, 0 // ADDRESS_ERROR
			}
			lba = uint64(arg) / 512
		}
		if index == cmdReadSingle {
			count = 1
		}
		if lba+uint64(count) > c.blocks() {
			return [4]uint32{statusTran | 1<<31}, nil, 0 // OUT_OF_RANGE
		}
		for i := 0; i < count; i++ {
			off := (lba + uint64(i)) * 512
			data = append(data, c.image[off:off+512])
		}
		if index == cmdReadMultiple {
			c.state = "data"
		}
		return [4]uint32{statusTran}, data, 0
	case cmdStopTransmit:
		if c.state != "data" {
			return resp, nil, timeout
		}
		c.state = "tran"
		return [4]uint32{statusTran}, nil, 0
	}
	return resp, nil, timeout
}

// fakeHost is an SDHCI register model: enough of the spec's state machine to run
// the driver's init sequence and PIO reads, with the checks a real controller or
// card would make (clock rates, bus width, 32-bit aligned accesses).
type fakeHost struct {
	t      *testing.T
	card   *fakeCard // nil: empty slot
	baseHz uint32    // what the capabilities register reports, in MHz
	hang   bool      // commands never complete

	regs      map[uintptr]uint32
	intStatus uint32
	resp      [4]uint32
	pending   [][]byte // blocks still to send
	cur       []byte   // the block in the buffer
	pos       int
	autoStop  bool
	failAfter bool // end the transfer with a data timeout instead of completing

	log    []string
	resets map[uint32]int

	// The fake's own clock: every register access takes accessTime and the
	// driver's sleeps pass on it (host wires them), so the timing rule below
	// holds whatever the machine running the test is doing.
	clock     time.Duration
	slept     time.Duration // the driver's sleeps, in total
	lastWrite map[uintptr]time.Duration
	// dropped lists the writes lost as the BCM2711's EMMC2 loses them: a write
	// to a register within two SD clock cycles of the previous write to the
	// same register (Linux sdhci-iproc.c; with no clock running the
	// identification rate's 400 kHz is assumed).
	dropped []string
}

// accessTime is what one register access takes on the fake's clock.
const accessTime = 100 * time.Nanosecond

// newFakeHost returns the fake controller with card in its slot (nil: empty).
// A test fails if any write was lost.
func newFakeHost(t *testing.T, card *fakeCard) *fakeHost {
	f := &fakeHost{t: t, card: card, baseHz: 100, regs: map[uintptr]uint32{}, resets: map[uint32]int{}, lastWrite: map[uintptr]time.Duration{}}
	t.Cleanup(func() {
		for _, d := range f.dropped {
			t.Errorf("write lost: %s", d)
		}
	})
	return f
}

// host returns a driver for the fake that runs on the fake's clock.
func (f *fakeHost) host(cfg Config) *Host {
	h := New(f, cfg)
	h.now = func() time.Time { return time.Unix(0, 0).Add(f.clock) }
	h.sleep = func(d time.Duration) { f.clock += d; f.slept += d }
	return h
}

// dividedClock is the clock the divider makes while the internal clock runs
// (SDHCI 3.00 10-bit divider), whether or not it reaches the card.
func (f *fakeHost) dividedClock() uint32 {
	cc := f.regs[regClockControl]
	if cc&ccInternalEnable == 0 {
		return 0
	}
	n := cc>>8&0xFF | (cc>>6&3)<<8
	if n == 0 {
		return f.baseHz * 1e6
	}
	return f.baseHz * 1e6 / (2 * n)
}

// sdClock is the SD clock the card gets.
func (f *fakeHost) sdClock() uint32 {
	if f.regs[regClockControl]&ccSDClockEnable == 0 {
		return 0
	}
	return f.dividedClock()
}

// lost reports whether a write to off now is lost in the clock-domain crossing.
func (f *fakeHost) lost(off uintptr, v uint32) bool {
	hz := f.dividedClock()
	if hz == 0 {
		hz = identClockHz
	}
	window := 2 * time.Second / time.Duration(hz)
	last, seen := f.lastWrite[off]
	if seen && f.clock-last < window {
		f.dropped = append(f.dropped, fmt.Sprintf("0x%08X to register 0x%02X %v after the previous write (two SD clocks: %v)", v, off, f.clock-last, window))
		return true
	}
	f.lastWrite[off] = f.clock
	return false
}

func (f *fakeHost) Read32(off uintptr) uint32 {
	f.clock += accessTime
	if off%4 != 0 || off >= 0x100 {
		f.t.Errorf("register read at 0x%X: not an aligned register", off)
	}
	switch off {
	case regPresentState:
		var v uint32
		if f.card != nil {
			v |= psCardInserted | psCardStable | psCardDetectPin
		}
		if f.cur != nil {
			v |= psBufferReadEn
		}
		return v
	case regIntStatus:
		return f.intStatus
	case regResponse0, regResponse0 + 4, regResponse0 + 8, regResponse0 + 12:
		return f.resp[(off-regResponse0)/4]
	case regBufferData:
		return f.readPort()
	case regCapabilities:
		return capVoltage33 | capHighSpeed | f.baseHz<<capBaseClockShift
	case regHostVersion:
		return specVersion300 << 16
	}
	return f.regs[off]
}

func (f *fakeHost) readPort() uint32 {
	if f.cur == nil {
		f.t.Errorf("buffer data port read with no block ready")
		return 0
	}
	var w [4]byte
	copy(w[:], f.cur[f.pos:])
	f.pos += 4
	if f.pos >= len(f.cur) {
		f.cur = nil
		f.nextBlock()
	}
	return binary.LittleEndian.Uint32(w[:])
}

// nextBlock puts the next block in the buffer, or ends the transfer.
func (f *fakeHost) nextBlock() {
	switch {
	case len(f.pending) > 0:
		f.cur, f.pos, f.pending = f.pending[0], 0, f.pending[1:]
		f.intStatus |= intBufReadReady
	case f.failAfter:
		f.intStatus |= intError | errDataTimeout
	default:
		f.intStatus |= intXferComplete
		if f.autoStop && f.card.state == "data" {
			f.card.state = "tran"
		}
	}
}

func (f *fakeHost) Write32(off uintptr, v uint32) {
	f.clock += accessTime
	if off%4 != 0 || off >= 0x100 {
		f.t.Errorf("register write at 0x%X: not an aligned register", off)
	}
	if f.lost(off, v) {
		return
	}
	switch off {
	case regIntStatus:
		f.intStatus &^= v // write 1 to clear
		return
	case regClockControl:
		if r := v & (srAll | srCmd | srDat); r != 0 {
			f.resets[r]++
			if r&(srAll|srDat) != 0 {
				f.pending, f.cur, f.failAfter = nil, nil, false
			}
			if r&srAll != 0 {
				f.regs = map[uintptr]uint32{}
				f.intStatus = 0
				v = 0
			}
			v &^= srAll | srCmd | srDat // resets finish at once
		}
		if v&ccInternalEnable != 0 {
			v |= ccInternalStable
		}
	case regCommand:
		f.regs[off] = v
		f.issue(v)
		return
	}
	f.regs[off] = v
}

// wantResp is the response type each command needs (SD spec 4.7.4).
var wantResp = map[int]uint32{0: cmdRespNone, 2: cmdResp136, 9: cmdResp136, 7: cmdResp48Busy, 12: cmdResp48Busy}

func (f *fakeHost) issue(v uint32) {
	index, respType := int(v>>24&0x3F), v>>16&3
	data, mode := v>>21&1 != 0, v&0xFFFF
	arg := f.regs[regArgument]
	f.log = append(f.log, fmt.Sprintf("CMD%d %08X", index, arg))
	if f.hang {
		return
	}
	want, ok := wantResp[index]
	if !ok {
		want = cmdResp48
	}
	if respType != want {
		f.t.Errorf("CMD%d sent with response type %d, want %d", index, respType, want)
	}
	clock := f.sdClock()
	if f.card == nil || clock == 0 || f.regs[regHostControl]&pcBusPower == 0 {
		f.intStatus |= intError | errCmdTimeout
		return
	}
	if f.card.state != "tran" && f.card.state != "data" && clock > identClockHz {
		f.t.Errorf("CMD%d in state %q at %d Hz: identification runs at 400 kHz at most", index, f.card.state, clock)
	}
	count := int(f.regs[regBlockSizeCount] >> 16)
	if data && count > 1 && mode&(tmMultiBlock|tmBlockCountEn) != tmMultiBlock|tmBlockCountEn {
		f.t.Errorf("CMD%d reads %d blocks with transfer mode 0x%X", index, count, mode)
	}
	if data && mode&tmDMAEnable != 0 {
		f.t.Errorf("DMA enabled")
	}
	resp, blocks, errBits := f.card.handle(index, arg, count)
	if respType == cmdRespNone {
		// Nothing to wait for: the command completes once it is sent.
		f.intStatus |= intCmdComplete
		return
	}
	if errBits != 0 {
		f.intStatus |= intError | errBits
		return
	}
	f.resp = resp
	f.intStatus |= intCmdComplete
	if respType == cmdResp48Busy {
		f.intStatus |= intXferComplete
	}
	if !data {
		if blocks != nil {
			f.t.Errorf("CMD%d returns data but was sent without the data-present flag", index)
		}
		return
	}
	size := int(f.regs[regBlockSizeCount] & 0xFFF)
	for _, b := range blocks {
		if len(b) != size {
			f.t.Errorf("CMD%d sends %d-byte blocks, block size register says %d", index, len(b), size)
		}
	}
	hostWide := f.regs[regHostControl]&hcDataWidth4 != 0
	tooFast := clock > highSpeedClockHz || clock > defaultClockHz && !(f.card.hsActive && f.regs[regHostControl]&hcHighSpeed != 0)
	if hostWide != f.card.wide || tooFast {
		f.intStatus |= intError | errDataCRC // the host samples garbage
		return
	}
	if blocks == nil {
		return // the card refused (status in the response)
	}
	f.autoStop = mode&tmAutoCMD12 != 0
	f.failAfter = false
	if (index == cmdReadSingle || index == cmdReadMultiple) && f.card.failReads > 0 {
		f.card.failReads--
		blocks = blocks[:min(f.card.failBlock, len(blocks))]
		f.failAfter = true
	}
	f.pending = blocks
	f.nextBlock()
}
