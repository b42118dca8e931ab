//go:build amd64 && !purego

#include "textflag.h"
#include "simd_amd64.h"

// func matVecBF16AVX2(out *float32, w *byte, x *float32, rows, cols int)
// A bf16 value is the upper half of a float32: VPMOVZXWD and a shift by 16 widen
// eight exactly, as BF16ToF32.
#define HALF_KERNEL ·matVecBF16AVX2
#define WIDEN(src, y) \
	VPMOVZXWD src, y; \
	VPSLLD    $16, y, y
#define WIDEN1(x) \
	SHLL  $16, AX; \
	VMOVD AX, x
#include "halfkernel_amd64.h"

// func matMulBF16AVX2(a *floatBatch, w *byte, rows, cols int)
#define FB_KERNEL ·matMulBF16AVX2
#define FB_ES 2
#define FB_SHIFT 4
#define FB_XS 2
#define FB_WIDEN(src, y) WIDEN(src, y)
#include "floatbatch_amd64.h"
