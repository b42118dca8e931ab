//go:build arm64 && !purego

#include "textflag.h"

// NEON kernels for ARMv8.0-A, written for the Cortex-A72 of the Raspberry Pi 4: no
// SDOT and no fp16 arithmetic, so fp16 weights are widened with FCVTL/FCVTL2 and
// multiplied in fp32 (FMLA), and 8-bit blocks are multiplied in integers with
// SMULL/SMLAL2 (int8 x int8 -> int16) and summed with SADDLP/SADALP (int16 pairs ->
// int32). Go's assembler has no mnemonics for those, so they are spelled as WORDs
// below; each encoding is from the Arm ARM (DDI 0487, C7.2) and was checked with
// llvm-mc -show-encoding.
//
// Why integers for the blocks: per 32 weights, SMULL/SMLAL2 x4 + SADDLP/SADALP x2 +
// SCVTF + FMLA is 8 NEON instructions; widening to fp32 instead takes SXTL x4 + SXTL
// x8 + SCVTF x8 + FMLA x8 = 28, and the A72 runs FP converts and integer multiplies
// on its F0 pipe only (Cortex-A72 Software Optimization Guide, UAN 0016A, 3.1), so
// the 8 SCVTFs alone would take as long as the whole integer path.

// Vd.4S = widen(Vn.4H) (low half) / widen(Vn.8H high half)
#define FCVTL(vd, vn)  WORD $(0x0E217800 | ((vn)<<5) | (vd))
#define FCVTL2(vd, vn) WORD $(0x4E217800 | ((vn)<<5) | (vd))
// Vd.4S = Vn.4S + Vm.4S; FADDP adds adjacent pairs of Vn:Vm
#define FADD4S(vd, vn, vm)  WORD $(0x4E20D400 | ((vm)<<16) | ((vn)<<5) | (vd))
#define FADDP4S(vd, vn, vm) WORD $(0x6E20D400 | ((vm)<<16) | ((vn)<<5) | (vd))
// Vd.4S += Vn.4S * Vm.S[0]
#define FMLAS0(vd, vn, vm) WORD $(0x4F801000 | ((vm)<<16) | ((vn)<<5) | (vd))
// Vd.4S = float(Vn.4S) (signed int32)
#define SCVTF4S(vd, vn) WORD $(0x4E21D800 | ((vn)<<5) | (vd))
// Vd.8H = Vn.8B * Vm.8B (low 8 bytes, signed); SMLAL2 adds the products of the high 8
#define SMULL8H(vd, vn, vm)  WORD $(0x0E20C000 | ((vm)<<16) | ((vn)<<5) | (vd))
#define SMLAL2_8H(vd, vn, vm) WORD $(0x4E208000 | ((vm)<<16) | ((vn)<<5) | (vd))
// Vd.4S = pairwise sums of Vn.8H (SADDLP), or Vd.4S += them (SADALP)
#define SADDLP4S(vd, vn) WORD $(0x4E602800 | ((vn)<<5) | (vd))
#define SADALP4S(vd, vn) WORD $(0x4E606800 | ((vn)<<5) | (vd))

// Vd.4S = |Vn.4S|; max(Vn.4S, Vm.4S); Sd = max across Vn.4S
#define FABS4S(vd, vn)      WORD $(0x4EA0F800 | ((vn)<<5) | (vd))
#define FMAX4S(vd, vn, vm)  WORD $(0x4E20F400 | ((vm)<<16) | ((vn)<<5) | (vd))
#define FMAXV4S(sd, vn)     WORD $(0x6E30F800 | ((vn)<<5) | (sd))
// Vd.4S = Vn.4S * Vm.S[0]
#define FMULS0(vd, vn, vm)  WORD $(0x4F809000 | ((vm)<<16) | ((vn)<<5) | (vd))
// Vd.4S = int32(Vn.4S) rounded to nearest, ties away from zero (C's roundf)
#define FCVTAS4S(vd, vn)    WORD $(0x4E21C800 | ((vn)<<5) | (vd))
// Sd = Σ Vn.4S (int32)
#define ADDV4S(sd, vn)      WORD $(0x4EB1B800 | ((vn)<<5) | (sd))
// Saturating narrows: int32 -> int16 into the low half (SQXTN) or the high half
// (SQXTN2) of Vd; int16 -> int8 likewise.
#define SQXTN_4H(vd, vn)    WORD $(0x0E614800 | ((vn)<<5) | (vd))
#define SQXTN2_8H(vd, vn)   WORD $(0x4E614800 | ((vn)<<5) | (vd))
#define SQXTN_8B(vd, vn)    WORD $(0x0E214800 | ((vn)<<5) | (vd))
#define SQXTN2_16B(vd, vn)  WORD $(0x4E214800 | ((vn)<<5) | (vd))

#define ZERO8_V16_V23 \
	VEOR V16.B16, V16.B16, V16.B16; \
	VEOR V17.B16, V17.B16, V17.B16; \
	VEOR V18.B16, V18.B16, V18.B16; \
	VEOR V19.B16, V19.B16, V19.B16; \
	VEOR V20.B16, V20.B16, V20.B16; \
	VEOR V21.B16, V21.B16, V21.B16; \
	VEOR V22.B16, V22.B16, V22.B16; \
	VEOR V23.B16, V23.B16, V23.B16

// Sum of V16..V23 into S16.
#define SUM8_V16_V23 \
	FADD4S(16, 16, 17); \
	FADD4S(18, 18, 19); \
	FADD4S(20, 20, 21); \
	FADD4S(22, 22, 23); \
	FADD4S(16, 16, 18); \
	FADD4S(20, 20, 22); \
	FADD4S(16, 16, 20); \
	FADDP4S(16, 16, 16); \
	FADDP4S(16, 16, 16)

// Register use common to the matrix kernels: R0 out, R1 weights (walks every row in
// turn), R3 rows left, R5 x cursor, R6 columns or blocks left in the row.

// func matVecF32NEON(out *float32, w *byte, x *float32, rows, cols int)
TEXT ·matVecF32NEON(SB), NOSPLIT, $0-40
	MOVD out+0(FP), R0
	MOVD w+8(FP), R1
	MOVD x+16(FP), R2
	MOVD rows+24(FP), R3
	MOVD cols+32(FP), R4

f32row:
	MOVD R2, R5
	MOVD R4, R6
	ZERO8_V16_V23

f32by32:
	CMP    $32, R6
	BLT    f32by4
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(R5), [V24.S4, V25.S4, V26.S4, V27.S4]
	VLD1.P 64(R5), [V28.S4, V29.S4, V30.S4, V31.S4]
	VFMLA  V0.S4, V24.S4, V16.S4
	VFMLA  V1.S4, V25.S4, V17.S4
	VFMLA  V2.S4, V26.S4, V18.S4
	VFMLA  V3.S4, V27.S4, V19.S4
	VFMLA  V4.S4, V28.S4, V20.S4
	VFMLA  V5.S4, V29.S4, V21.S4
	VFMLA  V6.S4, V30.S4, V22.S4
	VFMLA  V7.S4, V31.S4, V23.S4
	SUB    $32, R6
	B      f32by32

f32by4:
	CMP    $4, R6
	BLT    f32sum
	VLD1.P 16(R1), [V0.S4]
	VLD1.P 16(R5), [V24.S4]
	VFMLA  V0.S4, V24.S4, V16.S4
	SUB    $4, R6
	B      f32by4

f32sum:
	SUM8_V16_V23

f32tail:
	CBZ     R6, f32store
	FMOVS.P 4(R1), F0
	FMOVS.P 4(R5), F1
	FMULS   F0, F1, F1
	FADDS   F1, F16, F16
	SUB     $1, R6
	B       f32tail

f32store:
	FMOVS.P F16, 4(R0)
	SUBS    $1, R3
	BNE     f32row
	RET

// func matVecF16NEON(out *float32, w *byte, x *float32, rows, cols int)
// FCVTL widens fp16 exactly (subnormals included; Go leaves FPCR.FZ off), so the
// products are those of the reference and only the order of the additions differs.
TEXT ·matVecF16NEON(SB), NOSPLIT, $0-40
	MOVD out+0(FP), R0
	MOVD w+8(FP), R1
	MOVD x+16(FP), R2
	MOVD rows+24(FP), R3
	MOVD cols+32(FP), R4

f16row:
	MOVD R2, R5
	MOVD R4, R6
	ZERO8_V16_V23

f16by32:
	CMP    $32, R6
	BLT    f16by8
	VLD1.P 64(R1), [V0.H8, V1.H8, V2.H8, V3.H8]
	VLD1.P 64(R5), [V24.S4, V25.S4, V26.S4, V27.S4]
	VLD1.P 64(R5), [V28.S4, V29.S4, V30.S4, V31.S4]
	FCVTL(4, 0)
	FCVTL2(5, 0)
	FCVTL(6, 1)
	FCVTL2(7, 1)
	FCVTL(8, 2)
	FCVTL2(9, 2)
	FCVTL(10, 3)
	FCVTL2(11, 3)
	VFMLA  V4.S4, V24.S4, V16.S4
	VFMLA  V5.S4, V25.S4, V17.S4
	VFMLA  V6.S4, V26.S4, V18.S4
	VFMLA  V7.S4, V27.S4, V19.S4
	VFMLA  V8.S4, V28.S4, V20.S4
	VFMLA  V9.S4, V29.S4, V21.S4
	VFMLA  V10.S4, V30.S4, V22.S4
	VFMLA  V11.S4, V31.S4, V23.S4
	SUB    $32, R6
	B      f16by32

f16by8:
	CMP    $8, R6
	BLT    f16sum
	VLD1.P 16(R1), [V0.H8]
	VLD1.P 32(R5), [V24.S4, V25.S4]
	FCVTL(4, 0)
	FCVTL2(5, 0)
	VFMLA  V4.S4, V24.S4, V16.S4
	VFMLA  V5.S4, V25.S4, V17.S4
	SUB    $8, R6
	B      f16by8

f16sum:
	SUM8_V16_V23

f16tail:
	CBZ     R6, f16store
	MOVHU.P 2(R1), R7
	FMOVS   R7, F0
	FCVTHS  F0, F0
	FMOVS.P 4(R5), F1
	FMULS   F0, F1, F1
	FADDS   F1, F16, F16
	SUB     $1, R6
	B       f16tail

f16store:
	FMOVS.P F16, 4(R0)
	SUBS    $1, R3
	BNE     f16row
	RET

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

// func axpyNEON(dst *float32, a float32, x *float32, n int)
TEXT ·axpyNEON(SB), NOSPLIT, $0-32
	MOVD  dst+0(FP), R0
	FMOVS a+8(FP), F0
	MOVD  x+16(FP), R1
	MOVD  n+24(FP), R2
	MOVD  R0, R3 // store cursor; R0 is the load cursor
	VDUP  V0.S[0], V1.S4

axby16:
	CMP    $16, R2
	BLT    axby4
	VLD1.P 64(R0), [V2.S4, V3.S4, V4.S4, V5.S4]
	VLD1.P 64(R1), [V6.S4, V7.S4, V8.S4, V9.S4]
	VFMLA  V1.S4, V6.S4, V2.S4
	VFMLA  V1.S4, V7.S4, V3.S4
	VFMLA  V1.S4, V8.S4, V4.S4
	VFMLA  V1.S4, V9.S4, V5.S4
	VST1.P [V2.S4, V3.S4, V4.S4, V5.S4], 64(R3)
	SUB    $16, R2
	B      axby16

axby4:
	CMP    $4, R2
	BLT    axtail
	VLD1.P 16(R0), [V2.S4]
	VLD1.P 16(R1), [V6.S4]
	VFMLA  V1.S4, V6.S4, V2.S4
	VST1.P [V2.S4], 16(R3)
	SUB    $4, R2
	B      axby4

axtail:
	CBZ     R2, axdone
	FMOVS.P 4(R0), F2
	FMOVS.P 4(R1), F3
	FMULS   F0, F3, F3
	FADDS   F3, F2, F2
	FMOVS.P F2, 4(R3)
	SUB     $1, R2
	B       axtail

axdone:
	RET

// func readStreamNEON(p *byte, n int) uint64
// ORs every byte of p[:n] (n > 0, a multiple of 128) into the result: a plain
// sequential read, the machine's read bandwidth against which kernels are measured.
TEXT ·readStreamNEON(SB), NOSPLIT, $0-24
	MOVD p+0(FP), R0
	MOVD n+8(FP), R1
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16

rdloop:
	VLD1.P 64(R0), [V0.B16, V1.B16, V2.B16, V3.B16]
	VLD1.P 64(R0), [V4.B16, V5.B16, V6.B16, V7.B16]
	VORR   V0.B16, V16.B16, V16.B16
	VORR   V1.B16, V17.B16, V17.B16
	VORR   V2.B16, V18.B16, V18.B16
	VORR   V3.B16, V19.B16, V19.B16
	VORR   V4.B16, V16.B16, V16.B16
	VORR   V5.B16, V17.B16, V17.B16
	VORR   V6.B16, V18.B16, V18.B16
	VORR   V7.B16, V19.B16, V19.B16
	SUBS   $128, R1
	BNE    rdloop

	VORR V17.B16, V16.B16, V16.B16
	VORR V19.B16, V18.B16, V18.B16
	VORR V18.B16, V16.B16, V16.B16
	VMOV V16.D[0], R2
	VMOV V16.D[1], R3
	ORR  R3, R2, R2
	MOVD R2, ret+16(FP)
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
