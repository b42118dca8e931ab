//go:build arm64 && !purego

#include "textflag.h"
#include "simd_arm64.h"
#include "blocks_arm64.h"

// func matVecBF16NEON(out *float32, w *byte, x *float32, rows, cols int)
// matVecF16NEON's loops (float_arm64.s) with bf16 weights: SHLL by 16 widens them
// exactly (a bf16 is the upper half of a float32), one instruction on either SIMD
// pipe where FCVTL takes the F0 pipe.
TEXT ·matVecBF16NEON(SB), NOSPLIT, $0-40
	MOVD out+0(FP), R0
	MOVD w+8(FP), R1
	MOVD x+16(FP), R2
	MOVD rows+24(FP), R3
	MOVD cols+32(FP), R4

bf16row:
	MOVD R2, R5
	MOVD R4, R6
	ZERO8_V16_V23

bf16by32:
	CMP    $32, R6
	BLT    bf16by8
	VLD1.P 64(R1), [V0.H8, V1.H8, V2.H8, V3.H8]
	VLD1.P 64(R5), [V24.S4, V25.S4, V26.S4, V27.S4]
	VLD1.P 64(R5), [V28.S4, V29.S4, V30.S4, V31.S4]
	SHLL4S(4, 0)
	SHLL2_4S(5, 0)
	SHLL4S(6, 1)
	SHLL2_4S(7, 1)
	SHLL4S(8, 2)
	SHLL2_4S(9, 2)
	SHLL4S(10, 3)
	SHLL2_4S(11, 3)
	VFMLA  V4.S4, V24.S4, V16.S4
	VFMLA  V5.S4, V25.S4, V17.S4
	VFMLA  V6.S4, V26.S4, V18.S4
	VFMLA  V7.S4, V27.S4, V19.S4
	VFMLA  V8.S4, V28.S4, V20.S4
	VFMLA  V9.S4, V29.S4, V21.S4
	VFMLA  V10.S4, V30.S4, V22.S4
	VFMLA  V11.S4, V31.S4, V23.S4
	SUB    $32, R6
	B      bf16by32

bf16by8:
	CMP    $8, R6
	BLT    bf16sum
	VLD1.P 16(R1), [V0.H8]
	VLD1.P 32(R5), [V24.S4, V25.S4]
	SHLL4S(4, 0)
	SHLL2_4S(5, 0)
	VFMLA  V4.S4, V24.S4, V16.S4
	VFMLA  V5.S4, V25.S4, V17.S4
	SUB    $8, R6
	B      bf16by8

bf16sum:
	SUM8_V16_V23

bf16tail:
	CBZ     R6, bf16store
	MOVHU.P 2(R1), R7
	LSLW    $16, R7, R7
	FMOVS   R7, F0
	FMOVS.P 4(R5), F1
	FMULS   F0, F1, F1
	FADDS   F1, F16, F16
	SUB     $1, R6
	B       bf16tail

bf16store:
	FMOVS.P F16, 4(R0)
	SUBS    $1, R3
	BNE     bf16row
	RET

// func matMulBF16NEON(a *floatBatch, w *byte, rows, cols int)
// matMulF16NEON's body with bf16 weights, widened by SHLL.
#define FN_PSHIFT 4
#define FN_CSHIFT 6
#define FN_W \
	FMOVQ.P 64(R5), F12; \
	SHLL4S(0, 12); \
	SHLL2_4S(1, 12); \
	FMOVQ.P 64(R6), F13; \
	SHLL4S(2, 13); \
	SHLL2_4S(3, 13)
#define FN_TAILN \
	AND $31, R9, R12; \
	LSR $3, R12, R12
#define FN_TAIL \
	FMOVQ.P 16(R5), F12; \
	SHLL4S(0, 12); \
	SHLL2_4S(1, 12); \
	FMOVQ.P 16(R6), F13; \
	SHLL4S(2, 13); \
	SHLL2_4S(3, 13); \
	FN_X4(32); \
	FN_FMA16
TEXT ·matMulBF16NEON(SB), NOSPLIT, $0-32
	MOVD a+0(FP), R0
	MOVD w+8(FP), R1
	MOVD rows+16(FP), R2
	MOVD cols+24(FP), R3
#include "floatbatch_arm64.h"
