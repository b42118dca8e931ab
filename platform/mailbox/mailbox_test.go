package mailbox

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inferpi/inferpi/soc/bcm2711"
)

func newClient(vc *fakeVC) *Client { return New(vc, make([]uint32, 64)) }

// The exact bytes of a request, against the layout in vcmailbox(7): one GET
// CLOCK RATE for EMMC2 is size, code 0, tag 0x30002, 8 value bytes,
// indicator 0, clock id 12, a word for the rate, end tag = 8 words, padded to
// a whole 64-byte cache line.
func TestEncodeClockRateRequest(t *testing.T) {
	buf := make([]uint32, 16)
	tag := &bcm2711.Tag{ID: bcm2711.TagClockRate, Request: []uint32{uint32(bcm2711.ClockEMMC2)}, Response: make([]uint32, 2)}
	n, err := encode(buf, []*bcm2711.Tag{tag})
	if err != nil {
		t.Fatal(err)
	}
	want := []uint32{64, 0, 0x00030002, 8, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if !reflect.DeepEqual(buf[:n], want) {
		t.Errorf("message %#x, want %#x", buf[:n], want)
	}
}

func TestEncodeSeveralTagsPadsToWholeLines(t *testing.T) {
	buf := make([]uint32, 64)
	for i := range buf {
		buf[i] = 0xDEADBEEF // stale contents must not leak into the message
	}
	tags := []*bcm2711.Tag{
		{ID: bcm2711.TagSetClockRate, Request: []uint32{3, 1_500_000_000, 1}, Response: make([]uint32, 2)},
		{ID: bcm2711.TagFirmwareRevision, Response: make([]uint32, 1)},
	}
	n, err := encode(buf, tags)
	if err != nil {
		t.Fatal(err)
	}
	// 2 header + (3+3) + (3+1) + end tag = 13 words, padded to a 64-byte line.
	want := []uint32{64, 0, bcm2711.TagSetClockRate, 12, 0, 3, 1_500_000_000, 1, bcm2711.TagFirmwareRevision, 4, 0, 0, 0, 0, 0, 0}
	if !reflect.DeepEqual(buf[:n], want) {
		t.Errorf("message %#x,\nwant    %#x", buf[:n], want)
	}
	if _, err := encode(make([]uint32, 12), tags); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("message larger than the buffer: %v", err)
	}
	if _, err := encode(buf, nil); err == nil {
		t.Error("a message without tags was accepted")
	}
}

func TestClientQueries(t *testing.T) {
	vc := newFakeVC()
	c := newClient(vc)
	rate, err := c.ClockRate(bcm2711.ClockEMMC2)
	if err != nil || rate != 100_000_000 {
		t.Errorf("EMMC2 clock = %d, %v; want 100 MHz", rate, err)
	}
	set, err := c.SetClockRate(bcm2711.ClockARM, 1_800_000_000, false)
	if err != nil || set != 1_800_000_000 || vc.clocks[bcm2711.ClockARM] != 1_800_000_000 {
		t.Errorf("set ARM clock = %d, %v (firmware has %d)", set, err, vc.clocks[bcm2711.ClockARM])
	}
	if got := vc.messages[len(vc.messages)-1][5:8]; !reflect.DeepEqual(got, []uint32{3, 1_800_000_000, 0}) {
		t.Errorf("set clock rate request %v, want [3 1800000000 0]", got)
	}
	if m, err := c.MeasuredClockRate(bcm2711.ClockARM); err != nil || m != 1_800_000_000 {
		t.Errorf("measured ARM clock = %d, %v", m, err)
	}
	if _, err := c.ClockRate(bcm2711.ClockV3D); !errors.Is(err, ErrNoDevice) || !strings.Contains(err.Error(), "V3D") {
		t.Errorf("clock the firmware answers with rate 0: %v, want ErrNoDevice naming V3D", err)
	}
	if temp, err := c.Temperature(); err != nil || temp != 48_312 {
		t.Errorf("temperature = %d, %v", temp, err)
	}
	if rev, err := c.FirmwareRevision(); err != nil || rev != 0x5f3c1e4a {
		t.Errorf("firmware revision %#x, %v", rev, err)
	}
	if rev, err := c.BoardRevision(); err != nil || rev != 0xc03115 {
		t.Errorf("board revision %#x, %v", rev, err)
	}
	if mx, err := c.MaxTemperature(); err != nil || mx != 85_000 {
		t.Errorf("max temperature %d, %v", mx, err)
	}
}

func TestPowerStates(t *testing.T) {
	vc := newFakeVC()
	c := newClient(vc)
	if on, err := c.PowerState(bcm2711.DeviceSDCard); err != nil || on {
		t.Errorf("SD power before: %v, %v; want off", on, err)
	}
	if on, err := c.SetPowerState(bcm2711.DeviceSDCard, true); err != nil || !on || !vc.power[bcm2711.DeviceSDCard] {
		t.Errorf("switch SD on: %v, %v", on, err)
	}
	// The request asks to wait for the supply to settle.
	if st := vc.messages[len(vc.messages)-1][6]; st != bcm2711.PowerOn|bcm2711.PowerWait {
		t.Errorf("set power state request state %#x, want on|wait", st)
	}
	if _, err := c.SetPowerState(bcm2711.Device(42), true); !errors.Is(err, ErrNoDevice) || !strings.Contains(err.Error(), "device 42") {
		t.Errorf("power domain that does not exist: %v", err)
	}
	vc.answer = map[uint32]func([]uint32) []uint32{
		bcm2711.TagSetPowerState: func(v []uint32) []uint32 { return []uint32{v[0], 0} }, // stays off
	}
	if _, err := c.SetPowerState(bcm2711.DeviceSDCard, true); err == nil || !strings.Contains(err.Error(), "stayed off") {
		t.Errorf("a domain that refuses to switch on: %v", err)
	}
}

func TestThrottled(t *testing.T) {
	vc := newFakeVC()
	c := newClient(vc)
	vc.throttle = uint32(UnderVoltage|Throttled) | uint32(UnderVoltage|Throttled|SoftTempLimit)<<16
	th, err := c.Throttled(false)
	if err != nil {
		t.Fatal(err)
	}
	if !th.Now(UnderVoltage) || th.Now(FreqCapped) || !th.SinceBoot(SoftTempLimit) || th.SinceBoot(FreqCapped) {
		t.Errorf("flags %#x decoded wrongly", uint32(th))
	}
	if s := th.String(); s != "now: under-voltage, throttled; earlier: soft temperature limit" {
		t.Errorf("String = %q", s)
	}
	if vc.throttle>>16 == 0 {
		t.Error("reading without clearing cleared the sticky bits")
	}
	if _, err := c.Throttled(true); err != nil {
		t.Fatal(err)
	}
	if vc.throttle>>16 != 0 {
		t.Errorf("sticky bits %#x left after clearing", vc.throttle>>16)
	}
	if s := Throttle(0).String(); s != "not throttled" {
		t.Errorf("String(0) = %q", s)
	}
}

func TestNotifyXHCIReset(t *testing.T) {
	vc := newFakeVC()
	c := newClient(vc)
	if err := c.NotifyXHCIReset(VL805); err != nil {
		t.Fatal(err)
	}
	// U-Boot and Linux send 0x00100000 for the VL805 (U-Boot msg.c:
	// bcm2711_notify_vl805_reset, Linux reset-raspberrypi.c: rpi_reset_reset).
	if !reflect.DeepEqual(vc.xhci, []uint32{0x00100000}) {
		t.Errorf("notified %#x, want [0x100000]", vc.xhci)
	}
}

// SD signalling at 3.3 V is expander GPIO 4 low (Circle emmc.cpp Initialize,
// Linux bcm2711-rpi-4-b.dts sd_io_1v8_reg): tag 0x00038041 with pin 132 and
// state 0; a pin the firmware refuses is an error.
func TestSetExpanderGPIO(t *testing.T) {
	vc := newFakeVC()
	c := New(vc, make([]uint32, 64))
	if err := c.SetExpanderGPIO(4, false); err != nil {
		t.Fatal(err)
	}
	if got := vc.messages[0][2:7]; got[0] != bcm2711.TagSetGPIOState || got[1] != 8 || got[3] != 132 || got[4] != 0 {
		t.Errorf("request tag words %#x", got)
	}
	if s, ok := vc.gpio[132]; !ok || s != 0 {
		t.Errorf("expander GPIO 4: %v %v", s, ok)
	}
	if err := c.SetExpanderGPIO(20, true); err == nil || !strings.Contains(err.Error(), "set GPIO state of expander GPIO 20: the firmware answered 0x94") {
		t.Errorf("refused pin: %v", err)
	}
	// QEMU's model answers the tag without words: done.
	vc.answer = map[uint32]func([]uint32) []uint32{bcm2711.TagSetGPIOState: func([]uint32) []uint32 { return []uint32{} }}
	if err := c.SetExpanderGPIO(4, false); err != nil {
		t.Errorf("answer without words: %v", err)
	}
}

func TestUnansweredTag(t *testing.T) {
	err := newClient(newFakeVC()).Do(&bcm2711.Tag{ID: 0x00012345, Response: make([]uint32, 1)})
	if !IsUnsupported(err) || !strings.Contains(err.Error(), "0x00012345") {
		t.Errorf("unanswered tag: %v, want ErrUnsupported naming the tag", err)
	}
}

func TestReplyErrors(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(*fakeVC)
		substr string
	}{
		{"transport fails", func(f *fakeVC) { f.fail = errors.New("mailbox timeout") }, "mailbox timeout"},
		{"parse error code", func(f *fakeVC) { f.mangle = func(m []uint32) { m[1] = bcm2711.CodeParseError } }, "could not parse"},
		{"code never set", func(f *fakeVC) { f.mangle = func(m []uint32) { m[1] = 0 } }, "code 0x00000000"},
		{"response too short", func(f *fakeVC) { f.mangle = func(m []uint32) { m[4] = bcm2711.ResponseBit | 4 } }, "answered 4 bytes, want 8"},
		{"tag id overwritten", func(f *fakeVC) { f.mangle = func(m []uint32) { m[2] = 0x1234 } }, "came back as 0x00001234"},
		{"answer for another clock", func(f *fakeVC) { f.mangle = func(m []uint32) { m[5] = 3 } }, "answered for clock 3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vc := newFakeVC()
			tc.setup(vc)
			_, err := newClient(vc).ClockRate(bcm2711.ClockEMMC)
			if !errors.Is(err, ErrReply) || !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("error %v, want ErrReply containing %q", err, tc.substr)
			}
		})
	}
}

// A response longer than the value buffer (the firmware reports what it
// needed) still yields the words that fit.
func TestLongerResponseIsTruncatedToTheBuffer(t *testing.T) {
	vc := newFakeVC()
	vc.mangle = func(m []uint32) { m[4] = bcm2711.ResponseBit | 64 }
	r, err := newClient(vc).ClockRate(bcm2711.ClockEMMC)
	if err != nil || r != 50_000_000 {
		t.Errorf("rate %d, %v", r, err)
	}
}

// Many goroutines share one client: each gets its own answer and the firmware
// never sees two messages at once (the buffer is shared).
func TestConcurrentUse(t *testing.T) {
	vc := newFakeVC()
	vc.delay = 20 * time.Microsecond
	c := newClient(vc)
	clocks := []bcm2711.Clock{bcm2711.ClockEMMC, bcm2711.ClockUART, bcm2711.ClockARM, bcm2711.ClockEMMC2}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				clk := clocks[(g+i)%len(clocks)]
				r, err := c.ClockRate(clk)
				if err != nil || r != vc.clocks[clk] {
					errs <- fmt.Errorf("goroutine %d: %s = %d, %v; want %d", g, clk, r, err, vc.clocks[clk])
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := vc.overlaps.Load(); n != 0 {
		t.Errorf("%d exchanges overlapped", n)
	}
}

func TestPCIAddress(t *testing.T) {
	if PCIAddress(1, 2, 3) != 1<<20|2<<15|3<<12 {
		t.Error("PCIAddress")
	}
}
