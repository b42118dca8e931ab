package quantize

import "math"

// C's float arithmetic, as llama.cpp's quantizers were compiled.
//
// ggml-quants.c is part of libggml-base, which llama.cpp's build compiles for the
// baseline of the target (x86-64 SSE2 here: GGML_NATIVE's -march=native only reaches
// the CPU backend), so every float operation there is one IEEE single-precision
// operation rounded on its own: no fused multiply-adds, no reassociation.
// Go may fuse x*y+z into one instruction on arm64 (and does); an explicit
// float32(x*y) forbids that, so every product that is then added or subtracted is
// written float32(x*y) here, and the results are the same on every GOARCH.

// nearestInt is ggml-quants.c's nearest_int: adding 1.5*2^23 leaves the integer
// nearest to f (ties to even) in the low mantissa bits. It is the exact bit trick, not
// math.RoundToEven, so that out-of-range arguments give llama.cpp's values too.
// The argument must already be rounded: pass float32(a*b), never a*b.
func nearestInt(f float32) int32 {
	return int32(math.Float32bits(f+12582912)&0x7fffff) - 0x400000
}

// truncate is C's conversion of a float to an integer as x86-64's cvttss2si does it,
// which is what llama.cpp's (int8_t)(x) and (uint8_t)(x) compile to: toward zero,
// and 0x80000000 for NaN and values out of int32's range (where C leaves the
// result undefined and Go's conversion differs between amd64 and arm64). Callers
// keep its low byte, as the C casts do.
func truncate(f float32) int32 {
	if !(f > -2147483904 && f < 2147483648) { // NaN or outside (-2^31-1, 2^31)
		return math.MinInt32
	}
	return int32(f)
}

// roundAway is C's roundf: to the nearest integer, halves away from zero.
func roundAway(f float32) float32 {
	return float32(math.Round(float64(f)))
}

func abs32(f float32) float32 { return math.Float32frombits(math.Float32bits(f) &^ (1 << 31)) }

// sqrt32 is C's sqrtf: the float64 square root of a float32 rounds to the same
// float32 as a correctly rounded single-precision square root.
func sqrt32(f float32) float32 { return float32(math.Sqrt(float64(f))) }

// fp16 rounds f to IEEE binary16, to nearest with ties to even, as ggml's
// GGML_FP32_TO_FP16 (ggml-impl.h, ggml_compute_fp32_to_fp16: the portable version,
// which libggml-base uses). Overflow gives infinity, subnormals are rounded
// exactly, and every NaN becomes the quiet NaN 0x7e00 with f's sign.
func fp16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	a := b &^ (1 << 31)
	switch {
	case a > 0x7f800000: // NaN
		return sign | 0x7e00
	case a >= 0x477ff000: // 65520 and up round past 65504, the largest half
		return sign | 0x7c00
	case a < 0x38800000: // below 2^-14, the smallest normal half
		// In a float32 sum with 0.5 the last mantissa bit is worth 2^-24, the spacing of
		// half subnormals: the addition rounds (ties to even) to the subnormal, whose
		// mantissa is then the sum's lowest bits (0x400, the smallest normal, included).
		return sign | uint16(math.Float32bits(math.Float32frombits(a)+0.5)-0x3f000000)
	}
	h := a>>13 - (127-15)<<10 // exponent re-biased, 10 mantissa bits
	if rest := a & 0x1fff; rest > 0x1000 || rest == 0x1000 && h&1 == 1 {
		h++ // may carry into the exponent: that is the correct result
	}
	return sign | uint16(h)
}

// fp16ToF32 widens a binary16 value exactly (ggml's GGML_FP16_TO_FP32).
func fp16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0x1f: // infinity, NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case 0: // zero, subnormal: mant * 2^-24
		v := float32(mant) * 0x1p-24
		return math.Float32frombits(sign | math.Float32bits(v))
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// bf16 is ggml_compute_fp32_to_bf16 (ggml-impl.h): the upper half of f rounded to
// nearest, ties to even (overflow gives infinity); a NaN keeps its upper half with
// the quiet bit set.
func bf16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}
