//go:build amd64 && !purego

package kernels

// The AVX2/FMA/F16C kernels of simd_amd64.s. Each one loops over rows itself, so a
// MatVec chunk costs one call, and each row keeps 4 (float) or 2 (block) vector
// accumulators in flight to cover the FMA latency.

//go:noescape
func matVecF32AVX2(out *float32, w *byte, x *float32, rows, cols int)

//go:noescape
func matVecF16AVX2(out *float32, w *byte, x *float32, rows, cols int)

//go:noescape
func matVecQ8AVX2(out *float32, w *byte, xq *int8, xd *float32, rows, blocks int)

//go:noescape
func matVecQ4AVX2(out *float32, w *byte, xq *int8, xd *float32, rows, blocks int)

//go:noescape
func axpyAVX2(dst *float32, a float32, x *float32, n int)

//go:noescape
func readStreamAVX2(p *byte, n int) uint64

var avx2Impl = impl{
	name: "avx2+fma+f16c",
	matVecF32: func(out []float32, w []byte, x []float32) {
		checkKernelArgs(len(out), len(w), 4*len(x))
		matVecF32AVX2(f32p(out), bytep(w), f32p(x), len(out), len(x))
	},
	matVecF16: func(out []float32, w []byte, x []float32) {
		checkKernelArgs(len(out), len(w), 2*len(x))
		matVecF16AVX2(f32p(out), bytep(w), f32p(x), len(out), len(x))
	},
	matVecQ8: func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q8BlockBytes)
		matVecQ8AVX2(f32p(out), bytep(w), i8p(x.q), f32p(x.d), len(out), len(x.d))
	},
	matVecQ4: func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q4BlockBytes)
		matVecQ4AVX2(f32p(out), bytep(w), i8p(x.q), f32p(x.d), len(out), len(x.d))
	},
	dot: func(a, b []float32) float32 {
		var s float32
		matVecF32AVX2(&s, bytep(f32bytes(a)), f32p(b), 1, len(a))
		return s
	},
	axpy: func(dst []float32, a float32, x []float32) {
		axpyAVX2(f32p(dst), a, f32p(x), len(x))
	},
}

func simdImpl() (*impl, bool) {
	if !hasAVX2FMAF16C() {
		return nil, false
	}
	return &avx2Impl, true
}

// readStreamSIMD ORs together every byte of p[:n], n a multiple of 128.
func readStreamSIMD(p []byte) uint64 {
	if !hasAVX2FMAF16C() || len(p) < 128 {
		return 0
	}
	return readStreamAVX2(bytep(p), len(p)&^127)
}
