package bcm2711

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/driver/pcie/bcm2711/rcfake"
)

func expectedTrace(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, strings.Join(strings.Fields(line), " "))
		}
	}
	return out
}

// TestBringUpSequence runs the whole Pi 4 bring-up against the fake and compares
// every access with the hand-written sequence in testdata/bringup.txt.
func TestBringUpSequence(t *testing.T) {
	f := rcfake.New()
	var log strings.Builder
	x, err := BringUp(f, f, Options{Log: &log, Sleep: f.Sleep})
	if err != nil {
		t.Fatalf("BringUp: %v\n%s", err, log.String())
	}
	want := expectedTrace(t, "testdata/bringup.txt")
	for i := 0; i < len(want) || i < len(f.Trace); i++ {
		var g, w string
		if i < len(f.Trace) {
			g = f.Trace[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			from := max(0, i-3)
			t.Fatalf("access %d: got %q, want %q\nrecorded around it:\n  %s", i, g, w,
				strings.Join(f.Trace[from:min(len(f.Trace), i+4)], "\n  "))
		}
	}
	for _, v := range f.Violations {
		t.Error(v)
	}
	if x.Base != 0x6_0000_0000 || x.DMAOffset != 0 || x.Firmware != 0x138c0 || x.Function.Addr.Bus != 1 || x.Link != "Gen 2 x1" {
		t.Errorf("result %+v", x)
	}
	for _, s := range []string{
		"pcie: bridge reset and PERST# asserted (RGR1_SW_INIT_1 0x00000003)",
		"pcie: link up after 110 ms (MISC_PCIE_STATUS 0x000000b0): Gen 2 x1",
		"pcie: outbound window CPU 0x600000000 = PCI 0xf8000000, 64 MiB (BASE_LIMIT 0x03f00000, BASE_HI 6, LIMIT_HI 6)",
		"pci 01:00.0 1106:3483 class 0c0330: BAR0 64-bit 4 KiB at bus 0xf8000000 (CPU 0x600000000)",
		"pcie: VL805 firmware 0x000138c0 running after 2 ms",
	} {
		if !strings.Contains(log.String(), s) {
			t.Errorf("log lacks %q:\n%s", s, log.String())
		}
	}
}

// A board whose link never trains: a clear error after the bounded wait, and no
// configuration access beyond the root port (which would fault).
func TestLinkDown(t *testing.T) {
	f := rcfake.New()
	f.LinkPolls = -1
	_, err := BringUp(f, f, Options{Sleep: f.Sleep})
	if err == nil || !strings.Contains(err.Error(), "link down 200 ms after PERST# was released") ||
		!strings.Contains(err.Error(), "PHY link down, data link down") {
		t.Fatalf("err = %v", err)
	}
	for _, v := range f.Violations {
		t.Error(v)
	}
	polls := 0
	for _, s := range f.Trace {
		if strings.HasPrefix(s, "R 0x4068") {
			polls++
		}
	}
	if polls != 21 { // at 100 ms, then every 5 ms up to 200 ms
		t.Errorf("%d status polls, want 21", polls)
	}
}

func TestEndpointModeAndDeadBlock(t *testing.T) {
	f := rcfake.New()
	f.EndpointMode = true
	if _, err := BringUp(f, f, Options{Sleep: f.Sleep}); err == nil || !strings.Contains(err.Error(), "endpoint mode") {
		t.Errorf("endpoint mode: %v", err)
	}
	f = rcfake.New()
	f.SetMisc(miscRevision, 0xFFFFFFFF)
	if _, err := BringUp(f, f, Options{Sleep: f.Sleep}); err == nil || !strings.Contains(err.Error(), "all-ones") {
		t.Errorf("dead block: %v", err)
	}
	if n := len(f.Trace); n != 1 {
		t.Errorf("%d accesses to a dead block, want 1", n)
	}
}

// The inbound window the C0-stepping firmware describes: PCI 0x4_0000_0000,
// 8 GiB: BAR2 LO 0x12 (size code log2 - 15, brcm_pcie_encode_ibar_size), HI 4,
// SCB0_SIZE 18; DMA offset reported.
func TestC0Inbound(t *testing.T) {
	f := rcfake.New()
	x, err := BringUp(f, f, Options{Sleep: f.Sleep, Inbound: Inbound{Offset: 0x4_0000_0000, Size: 8 << 30}})
	if err != nil {
		t.Fatal(err)
	}
	if f.Misc(miscRCBar2Lo) != 0x12 || f.Misc(miscRCBar2Hi) != 4 || f.Misc(miscCtrl)>>ctrlSCB0SizeShift != 18 {
		t.Errorf("BAR2 %#x:%#x, SCB0 %d", f.Misc(miscRCBar2Hi), f.Misc(miscRCBar2Lo), f.Misc(miscCtrl)>>ctrlSCB0SizeShift)
	}
	if x.DMAOffset != 0x4_0000_0000 {
		t.Errorf("DMA offset %#x", x.DMAOffset)
	}
	if _, err := BringUp(rcfake.New(), f, Options{Sleep: f.Sleep, Inbound: Inbound{Offset: 0x1000, Size: 3 << 30}}); err == nil {
		t.Error("a 3 GiB inbound window was accepted")
	}
}

// A VL805 whose firmware never loads (a rev 1.4 board whose VideoCore could
// not load it): BringUp fails with ErrNoFirmware after a bounded wait that
// starts 1 ms after the notify, and the xHCI is never reached.
func TestFirmwareNeverLoads(t *testing.T) {
	f := rcfake.New()
	f.FirmwarePolls = -1
	var log strings.Builder
	x, err := BringUp(f, f, Options{Log: &log, Sleep: f.Sleep})
	if x != nil || !errors.Is(err, ErrNoFirmware) || !strings.Contains(err.Error(), "(config 0x50 = 0) 100 ms after the VideoCore was asked to load it") {
		t.Fatalf("BringUp = %+v, %v\n%s", x, err, log.String())
	}
	for _, v := range f.Violations {
		t.Error(v)
	}
	i := slices.Index(f.Trace, "M 0x00100000")
	if i < 0 || f.Trace[i+1] != "S 1ms" {
		t.Errorf("the first access after the notify is not a 1 ms wait: %q", f.Trace[i:min(i+4, len(f.Trace))])
	}
}

// A firmware load that resets the VL805's configuration: BAR0 and COMMAND are
// found cleared, programmed again and checked before BringUp returns.
func TestDecodingLostInTheFirmwareLoad(t *testing.T) {
	f := rcfake.New()
	f.ResetOnNotify = true
	var log strings.Builder
	x, err := BringUp(f, f, Options{Log: &log, Sleep: f.Sleep})
	if err != nil {
		t.Fatalf("BringUp: %v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "pcie: VL805 configuration lost in the firmware load (config 0x04 = 0x00000000, want 0x00000006, config 0x10 = 0x00000004, want 0xf8000004); programming BAR0 and COMMAND again") {
		t.Errorf("log:\n%s", log.String())
	}
	if f.VL805.Read32(0x10) != 0xf8000004 || f.VL805.Read32(0x04)&6 != 6 || x.Base != 0x6_0000_0000 {
		t.Errorf("BAR0 %#x, COMMAND %#x, base %#x", f.VL805.Read32(0x10), f.VL805.Read32(0x04), x.Base)
	}
	for _, v := range f.Violations {
		t.Error(v)
	}
}

func TestEncodeInboundSize(t *testing.T) {
	for size, want := range map[uint64]uint32{4 << 10: 0x1C, 32 << 10: 0x1F, 64 << 10: 1, 1 << 30: 15, 4 << 30: 17, 8 << 30: 18, 32 << 30: 20, 3 << 30: 0, 64 << 30: 0} {
		if got := encodeInboundSize(size); got != want {
			t.Errorf("encodeInboundSize(%#x) = %#x, want %#x", size, got, want)
		}
	}
}
