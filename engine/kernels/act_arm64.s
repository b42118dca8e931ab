//go:build arm64 && !purego

#include "textflag.h"
#include "simd_arm64.h"
#include "blocks_arm64.h"

// The quantizers of x (act.go), with the reference's arithmetic exactly.

// Q8_CONSTS: F30 = 127, F28 = tinyBlock (2^-120), F31 = 0.
#define Q8_CONSTS \
	FMOVS $127.0, F30; \
	MOVW  $0x03800000, R6; \
	FMOVS R6, F28; \
	FMOVS ZR, F31

// Q8_BLOCK quantizes the next 32 values of x (R3) as quantizeBlock8: d = max|x|/127
// (F19; 0 below tinyBlock) and d rounded to fp16 and widened back (F17: FCVT under
// the default FPCR rounding, to nearest, ties to even), id = 127/max|x| (0 below
// tinyBlock), q = x·id rounded to the nearest integer, ties to even (FCVTNS), into
// V0 and V1 (32 int8: within ±127, no saturation); R5 = Σq.
#define Q8_BLOCK \
	VLD1.P 64(R3), [V0.S4, V1.S4, V2.S4, V3.S4]; \
	VLD1.P 64(R3), [V4.S4, V5.S4, V6.S4, V7.S4]; \
	FABS4S(8, 0); \
	FABS4S(9, 1); \
	FABS4S(10, 2); \
	FABS4S(11, 3); \
	FABS4S(12, 4); \
	FABS4S(13, 5); \
	FABS4S(14, 6); \
	FABS4S(15, 7); \
	FMAX4S(8, 8, 9); \
	FMAX4S(10, 10, 11); \
	FMAX4S(12, 12, 13); \
	FMAX4S(14, 14, 15); \
	FMAX4S(8, 8, 10); \
	FMAX4S(12, 12, 14); \
	FMAX4S(8, 8, 12); \
	FMAXV4S(16, 8); \
	FDIVS  F30, F16, F19; \
	FDIVS  F16, F30, F18; \
	FCMPS  F28, F16; \
	FCSELS LT, F31, F19, F19; \
	FCSELS LT, F31, F18, F18; \
	FCVTSH F19, F17; \
	FCVTHS F17, F17; \
	FMULS0(0, 0, 18); \
	FMULS0(1, 1, 18); \
	FMULS0(2, 2, 18); \
	FMULS0(3, 3, 18); \
	FMULS0(4, 4, 18); \
	FMULS0(5, 5, 18); \
	FMULS0(6, 6, 18); \
	FMULS0(7, 7, 18); \
	FCVTNS4S(0, 0); \
	FCVTNS4S(1, 1); \
	FCVTNS4S(2, 2); \
	FCVTNS4S(3, 3); \
	FCVTNS4S(4, 4); \
	FCVTNS4S(5, 5); \
	FCVTNS4S(6, 6); \
	FCVTNS4S(7, 7); \
	VADD   V1.S4, V0.S4, V8.S4; \
	VADD   V3.S4, V2.S4, V9.S4; \
	VADD   V5.S4, V4.S4, V10.S4; \
	VADD   V7.S4, V6.S4, V11.S4; \
	VADD   V9.S4, V8.S4, V8.S4; \
	VADD   V11.S4, V10.S4, V10.S4; \
	VADD   V10.S4, V8.S4, V8.S4; \
	ADDV4S(8, 8); \
	FMOVS  F8, R5; \
	SQXTN_4H(0, 0); \
	SQXTN2_8H(0, 1); \
	SQXTN_4H(2, 2); \
	SQXTN2_8H(2, 3); \
	SQXTN_4H(4, 4); \
	SQXTN2_8H(4, 5); \
	SQXTN_4H(6, 6); \
	SQXTN2_8H(6, 7); \
	SQXTN_8B(0, 0); \
	SQXTN2_16B(0, 2); \
	SQXTN_8B(1, 4); \
	SQXTN2_16B(1, 6)

// func quantizeQ8NEON(q *int8, d *float32, s8 *float32, x *float32, blocks int)
// Q8_0 blocks (quantizeQ8Ref, after llama.cpp's AVX2 quantize_row_q8_0), s8 = 8·Σq.
TEXT ·quantizeQ8NEON(SB), NOSPLIT, $0-40
	MOVD q+0(FP), R0
	MOVD d+8(FP), R1
	MOVD s8+16(FP), R2
	MOVD x+24(FP), R3
	MOVD blocks+32(FP), R4
	Q8_CONSTS

q8loop:
	Q8_BLOCK
	FMOVS.P F17, 4(R1)
	LSLW    $3, R5, R5
	SCVTFWS R5, F9
	FMOVS.P F9, 4(R2)
	VST1.P  [V0.B16, V1.B16], 32(R0)
	SUBS    $1, R4
	BNE     q8loop
	RET

// func quantizeQ8_1NEON(q *int8, d *float32, s *float32, x *float32, blocks int)
// Q8_1 blocks (quantizeQ8_1Ref, after llama.cpp's AVX2 quantize_row_q8_1): q and d
// as Q8_0's, s = fp16(d·Σq) with d before its rounding to fp16.
TEXT ·quantizeQ8_1NEON(SB), NOSPLIT, $0-40
	MOVD q+0(FP), R0
	MOVD d+8(FP), R1
	MOVD s+16(FP), R2
	MOVD x+24(FP), R3
	MOVD blocks+32(FP), R4
	Q8_CONSTS

q81loop:
	Q8_BLOCK
	FMOVS.P F17, 4(R1)
	SCVTFWS R5, F9
	FMULS   F19, F9, F9
	FCVTSH  F9, F9
	FCVTHS  F9, F9
	FMOVS.P F9, 4(R2)
	VST1.P  [V0.B16, V1.B16], 32(R0)
	SUBS    $1, R4
	BNE     q81loop
	RET

// func quantizeQ8KNEON(q *int8, d *float32, bsums *int16, x *float32, blocks int)
// Q8_K blocks of 256 (quantizeQ8KRef, after llama.cpp's quantize_row_q8_K_ref): the
// first value m of largest magnitude, iscale = -127/m, d = 1/iscale, q =
// round-half-to-even(iscale·x) (within ±127: SQXTN's saturation never acts), bsums
// the sums of every 16 q. A first pass finds the largest and the smallest value:
// max|x| is one of them, and m's sign is the one that reaches it, unless both do
// (x holds +max|x| and -max|x|), when a scalar search finds the first. A block of
// zeros gets d = 0 and q = 0; when iscale overflows, q = 0 and d = 1/iscale.
TEXT ·quantizeQ8KNEON(SB), NOSPLIT, $0-40
	MOVD  q+0(FP), R0
	MOVD  d+8(FP), R1
	MOVD  bsums+16(FP), R2
	MOVD  x+24(FP), R3
	MOVD  blocks+32(FP), R4
	FMOVS $-127.0, F30
	FMOVS $1.0, F23
	MOVW  $0x7f800000, R6
	FMOVS R6, F29 // +Inf
	VDUP  R6, V26.S4
	FNEGS F29, F8
	FMOVS F8, R6
	VDUP  R6, V27.S4 // -Inf

qkloop:
	VMOV V27.B16, V16.B16
	VMOV V27.B16, V17.B16
	VMOV V26.B16, V18.B16
	VMOV V26.B16, V19.B16
	MOVD R3, R6
	MOVD $16, R7

qkmax:
	VLD1.P 64(R6), [V0.S4, V1.S4, V2.S4, V3.S4]
	FMAX4S(4, 0, 1)
	FMAX4S(5, 2, 3)
	FMIN4S(6, 0, 1)
	FMIN4S(7, 2, 3)
	FMAX4S(16, 16, 4)
	FMAX4S(17, 17, 5)
	FMIN4S(18, 18, 6)
	FMIN4S(19, 19, 7)
	SUBS   $1, R7
	BNE    qkmax
	FMAX4S(16, 16, 17)
	FMIN4S(18, 18, 19)
	FMAXV4S(16, 16)
	FMINV4S(18, 18)
	FNEGS  F18, F20
	FMAXS  F20, F16, F21 // max|x|
	FCMPS  $(0.0), F21
	BEQ    qkzeros
	FMOVS  F16, F22      // m = the largest value when it reaches max|x|
	FCMPS  F21, F20
	BNE    qkscale
	FMOVS  F18, F22      // else the smallest
	FCMPS  F21, F16
	BNE    qkscale
	MOVD   R3, R6        // both: the first value of magnitude max|x|

qkfirst:
	FMOVS.P 4(R6), F22
	FABSS   F22, F0
	FCMPS   F21, F0
	BNE     qkfirst

qkscale:
	FDIVS   F22, F30, F22 // iscale = -127/m
	FDIVS   F22, F23, F24 // d = 1/iscale
	FMOVS.P F24, 4(R1)
	FABSS   F22, F25
	FCMPS   F29, F25
	BEQ     qkzeroq
	MOVD    $16, R7

qkquant:
	VLD1.P 64(R3), [V0.S4, V1.S4, V2.S4, V3.S4]
	FMULS0(0, 0, 22)
	FMULS0(1, 1, 22)
	FMULS0(2, 2, 22)
	FMULS0(3, 3, 22)
	FCVTNS4S(0, 0)
	FCVTNS4S(1, 1)
	FCVTNS4S(2, 2)
	FCVTNS4S(3, 3)
	SQXTN_4H(0, 0)
	SQXTN2_8H(0, 1)
	SQXTN_4H(2, 2)
	SQXTN2_8H(2, 3)
	SQXTN_8B(0, 0)
	SQXTN2_16B(0, 2)
	SADDLV16B(1, 0)
	VST1.P [V0.B16], 16(R0)
	VST1.P V1.H[0], 2(R2)
	SUBS   $1, R7
	BNE    qkquant
	B      qknext

qkzeros:
	FMOVS.P F31, 4(R1)

qkzeroq:
	VEOR   V0.B16, V0.B16, V0.B16
	MOVD   $16, R7

qkclear:
	VST1.P [V0.B16], 16(R0)
	VST1.P V0.H[0], 2(R2)
	SUBS   $1, R7
	BNE    qkclear
	ADD    $1024, R3

qknext:
	SUBS $1, R4
	BNE  qkloop
	RET
