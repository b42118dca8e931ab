//go:build arm64 && !purego

#include "textflag.h"
#include "simd_arm64.h"

// Block kernels: x arrives as Q8_0 blocks, R5 walking its int8 values and R7 its
// float32 scales. Two blocks per step, accumulated into V16 and V17.
// Products of two int8 fit int16, and so does the sum of two (2*128*127 < 32767:
// weights may be -128, quantized x never is), which lets SMLAL2 add the high half's
// products onto the low half's before SADDLP/SADALP widen to int32.

// BLOCK_SCALE(wreg, sd): Ssd = fp16 bits in wreg (d_w) * next x scale (d_x).
#define BLOCK_SCALE(wreg, sd) \
	FMOVS.P 4(R7), F24; \
	FMOVS   wreg, sd; \
	FCVTHS  sd, sd; \
	FMULS   F24, sd, sd

// DOT32(wa, wb, xa, xb, t, acc, sd): acc += float(Σ wa·xa + wb·xb) * Ssd, for 16-byte
// weight registers wa, wb and x registers xa, xb; t and t+1 are scratch.
#define DOT32(wa, wb, xa, xb, t, acc, sd) \
	SMULL8H(t, wa, xa); \
	SMLAL2_8H(t, wa, xa); \
	SMULL8H(t+1, wb, xb); \
	SMLAL2_8H(t+1, wb, xb); \
	SADDLP4S(t, t); \
	SADALP4S(t, t+1); \
	SCVTF4S(t, t); \
	FMLAS0(acc, t, sd)

// func matVecQ8NEON(out *float32, w *byte, xq *int8, xd *float32, rows, blocks int)
TEXT ·matVecQ8NEON(SB), NOSPLIT, $0-48
	MOVD out+0(FP), R0
	MOVD w+8(FP), R1
	MOVD xq+16(FP), R2
	MOVD xd+24(FP), R4
	MOVD rows+32(FP), R3
	MOVD blocks+40(FP), R8

q8row:
	MOVD R2, R5
	MOVD R4, R7
	MOVD R8, R6
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16

q8by2:
	CMP     $2, R6
	BLT     q8by1
	MOVHU.P 2(R1), R9
	VLD1.P  32(R1), [V0.B16, V1.B16]
	MOVHU.P 2(R1), R10
	VLD1.P  32(R1), [V2.B16, V3.B16]
	VLD1.P  64(R5), [V4.B16, V5.B16, V6.B16, V7.B16]
	BLOCK_SCALE(R9, F22)
	BLOCK_SCALE(R10, F23)
	DOT32(0, 1, 4, 5, 8, 16, 22)
	DOT32(2, 3, 6, 7, 10, 17, 23)
	SUB     $2, R6
	B       q8by2

q8by1:
	CBZ     R6, q8sum
	MOVHU.P 2(R1), R9
	VLD1.P  32(R1), [V0.B16, V1.B16]
	VLD1.P  32(R5), [V4.B16, V5.B16]
	BLOCK_SCALE(R9, F22)
	DOT32(0, 1, 4, 5, 8, 16, 22)

q8sum:
	FADD4S(16, 16, 17)
	FADDP4S(16, 16, 16)
	FADDP4S(16, 16, 16)
	FMOVS.P F16, 4(R0)
	SUBS    $1, R3
	BNE     q8row
	RET

// func matVecQ4NEON(out *float32, w *byte, xq *int8, xd *float32, rows, blocks int)
// A Q4_0 block's byte j holds weight j in its low nibble and weight j+16 in its high
// nibble: AND 0x0f gives weights 0..15, USHR 4 gives 16..31, minus 8 signs them.
TEXT ·matVecQ4NEON(SB), NOSPLIT, $0-48
	MOVD out+0(FP), R0
	MOVD w+8(FP), R1
	MOVD xq+16(FP), R2
	MOVD xd+24(FP), R4
	MOVD rows+32(FP), R3
	MOVD blocks+40(FP), R8
	VMOVI $15, V30.B16
	VMOVI $8, V31.B16

q4row:
	MOVD R2, R5
	MOVD R4, R7
	MOVD R8, R6
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16

q4by2:
	CMP     $2, R6
	BLT     q4by1
	MOVHU.P 2(R1), R9
	VLD1.P  16(R1), [V1.B16]
	MOVHU.P 2(R1), R10
	VLD1.P  16(R1), [V3.B16]
	VLD1.P  64(R5), [V4.B16, V5.B16, V6.B16, V7.B16]
	VAND    V30.B16, V1.B16, V0.B16
	VUSHR   $4, V1.B16, V1.B16
	VAND    V30.B16, V3.B16, V2.B16
	VUSHR   $4, V3.B16, V3.B16
	VSUB    V31.B16, V0.B16, V0.B16
	VSUB    V31.B16, V1.B16, V1.B16
	VSUB    V31.B16, V2.B16, V2.B16
	VSUB    V31.B16, V3.B16, V3.B16
	BLOCK_SCALE(R9, F22)
	BLOCK_SCALE(R10, F23)
	DOT32(0, 1, 4, 5, 8, 16, 22)
	DOT32(2, 3, 6, 7, 10, 17, 23)
	SUB     $2, R6
	B       q4by2

q4by1:
	CBZ     R6, q4sum
	MOVHU.P 2(R1), R9
	VLD1.P  16(R1), [V1.B16]
	VLD1.P  32(R5), [V4.B16, V5.B16]
	VAND    V30.B16, V1.B16, V0.B16
	VUSHR   $4, V1.B16, V1.B16
	VSUB    V31.B16, V0.B16, V0.B16
	VSUB    V31.B16, V1.B16, V1.B16
	BLOCK_SCALE(R9, F22)
	DOT32(0, 1, 4, 5, 8, 16, 22)

q4sum:
	FADD4S(16, 16, 17)
	FADDP4S(16, 16, 16)
	FADDP4S(16, 16, 16)
	FMOVS.P F16, 4(R0)
	SUBS    $1, R3
	BNE     q4row
	RET

// func quantizeQ8NEON(q *int8, d *float32, s8 *float32, x *float32, blocks int)
// The reference's arithmetic exactly (q8Vector.quantizeRef): per block of 32,
// d = max|x|/127, id = 1/d (both 0 below tinyBlock), q = roundf(x*id) (FCVTAS), s8 = 8*Σq.
TEXT ·quantizeQ8NEON(SB), NOSPLIT, $0-40
	MOVD  q+0(FP), R0
	MOVD  d+8(FP), R1
	MOVD  s8+16(FP), R2
	MOVD  x+24(FP), R3
	MOVD  blocks+32(FP), R4
	FMOVS $127.0, F30
	FMOVS $1.0, F29
	MOVW  $0x03800000, R6 // 2^-120, tinyBlock
	FMOVS R6, F28
	FMOVS ZR, F31

qloop:
	VLD1.P 64(R3), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R3), [V4.S4, V5.S4, V6.S4, V7.S4]
	FABS4S(8, 0)
	FABS4S(9, 1)
	FABS4S(10, 2)
	FABS4S(11, 3)
	FABS4S(12, 4)
	FABS4S(13, 5)
	FABS4S(14, 6)
	FABS4S(15, 7)
	FMAX4S(8, 8, 9)
	FMAX4S(10, 10, 11)
	FMAX4S(12, 12, 13)
	FMAX4S(14, 14, 15)
	FMAX4S(8, 8, 10)
	FMAX4S(12, 12, 14)
	FMAX4S(8, 8, 12)
	FMAXV4S(16, 8)
	FDIVS   F30, F16, F17 // d = amax / 127
	FDIVS   F17, F29, F18 // id = 1 / d
	FCMPS   F28, F16      // amax < tinyBlock: d = id = 0
	FCSELS  LT, F31, F17, F17
	FCSELS  LT, F31, F18, F18
	FMOVS.P F17, 4(R1)
	FMULS0(0, 0, 18)
	FMULS0(1, 1, 18)
	FMULS0(2, 2, 18)
	FMULS0(3, 3, 18)
	FMULS0(4, 4, 18)
	FMULS0(5, 5, 18)
	FMULS0(6, 6, 18)
	FMULS0(7, 7, 18)
	FCVTAS4S(0, 0)
	FCVTAS4S(1, 1)
	FCVTAS4S(2, 2)
	FCVTAS4S(3, 3)
	FCVTAS4S(4, 4)
	FCVTAS4S(5, 5)
	FCVTAS4S(6, 6)
	FCVTAS4S(7, 7)

	// s8 = 8 * Σq
	VADD    V1.S4, V0.S4, V8.S4
	VADD    V3.S4, V2.S4, V9.S4
	VADD    V5.S4, V4.S4, V10.S4
	VADD    V7.S4, V6.S4, V11.S4
	VADD    V9.S4, V8.S4, V8.S4
	VADD    V11.S4, V10.S4, V10.S4
	VADD    V10.S4, V8.S4, V8.S4
	ADDV4S(8, 8)
	FMOVS   F8, R5
	LSLW    $3, R5, R5
	SCVTFWS R5, F9
	FMOVS.P F9, 4(R2)

	// int32 -> int8 (within ±127: no saturation)
	SQXTN_4H(0, 0)
	SQXTN2_8H(0, 1)
	SQXTN_4H(2, 2)
	SQXTN2_8H(2, 3)
	SQXTN_4H(4, 4)
	SQXTN2_8H(4, 5)
	SQXTN_4H(6, 6)
	SQXTN2_8H(6, 7)
	SQXTN_8B(0, 0)
	SQXTN2_16B(0, 2)
	SQXTN_8B(1, 4)
	SQXTN2_16B(1, 6)
	VST1.P  [V0.B16, V1.B16], 32(R0)
	SUBS    $1, R4
	BNE     qloop
	RET
