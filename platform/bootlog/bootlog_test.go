package bootlog

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestStampMatchesKernelFormat(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		// The kernel's own lines from a raspi4b boot log.
		{8920 * time.Microsecond, "[  0.008920] "},
		{53769 * time.Microsecond, "[  0.053769] "},
		{12*time.Second + 345*time.Microsecond, "[ 12.000345] "},
		{123*time.Second + 999999*time.Microsecond, "[123.999999] "},
		{-time.Second, "[  0.000000] "},
	} {
		if got := Stamp(c.d); got != c.want {
			t.Errorf("Stamp(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestPrintfOneLinePerCall(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "sd")
	l.Uptime = func() time.Duration { return 1500 * time.Millisecond }
	l.Printf("emmc2 @%#x: base clock %d MHz", 0xfe340000, 100)
	l.Printf("error: %v\n", "first line\nsecond line")
	want := "[  1.500000] sd: emmc2 @0xfe340000: base clock 100 MHz\n" +
		"[  1.500000] sd: error: first line second line\n"
	if buf.String() != want {
		t.Errorf("log:\n%q\nwant:\n%q", buf.String(), want)
	}
}

func TestNilLoggerDiscards(t *testing.T) {
	var l *Logger
	l.Printf("nothing %d", 1)
	New(nil, "x").Printf("nothing")
}

func TestConcurrentLinesStayWhole(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "t")
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				l.Printf("goroutine line %s", strings.Repeat("x", 50))
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines, want 800", len(lines))
	}
	for _, ln := range lines {
		if !strings.HasSuffix(ln, "t: goroutine line "+strings.Repeat("x", 50)) || !strings.HasPrefix(ln, "[") {
			t.Fatalf("torn line %q", ln)
		}
	}
}

func TestUptimeAdvances(t *testing.T) {
	a := Uptime()
	time.Sleep(2 * time.Millisecond)
	if b := Uptime(); b <= a {
		t.Errorf("uptime went from %v to %v", a, b)
	}
}

func TestStepHook(t *testing.T) {
	Step("before any hook") // nothing happens
	var got []string
	SetStepHook(func(name string) { got = append(got, name) })
	defer SetStepHook(nil)
	Step("storage: USB")
	Step("")
	if len(got) != 2 || got[0] != "storage: USB" || got[1] != "" {
		t.Errorf("hook got %q", got)
	}
}
