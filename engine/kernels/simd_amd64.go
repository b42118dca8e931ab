//go:build amd64 && !purego

package kernels

import (
	"os"
	"unsafe"
)

// The AVX2/FMA/F16C kernels of simd_amd64.s. Each one loops over rows itself, so a
// MatVec chunk costs one call, and each row keeps 4 (float) or 2 (block) vector
// accumulators in flight to cover the FMA latency.

//go:noescape
func matVecF32AVX2(out *float32, w *byte, x *float32, rows, cols int)

//go:noescape
func matVecF16AVX2(out *float32, w *byte, x *float32, rows, cols int)

//go:noescape
func matVecBF16AVX2(out *float32, w *byte, x *float32, rows, cols int)

//go:noescape
func matVecQ8AVX2(out *float32, w *byte, x16 *int16, xd *float32, rows, blocks int)

//go:noescape
func matVecQ4AVX2(out *float32, w *byte, xp *int8, xq *int8, xd *float32, xs8 *float32, rows, blocks int)

//go:noescape
func matVecQ4VNNI(out *float32, w *byte, xp *int8, xq *int8, xd *float32, xs8 *float32, rows, blocks int)

//go:noescape
func matVecQ4ZMM(out *float32, w *byte, xp *int8, xq *int8, xd *float32, xs8 *float32, rows, blocks int) // xp: x in quad order (xz)

//go:noescape
func matVecQ4KAVX2(out *float32, w *byte, xq *int8, xd *float32, bsum2 *int16, rows, blocks int)

//go:noescape
func matVecQ5KAVX2(out *float32, w *byte, xq *int8, xd *float32, bsum2 *int16, rows, blocks int)

// kBatch is the K-quant batch kernels' view of four tokens: their outputs (at the
// first row), x quants, x scales and x sums (bsum2 for Q4_K and Q5_K, bsums for
// Q6_K).
type kBatch struct {
	out  [batchTokens]*float32
	q    [batchTokens]*int8
	d    [batchTokens]*float32
	sums [batchTokens]*int16
}

// newKBatch is the view of xs, whose outputs are rows of out stride apart, with
// bsums or bsum2 as sums.
// kMatMul makes a K-quant's AVX2 batch kernel (blockBytes per super-block, bsum2
// as for newKBatch) an impl function.
func kMatMul(blockBytes int, bsum2 bool, k func(a *kBatch, w *byte, rows, blocks int)) func(out []float32, rows, stride int, w []byte, xs []*q8Vector) {
	return func(out []float32, rows, stride int, w []byte, xs []*q8Vector) {
		checkKernelArgs(rows, len(w), len(xs[0].d)*blockBytes)
		checkBatch(out, rows, stride, xs)
		a := newKBatch(out, stride, xs, bsum2)
		k(&a, bytep(w), rows, len(xs[0].d))
	}
}

func newKBatch(out []float32, stride int, xs []*q8Vector, bsum2 bool) kBatch {
	var a kBatch
	for t, x := range xs[:batchTokens] {
		a.out[t], a.q[t], a.d[t], a.sums[t] = &out[t*stride], i8p(x.q), f32p(x.d), unsafe.SliceData(x.bsums)
		if bsum2 {
			a.sums[t] = unsafe.SliceData(x.bsum2)
		}
	}
	return a
}

//go:noescape
func matMulQ4KAVX2(a *kBatch, w *byte, rows, blocks int)

//go:noescape
func matMulQ5KAVX2(a *kBatch, w *byte, rows, blocks int)

//go:noescape
func matMulQ6KAVX2(a *kBatch, w *byte, rows, blocks int)

// floatBatch is the float encodings' batch kernels' view of four tokens
// (floatbatch_amd64.h): their outputs (at the first row) and x.
type floatBatch struct {
	out [batchTokens]*float32
	x   [batchTokens]*float32
}

//go:noescape
func matMulF32AVX2(a *floatBatch, w *byte, rows, cols int)

//go:noescape
func matMulF16AVX2(a *floatBatch, w *byte, rows, cols int)

//go:noescape
func matMulBF16AVX2(a *floatBatch, w *byte, rows, cols int)

// floatMatMul makes a float encoding's batch kernel (es bytes per weight) an impl
// function: fbRows rows at a time, and rows whose width is not a multiple of 8
// token by token through one, the one-token kernel.
func floatMatMul(es int, k func(a *floatBatch, w *byte, rows, cols int), one func(out []float32, w []byte, x []float32)) func(out []float32, rows, stride int, w []byte, ins []Input) {
	return func(out []float32, rows, stride int, w []byte, ins []Input) {
		cols := len(ins[0].x)
		checkKernelArgs(rows, len(w), es*cols)
		checkBatchFloat(out, rows, stride, ins, cols)
		if cols%8 != 0 {
			for t, in := range ins[:batchTokens] {
				one(out[t*stride:t*stride+rows], w, in.x)
			}
			return
		}
		var a floatBatch
		for lo := 0; lo < rows; lo += fbRows {
			for t, in := range ins[:batchTokens] {
				a.out[t], a.x[t] = &out[t*stride+lo], f32p(in.x)
			}
			k(&a, bytep(w[lo*es*cols:]), min(fbRows, rows-lo), cols)
		}
	}
}

// blockBatch is the batch kernels of the blocks of 32's view of four tokens
// (batch_amd64.s): their outputs (at the first row), x in pair order and in plain
// order, x scales and x sums (s8 for Q8_0 blocks, s for Q8_1).
type blockBatch struct {
	out [batchTokens]*float32
	xp  [batchTokens]*int8
	xq  [batchTokens]*int8
	d   [batchTokens]*float32
	s   [batchTokens]*float32
}

// newBlockBatch is the view of xs, whose outputs are rows of out stride apart,
// with s8 or s as their sums.
// blockMatMul makes a block-of-32 encoding's AVX2 batch kernel (blockBytes per
// block, s8 as for newBlockBatch) an impl function.
func blockMatMul(blockBytes int, s8 bool, k func(a *blockBatch, w *byte, rows, blocks int)) func(out []float32, rows, stride int, w []byte, xs []*q8Vector) {
	return func(out []float32, rows, stride int, w []byte, xs []*q8Vector) {
		checkKernelArgs(rows, len(w), len(xs[0].d)*blockBytes)
		checkBatch(out, rows, stride, xs)
		a := newBlockBatch(out, stride, xs, s8)
		k(&a, bytep(w), rows, len(xs[0].d))
	}
}

func newBlockBatch(out []float32, stride int, xs []*q8Vector, s8 bool) blockBatch {
	var a blockBatch
	for t, x := range xs[:batchTokens] {
		a.out[t], a.xp[t], a.xq[t], a.d[t] = &out[t*stride], i8p(x.xp), i8p(x.q), f32p(x.d)
		if s8 {
			a.s[t] = f32p(x.s8)
		} else {
			a.s[t] = f32p(x.s)
		}
	}
	return a
}

//go:noescape
func matMulQ4AVX2(a *blockBatch, w *byte, rows, blocks int)

//go:noescape
func matMulQ5_0AVX2(a *blockBatch, w *byte, rows, blocks int)

//go:noescape
func matMulQ4_1AVX2(a *blockBatch, w *byte, rows, blocks int)

//go:noescape
func matMulQ5_1AVX2(a *blockBatch, w *byte, rows, blocks int)

// q8Batch is matMulQ8AVX2's view of four tokens: their outputs (at the first row),
// x widened to int16 and x scales.
type q8Batch struct {
	out [4]*float32
	x16 [4]*int16
	d   [4]*float32
}

//go:noescape
func matMulQ8AVX2(a *q8Batch, w *byte, rows, blocks int)

//go:noescape
func matVecQ6KAVX2(out *float32, w *byte, xq *int8, xd *float32, bsums *int16, rows, blocks int)

//go:noescape
func matVecQ5_0AVX2(out *float32, w *byte, xp *int8, xd *float32, xs8 *float32, rows, blocks int)

//go:noescape
func matVecQ4_1AVX2(out *float32, w *byte, xp *int8, xd *float32, xs *float32, rows, blocks int)

//go:noescape
func matVecQ5_1AVX2(out *float32, w *byte, xp *int8, xd *float32, xs *float32, rows, blocks int)

//go:noescape
func quantizeQ8AVX2(q *int8, d *float32, s8 *float32, x *float32, blocks int)

//go:noescape
func quantizeQ8_1AVX2(q *int8, d *float32, s *float32, x *float32, blocks int)

//go:noescape
func quantizeQ8KAVX2(q *int8, d *float32, bsums *int16, x *float32, blocks int)

//go:noescape
func axpyAVX2(dst *float32, a float32, x *float32, n int)

//go:noescape
func readStreamAVX2(p *byte, n int) uint64

//go:noescape
func softcapAVX2(x *float32, n int, c, invc float32)

//go:noescape
func swigluAVX2(h, gate *float32, n int)

//go:noescape
func scoresAVX2(out *float32, k *float32, q *float32, n, hd int, v *float32)

//go:noescape
func mixAVX2(out *float32, v *float32, w *float32, n, hd int)

//go:noescape
func scoresF16AVX2(out *float32, k *uint16, q *float32, n, hd int, v *uint16)

//go:noescape
func mixF16AVX2(out *float32, v *uint16, w *float32, n, hd int)

//go:noescape
func scoresF16x2AVX2(out0, out1 *float32, k *uint16, q0, q1 *float32, n, hd int, v *uint16)

//go:noescape
func mixF16x2AVX2(out0, out1 *float32, v *uint16, w0, w1 *float32, n, hd int)

//go:noescape
func maxValueAVX2(x *float32, n int) float32

//go:noescape
func findAVX2(x *float32, n int, v float32) int

//go:noescape
func toF16AVX2(dst *uint16, src *float32, n int)

//go:noescape
func softmaxExpAVX2(x *float32, n int, s, m float32) float32

//go:noescape
func divideAVX2(x *float32, n int, d float32)

//go:noescape
func scaleAVX2(out, x, w *float32, n int, s float32)

var avx2Impl = impl{
	name:    "avx2+fma+f16c",
	prepare: prepareAVX2,
	quantizeQ8: func(v *q8Vector, x []float32) {
		quantizeQ8AVX2(i8p(v.q), f32p(v.d), f32p(v.s8), f32p(x), len(v.d))
	},
	quantizeQ8_1: func(v *q8Vector, x []float32) {
		quantizeQ8_1AVX2(i8p(v.q), f32p(v.d), f32p(v.s), f32p(x), len(v.d))
	},
	quantizeQ8K: func(v *q8Vector, x []float32) {
		quantizeQ8KAVX2(i8p(v.q), f32p(v.d), unsafe.SliceData(v.bsums), f32p(x), len(v.d))
	},
	matVecF32: func(out []float32, w []byte, x []float32) {
		checkKernelArgs(len(out), len(w), 4*len(x))
		matVecF32AVX2(f32p(out), bytep(w), f32p(x), len(out), len(x))
	},
	matVecF16: func(out []float32, w []byte, x []float32) {
		checkKernelArgs(len(out), len(w), 2*len(x))
		matVecF16AVX2(f32p(out), bytep(w), f32p(x), len(out), len(x))
	},
	matVecBF16: func(out []float32, w []byte, x []float32) {
		checkKernelArgs(len(out), len(w), 2*len(x))
		matVecBF16AVX2(f32p(out), bytep(w), f32p(x), len(out), len(x))
	},
	matMulF32: floatMatMul(4, matMulF32AVX2, func(out []float32, w []byte, x []float32) {
		matVecF32AVX2(f32p(out), bytep(w), f32p(x), len(out), len(x))
	}),
	matMulF16: floatMatMul(2, matMulF16AVX2, func(out []float32, w []byte, x []float32) {
		matVecF16AVX2(f32p(out), bytep(w), f32p(x), len(out), len(x))
	}),
	matMulBF16: floatMatMul(2, matMulBF16AVX2, func(out []float32, w []byte, x []float32) {
		matVecBF16AVX2(f32p(out), bytep(w), f32p(x), len(out), len(x))
	}),
	matVecQ8: func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q8BlockBytes)
		matVecQ8AVX2(f32p(out), bytep(w), unsafe.SliceData(x.x16), f32p(x.d), len(out), len(x.d))
	},
	matVecQ4: func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q4BlockBytes)
		matVecQ4AVX2(f32p(out), bytep(w), i8p(x.xp), i8p(x.q), f32p(x.d), f32p(x.s8), len(out), len(x.d))
	},
	matVecQ5_0: func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q50BlockBytes)
		matVecQ5_0AVX2(f32p(out), bytep(w), i8p(x.xp), f32p(x.d), f32p(x.s8), len(out), len(x.d))
	},
	matVecQ4_1: func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q41BlockBytes)
		matVecQ4_1AVX2(f32p(out), bytep(w), i8p(x.xp), f32p(x.d), f32p(x.s), len(out), len(x.d))
	},
	matVecQ5_1: func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q51BlockBytes)
		matVecQ5_1AVX2(f32p(out), bytep(w), i8p(x.xp), f32p(x.d), f32p(x.s), len(out), len(x.d))
	},
	matVecQ4K: func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q4KBlockBytes)
		matVecQ4KAVX2(f32p(out), bytep(w), i8p(x.q), f32p(x.d), unsafe.SliceData(x.bsum2), len(out), len(x.d))
	},
	matVecQ5K: func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q5KBlockBytes)
		matVecQ5KAVX2(f32p(out), bytep(w), i8p(x.q), f32p(x.d), unsafe.SliceData(x.bsum2), len(out), len(x.d))
	},
	matVecQ6K: func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q6KBlockBytes)
		matVecQ6KAVX2(f32p(out), bytep(w), i8p(x.q), f32p(x.d), unsafe.SliceData(x.bsums), len(out), len(x.d))
	},
	matMulQ8: func(out []float32, rows, stride int, w []byte, xs []*q8Vector) {
		checkKernelArgs(rows, len(w), len(xs[0].d)*q8BlockBytes)
		checkBatch(out, rows, stride, xs)
		var a q8Batch
		for t, x := range xs[:batchTokens] {
			a.out[t], a.x16[t], a.d[t] = &out[t*stride], unsafe.SliceData(x.x16), f32p(x.d)
		}
		matMulQ8AVX2(&a, bytep(w), rows, len(xs[0].d))
	},
	matMulQ4:   blockMatMul(q4BlockBytes, true, matMulQ4AVX2),
	matMulQ5_0: blockMatMul(q50BlockBytes, true, matMulQ5_0AVX2),
	matMulQ4_1: blockMatMul(q41BlockBytes, false, matMulQ4_1AVX2),
	matMulQ5_1: blockMatMul(q51BlockBytes, false, matMulQ5_1AVX2),
	matMulQ4K:  kMatMul(q4KBlockBytes, true, matMulQ4KAVX2),
	matMulQ5K:  kMatMul(q5KBlockBytes, true, matMulQ5KAVX2),
	matMulQ6K:  kMatMul(q6KBlockBytes, false, matMulQ6KAVX2),
	dot: func(a, b []float32) float32 {
		var s float32
		matVecF32AVX2(&s, bytep(f32bytes(a)), f32p(b), 1, len(a))
		return s
	},
	axpy: func(dst []float32, a float32, x []float32) {
		axpyAVX2(f32p(dst), a, f32p(x), len(x))
	},
	softcap:     simdSoftcap(8, softcapAVX2),
	swiglu:      simdSwiGLU(8, swigluAVX2),
	scores:      simdScores(8, scoresAVX2, matVecF32AVX2),
	mix:         simdMix(8, mixAVX2, axpyAVX2),
	scoresF16:   simdScoresF16(8, scoresF16AVX2, matVecF16AVX2),
	mixF16:      simdMixF16(8, mixF16AVX2),
	scoresF16x2: simdScoresF16x2(8, scoresF16x2AVX2, simdScoresF16(8, scoresF16AVX2, matVecF16AVX2)),
	mixF16x2:    simdMixF16x2(8, mixF16x2AVX2, simdMixF16(8, mixF16AVX2)),
	toF16:       simdToF16(8, toF16AVX2),
	maxValue:    simdMaxValue(8, maxValueAVX2),
	find:        simdFind(8, findAVX2),
	softmaxExp:  simdSoftmaxExp(8, softmaxExpAVX2),
	divide:      simdDivide(8, divideAVX2),
	scale:       simdScale(8, scaleAVX2),
}

// vnniImpl is avx2Impl with the Q4_0 kernel that multiplies with VPDPBUSD, for
// CPUs that have it (hasAVX512VNNI); its results are avx2Impl's bit for bit. One
// instruction multiplies and sums four byte pairs per lane, where AVX2 takes
// VPMADDUBSW and VPMADDWD.
var vnniImpl = func() impl {
	k := avx2Impl
	k.name = "avx2+fma+f16c+avx512vnni"
	k.matVecQ4 = func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q4BlockBytes)
		matVecQ4VNNI(f32p(out), bytep(w), i8p(x.xp), i8p(x.q), f32p(x.d), f32p(x.s8), len(out), len(x.d))
	}
	return k
}()

// zmmImpl is vnniImpl with the Q4_0 kernel on ZMM registers, four blocks per
// VPDPBUSD (blocks_zmm_amd64.s), for CPUs with AVX512-BW too; its results are
// avx2Impl's bit for bit. It pays off from cache (prompts); decoding from memory
// is paced by the weights' arrival either way.
var zmmImpl = func() impl {
	k := vnniImpl
	k.name = "avx2+fma+f16c+avx512vnni+zmm"
	k.prepare = prepareZMM
	k.matMulQ4 = nil // prepareZMM lays x out for the ZMM kernel, not for matMulQ4AVX2
	k.matVecQ4 = func(out []float32, w []byte, x *q8Vector) {
		checkKernelArgs(len(out), len(w), len(x.d)*q4BlockBytes)
		matVecQ4ZMM(f32p(out), bytep(w), i8p(x.xz), i8p(x.q), f32p(x.d), f32p(x.s8), len(out), len(x.d))
	}
	return k
}()

// simdImpl picks the best kernels for this CPU; INFERPI_KERNELS=avx2 keeps to
// AVX2, FMA and F16C, INFERPI_KERNELS=vnni to the YMM VNNI kernel, on a CPU that
// has more (for comparisons).
func simdImpl() (*impl, bool) {
	if !hasAVX2FMAF16C() {
		return nil, false
	}
	switch want := os.Getenv("INFERPI_KERNELS"); {
	case want == "avx2" || !hasAVX512VNNI():
		return &avx2Impl, true
	case want == "vnni" || !hasAVX512BW():
		return &vnniImpl, true
	}
	return &zmmImpl, true
}

// readStreamSIMD ORs together every byte of p[:n], n a multiple of 128. StreamRead
// calls it only while the SIMD kernels are in use, so AVX2 is known to be there: no
// feature check here, as CPUID traps to the hypervisor in a virtual machine (it
// had made every call, even over 4 KiB already in cache, cost about 4 µs).
func readStreamSIMD(p []byte) uint64 {
	if len(p) < 128 {
		return 0
	}
	return readStreamAVX2(bytep(p), len(p)&^127)
}

// prepareZMM lays out the quantized x for the ZMM Q4_0 kernel: for every four
// blocks a, b, c, d of an 8-block group, a0-15 b0-15 c0-15 d0-15 a16-31 b16-31
// c16-31 d16-31 (quad order), in xz. Q8_0 as prepareAVX2.
func prepareZMM(v *q8Vector, enc Encoding) {
	if enc != Q4_0 {
		prepareAVX2(v, enc)
		return
	}
	v.xz = grow(v.xz, len(v.q))
	interleaveHalves(v.xz, v, 4)
}

// interleaveHalves writes v's quants of the whole 8-block groups into dst in sets of
// k blocks (k divides 8): the first halves of the set's blocks in block order, then
// their second halves. The Q4_0 kernels read x this way so that one load of x meets
// the low nibbles of k blocks and the next their high nibbles.
func interleaveHalves(dst []int8, v *q8Vector, k int) {
	const half = BlockSize / 2
	groups := len(v.d) / 8 * 8 * BlockSize // values in whole 8-block groups
	for p := 0; p < groups; p += k * BlockSize {
		set := dst[p : p+k*BlockSize]
		for b := range k {
			blk := v.q[p+b*BlockSize : p+(b+1)*BlockSize]
			copy(set[b*half:(b+1)*half], blk[:half])
			copy(set[k*half+b*half:k*half+(b+1)*half], blk[half:])
		}
	}
}

// prepareAVX2 lays out the quantized x the way the block kernels read it: for Q8_0
// widened to int16 (VPMADDWD multiplies int16), for Q4_0 in pair order: for every
// two blocks A, B of an 8-block group, A0-15 B0-15 A16-31 B16-31 (see Q4_PAIR); for
// Q5_0, Q4_1 and Q5_1 in pair order throughout (blocks32_amd64.s); for Q4_K and
// Q5_K with the sums of every 32 quants (bsum2).
func prepareAVX2(v *q8Vector, enc Encoding) {
	switch enc {
	case Q8_0:
		v.x16 = grow(v.x16, len(v.q))
		x16 := v.x16[:len(v.q)] // locals and equal lengths: no bounds checks in the loop
		for i, q := range v.q {
			x16[i] = int16(q)
		}
	case Q4_0:
		v.xp = grow(v.xp, len(v.q))
		interleaveHalves(v.xp, v, 2)
	case Q5_0, Q4_1, Q5_1:
		v.xp = grow(v.xp, len(v.q))
		interleavePairs(v.xp, v.q)
	case Q4_K, Q5_K:
		prepareBsum2(v)
	}
}

// interleavePairs writes the quants q of blocks of 32 into dst in pair order:
// for every two blocks A, B, A0-15 B0-15 A16-31 B16-31, and a last block alone
// as it is. In whole groups of eight this is interleaveHalves(dst, v, 2): Q4_0
// and Q5_0 may share x's layout.
func interleavePairs(dst, q []int8) {
	const half = BlockSize / 2
	pairs := len(q) / (2 * BlockSize) * 2 * BlockSize
	for p := 0; p < pairs; p += 2 * BlockSize {
		a, b, d := q[p:p+BlockSize], q[p+BlockSize:p+2*BlockSize], dst[p:p+2*BlockSize]
		copy(d[:half], a[:half])
		copy(d[half:2*half], b[:half])
		copy(d[2*half:3*half], a[half:])
		copy(d[3*half:], b[half:])
	}
	copy(dst[pairs:len(q)], q[pairs:])
}

// prepareBsum2 fills bsum2 with the sums of every 32 quants of a Q8_K x (pairs of
// its bsums), what the mins of Q4_K and Q5_K multiply.
func prepareBsum2(v *q8Vector) {
	v.bsum2 = grow(v.bsum2, len(v.bsums)/2)
	b2, bs := v.bsum2, v.bsums[:2*len(v.bsum2)]
	for i := range b2 {
		b2[i] = bs[2*i] + bs[2*i+1]
	}
}
