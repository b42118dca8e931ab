package bcm2711

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/inferpi/inferpi/driver/pci/pcifake"
)

// fakeRC answers the root complex's registers the way pcie-brcmstb.c describes
// the hardware and records every access, sleep and mailbox call.
type fakeRC struct {
	trace      []string
	misc       map[uintptr]uint32
	root       *pcifake.Function // the root port's configuration space (offsets 0-0xfff)
	vl805      *pcifake.Function
	extIdx     uint32
	linkPolls  int  // status reads after PERST# release until the link is up (-1: never)
	epMode     bool // controller strapped as an endpoint
	notified   bool
	fwPolls    int // firmware-version reads after the notification until it is non-zero
	violations []string
}

func newFakeRC() *fakeRC {
	f := &fakeRC{
		misc: map[uintptr]uint32{
			miscRevision:   0x304,
			rgr1SWInit1:    0,
			miscHardDebug:  hardDebugSerdesIDDQ,
			miscCtrl:       0x0010_0000,
			miscRCBar1Lo:   1,
			miscPCIeStatus: 0,
		},
		root:      pcifake.NewBridge(0x14e4, 0x2711),
		vl805:     pcifake.NewEndpoint(0x1106, 0x3483, 0x0C0330),
		linkPolls: 2,
		fwPolls:   1,
	}
	f.root.SetClass(0)
	f.root.Write32(capLinkCap, 0x13)
	f.root.Write32(capLinkControl2, 0x3)
	f.root.Write32(vendorSpecificReg1, 0xC)
	f.root.Write32(priv1LinkCap, 0xC00)
	f.vl805.AddBAR(0, 4096, true, false)
	return f
}

func (f *fakeRC) perstReleased() bool { return f.misc[rgr1SWInit1]&rgr1SWInit1Perst == 0 }

func (f *fakeRC) linkUp() bool {
	return f.misc[rgr1SWInit1]&(rgr1SWInit1Perst|rgr1SWInit1Init) == 0 && f.linkPolls == 0
}

func (f *fakeRC) read(off uintptr) uint32 {
	switch {
	case off < 0x1000:
		if off == capLinkControl && f.linkUp() {
			return 0x0012 << 16 // LNKSTA: Gen 2, x1
		}
		return f.root.Read32(int(off))
	case off >= extCfgData && off < extCfgData+0x1000:
		if !f.linkUp() || f.extIdx != 0x0010_0000 {
			f.violations = append(f.violations, fmt.Sprintf("config read at %#x with index %#x while the link is %v (SError on hardware)", off, f.extIdx, f.linkUp()))
			return 0xFFFFFFFF
		}
		if off-extCfgData == vl805FirmwareVersion {
			if !f.notified {
				return 0
			}
			if f.fwPolls > 0 {
				f.fwPolls--
				return 0
			}
			return 0x000138c0
		}
		return f.vl805.Read32(int(off - extCfgData))
	case off == miscPCIeStatus:
		st := uint32(statusRCMode)
		if f.epMode {
			st = 0
		}
		if f.perstReleased() && f.misc[rgr1SWInit1]&rgr1SWInit1Init == 0 {
			switch {
			case f.linkPolls < 0:
			case f.linkPolls == 0:
				st |= statusPhyLinkUp | statusDLActive
			case f.linkPolls == 1:
				st |= statusPhyLinkUp
				f.linkPolls--
			default:
				f.linkPolls--
			}
		}
		return st
	}
	return f.misc[off]
}

func (f *fakeRC) Read32(off uintptr) uint32 {
	v := f.read(off)
	f.trace = append(f.trace, fmt.Sprintf("R 0x%04x %#08x", off, v))
	return v
}

func (f *fakeRC) Write32(off uintptr, v uint32) {
	f.trace = append(f.trace, fmt.Sprintf("W 0x%04x %#08x", off, v))
	switch {
	case off < 0x1000:
		f.root.Write32(int(off), v)
		if off == priv1IDVal3 {
			f.root.SetClass(v & 0xFFFFFF)
		}
	case off >= extCfgData && off < extCfgData+0x1000:
		if !f.linkUp() {
			f.violations = append(f.violations, fmt.Sprintf("config write at %#x while the link is down", off))
			return
		}
		f.vl805.Write32(int(off-extCfgData), v)
	case off == extCfgIndex:
		f.extIdx = v
	default:
		f.misc[off] = v
	}
}

func (f *fakeRC) sleep(d time.Duration) { f.trace = append(f.trace, "S "+d.String()) }

func (f *fakeRC) NotifyXHCIReset(addr uint32) error {
	f.trace = append(f.trace, fmt.Sprintf("M %#08x", addr))
	if !f.linkUp() {
		return errors.New("no link")
	}
	f.notified = true
	// The VideoCore reaches the VL805 through the same root complex while it
	// loads the firmware, and leaves EXT_CFG_INDEX pointing elsewhere.
	f.extIdx = 0
	return nil
}

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
	f := newFakeRC()
	var log strings.Builder
	x, err := BringUp(f, f, Options{Log: &log, Sleep: f.sleep})
	if err != nil {
		t.Fatalf("BringUp: %v\n%s", err, log.String())
	}
	want := expectedTrace(t, "testdata/bringup.txt")
	for i := 0; i < len(want) || i < len(f.trace); i++ {
		var g, w string
		if i < len(f.trace) {
			g = f.trace[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			from := max(0, i-3)
			t.Fatalf("access %d: got %q, want %q\nrecorded around it:\n  %s", i, g, w,
				strings.Join(f.trace[from:min(len(f.trace), i+4)], "\n  "))
		}
	}
	for _, v := range f.violations {
		t.Error(v)
	}
	if x.Base != 0x6_0000_0000 || x.DMAOffset != 0 || x.Firmware != 0x138c0 || x.Function.Addr.Bus != 1 {
		t.Errorf("result %+v", x)
	}
	for _, s := range []string{
		"pcie: bridge reset and PERST# asserted (RGR1_SW_INIT_1 0x00000003)",
		"pcie: link up after 110 ms (MISC_PCIE_STATUS 0x000000b0): Gen 2 x1",
		"pcie: outbound window CPU 0x600000000 = PCI 0xf8000000, 64 MiB (BASE_LIMIT 0x03f00000, BASE_HI 6, LIMIT_HI 6)",
		"pci 01:00.0 1106:3483 class 0c0330: BAR0 64-bit 4 KiB at bus 0xf8000000 (CPU 0x600000000)",
		"pcie: VL805 firmware 0x000138c0 running after 1 ms",
	} {
		if !strings.Contains(log.String(), s) {
			t.Errorf("log lacks %q:\n%s", s, log.String())
		}
	}
}

// A board whose link never trains: a clear error after the bounded wait, and no
// configuration access beyond the root port (which would fault).
func TestLinkDown(t *testing.T) {
	f := newFakeRC()
	f.linkPolls = -1
	_, err := BringUp(f, f, Options{Sleep: f.sleep})
	if err == nil || !strings.Contains(err.Error(), "link down 200 ms after PERST# was released") ||
		!strings.Contains(err.Error(), "PHY link down, data link down") {
		t.Fatalf("err = %v", err)
	}
	for _, v := range f.violations {
		t.Error(v)
	}
	polls := 0
	for _, s := range f.trace {
		if strings.HasPrefix(s, "R 0x4068") {
			polls++
		}
	}
	if polls != 21 { // at 100 ms, then every 5 ms up to 200 ms
		t.Errorf("%d status polls, want 21", polls)
	}
}

func TestEndpointModeAndDeadBlock(t *testing.T) {
	f := newFakeRC()
	f.epMode = true
	if _, err := BringUp(f, f, Options{Sleep: f.sleep}); err == nil || !strings.Contains(err.Error(), "endpoint mode") {
		t.Errorf("endpoint mode: %v", err)
	}
	f = newFakeRC()
	f.misc[miscRevision] = 0xFFFFFFFF
	if _, err := BringUp(f, f, Options{Sleep: f.sleep}); err == nil || !strings.Contains(err.Error(), "all-ones") {
		t.Errorf("dead block: %v", err)
	}
	if n := len(f.trace); n != 1 {
		t.Errorf("%d accesses to a dead block, want 1", n)
	}
}

// The inbound window the C0-stepping firmware describes: PCI 0x4_0000_0000,
// 8 GiB: BAR2 LO 0x12 (size code log2 - 15, brcm_pcie_encode_ibar_size), HI 4,
// SCB0_SIZE 18; DMA offset reported.
func TestC0Inbound(t *testing.T) {
	f := newFakeRC()
	x, err := BringUp(f, f, Options{Sleep: f.sleep, Inbound: Inbound{Offset: 0x4_0000_0000, Size: 8 << 30}})
	if err != nil {
		t.Fatal(err)
	}
	if f.misc[miscRCBar2Lo] != 0x12 || f.misc[miscRCBar2Hi] != 4 || f.misc[miscCtrl]>>ctrlSCB0SizeShift != 18 {
		t.Errorf("BAR2 %#x:%#x, SCB0 %d", f.misc[miscRCBar2Hi], f.misc[miscRCBar2Lo], f.misc[miscCtrl]>>ctrlSCB0SizeShift)
	}
	if x.DMAOffset != 0x4_0000_0000 {
		t.Errorf("DMA offset %#x", x.DMAOffset)
	}
	if _, err := BringUp(newFakeRC(), f, Options{Sleep: f.sleep, Inbound: Inbound{Offset: 0x1000, Size: 3 << 30}}); err == nil {
		t.Error("a 3 GiB inbound window was accepted")
	}
}

func TestFirmwareNeverReports(t *testing.T) {
	f := newFakeRC()
	f.fwPolls = 1 << 30
	var log strings.Builder
	x, err := BringUp(f, f, Options{Log: &log, Sleep: f.sleep})
	if err != nil || x.Firmware != 0 || !strings.Contains(log.String(), "no firmware version") {
		t.Errorf("x %+v, err %v\n%s", x, err, log.String())
	}
}

func TestEncodeInboundSize(t *testing.T) {
	for size, want := range map[uint64]uint32{4 << 10: 0x1C, 32 << 10: 0x1F, 64 << 10: 1, 1 << 30: 15, 4 << 30: 17, 8 << 30: 18, 32 << 30: 20, 3 << 30: 0, 64 << 30: 0} {
		if got := encodeInboundSize(size); got != want {
			t.Errorf("encodeInboundSize(%#x) = %#x, want %#x", size, got, want)
		}
	}
}
