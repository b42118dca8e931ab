//go:build amd64 && !purego

package kernels

// cpuid and xgetbv0 are in cpu_amd64.s.
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
func xgetbv0() (eax, edx uint32)

// hasAVX2FMAF16C reports whether the CPU has AVX2, FMA and F16C and the OS saves the
// YMM registers across context switches (Intel SDM vol. 1, 14.3 "Detection of Intel
// AVX instructions": CPUID.1:ECX.OSXSAVE[27] and XCR0 bits 1 and 2).
func hasAVX2FMAF16C() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
		f16c    = 1 << 29
	)
	if ecx1&(fma|osxsave|avx|f16c) != fma|osxsave|avx|f16c {
		return false
	}
	if xcr0, _ := xgetbv0(); xcr0&6 != 6 { // SSE and AVX state enabled by the OS
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const avx2 = 1 << 5
	return ebx7&avx2 != 0
}
