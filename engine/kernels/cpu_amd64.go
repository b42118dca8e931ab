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

// hasAVX512VNNI reports whether the CPU has AVX512-VNNI and AVX512-VL (VPDPBUSD on
// YMM registers, EVEX-encoded) and the OS saves the AVX-512 state (XCR0 bits 5-7:
// opmask, ZMM0-15 upper halves, ZMM16-31), as Intel SDM vol. 1, 15.2 asks.
func hasAVX512VNNI() bool {
	if !hasAVX2FMAF16C() {
		return false
	}
	if xcr0, _ := xgetbv0(); xcr0&0xe6 != 0xe6 {
		return false
	}
	_, ebx7, ecx7, _ := cpuid(7, 0)
	const (
		avx512f  = 1 << 16 // EBX
		avx512vl = 1 << 31 // EBX
		vnni     = 1 << 11 // ECX
	)
	return ebx7&(avx512f|avx512vl) == avx512f|avx512vl && ecx7&vnni != 0
}

// hasAVX512BW reports whether the CPU also has AVX512-BW (byte and word
// instructions on ZMM registers: VPSRLW), with hasAVX512VNNI's state checks.
func hasAVX512BW() bool {
	if !hasAVX512VNNI() {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const avx512bw = 1 << 30 // EBX
	return ebx7&avx512bw != 0
}
