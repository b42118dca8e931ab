package hostmem

import (
	"runtime"
	"testing"
)

func TestMemAvailable(t *testing.T) {
	const meminfo = "MemTotal:       32768000 kB\nMemFree:         1000000 kB\nMemAvailable:   23200724 kB\nBuffers:          1 kB\n"
	if n, ok := memAvailable(meminfo); !ok || n != 23200724<<10 {
		t.Errorf("MemAvailable: %d, %v", n, ok)
	}
	for _, bad := range []string{"", "MemTotal: 1 kB\n", "MemAvailable: 12\n", "MemAvailable: x kB\n", "MemAvailable: -5 kB\n", "MemAvailable: 99999999999999999 kB\n"} {
		if n, ok := memAvailable(bad); ok {
			t.Errorf("%q: %d", bad, n)
		}
	}
}

func TestCgroupPaths(t *testing.T) {
	v2, v1 := cgroupPaths("12:cpu,cpuacct:/x\n4:memory:/process_api/e969\n0::/user.slice/app.scope\n")
	if v2 != "/user.slice/app.scope" || v1 != "/process_api/e969" {
		t.Errorf("v2 %q, v1 memory %q", v2, v1)
	}
	if v2, v1 := cgroupPaths("4:memory:../../etc\n0::/a/../../b\n"); v2 != "" || v1 != "" {
		t.Errorf("paths out of the hierarchy: %q, %q", v2, v1)
	}
}

func TestCgroupBytes(t *testing.T) {
	for text, want := range map[string]int64{"max\n": -1, "9223372036854771712\n": -1, "536870912\n": 512 << 20, "0": 0} {
		if n, ok := cgroupBytes(text); !ok || n != want {
			t.Errorf("%q: %d, %v; want %d", text, n, ok, want)
		}
	}
	for _, bad := range []string{"", "-1", "12 kB", "1e9"} {
		if n, ok := cgroupBytes(bad); ok {
			t.Errorf("%q: %d", bad, n)
		}
	}
}

// On Linux the host tells, and the figure is plausible.
func TestAvailable(t *testing.T) {
	n, source := Available()
	if runtime.GOOS != "linux" {
		if n != 0 || source != "" {
			t.Errorf("%d bytes from %q", n, source)
		}
		return
	}
	if n <= 0 || source == "" {
		t.Fatalf("%d bytes from %q", n, source)
	}
	t.Logf("%d MiB (%s)", n>>20, source)
}

// FuzzParsers: whatever the files hold, the parsers return without panicking
// and never a negative size.
func FuzzParsers(f *testing.F) {
	f.Add("MemAvailable:   23200724 kB\n")
	f.Add("0::/a\n4:memory:/b\n")
	f.Add("max\n")
	f.Fuzz(func(t *testing.T, s string) {
		if n, ok := memAvailable(s); ok && n < 0 {
			t.Fatalf("MemAvailable %d", n)
		}
		cgroupPaths(s)
		if n, ok := cgroupBytes(s); ok && n < -1 {
			t.Fatalf("cgroup bytes %d", n)
		}
	})
}
