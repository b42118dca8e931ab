package storage

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inferpi/inferpi/driver/sdhci"
	"github.com/inferpi/inferpi/platform/bootlog"
	"github.com/inferpi/inferpi/soc/bcm2711"
)

// emptySlot is an SDHCI register bank with no card in the slot: resets finish
// at once, the internal clock is stable as soon as it is enabled, and present
// state never shows a card. caps is the capabilities register.
type emptySlot struct {
	mu   sync.Mutex
	regs map[uintptr]uint32
}

// QEMU 10's generic-sdhci capabilities: 52 MHz base clock, 3.3 V, high speed
// (QEMU hw/arm/bcm2838_peripherals.c: BCM2835_SDHC_CAPAREG).
const qemuCaps = 0x052134b4

func newEmptySlot(caps uint32) *emptySlot {
	return &emptySlot{regs: map[uintptr]uint32{0x40: caps, 0xFC: 0x0002 << 16}}
}

func (s *emptySlot) Read32(off uintptr) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.regs[off]
}

func (s *emptySlot) Write32(off uintptr, v uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if off == 0x2C { // clock control: resets self-clear, the clock settles at once
		v &^= 7 << 24
		if v&1 != 0 {
			v |= 2
		}
	}
	s.regs[off] = v
}

type fakeClocks map[bcm2711.Clock]uint32

func (f fakeClocks) ClockRate(c bcm2711.Clock) (uint32, error) {
	if r, ok := f[c]; ok {
		return r, nil
	}
	return 0, errors.New("mailbox: tag 0x00030002 (clock rate): the firmware does not answer this tag")
}

func TestBaseClock(t *testing.T) {
	for _, c := range []struct {
		name   string
		caps   uint32
		clocks Clocks
		hz     uint32
		from   string
		err    string
	}{
		{"firmware rate", qemuCaps, fakeClocks{bcm2711.ClockEMMC2: 100_000_000}, 100_000_000, "firmware clock EMMC2", ""},
		// QEMU's firmware model answers 700 MHz for clocks it does not model.
		{"implausible firmware rate", qemuCaps, fakeClocks{bcm2711.ClockEMMC2: 700_000_000}, 52_000_000,
			"capabilities register; firmware says EMMC2 runs at 700 MHz, outside SDHCI's 10-255 MHz", ""},
		{"firmware error", qemuCaps, fakeClocks{}, 52_000_000, "capabilities register; mailbox: tag 0x00030002", ""},
		{"no mailbox", qemuCaps, nil, 52_000_000, "capabilities register; no mailbox", ""},
		{"nothing knows", 0x01000000, nil, 0, "", "base clock unknown: no mailbox, and the capabilities register (0x01000000) does not say"},
	} {
		t.Run(c.name, func(t *testing.T) {
			hz, from, err := BaseClock(newEmptySlot(c.caps), c.clocks, bcm2711.ClockEMMC2)
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Errorf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || hz != c.hz || !strings.HasPrefix(from, c.from) {
				t.Errorf("BaseClock = %d, %q, %v; want %d, %q...", hz, from, err, c.hz, c.from)
			}
		})
	}
}

// With no card anywhere, every controller is tried, each step is logged, and
// the error names both controllers and wraps sdhci.ErrNoCard.
func TestProbeSDNoCard(t *testing.T) {
	var out bytes.Buffer
	log := bootlog.New(&out, "sd")
	log.Uptime = func() time.Duration { return 2 * time.Second }
	ctrls := []SDController{
		{Name: "emmc2", Addr: 0xFE340000, Bank: newEmptySlot(qemuCaps), Clock: bcm2711.ClockEMMC2},
		{Name: "emmc", Addr: 0xFE300000, Bank: newEmptySlot(0x01000000), Clock: bcm2711.ClockEMMC}, // no clock in caps
	}
	h, err := ProbeSD(log, fakeClocks{bcm2711.ClockEMMC2: 100_000_000}, ctrls...)
	if h != nil || !errors.Is(err, sdhci.ErrNoCard) {
		t.Fatalf("ProbeSD = %v, %v; want no host and ErrNoCard", h, err)
	}
	wantErr := "no SD card found: emmc2 @0xfe340000: no SD card inserted (present state 0x00000000); " +
		"emmc @0xfe300000: base clock unknown: mailbox: tag 0x00030002 (clock rate): the firmware does not answer this tag, and the capabilities register (0x01000000) does not say"
	if err.Error() != wantErr {
		t.Errorf("error\n%s\nwant\n%s", err, wantErr)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{
		"[  2.000000] sd: emmc2 @0xfe340000: base clock 100 MHz (firmware clock EMMC2)",
		"[  2.000000] sd: emmc2: no card (",
		"[  2.000000] sd: emmc @0xfe300000: base clock unknown: ",
	}
	if len(lines) != len(want) {
		t.Fatalf("log:\n%s\nwant %d lines", out.String(), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("log line %d: %q, want %q...", i, lines[i], want[i])
		}
	}
	if !strings.HasSuffix(lines[1], "ms): no SD card inserted (present state 0x00000000)") {
		t.Errorf("no-card line %q", lines[1])
	}
}
