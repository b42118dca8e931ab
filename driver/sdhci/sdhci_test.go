package sdhci

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func image(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// fastConfig keeps the error tests quick.
var fastConfig = Config{Name: "test", CommandTimeout: 20 * time.Millisecond, DataTimeout: 20 * time.Millisecond, InitTimeout: 200 * time.Millisecond}

func checkReads(t *testing.T, h *Host, img []byte) {
	t.Helper()
	for _, r := range [][2]int{{0, 1}, {1, 1}, {5, 8}, {100, 300}, {len(img)/512 - 3, 3}, {len(img)/512 - 1, 1}} {
		buf := make([]byte, r[1]*512)
		if err := h.ReadBlocks(uint64(r[0]), buf); err != nil {
			t.Fatalf("ReadBlocks(%d, %d blocks): %v", r[0], r[1], err)
		}
		if !bytes.Equal(buf, img[r[0]*512:(r[0]+r[1])*512]) {
			t.Fatalf("ReadBlocks(%d, %d blocks) returned the wrong bytes", r[0], r[1])
		}
	}
}

func TestSDHCHighSpeed4Bit(t *testing.T) {
	img := image(4 << 20)
	card := &fakeCard{image: img, sdhc: true, v2: true, fourBit: true, highSpeed: true, busyPolls: 3}
	f := newFakeHost(t, card)
	h := f.host(Config{Name: "emmc2", BaseClock: 100_000_000})
	h.maxBlocksPerRead = 64 // so that long reads take several commands
	if !h.CardPresent() {
		t.Fatal("card not present")
	}
	if err := h.Init(); err != nil {
		t.Fatal(err)
	}
	c := h.Card()
	if !c.HighCapacity || c.Blocks != uint64(len(img)/512) || c.BusWidth != 4 || !c.HighSpeed || c.ClockHz != 50_000_000 || c.Product != "SD16G" || c.RCA != 0x1234 {
		t.Fatalf("card %+v", c)
	}
	if got := f.sdClock(); got != 50_000_000 {
		t.Errorf("SD clock programmed to %d Hz, want 50 MHz", got)
	}
	if !strings.Contains(c.String(), `SDHC/SDXC card "SD16G", 4 MB, 4-bit bus at 50000 kHz (high speed)`) {
		t.Errorf("String: %s", c)
	}
	checkReads(t, h, img)
	// Block addressing, one CMD17 for one block, CMD18s of at most 64 blocks.
	if !slices.Contains(f.log, "CMD17 00000005") && !slices.Contains(f.log, "CMD17 00000001") {
		t.Errorf("no single-block read in %q", f.log)
	}
	if !slices.Contains(f.log, "CMD18 00000064") || !slices.Contains(f.log, "CMD18 000000A4") {
		t.Errorf("300 blocks at 100 were not read as CMD18s at LBA 100, 164, ...: %q", f.log)
	}
}

// The EMMC2 loses a write that follows another to the same register within
// two SD clocks (the fake drops it): at the 400 kHz of identification every
// write is spaced, power goes on in one write and the card comes up; at the
// data rate nothing waits.
func TestWritesSpacedAtIdentificationClock(t *testing.T) {
	img := image(1 << 20)
	f := newFakeHost(t, &fakeCard{image: img, sdhc: true, v2: true, fourBit: true, highSpeed: true})
	h := f.host(Config{Name: "emmc2", BaseClock: 100_000_000})
	if err := h.Init(); err != nil {
		t.Fatalf("Init: %v", err)
	}
	if f.regs[regHostControl]&pcPowerMask != pcVoltage33|pcBusPower {
		t.Errorf("power control 0x%X", f.regs[regHostControl]>>8&0xF)
	}
	before := f.slept
	checkReads(t, h, img)
	if d := f.slept - before; d != 0 {
		t.Errorf("reads at 50 MHz slept %v: writes were spaced at the data rate", d)
	}
}

func TestSDSCDefaultSpeed1Bit(t *testing.T) {
	img := image(1 << 20)
	card := &fakeCard{image: img} // version 1.x: no CMD8, byte addressing, 1-bit, no CMD6 high speed
	f := newFakeHost(t, card)
	f.baseHz = 52 // as QEMU's capabilities report; no BaseClock given
	h := f.host(Config{Name: "emmc"})
	if err := h.Init(); err != nil {
		t.Fatal(err)
	}
	c := h.Card()
	if c.HighCapacity || c.Blocks != 2048 || c.BusWidth != 1 || c.HighSpeed || c.ClockHz > 25_000_000 {
		t.Fatalf("card %+v", c)
	}
	checkReads(t, h, img)
	if !slices.Contains(f.log, "CMD18 00000A00") { // LBA 5 as a byte address
		t.Errorf("SDSC reads are not byte-addressed: %q", f.log)
	}
}

func TestSDHCWithoutHighSpeed(t *testing.T) {
	img := image(2 << 20)
	f := newFakeHost(t, &fakeCard{image: img, sdhc: true, v2: true, fourBit: true})
	h := f.host(Config{BaseClock: 200_000_000})
	if err := h.Init(); err != nil {
		t.Fatal(err)
	}
	if c := h.Card(); c.HighSpeed || c.ClockHz != 25_000_000 || c.BusWidth != 4 {
		t.Fatalf("card %+v", c)
	}
	checkReads(t, h, img)
}

func TestNoCard(t *testing.T) {
	f := newFakeHost(t, nil)
	h := f.host(fastConfig)
	if h.CardPresent() {
		t.Fatal("empty slot reports a card")
	}
	err := h.Init()
	if !errors.Is(err, ErrNoCard) || !strings.Contains(err.Error(), "sdhci test: no SD card inserted (present state 0x00000000)") {
		t.Fatalf("Init: %v", err)
	}
	if err := h.ReadBlocks(0, make([]byte, 512)); err == nil || !strings.Contains(err.Error(), "no card initialised") {
		t.Errorf("read without a card: %v", err)
	}
}

func TestSilentCard(t *testing.T) {
	f := newFakeHost(t, &fakeCard{image: image(1 << 20), silent: true})
	err := f.host(fastConfig).Init()
	if !errors.Is(err, ErrNoCard) || !strings.Contains(err.Error(), "CMD55: command timeout (error status 0x0001)") {
		t.Fatalf("Init: %v", err)
	}
}

func TestControllerHangs(t *testing.T) {
	f := newFakeHost(t, &fakeCard{image: image(1 << 20)})
	f.hang = true
	start := time.Now()
	err := f.host(fastConfig).Init()
	if err == nil || !strings.Contains(err.Error(), "CMD0: no response within 20ms; CMD and DAT lines reset") {
		t.Fatalf("Init: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("gave up after %v", time.Since(start))
	}
	if f.resets[srCmd|srDat] == 0 {
		t.Errorf("no CMD/DAT line reset after the timeout: %v", f.resets)
	}
}

func TestCardNeverReady(t *testing.T) {
	f := newFakeHost(t, &fakeCard{image: image(1 << 20), v2: true, busyPolls: 1 << 30})
	err := f.host(fastConfig).Init()
	if err == nil || !strings.Contains(err.Error(), "card did not finish powering up within 200ms") {
		t.Fatalf("Init: %v", err)
	}
}

func TestReadErrorRecovery(t *testing.T) {
	img := image(2 << 20)
	card := &fakeCard{image: img, sdhc: true, v2: true, fourBit: true, highSpeed: true}
	f := newFakeHost(t, card)
	h := f.host(fastConfig)
	if err := h.Init(); err != nil {
		t.Fatal(err)
	}

	// One failure: the read is retried after the lines are reset and the card
	// stopped with CMD12.
	card.failReads, card.failBlock = 1, 3
	buf := make([]byte, 16*512)
	if err := h.ReadBlocks(10, buf); err != nil {
		t.Fatalf("ReadBlocks after one transient failure: %v", err)
	}
	if !bytes.Equal(buf, img[10*512:26*512]) {
		t.Fatal("retried read returned the wrong bytes")
	}
	if f.resets[srCmd|srDat] == 0 || !slices.Contains(f.log, "CMD12 00000000") {
		t.Errorf("no line reset or CMD12 after the failed read: resets %v, log %q", f.resets, f.log)
	}

	// A persistent failure is reported with what, where and why.
	card.failReads, card.failBlock = 2, 0
	err := h.ReadBlocks(10, buf)
	if err == nil || !strings.Contains(err.Error(), "reading 16 blocks at LBA 10 failed twice: CMD18: data timeout (error status 0x0010)") {
		t.Fatalf("ReadBlocks: %v", err)
	}
	card.failReads, card.failBlock = 2, 3
	err = h.ReadBlocks(10, buf)
	if err == nil || !strings.Contains(err.Error(), "CMD18: block 4 of 16: data: data timeout (error status 0x0010); CMD and DAT lines reset") {
		t.Fatalf("ReadBlocks failing mid-transfer: %v", err)
	}
	// ... and the card still works afterwards.
	checkReads(t, h, img)

	if err := h.ReadBlocks(h.Blocks()-1, make([]byte, 1024)); err == nil || !strings.Contains(err.Error(), "beyond the end") {
		t.Errorf("read past the end: %v", err)
	}
}

func TestFindCard(t *testing.T) {
	img := image(1 << 20)
	empty := newFakeHost(t, nil).host(Config{Name: "emmc2", CommandTimeout: fastConfig.CommandTimeout})
	full := newFakeHost(t, &fakeCard{image: img, sdhc: false, v2: true}).host(Config{Name: "emmc"})
	h, err := FindCard(empty, full)
	if err != nil || h != full {
		t.Fatalf("FindCard: %v, %v", h, err)
	}
	buf := make([]byte, 512)
	if err := h.ReadBlocks(7, buf); err != nil || !bytes.Equal(buf, img[7*512:8*512]) {
		t.Fatalf("read: %v", err)
	}
	_, err = FindCard(empty, newFakeHost(t, nil).host(Config{Name: "emmc", CommandTimeout: fastConfig.CommandTimeout}))
	if !errors.Is(err, ErrNoCard) || !strings.Contains(err.Error(), "sdhci emmc2: no SD card inserted") || !strings.Contains(err.Error(), "sdhci emmc: no SD card inserted") {
		t.Fatalf("FindCard with two empty slots: %v", err)
	}
}
