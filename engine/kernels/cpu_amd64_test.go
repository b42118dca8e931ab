//go:build amd64 && !purego

package kernels

import (
	"os"
	"strings"
	"testing"
)

// TestCPUFeaturesMatchLinux checks the CPUID/XGETBV detection against the flags the
// Linux kernel reports for the same CPU.
func TestCPUFeaturesMatchLinux(t *testing.T) {
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo")
	}
	var flags []string
	for _, line := range strings.Split(string(info), "\n") {
		if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "flags" {
			flags = strings.Fields(value)
			break
		}
	}
	if flags == nil {
		t.Skip("no flags line in /proc/cpuinfo")
	}
	has := func(f string) bool {
		for _, g := range flags {
			if g == f {
				return true
			}
		}
		return false
	}
	// Linux lists avx* only when it saves the YMM state (it clears them otherwise).
	want := has("avx") && has("avx2") && has("fma") && has("f16c")
	if got := hasAVX2FMAF16C(); got != want {
		t.Fatalf("hasAVX2FMAF16C() = %v, /proc/cpuinfo says avx=%v avx2=%v fma=%v f16c=%v",
			got, has("avx"), has("avx2"), has("fma"), has("f16c"))
	}
	wantVNNI := want && has("avx512f") && has("avx512vl") && has("avx512_vnni")
	if got := hasAVX512VNNI(); got != wantVNNI {
		t.Fatalf("hasAVX512VNNI() = %v, /proc/cpuinfo says avx512f=%v avx512vl=%v avx512_vnni=%v",
			got, has("avx512f"), has("avx512vl"), has("avx512_vnni"))
	}
	if got, want := hasAVX512BW(), wantVNNI && has("avx512bw"); got != want {
		t.Fatalf("hasAVX512BW() = %v, /proc/cpuinfo says avx512bw=%v (and VNNI %v)", got, has("avx512bw"), wantVNNI)
	}
}
