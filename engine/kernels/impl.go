package kernels

import (
	"fmt"
	"os"
	"unsafe"
)

// impl is one implementation of the hot loops. Every function takes the rows to
// compute from len(out) and trusts its slices to be big enough: the exported
// wrappers check shapes once, before any kernel runs.
//
// A kernel of a block encoding takes x quantized to that encoding's activation
// blocks (act.go), by the quantizer of the same impl. An impl without a SIMD kernel
// for an encoding, or a quantizer, uses the reference's: every field but prepare
// and the batch kernels is set (TestImplsComplete).
type impl struct {
	name string
	// quantizeQ8, quantizeQ8_1 and quantizeQ8K fill v (already sized, see
	// impl.quantize) from x, as quantizeQ8Ref, quantizeQ8_1Ref and quantizeQ8KRef.
	quantizeQ8   func(v *q8Vector, x []float32)
	quantizeQ8_1 func(v *q8Vector, x []float32)
	quantizeQ8K  func(v *q8Vector, x []float32)
	// prepare, when set, adds to a quantized x the layouts the block kernels of enc
	// read.
	prepare    func(v *q8Vector, enc Encoding)
	matVecF32  func(out []float32, w []byte, x []float32)
	matVecF16  func(out []float32, w []byte, x []float32)
	matVecBF16 func(out []float32, w []byte, x []float32)
	// x in Q8_0 blocks
	matVecQ8   func(out []float32, w []byte, x *q8Vector)
	matVecQ4   func(out []float32, w []byte, x *q8Vector)
	matVecQ5_0 func(out []float32, w []byte, x *q8Vector)
	// x in Q8_1 blocks
	matVecQ4_1 func(out []float32, w []byte, x *q8Vector)
	matVecQ5_1 func(out []float32, w []byte, x *q8Vector)
	// x in Q8_K blocks
	matVecQ4K func(out []float32, w []byte, x *q8Vector)
	matVecQ5K func(out []float32, w []byte, x *q8Vector)
	matVecQ6K func(out []float32, w []byte, x *q8Vector)
	// The batch kernels, when set, are the matVec kernels of their encoding for
	// batchTokens tokens at once (MatMul's batches), from one pass over the weights:
	// rows of w times token t's x (xs[t], or ins[t]'s x for the float encodings) go
	// to out[t*stride:], each with the bits the one-token kernel gives it. Without
	// one MatMul takes the one-token kernel token by token.
	matMulF32  func(out []float32, rows, stride int, w []byte, ins []Input)
	matMulF16  func(out []float32, rows, stride int, w []byte, ins []Input)
	matMulBF16 func(out []float32, rows, stride int, w []byte, ins []Input)
	matMulQ8   func(out []float32, rows, stride int, w []byte, xs []*q8Vector)
	matMulQ4   func(out []float32, rows, stride int, w []byte, xs []*q8Vector)
	matMulQ5_0 func(out []float32, rows, stride int, w []byte, xs []*q8Vector)
	matMulQ4_1 func(out []float32, rows, stride int, w []byte, xs []*q8Vector)
	matMulQ5_1 func(out []float32, rows, stride int, w []byte, xs []*q8Vector)
	matMulQ4K  func(out []float32, rows, stride int, w []byte, xs []*q8Vector)
	matMulQ5K  func(out []float32, rows, stride int, w []byte, xs []*q8Vector)
	matMulQ6K  func(out []float32, rows, stride int, w []byte, xs []*q8Vector)

	dot     func(a, b []float32) float32
	axpy    func(dst []float32, a float32, x []float32)
	softcap func(x []float32, c float32)
	swiglu  func(h, g []float32)
	// scores and mix are Attend's two passes over a head's keys and values;
	// scores may prefetch the values (laid out as the keys) for mix, and mix adds
	// to out, each column's sum continuing in order over j: a cache held in
	// chunks (KVCache) is mixed chunk after chunk with the bits of one call.
	scores func(out, keys, q, values []float32)
	mix    func(out, values, w []float32)
	// scoresF16 and mixF16 are the same over an fp16 cache (KV), and toF16 rounds
	// keys and values into it.
	scoresF16 func(out []float32, keys []uint16, q []float32, values []uint16)
	mixF16    func(out []float32, values []uint16, w []float32)
	toF16     func(dst []uint16, src []float32)
	// maxValue is the largest value of x (len(x) > 0), or NaN when x holds one;
	// find is the first index of v in x (==), or len(x) (Argmax's two passes).
	maxValue func(x []float32) float32
	find     func(x []float32, v float32) int
	// scoresF16x2 and mixF16x2 are scoresF16 and mixF16 for two query heads over
	// one key/value head (Attend2), with each head's results exactly as alone.
	scoresF16x2 func(out0, out1 []float32, keys []uint16, q0, q1 []float32, values []uint16)
	mixF16x2    func(out0, out1 []float32, values []uint16, w0, w1 []float32)
	// softmaxExp sets x[i] = e^(x[i]·s - m), the product rounded first, and returns
	// their sum (Softmax, and attention's scaled scores).
	softmaxExp func(x []float32, s, m float32) float32
	// divide sets x[i] /= d (Softmax's normalisation; IEEE division in every lane,
	// so the SIMD kernels give the reference's bits).
	divide func(x []float32, d float32)
	// scale sets out[i] = w[i]·(s·x[i]), or s·x[i] when w is nil (RMSNorm's last
	// pass; two roundings in every lane, so the SIMD kernels give the reference's bits).
	scale func(out, x, w []float32, s float32)
}

var reference = impl{
	name:         "go",
	quantizeQ8:   quantizeQ8Ref,
	quantizeQ8_1: quantizeQ8_1Ref,
	quantizeQ8K:  quantizeQ8KRef,
	matVecF32:    matVecF32Ref,
	matVecF16:    matVecF16Ref,
	matVecBF16:   matVecBF16Ref,
	matVecQ8:     matVecQ8Ref,
	matVecQ4:     matVecQ4Ref,
	matVecQ5_0:   matVecQ5_0Ref,
	matVecQ4_1:   matVecQ4_1Ref,
	matVecQ5_1:   matVecQ5_1Ref,
	matVecQ4K:    matVecQ4KRef,
	matVecQ5K:    matVecQ5KRef,
	matVecQ6K:    matVecQ6KRef,
	dot:          dotRef,
	axpy:         axpyRef,
	softcap:      softcapRef,
	swiglu:       swigluRef,
	scores:       scoresRef,
	mix:          mixRef,
	scoresF16:    scoresF16Ref,
	mixF16:       mixF16Ref,
	toF16:        toF16Ref,
	maxValue:     maxValueRef,
	find:         findRef,
	scoresF16x2: func(out0, out1 []float32, keys []uint16, q0, q1 []float32, values []uint16) {
		scoresF16Ref(out0, keys, q0, values)
		scoresF16Ref(out1, keys, q1, values)
	},
	mixF16x2: func(out0, out1 []float32, values []uint16, w0, w1 []float32) {
		mixF16Ref(out0, values, w0)
		mixF16Ref(out1, values, w1)
	},
	softmaxExp: softmaxExpRef,
	divide:     divideRef,
	scale:      scaleRef,
}

// kern is the implementation in use. It is chosen once at start-up from the CPU's
// features (simdImpl, one per architecture); INFERPI_KERNELS=go in the environment
// or UseReference(true) selects the pure-Go reference instead.
var kern = chooseImpl()

func chooseImpl() *impl {
	if os.Getenv("INFERPI_KERNELS") == "go" {
		return &reference
	}
	if s, ok := simdImpl(); ok {
		return s
	}
	return &reference
}

// Implementation names the kernels in use: "avx2+fma+f16c", "neon" or "go".
func Implementation() string { return kern.name }

// UseReference switches between the pure-Go reference kernels (true) and the best
// kernels for this CPU (false). It is meant for tests and start-up; do not call it
// while other goroutines run kernels.
func UseReference(on bool) {
	if on {
		kern = &reference
		return
	}
	if s, ok := simdImpl(); ok {
		kern = s
	} else {
		kern = &reference
	}
}

// matVecRows computes rows [lo, hi) of out = m·x with in's kernels, over x as in
// holds it for m's encoding.
func matVecRows(in *Input, out []float32, m Matrix, lo, hi int) {
	k, x := in.k, in.x
	rb := m.Enc.RowBytes(m.Cols)
	w, o := m.Data[lo*rb:hi*rb], out[lo:hi]
	xq := in.xq[m.Enc.act()]
	switch m.Enc {
	case F32:
		k.matVecF32(o, w, x)
	case F16:
		k.matVecF16(o, w, x)
	case BF16:
		k.matVecBF16(o, w, x)
	case Q8_0:
		k.matVecQ8(o, w, xq)
	case Q4_0:
		k.matVecQ4(o, w, xq)
	case Q5_0:
		k.matVecQ5_0(o, w, xq)
	case Q4_1:
		k.matVecQ4_1(o, w, xq)
	case Q5_1:
		k.matVecQ5_1(o, w, xq)
	case Q4_K:
		k.matVecQ4K(o, w, xq)
	case Q5_K:
		k.matVecQ5K(o, w, xq)
	case Q6_K:
		k.matVecQ6K(o, w, xq)
	default:
		panic("kernels: unknown encoding " + m.Enc.String())
	}
}

// batchTokens is the number of tokens a batch kernel (impl.matMulQ8 ...) takes at
// once.
const batchTokens = 4

// fbRows is the most rows a float encoding's batch kernel takes in one call (it
// holds their accumulators between its passes over a block of columns).
const fbRows = 16

// checkBatch guards a batch kernel's assembly: batchTokens tokens' rows, stride
// apart, fit in out, and the tokens' x have the same number of blocks.
func checkBatch(out []float32, rows, stride int, xs []*q8Vector) {
	checkBatchOut(out, rows, stride, len(xs))
	for _, x := range xs[1:batchTokens] {
		if len(x.d) != len(xs[0].d) {
			panic("kernels: internal error: a batch of tokens of different widths")
		}
	}
}

// checkBatchFloat is checkBatch for the float encodings' batch kernels, whose
// tokens' x are the Inputs' own, of cols values each.
func checkBatchFloat(out []float32, rows, stride int, ins []Input, cols int) {
	checkBatchOut(out, rows, stride, len(ins))
	for _, in := range ins[:batchTokens] {
		if len(in.x) != cols {
			panic("kernels: internal error: a batch of tokens of different widths")
		}
	}
}

func checkBatchOut(out []float32, rows, stride, tokens int) {
	if rows <= 0 || len(out) < (batchTokens-1)*stride+rows || tokens < batchTokens {
		panic(fmt.Sprintf("kernels: internal error: %d tokens' %d rows, %d apart, in %d values", batchTokens, rows, stride, len(out)))
	}
}

// matMulRows computes rows [lo, hi) of out = m·x for every token of a batch (ins,
// and xq[a] each token's x in activation kind a's blocks; out holds each token's
// m.Rows values in turn): batchTokens tokens at a time where ins' kernels have a
// batch kernel for m's encoding, then the rest one at a time. The rows are one
// tile (tileBytes): every token passes over them while they are in cache.
func matMulRows(ins []Input, xq *[actKinds][]*q8Vector, out []float32, m Matrix, lo, hi int) {
	rb := m.Enc.RowBytes(m.Cols)
	w := m.Data[lo*rb : hi*rb]
	floats, blocks := ins[0].k.batch(m.Enc)
	tok := 0
	switch {
	case floats != nil:
		for ; tok+batchTokens <= len(ins); tok += batchTokens {
			floats(out[tok*m.Rows+lo:], hi-lo, m.Rows, w, ins[tok:tok+batchTokens])
		}
	case blocks != nil:
		xs := xq[m.Enc.act()]
		for ; tok+batchTokens <= len(ins); tok += batchTokens {
			blocks(out[tok*m.Rows+lo:], hi-lo, m.Rows, w, xs[tok:tok+batchTokens])
		}
	}
	for ; tok < len(ins); tok++ {
		matVecRows(&ins[tok], out[tok*m.Rows:(tok+1)*m.Rows], m, lo, hi)
	}
}

// batch returns k's batch kernel for enc, of a float encoding or a block one, or
// nils where k has none.
func (k *impl) batch(enc Encoding) (
	floats func(out []float32, rows, stride int, w []byte, ins []Input),
	blocks func(out []float32, rows, stride int, w []byte, xs []*q8Vector),
) {
	switch enc {
	case F32:
		return k.matMulF32, nil
	case F16:
		return k.matMulF16, nil
	case BF16:
		return k.matMulBF16, nil
	case Q8_0:
		return nil, k.matMulQ8
	case Q4_0:
		return nil, k.matMulQ4
	case Q5_0:
		return nil, k.matMulQ5_0
	case Q4_1:
		return nil, k.matMulQ4_1
	case Q5_1:
		return nil, k.matMulQ5_1
	case Q4_K:
		return nil, k.matMulQ4K
	case Q5_K:
		return nil, k.matMulQ5K
	case Q6_K:
		return nil, k.matMulQ6K
	}
	return nil, nil
}

// Wrappers that make SIMD kernels over whole vectors of width lanes into impl
// functions, the same for every architecture: the values left over go through the
// reference (elementwise kernels), and attention's heads whose size is not a
// multiple of width through the row kernels, as one matrix-vector product or an
// axpy per position.

func simdSoftcap(width int, k func(x *float32, n int, c, invc float32)) func([]float32, float32) {
	return func(x []float32, c float32) {
		n := len(x) &^ (width - 1)
		if n > 0 {
			k(f32p(x), n, c, 1/c)
		}
		softcapRef(x[n:], c)
	}
}

func simdSwiGLU(width int, k func(h, g *float32, n int)) func(h, g []float32) {
	return func(h, g []float32) {
		n := len(h) &^ (width - 1)
		if n > 0 {
			k(f32p(h), f32p(g), n)
		}
		swigluRef(h[n:], g[n:])
	}
}

func simdSoftmaxExp(width int, k func(x *float32, n int, s, m float32) float32) func([]float32, float32, float32) float32 {
	return func(x []float32, s, m float32) float32 {
		n := len(x) &^ (width - 1)
		var sum float32
		if n > 0 {
			sum = k(f32p(x), n, s, m)
		}
		return sum + softmaxExpRef(x[n:], s, m)
	}
}

func simdScale(width int, k func(out, x, w *float32, n int, s float32)) func(out, x, w []float32, s float32) {
	return func(out, x, w []float32, s float32) {
		n := len(x) &^ (width - 1)
		if n > 0 {
			var wp *float32
			if w != nil {
				wp = f32p(w)
			}
			k(f32p(out), f32p(x), wp, n, s)
		}
		if w != nil {
			w = w[n:]
		}
		scaleRef(out[n:], x[n:], w, s)
	}
}

func simdDivide(width int, k func(x *float32, n int, d float32)) func(x []float32, d float32) {
	return func(x []float32, d float32) {
		n := len(x) &^ (width - 1)
		if n > 0 {
			k(f32p(x), n, d)
		}
		divideRef(x[n:], d)
	}
}

func simdScores(width int, k func(out, keys, q *float32, n, hd int, values *float32), rows func(out *float32, w *byte, x *float32, rows, cols int)) func(out, keys, q, values []float32) {
	return func(out, keys, q, values []float32) {
		if len(q)%width != 0 {
			rows(f32p(out), bytep(f32bytes(keys)), f32p(q), len(out), len(q))
			return
		}
		k(f32p(out), f32p(keys), f32p(q), len(out), len(q), f32p(values))
	}
}

func simdMix(width int, k func(out, values, w *float32, n, hd int), axpy func(dst *float32, a float32, x *float32, n int)) func(out, values, w []float32) {
	return func(out, values, w []float32) {
		hd := len(out)
		if hd%width != 0 {
			for j, p := range w {
				axpy(f32p(out), p, f32p(values[j*hd:]), hd)
			}
			return
		}
		k(f32p(out), f32p(values), f32p(w), len(w), hd)
	}
}

func simdScoresF16(width int, k func(out *float32, keys *uint16, q *float32, n, hd int, values *uint16), rows func(out *float32, w *byte, x *float32, rows, cols int)) func(out []float32, keys []uint16, q []float32, values []uint16) {
	return func(out []float32, keys []uint16, q []float32, values []uint16) {
		if len(q)%width != 0 {
			rows(f32p(out), bytep(u16bytes(keys)), f32p(q), len(out), len(q))
			return
		}
		k(f32p(out), u16p(keys), f32p(q), len(out), len(q), u16p(values))
	}
}

// simdMixF16 leaves heads whose size is not a multiple of width to the reference
// (no model has one; the kernel tests cover it).
func simdMixF16(width int, k func(out *float32, values *uint16, w *float32, n, hd int)) func(out []float32, values []uint16, w []float32) {
	return func(out []float32, values []uint16, w []float32) {
		if len(out)%width != 0 {
			mixF16Ref(out, values, w)
			return
		}
		k(f32p(out), u16p(values), f32p(w), len(w), len(out))
	}
}

// simdScoresF16x2 and simdMixF16x2 leave heads whose size is not a multiple of
// width to the one-head kernels.
func simdScoresF16x2(width int, k func(out0, out1 *float32, keys *uint16, q0, q1 *float32, n, hd int, values *uint16), one func(out []float32, keys []uint16, q []float32, values []uint16)) func(out0, out1 []float32, keys []uint16, q0, q1 []float32, values []uint16) {
	return func(out0, out1 []float32, keys []uint16, q0, q1 []float32, values []uint16) {
		if len(q0)%width != 0 {
			one(out0, keys, q0, values)
			one(out1, keys, q1, values)
			return
		}
		k(f32p(out0), f32p(out1), u16p(keys), f32p(q0), f32p(q1), len(out0), len(q0), u16p(values))
	}
}

func simdMixF16x2(width int, k func(out0, out1 *float32, values *uint16, w0, w1 *float32, n, hd int), one func(out []float32, values []uint16, w []float32)) func(out0, out1 []float32, values []uint16, w0, w1 []float32) {
	return func(out0, out1 []float32, values []uint16, w0, w1 []float32) {
		if len(out0)%width != 0 {
			one(out0, values, w0)
			one(out1, values, w1)
			return
		}
		k(f32p(out0), f32p(out1), u16p(values), f32p(w0), f32p(w1), len(w0), len(out0))
	}
}

func simdToF16(width int, k func(dst *uint16, src *float32, n int)) func(dst []uint16, src []float32) {
	return func(dst []uint16, src []float32) {
		n := len(src) &^ (width - 1)
		if n > 0 {
			k(u16p(dst), f32p(src), n)
		}
		toF16Ref(dst[n:len(src)], src[n:])
	}
}

// checkMatVec panics on shapes that can only come from a programming error: every
// matrix an engine holds went through NewMatrix, which returns errors for bad files.
func checkMatVec(out []float32, m Matrix, x []float32) {
	if len(x) != m.Cols || len(out) < m.Rows || m.Rows < 0 || m.Enc.CheckCols(m.Cols) != nil ||
		len(m.Data) != m.Rows*m.Enc.RowBytes(m.Cols) {
		panic(fmt.Sprintf("kernels: MatVec shape mismatch: %dx%d %v matrix of %d bytes, x %d, out %d",
			m.Rows, m.Cols, m.Enc, len(m.Data), len(x), len(out)))
	}
}

// Pointers for the assembly kernels; callers have checked that slices are non-empty.
func f32p(s []float32) *float32 { return unsafe.SliceData(s) }
func bytep(s []byte) *byte      { return unsafe.SliceData(s) }
func i8p(s []int8) *int8        { return unsafe.SliceData(s) }

// f32bytes views a float32 slice as its bytes (for the row kernels' weight argument).
func f32bytes(s []float32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 4*len(s))
}

// checkKernelArgs guards the assembly against reading past a slice: rows of
// rowBytes each must fit in w. The exported wrappers make this always true.
func checkKernelArgs(rows, wBytes, rowBytes int) {
	if rows <= 0 || rowBytes <= 0 || wBytes < rows*rowBytes {
		panic(fmt.Sprintf("kernels: internal error: %d rows of %d bytes in %d", rows, rowBytes, wBytes))
	}
}
