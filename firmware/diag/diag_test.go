package diag

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inferpi/inferpi/platform/bootlog"
	"github.com/inferpi/inferpi/storage/block"
)

// Every step gets a line as it starts and one with its outcome, is named to
// the kernel while it runs, a panicking step fails without stopping the
// others, and the last line counts the outcomes.
func TestRunReportsEveryStep(t *testing.T) {
	var steps []string
	bootlog.SetStepHook(func(name string) { steps = append(steps, name) })
	defer bootlog.SetStepHook(nil)
	var out bytes.Buffer
	sum := Run(&out, []Step{
		{"ram", "testing the RAM", func(*bootlog.Logger) Result { return Passed("1024 MB") }},
		{"sd", "reading the SD card", func(*bootlog.Logger) Result { return Unavailable("no SD controller") }},
		{"usb", "starting USB", func(log *bootlog.Logger) Result { log.Printf("halfway"); return Failed("no link") }},
		{"decode", "decoding", func(*bootlog.Logger) Result { panic("index out of range") }},
	})
	if sum != (Summary{Passed: 1, Failed: 2, NotAvailable: 1}) {
		t.Errorf("summary %+v", sum)
	}
	want := `diag: 4 steps; please paste every diag: line, up to the summary at the end, into bug reports
diag: ram: testing the RAM
diag: ram: pass: 1024 MB
diag: sd: reading the SD card
diag: sd: not available here: no SD controller
diag: usb: starting USB
diag: usb: halfway
diag: usb: FAIL: no link
diag: decode: decoding
diag: decode: FAIL: the step panicked: index out of range
diag: 1 passed, 2 failed, 1 not available here
`
	got := regexp.MustCompile(`(?m)^\[ *\d+\.\d{6}\] `).ReplaceAllString(out.String(), "")
	if got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
	if strings.Join(steps, ",") != "diag: ram,diag: sd,diag: usb,diag: decode," {
		t.Errorf("steps named %q", steps)
	}
}

// The pattern pass reads back what it wrote, and a word damaged in between
// (a stuck bit) is found and reported with its offset.
func TestPatternPass(t *testing.T) {
	mem := make([]byte, 1<<20)
	r := PatternPass(mem, 4, nil)
	if r.Bytes != len(mem) || r.Bad != 0 || r.Write <= 0 || r.Verify <= 0 {
		t.Fatalf("clean pass: %+v", r)
	}
	r = PatternPass(mem, 3, func() { mem[0x12345] ^= 0x10; mem[0xF0000] ^= 1 })
	if r.Bad != 2 || r.FirstBad != 0x12340 || r.Got^r.Want != 0x10<<40 {
		t.Fatalf("damaged pass: %+v", r)
	}
	if !strings.Contains(r.String(), "2 words wrong, the first at offset 0x12340") {
		t.Errorf("report %q", r)
	}
}

// Every core runs rounds of the work and they agree; a core the kernel never
// runs it on is reported.
func TestCores(t *testing.T) {
	var next atomic.Int32
	stats, err := Cores(4, 3, time.Minute, func() int { return int(next.Add(1)-1) % 4 })
	if err != nil {
		t.Fatal(err)
	}
	for c, s := range stats {
		if s.Rounds < 3 || s.Time <= 0 {
			t.Errorf("core %d: %+v", c, s)
		}
	}
	if !regexp.MustCompile(`^core 0 \d+ rounds of [\d.]+ ms, core 1 `).MatchString(DescribeCores(stats)) {
		t.Errorf("%s", DescribeCores(stats))
	}
	_, err = Cores(4, 1, 50*time.Millisecond, func() int { return 2 })
	if err == nil || !strings.HasPrefix(err.Error(), "no work ran on core [0 1 3] within 50ms: core 0 0 rounds") {
		t.Errorf("one core: %v", err)
	}
}

type memDisk struct {
	data []byte
	fail bool
}

func (d *memDisk) BlockSize() int { return 512 }
func (d *memDisk) Blocks() uint64 { return uint64(len(d.data) / 512) }
func (d *memDisk) ReadBlocks(lba uint64, p []byte) error {
	if d.fail {
		return errors.New("no answer")
	}
	copy(p, d.data[lba*512:])
	return nil
}

var _ block.Device = (*memDisk)(nil)

// ReadSpeed reads up to the limit, or the whole device when smaller, and says
// where a read failed.
func TestReadSpeed(t *testing.T) {
	buf := make([]byte, 64<<10)
	r, err := ReadSpeed(&memDisk{data: make([]byte, 1<<20)}, buf, 512<<10)
	if err != nil || r.Bytes != 512<<10 {
		t.Errorf("limited: %+v, %v", r, err)
	}
	if r, err = ReadSpeed(&memDisk{data: make([]byte, 300<<10)}, buf, 64<<20); err != nil || r.Bytes != 300<<10 {
		t.Errorf("small device: %+v, %v", r, err)
	}
	if !strings.HasPrefix(r.String(), "300 KB read in ") {
		t.Errorf("%q", r)
	}
	if _, err = ReadSpeed(&memDisk{data: make([]byte, 1<<20), fail: true}, buf, 1<<20); err == nil || err.Error() != "reading block 0: no answer" {
		t.Errorf("failing device: %v", err)
	}
}

// The decode step on the tiny shape: both runs decode the same tokens (the
// kernels' results do not depend on how rows are split) at a measured speed.
func TestDecode(t *testing.T) {
	r, err := Decode(true, 8, 4)
	if err != nil {
		t.Fatal(err)
	}
	if !r.SameTokens || len(r.One.tokens) != 8 || r.One.TokensPerSec <= 0 || r.All.GBps <= 0 || r.All.Workers != 4 {
		t.Errorf("%+v", r)
	}
	if !regexp.MustCompile(`^synthetic Llama 64x2, q8_0, [\d.]+ KB, 8 tokens: 1 core [\d.]+ tokens/s \([\d.]+ GB/s\), 4 cores [\d.]+ tokens/s \([\d.]+ GB/s\), [\d.]+x$`).MatchString(r.String()) {
		t.Errorf("%q", r)
	}
}
