package hugepage

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestInterior: the advised stretch is whole aligned huge pages inside b.
func TestInterior(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("interior is only used on Linux")
	}
	buf := make([]byte, 5*Size)
	for _, c := range [][2]int{{0, 5 * Size}, {1, 5 * Size}, {100, 3*Size + 7}, {0, Size - 1}, {5, 5}} {
		b := buf[c[0]:c[1]]
		lo, hi := interior(b)
		if hi <= lo {
			continue
		}
		start := uintptr(unsafe.Pointer(&b[lo]))
		if start%Size != 0 || (hi-lo)%Size != 0 || lo < 0 || hi > len(b) || lo >= Size || len(b)-hi >= Size {
			t.Fatalf("buf[%d:%d]: interior [%d, %d) at %#x", c[0], c[1], lo, hi, start)
		}
	}
	if lo, hi := interior(nil); lo != 0 || hi != 0 {
		t.Fatalf("interior(nil) = %d, %d", lo, hi)
	}
}

// TestAdviseKeepsContents: advice never changes a byte, and where the host
// takes it (Linux with THP not disabled) the buffer ends up in huge pages.
func TestAdviseKeepsContents(t *testing.T) {
	b := make([]byte, 9*Size+12345)
	for i := range b {
		b[i] = byte(i * 31)
	}
	before := anonHuge(t)
	took := Advise(b)
	for i := range b {
		if b[i] != byte(i*31) {
			t.Fatalf("byte %d changed", i)
		}
	}
	t.Logf("advice taken: %v; AnonHugePages %d -> %d kB", took, before, anonHuge(t))
	if took && anonHuge(t) < before+4*Size/1024 {
		t.Errorf("advice taken but AnonHugePages only %d -> %d kB", before, anonHuge(t))
	}
	runtime.KeepAlive(b)
}

// anonHuge is the process's AnonHugePages in kB (0 where the host has no such count).
func anonHuge(t *testing.T) int {
	raw, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "AnonHugePages:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}
