//go:build arm64 && !purego

package kernels

import (
	"unsafe"
)

// The NEON kernels (*_arm64.s). Each one loops over rows itself, so a MatVec chunk
// costs one call; float rows keep 8 accumulators in flight (the A72's FMLA latency
// times its issue rate), Q8_0 and Q4_0 rows 2, the other block encodings' rows
// their blocks' values in 8 lanes, as the reference adds them (blocks_arm64.h).

//go:noescape
func matVecF32NEON(out *float32, w *byte, x *float32, rows, cols int)

//go:noescape
func matVecF16NEON(out *float32, w *byte, x *float32, rows, cols int)

//go:noescape
func matVecBF16NEON(out *float32, w *byte, x *float32, rows, cols int)

//go:noescape
func matVecQ8NEON(out *float32, w *byte, xq *int8, xd *float32, rows, blocks int)

//go:noescape
func matVecQ4NEON(out *float32, w *byte, xq *int8, xd *float32, xs8 *float32, rows, blocks int)

//go:noescape
func matVecQ5_0NEON(out *float32, w *byte, xq *int8, xd *float32, rows, blocks int)

//go:noescape
func matVecQ4_1NEON(out *float32, w *byte, xq *int8, xd *float32, xs *float32, rows, blocks int)

//go:noescape
func matVecQ5_1NEON(out *float32, w *byte, xq *int8, xd *float32, xs *float32, xs16 *int32, rows, blocks int)

//go:noescape
func matVecQ4KNEON(out *float32, w *byte, xq *int8, xd *float32, xb *int16, rows, blocks int)

//go:noescape
func matVecQ5KNEON(out *float32, w *byte, xq *int8, xd *float32, xb *int16, rows, blocks int)

//go:noescape
func matVecQ6KNEON(out *float32, w *byte, xq *int8, xd *float32, rows, blocks int)

//go:noescape
func matMulF32NEON(a *floatBatch, w *byte, rows, cols int)

//go:noescape
func matMulF16NEON(a *floatBatch, w *byte, rows, cols int)

//go:noescape
func matMulBF16NEON(a *floatBatch, w *byte, rows, cols int)

//go:noescape
func matMulQ8NEON(out *float32, stride int, w *byte, a *neonBatch, rows, blocks int)

//go:noescape
func matMulQ4NEON(out *float32, stride int, w *byte, a *neonBatch, rows, blocks int)

//go:noescape
func matMulQ5_0NEON(out *float32, stride int, w *byte, a *neonBatch, rows, blocks int)

//go:noescape
func matMulQ4_1NEON(out *float32, stride int, w *byte, a *neonBatch, rows, blocks int)

//go:noescape
func matMulQ5_1NEON(out *float32, stride int, w *byte, a *neonBatch, rows, blocks int)

//go:noescape
func matMulQ4KNEON(out *float32, stride int, w *byte, a *neonBatch, rows, blocks int)

//go:noescape
func matMulQ5KNEON(out *float32, stride int, w *byte, a *neonBatch, rows, blocks int)

//go:noescape
func matMulQ6KNEON(out *float32, stride int, w *byte, a *neonBatch, rows, blocks int)

//go:noescape
func quantizeQ8NEON(q *int8, d *float32, s8 *float32, x *float32, blocks int)

//go:noescape
func quantizeQ8_1NEON(q *int8, d *float32, s *float32, x *float32, blocks int)

//go:noescape
func quantizeQ8KNEON(q *int8, d *float32, bsums *int16, x *float32, blocks int)

//go:noescape
func axpyNEON(dst *float32, a float32, x *float32, n int)

//go:noescape
func readStreamNEON(p *byte, n int) uint64

//go:noescape
func softcapNEON(x *float32, n int, c, invc float32)

//go:noescape
func swigluNEON(h, gate *float32, n int)

//go:noescape
func scoresNEON(out *float32, k *float32, q *float32, n, hd int, v *float32)

//go:noescape
func mixNEON(out *float32, v *float32, w *float32, n, hd int)

//go:noescape
func scoresF16NEON(out *float32, k *uint16, q *float32, n, hd int, v *uint16)

//go:noescape
func mixF16NEON(out *float32, v *uint16, w *float32, n, hd int)

//go:noescape
func scoresF16x2NEON(out0, out1 *float32, k *uint16, q0, q1 *float32, n, hd int, v *uint16)

//go:noescape
func mixF16x2NEON(out0, out1 *float32, v *uint16, w0, w1 *float32, n, hd int)

//go:noescape
func maxValueNEON(x *float32, n int) float32

//go:noescape
func findNEON(x *float32, n int, v float32) int

//go:noescape
func toF16NEON(dst *uint16, src *float32, n int)

//go:noescape
func softmaxExpNEON(x *float32, n int, s, m float32) float32

//go:noescape
func divideNEON(x *float32, n int, d float32)

//go:noescape
func scaleNEON(out, x, w *float32, n int, s float32)

var neonImpl = impl{
	name:    "neon",
	prepare: prepareNEON,
	quantizeQ8: func(v *q8Vector, x []float32) {
		quantizeQ8NEON(i8p(v.q), f32p(v.d), f32p(v.s8), f32p(x), len(v.d))
	},
	quantizeQ8_1: func(v *q8Vector, x []float32) {
		quantizeQ8_1NEON(i8p(v.q), f32p(v.d), f32p(v.s), f32p(x), len(v.d))
	},
	quantizeQ8K: func(v *q8Vector, x []float32) {
		quantizeQ8KNEON(i8p(v.q), f32p(v.d), unsafe.SliceData(v.bsums), f32p(x), len(v.d))
	},
	matVecF32: func(out []float32, w []byte, x []float32) {
		checkKernelArgs(len(out), len(w), 4*len(x))
		matVecF32NEON(f32p(out), bytep(w), f32p(x), len(out), len(x))
	},
	matVecF16: func(out []float32, w []byte, x []float32) {
		checkKernelArgs(len(out), len(w), 2*len(x))
		matVecF16NEON(f32p(out), bytep(w), f32p(x), len(out), len(x))
	},
	matVecBF16: func(out []float32, w []byte, x []float32) {
		checkKernelArgs(len(out), len(w), 2*len(x))
		matVecBF16NEON(f32p(out), bytep(w), f32p(x), len(out), len(x))
	},
	matMulF32: floatMatMul(4, 4, matMulF32NEON, func(out []float32, w []byte, x []float32) {
		matVecF32NEON(f32p(out), bytep(w), f32p(x), len(out), len(x))
	}),
	matMulF16: floatMatMul(2, 8, matMulF16NEON, func(out []float32, w []byte, x []float32) {
		matVecF16NEON(f32p(out), bytep(w), f32p(x), len(out), len(x))
	}),
	matMulBF16: floatMatMul(2, 8, matMulBF16NEON, func(out []float32, w []byte, x []float32) {
		matVecBF16NEON(f32p(out), bytep(w), f32p(x), len(out), len(x))
	}),
	matVecQ8: func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q8BlockBytes)
		matVecQ8NEON(f32p(out), bytep(w), i8p(x.q), f32p(x.d), len(out), len(x.d))
	},
	matVecQ4: func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q4BlockBytes)
		matVecQ4NEON(f32p(out), bytep(w), i8p(x.q), f32p(x.d), f32p(x.s8), len(out), len(x.d))
	},
	matVecQ5_0: func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q50BlockBytes)
		matVecQ5_0NEON(f32p(out), bytep(w), i8p(x.q), f32p(x.d), len(out), len(x.d))
	},
	matVecQ4_1: func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q41BlockBytes)
		matVecQ4_1NEON(f32p(out), bytep(w), i8p(x.q), f32p(x.d), f32p(x.s), len(out), len(x.d))
	},
	matVecQ5_1: func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q51BlockBytes)
		matVecQ5_1NEON(f32p(out), bytep(w), i8p(x.q), f32p(x.d), f32p(x.s), unsafe.SliceData(x.s16), len(out), len(x.d))
	},
	matVecQ4K: func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q4KBlockBytes)
		matVecQ4KNEON(f32p(out), bytep(w), i8p(x.q), f32p(x.d), unsafe.SliceData(x.bsums), len(out), len(x.d))
	},
	matVecQ5K: func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q5KBlockBytes)
		matVecQ5KNEON(f32p(out), bytep(w), i8p(x.q), f32p(x.d), unsafe.SliceData(x.bsums), len(out), len(x.d))
	},
	matVecQ6K: func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q6KBlockBytes)
		matVecQ6KNEON(f32p(out), bytep(w), i8p(x.q), f32p(x.d), len(out), len(x.d))
	},
	matMulQ8:   neonMatMul(q8BlockBytes, false, matMulQ8NEON),
	matMulQ4:   neonMatMul(q4BlockBytes, true, matMulQ4NEON),
	matMulQ5_0: neonMatMul(q50BlockBytes, true, matMulQ5_0NEON),
	matMulQ4_1: neonMatMul(q41BlockBytes, false, matMulQ4_1NEON),
	matMulQ5_1: neonMatMul(q51BlockBytes, false, matMulQ5_1NEON),
	matMulQ4K:  neonMatMul(q4KBlockBytes, false, matMulQ4KNEON),
	matMulQ5K:  neonMatMul(q5KBlockBytes, false, matMulQ5KNEON),
	matMulQ6K:  neonMatMul(q6KBlockBytes, false, matMulQ6KNEON),
	dot: func(a, b []float32) float32 {
		var s float32
		matVecF32NEON(&s, bytep(f32bytes(a)), f32p(b), 1, len(a))
		return s
	},
	axpy: func(dst []float32, a float32, x []float32) {
		axpyNEON(f32p(dst), a, f32p(x), len(x))
	},
	softcap:     simdSoftcap(4, softcapNEON),
	swiglu:      simdSwiGLU(4, swigluNEON),
	scores:      simdScores(4, scoresNEON, matVecF32NEON),
	mix:         simdMix(4, mixNEON, axpyNEON),
	scoresF16:   simdScoresF16(4, scoresF16NEON, matVecF16NEON),
	mixF16:      simdMixF16(4, mixF16NEON),
	scoresF16x2: simdScoresF16x2(4, scoresF16x2NEON, simdScoresF16(4, scoresF16NEON, matVecF16NEON)),
	mixF16x2:    simdMixF16x2(4, mixF16x2NEON, simdMixF16(4, mixF16NEON)),
	toF16:       simdToF16(4, toF16NEON),
	maxValue:    simdMaxValue(4, maxValueNEON),
	find:        simdFind(4, findNEON),
	softmaxExp:  simdSoftmaxExp(4, softmaxExpNEON),
	divide:      simdDivide(4, divideNEON),
	scale:       simdScale(4, scaleNEON),
}

// prepareNEON adds to x the layouts the NEON kernels of enc read: for Q5_1, whose
// kernel takes its weights as q - 16 (as Q5_0's) in its groups of eight blocks, the
// 16·Σq of x's blocks that make up the difference.
func prepareNEON(v *q8Vector, enc Encoding) {
	if enc != Q5_1 {
		return
	}
	v.s16 = grow(v.s16, len(v.d))
	for b := range v.s16 {
		var sum int32
		for _, q := range v.q[b*BlockSize : (b+1)*BlockSize] {
			sum += int32(q)
		}
		v.s16[b] = 16 * sum
	}
}

// floatBatch is the float batch kernels' view of four tokens (floatbatch_arm64.h):
// their outputs (at the first row) and x, and room for the accumulators of fbRows
// rows.
type floatBatch struct {
	out [batchTokens]*float32
	x   [batchTokens]*float32
	acc *[fbRows / 2 * 256]float32
}

// floatMatMul makes a float encoding's batch kernel (es bytes per weight, rows of a
// multiple of width columns) an impl function: fbRows rows at a time, and rows of
// other widths token by token through one, the one-token kernel.
func floatMatMul(es, width int, k func(a *floatBatch, w *byte, rows, cols int), one func(out []float32, w []byte, x []float32)) func(out []float32, rows, stride int, w []byte, ins []Input) {
	return func(out []float32, rows, stride int, w []byte, ins []Input) {
		cols := len(ins[0].x)
		checkKernelArgs(rows, len(w), es*cols)
		checkBatchFloat(out, rows, stride, ins, cols)
		if cols%width != 0 {
			for t, in := range ins[:batchTokens] {
				one(out[t*stride:t*stride+rows], w, in.x)
			}
			return
		}
		var acc [fbRows / 2 * 256]float32
		a := floatBatch{acc: &acc}
		for lo := 0; lo < rows; lo += fbRows {
			for t, in := range ins[:batchTokens] {
				a.out[t], a.x[t] = &out[t*stride+lo], f32p(in.x)
			}
			k(&a, bytep(w[lo*es*cols:]), min(fbRows, rows-lo), cols)
		}
	}
}

// neonBatch is what the batch kernels (blocks_arm64.s, blocks32_arm64.s,
// kquants_arm64.s) read about their tokens, x's quants, scales, float sums (s8 or s)
// and bsums, and the lanes in which they add up each token's block values
// (blockSums), lane-major: lanes[k][t] is token t's lane k. Its offsets are NB_* in
// blocks_arm64.h.
type neonBatch struct {
	q     [batchTokens]*int8
	d     [batchTokens]*float32
	s     [batchTokens]*float32
	bsums [batchTokens]*int16
	lanes [8][batchTokens]float32
}

// newNEONBatch is the view of xs, with s8 or s as their float sums.
// neonMatMul makes a block encoding's NEON batch kernel (blockBytes per block,
// s8 as for newNEONBatch) an impl function.
func neonMatMul(blockBytes int, s8 bool, k func(out *float32, stride int, w *byte, a *neonBatch, rows, blocks int)) func(out []float32, rows, stride int, w []byte, xs []*q8Vector) {
	return func(out []float32, rows, stride int, w []byte, xs []*q8Vector) {
		checkKernelArgs(rows, len(w), len(xs[0].d)*blockBytes)
		checkBatch(out, rows, stride, xs)
		a := newNEONBatch(xs, s8)
		k(f32p(out), stride, bytep(w), &a, rows, len(xs[0].d))
	}
}

func newNEONBatch(xs []*q8Vector, s8 bool) neonBatch {
	var a neonBatch
	for t, x := range xs[:batchTokens] {
		a.q[t], a.d[t] = i8p(x.q), f32p(x.d)
		switch {
		case s8:
			a.s[t] = f32p(x.s8)
		case x.s != nil:
			a.s[t] = f32p(x.s)
		}
		if x.bsums != nil {
			a.bsums[t] = unsafe.SliceData(x.bsums)
		}
	}
	return a
}

// simdImpl needs no feature check: Advanced SIMD (NEON), including FCVTL, is part of
// every ARMv8-A core Go runs on (Go's arm64 port itself relies on it, e.g. in
// memmove), the Cortex-A72 included. The kernels use nothing beyond ARMv8.0.
func simdImpl() (*impl, bool) { return &neonImpl, true }

// readStreamSIMD ORs together every byte of p[:n], n a multiple of 128.
func readStreamSIMD(p []byte) uint64 {
	if len(p) < 128 {
		return 0
	}
	return readStreamNEON(bytep(p), len(p)&^127)
}
