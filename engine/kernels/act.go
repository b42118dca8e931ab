package kernels

import "math"

// Quantized weights meet a quantized vector, as in llama.cpp, whose CPU backend
// converts x to each weight type's vec_dot_type before the dot products
// (ggml-cpu.c, type_traits_cpu): the integer dot product of a block is exact, and
// only per-block sums are combined in float. Quantizing x exactly as llama.cpp does
// makes InferPi compute what llama.cpp computes (the GGUF fixtures' logits agree to
// about 1e-5 then, against up to a logit with x left in float32), and it keeps the
// inner loop in 8-bit integer multiplies, which the Cortex-A72 (no SDOT, no fp16
// arithmetic) does with half the instructions of widening every weight to float32.

// actKind is the form of x a weight encoding's kernels take.
type actKind uint8

const (
	actFloat actKind = iota // x itself (fp32, fp16 and bf16 weights)
	actQ8_0                 // Q8_0 blocks of 32 (Q8_0, Q4_0 and Q5_0 weights)
	actQ8_1                 // Q8_1 blocks of 32, Q8_0's and a sum (Q4_1 and Q5_1 weights)
	actQ8K                  // Q8_K blocks of 256 (the K-quants)
	actKinds
)

// act is the form of x that e's kernels take.
func (e Encoding) act() actKind { return e.info().act }

// q8Vector is an activation vector quantized to one kind's blocks. It never goes to
// a file: the scales are kept as the float32 values the dot products multiply by.
type q8Vector struct {
	q []int8    // values, len(x)
	d []float32 // per block, the scale: Q8_0 and Q8_1 its fp16 value (widened), Q8_K float32
	// Q8_0, per block: 8·Σq (for the SIMD Q4_0 kernels).
	s8 []float32
	// Q8_1, per block: fp16(d·Σq) widened, with d before its rounding to fp16 (what
	// a weight block's min multiplies).
	s []float32
	// Q8_K: Σq of every 16 values.
	bsums []int16

	// Other layouts of q that SIMD kernels read (impl.prepare fills them).
	x16   []int16
	bsum2 []int16 // Q8_K: Σq of every 32 values
	s16   []int32 // Q8_1: 16·Σq per block (NEON's Q5_1 kernel)
	xp    []int8
	xz    []int8
}

// grow returns s resized to n, reusing its array when it is big enough.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// quantize fills v with x in kind a's blocks (len(x) a multiple of the kind's block).
func (k *impl) quantize(a actKind, v *q8Vector, x []float32) {
	n := len(x)
	switch a {
	case actQ8_0:
		v.q, v.d, v.s8 = grow(v.q, n), grow(v.d, n/BlockSize), grow(v.s8, n/BlockSize)
		k.quantizeQ8(v, x)
	case actQ8_1:
		v.q, v.d, v.s = grow(v.q, n), grow(v.d, n/BlockSize), grow(v.s, n/BlockSize)
		k.quantizeQ8_1(v, x)
	case actQ8K:
		v.q, v.d, v.bsums = grow(v.q, n), grow(v.d, n/superBlock), grow(v.bsums, n/16)
		k.quantizeQ8K(v, x)
	default:
		panic("kernels: internal error: quantizing x for no block kind")
	}
}

// quantizeQ8Ref fills v (sized for x, len(x) a multiple of BlockSize) with x in
// Q8_0 blocks as llama.cpp's CPU backend makes them on x86 (ggml-cpu-quants.c,
// quantize_row_q8_0, its AVX2 branch, which computed the GGUF fixtures): per block
// d = fp16(amax/127), and q = round-half-to-even(x·127/amax). s8 is 8·Σq. x must
// be finite (so must every quantizer's: what infinities and NaNs become differs
// between the kernels, as between llama.cpp's).
func quantizeQ8Ref(v *q8Vector, x []float32) {
	for b := range v.d {
		d, sum := quantizeBlock8(v.q[b*BlockSize:(b+1)*BlockSize], x[b*BlockSize:(b+1)*BlockSize])
		v.d[b] = roundF16(d)
		v.s8[b] = float32(8 * sum)
	}
}

// quantizeQ8_1Ref fills v with x in Q8_1 blocks as llama.cpp's quantize_row_q8_1
// (ggml-cpu-quants.c, the AVX2 branch): q and d as Q8_0's, and s = fp16(d·Σq) with d
// before its rounding to fp16.
func quantizeQ8_1Ref(v *q8Vector, x []float32) {
	for b := range v.d {
		d, sum := quantizeBlock8(v.q[b*BlockSize:(b+1)*BlockSize], x[b*BlockSize:(b+1)*BlockSize])
		v.d[b] = roundF16(d)
		v.s[b] = roundF16(float32(d * float32(sum)))
	}
}

// quantizeBlock8 sets q[j] = round-half-to-even(x[j]·127/amax) for a block of
// Q8_0 or Q8_1 and returns its float32 scale amax/127 and Σq. llama.cpp takes
// 127/amax (not 1/d) whenever amax is not 0; here blocks with amax below tinyBlock
// (2^-120) give zeros: their fp16 scale is 0 in llama.cpp as well, so its products
// with them are 0 too, and for the smallest of them 127/amax overflows (llama.cpp's
// conversion of x·id to an integer is then undefined). s = fp16(d·Σq) is 0 in both.
func quantizeBlock8(q []int8, x []float32) (d float32, sum int32) {
	q = q[:len(x)]
	amax := absMax(x)
	if amax < tinyBlock {
		clear(q)
		return 0, 0
	}
	id := 127 / amax
	for j, v := range x {
		q[j] = int8(nearestInt(float32(v * id)))
		sum += int32(q[j])
	}
	return amax / 127, sum
}

// roundF16 is f rounded to fp16 (ties to even, as x86's F16C and ggml's
// GGML_FP32_TO_FP16) and widened back.
func roundF16(f float32) float32 { return F16ToF32(F32ToF16(f)) }

// nearestInt rounds v to the nearest integer, halves to even, for |v| < 2^22, as
// llama.cpp's nearest_int (ggml-quants.c): adding 1.5·2^23 leaves the integer in
// the low bits of the sum's significand. VCVTPS2DQ and FCVTNS round the same way.
// Callers pass a rounded float32 (an explicit conversion), so that the compiler
// cannot fuse a product into the addition.
func nearestInt(v float32) int32 {
	return int32(math.Float32bits(v+0x1.8p23)&0x7fffff) - 0x400000
}

// tinyBlock: a block of x whose largest magnitude is below it quantizes to zeros
// (quantizeBlock8).
const tinyBlock = 0x1p-120

// absMax returns the largest |v| in x (finite values; x not empty). For floats of
// one sign, the order of the bit patterns is the order of the values, so integer
// maxima over four independent chains do it without float compares.
func absMax(x []float32) float32 {
	const abs = 1<<31 - 1
	var m0, m1, m2, m3 uint32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		m0 = max(m0, math.Float32bits(x[i])&abs)
		m1 = max(m1, math.Float32bits(x[i+1])&abs)
		m2 = max(m2, math.Float32bits(x[i+2])&abs)
		m3 = max(m3, math.Float32bits(x[i+3])&abs)
	}
	for ; i < len(x); i++ {
		m0 = max(m0, math.Float32bits(x[i])&abs)
	}
	return math.Float32frombits(max(m0, m1, m2, m3))
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }
