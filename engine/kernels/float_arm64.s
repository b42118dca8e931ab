//go:build arm64 && !purego

#include "textflag.h"
#include "simd_arm64.h"
#include "blocks_arm64.h"

// Float kernels: fp32 and fp16 rows, axpy, and the plain read the others are
// measured against.

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

// func matMulF32NEON(a *floatBatch, w *byte, rows, cols int)
#define FN_PSHIFT 5
#define FN_CSHIFT 7
#define FN_W \
	FLDPQ.P 128(R5), (F0, F1); \
	FLDPQ.P 128(R6), (F2, F3)
#define FN_TAILN \
	AND $31, R9, R12; \
	LSR $2, R12, R12
#define FN_TAIL \
	FMOVQ.P 16(R5), F0; \
	FMOVQ.P 16(R6), F2; \
	FMOVQ.P 16(R7), F4; \
	FMOVQ.P 16(R8), F6; \
	FMOVQ.P 16(R10), F8; \
	FMOVQ.P 16(R13), F10; \
	FN_FMA8
TEXT ·matMulF32NEON(SB), NOSPLIT, $0-32
	MOVD a+0(FP), R0
	MOVD w+8(FP), R1
	MOVD rows+16(FP), R2
	MOVD cols+24(FP), R3
#include "floatbatch_arm64.h"
#undef FN_PSHIFT
#undef FN_CSHIFT
#undef FN_W
#undef FN_TAILN
#undef FN_TAIL

// func matMulF16NEON(a *floatBatch, w *byte, rows, cols int)
#define FN_PSHIFT 4
#define FN_CSHIFT 6
#define FN_W \
	FMOVQ.P 64(R5), F12; \
	FCVTL(0, 12); \
	FCVTL2(1, 12); \
	FMOVQ.P 64(R6), F13; \
	FCVTL(2, 13); \
	FCVTL2(3, 13)
#define FN_TAILN \
	AND $31, R9, R12; \
	LSR $3, R12, R12
#define FN_TAIL \
	FMOVQ.P 16(R5), F12; \
	FCVTL(0, 12); \
	FCVTL2(1, 12); \
	FMOVQ.P 16(R6), F13; \
	FCVTL(2, 13); \
	FCVTL2(3, 13); \
	FN_X4(32); \
	FN_FMA16
TEXT ·matMulF16NEON(SB), NOSPLIT, $0-32
	MOVD a+0(FP), R0
	MOVD w+8(FP), R1
	MOVD rows+16(FP), R2
	MOVD cols+24(FP), R3
#include "floatbatch_arm64.h"

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

// Attention over one head of the KV cache (Attend): n positions of hd values each,
// hd a multiple of 4, n and hd not zero.

// func scoresNEON(out *float32, k *float32, q *float32, n, hd int, v *float32)
// out[j] = dot(q, key j), four keys at a time: one load of q serves four FMLAs,
// and three FADDPs reduce the four sums together into one register. The values
// at v (laid out as the keys) are prefetched as the keys are read, so that the
// mix pass after the softmax finds them in cache (see scoresAVX2).
TEXT ·scoresNEON(SB), NOSPLIT, $0-48
	MOVD out+0(FP), R0
	MOVD k+8(FP), R1
	MOVD n+24(FP), R3
	MOVD hd+32(FP), R4
	MOVD v+40(FP), R11
	LSL  $2, R4, R5 // bytes per key

sc4:
	CMP  $4, R3
	BLT  sc1
	MOVD q+16(FP), R2
	MOVD R4, R6
	MOVD R1, R7
	ADD  R5, R1, R8
	ADD  R5, R8, R9
	ADD  R5, R9, R10
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16

sc4by4:
	PRFM   (R11), PLDL1KEEP // 64 bytes of the four keys' values per 16 of each key
	ADD    $64, R11, R11
	VLD1.P 16(R2), [V4.S4]
	VLD1.P 16(R7), [V5.S4]
	VLD1.P 16(R8), [V6.S4]
	VLD1.P 16(R9), [V7.S4]
	VLD1.P 16(R10), [V16.S4]
	VFMLA  V4.S4, V5.S4, V0.S4
	VFMLA  V4.S4, V6.S4, V1.S4
	VFMLA  V4.S4, V7.S4, V2.S4
	VFMLA  V4.S4, V16.S4, V3.S4
	SUBS   $4, R6
	BNE    sc4by4
	FADDP4S(0, 0, 1)  // [k0 k0 k1 k1]
	FADDP4S(2, 2, 3)  // [k2 k2 k3 k3]
	FADDP4S(0, 0, 2)  // [k0 k1 k2 k3]
	VST1.P [V0.S4], 16(R0)
	ADD    R5<<2, R1, R1
	SUB    $4, R3
	B      sc4

sc1:
	CBZ  R3, scdone
	MOVD q+16(FP), R2
	MOVD R4, R6
	VEOR V0.B16, V0.B16, V0.B16

sc1by4:
	VLD1.P 16(R2), [V4.S4]
	VLD1.P 16(R1), [V5.S4]
	VFMLA  V4.S4, V5.S4, V0.S4
	SUBS   $4, R6
	BNE    sc1by4
	FADDP4S(0, 0, 0)
	FADDP4S(0, 0, 0)
	FMOVS.P F0, 4(R0)
	SUB     $1, R3
	B       sc1

scdone:
	RET

// func mixNEON(out *float32, v *float32, w *float32, n, hd int)
// out[:hd] += Σ_j w[j]·value j, the values' columns 32 at a time in eight registers
// across all n positions (eight FMLAs by w[j]'s lane per position), then 4 at a
// time: out is written once, where an axpy per position loaded and stored it each time.
TEXT ·mixNEON(SB), NOSPLIT, $0-40
	MOVD out+0(FP), R0
	MOVD v+8(FP), R1
	MOVD hd+32(FP), R4
	LSL  $2, R4, R5 // bytes per position

mx32:
	CMP  $32, R4
	BLT  mx4
	MOVD w+16(FP), R2
	MOVD n+24(FP), R3
	MOVD R1, R7
	MOVD R0, R9
	VLD1.P 64(R9), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1 (R9), [V4.S4, V5.S4, V6.S4, V7.S4]

mx32pos:
	FMOVS.P 4(R2), F16
	MOVD    R7, R8
	VLD1.P  64(R8), [V8.S4, V9.S4, V10.S4, V11.S4]
	VLD1    (R8), [V12.S4, V13.S4, V14.S4, V15.S4]
	FMLAS0(0, 8, 16)
	FMLAS0(1, 9, 16)
	FMLAS0(2, 10, 16)
	FMLAS0(3, 11, 16)
	FMLAS0(4, 12, 16)
	FMLAS0(5, 13, 16)
	FMLAS0(6, 14, 16)
	FMLAS0(7, 15, 16)
	ADD     R5, R7, R7
	SUBS    $1, R3
	BNE     mx32pos
	VST1.P  [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	VST1.P  [V4.S4, V5.S4, V6.S4, V7.S4], 64(R0)
	ADD     $128, R1, R1
	SUB     $32, R4
	B       mx32

mx4:
	CBZ  R4, mxdone
	MOVD w+16(FP), R2
	MOVD n+24(FP), R3
	MOVD R1, R7
	VLD1 (R0), [V0.S4]

mx4pos:
	FMOVS.P 4(R2), F16
	VLD1    (R7), [V8.S4]
	FMLAS0(0, 8, 16)
	ADD     R5, R7, R7
	SUBS    $1, R3
	BNE     mx4pos
	VST1.P  [V0.S4], 16(R0)
	ADD     $16, R1, R1
	SUB     $4, R4
	B       mx4

mxdone:
	RET

// Argmax's passes over a vector of n floats, n a multiple of 4.

// Vd.4S = lanes of Vn.4S equal to Vm.4S (all ones) or not (zero)
#define FCMEQ4S(vd, vn, vm) WORD $(0x4E20E400 | ((vm)<<16) | ((vn)<<5) | (vd))

// func maxValueNEON(x *float32, n int) float32
// The largest value, four vectors at a time, or NaN when x holds one (FMAX and
// FMAXV return NaN for a NaN operand).
TEXT ·maxValueNEON(SB), NOSPLIT, $0-20
	MOVD x+0(FP), R0
	MOVD n+8(FP), R1
	VLD1 (R0), [V0.S4] // every running maximum starts at the first vector
	VORR V0.B16, V0.B16, V1.B16
	VORR V0.B16, V0.B16, V2.B16
	VORR V0.B16, V0.B16, V3.B16

mv16:
	CMP    $16, R1
	BLT    mv4
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	FMAX4S(0, 0, 4)
	FMAX4S(1, 1, 5)
	FMAX4S(2, 2, 6)
	FMAX4S(3, 3, 7)
	SUB    $16, R1
	B      mv16

mv4:
	CBZ    R1, mvreduce
	VLD1.P 16(R0), [V4.S4]
	FMAX4S(0, 0, 4)
	SUB    $4, R1
	B      mv4

mvreduce:
	FMAX4S(0, 0, 1)
	FMAX4S(2, 2, 3)
	FMAX4S(0, 0, 2)
	FMAXV4S(0, 0)
	FMOVS F0, ret+16(FP)
	RET

// func findNEON(x *float32, n int, v float32) int
// The start of the first vector of 4 holding v (==), or n.
TEXT ·findNEON(SB), NOSPLIT, $0-32
	MOVD  x+0(FP), R0
	MOVD  n+8(FP), R1
	MOVWU v+16(FP), R3
	VDUP  R3, V1.S4
	MOVD  $0, R2

fd4:
	CMP    R1, R2
	BGE    fddone
	VLD1.P 16(R0), [V2.S4]
	FCMEQ4S(3, 2, 1)
	VMOV   V3.D[0], R4
	VMOV   V3.D[1], R5
	ORR    R4, R5, R6
	CBNZ   R6, fddone
	ADD    $4, R2
	B      fd4

fddone:
	MOVD R2, ret+24(FP)
	RET
