//go:build arm64 && !purego

#include "textflag.h"
#include "simd_arm64.h"

// Attention over an fp16 KV cache (KV, Attend): scoresNEON and mixNEON with every
// key and value widened by FCVTL on the way in (exactly, as F16ToF32; Go leaves
// FPCR.FZ off), and the conversion that fills the cache. hd is a multiple of 4.

// Vd.4H = Vn.4S rounded to fp16 by FPCR's mode (round to nearest, ties to even:
// Go and the bare-metal kernel leave FPCR.RMode 0); checked with aarch64-linux-gnu-as.
#define FCVTN(vd, vn) WORD $(0x0E216800 | ((vn)<<5) | (vd))

// func scoresF16NEON(out *float32, k *uint16, q *float32, n, hd int, v *uint16)
// out[j] = dot(q, key j), four keys at a time as in scoresNEON, prefetching the
// values as the keys are read.
TEXT ·scoresF16NEON(SB), NOSPLIT, $0-48
	MOVD out+0(FP), R0
	MOVD k+8(FP), R1
	MOVD n+24(FP), R3
	MOVD hd+32(FP), R4
	MOVD v+40(FP), R11
	LSL  $1, R4, R5 // bytes per key

hs4:
	CMP  $4, R3
	BLT  hs1
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

hs4by4:
	PRFM   (R11), PLDL1KEEP // 32 bytes of the four keys' values per 8 of each key
	ADD    $32, R11, R11
	VLD1.P 16(R2), [V4.S4]
	VLD1.P 8(R7), [V5.H4]
	VLD1.P 8(R8), [V6.H4]
	VLD1.P 8(R9), [V7.H4]
	VLD1.P 8(R10), [V16.H4]
	FCVTL(5, 5)
	FCVTL(6, 6)
	FCVTL(7, 7)
	FCVTL(16, 16)
	VFMLA  V4.S4, V5.S4, V0.S4
	VFMLA  V4.S4, V6.S4, V1.S4
	VFMLA  V4.S4, V7.S4, V2.S4
	VFMLA  V4.S4, V16.S4, V3.S4
	SUBS   $4, R6
	BNE    hs4by4
	FADDP4S(0, 0, 1)  // [k0 k0 k1 k1]
	FADDP4S(2, 2, 3)  // [k2 k2 k3 k3]
	FADDP4S(0, 0, 2)  // [k0 k1 k2 k3]
	VST1.P [V0.S4], 16(R0)
	ADD    R5<<2, R1, R1
	SUB    $4, R3
	B      hs4

hs1:
	CBZ  R3, hsdone
	MOVD q+16(FP), R2
	MOVD R4, R6
	VEOR V0.B16, V0.B16, V0.B16

hs1by4:
	VLD1.P 16(R2), [V4.S4]
	VLD1.P 8(R1), [V5.H4]
	FCVTL(5, 5)
	VFMLA  V4.S4, V5.S4, V0.S4
	SUBS   $4, R6
	BNE    hs1by4
	FADDP4S(0, 0, 0)
	FADDP4S(0, 0, 0)
	FMOVS.P F0, 4(R0)
	SUB     $1, R3
	B       hs1

hsdone:
	RET

// func mixF16NEON(out *float32, v *uint16, w *float32, n, hd int)
// out[:hd] += Σ_j w[j]·value j, 32 columns at a time in eight registers across all
// n positions, then 4 at a time, as mixNEON.
TEXT ·mixF16NEON(SB), NOSPLIT, $0-40
	MOVD out+0(FP), R0
	MOVD v+8(FP), R1
	MOVD hd+32(FP), R4
	LSL  $1, R4, R5 // bytes per position

hm32:
	CMP  $32, R4
	BLT  hm4
	MOVD w+16(FP), R2
	MOVD n+24(FP), R3
	MOVD R1, R7
	MOVD R0, R9
	VLD1.P 64(R9), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1 (R9), [V4.S4, V5.S4, V6.S4, V7.S4]

hm32pos:
	FMOVS.P 4(R2), F20
	VLD1    (R7), [V8.H8, V9.H8, V10.H8, V11.H8]
	FCVTL(12, 8)
	FCVTL2(13, 8)
	FCVTL(14, 9)
	FCVTL2(15, 9)
	FCVTL(16, 10)
	FCVTL2(17, 10)
	FCVTL(18, 11)
	FCVTL2(19, 11)
	FMLAS0(0, 12, 20)
	FMLAS0(1, 13, 20)
	FMLAS0(2, 14, 20)
	FMLAS0(3, 15, 20)
	FMLAS0(4, 16, 20)
	FMLAS0(5, 17, 20)
	FMLAS0(6, 18, 20)
	FMLAS0(7, 19, 20)
	ADD     R5, R7, R7
	SUBS    $1, R3
	BNE     hm32pos
	VST1.P  [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	VST1.P  [V4.S4, V5.S4, V6.S4, V7.S4], 64(R0)
	ADD     $64, R1, R1
	SUB     $32, R4
	B       hm32

hm4:
	CBZ  R4, hmdone
	MOVD w+16(FP), R2
	MOVD n+24(FP), R3
	MOVD R1, R7
	VLD1 (R0), [V0.S4]

hm4pos:
	FMOVS.P 4(R2), F20
	VLD1    (R7), [V8.H4]
	FCVTL(12, 8)
	FMLAS0(0, 12, 20)
	ADD     R5, R7, R7
	SUBS    $1, R3
	BNE     hm4pos
	VST1.P  [V0.S4], 16(R0)
	ADD     $8, R1, R1
	SUB     $4, R4
	B       hm4

hmdone:
	RET

// func toF16NEON(dst *uint16, src *float32, n int)
// dst[i] = src[i] rounded to fp16 (FCVTN), n a multiple of 4.
TEXT ·toF16NEON(SB), NOSPLIT, $0-24
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2

tf4:
	VLD1.P 16(R1), [V0.S4]
	FCVTN(1, 0)
	VST1.P [V1.H4], 8(R0)
	SUBS   $4, R2
	BNE    tf4
	RET

// Two query heads over one key/value head (GQA, Attend2): each key and value is
// widened once for both heads, which halves the FCVTLs (the A72 runs them on one
// pipe only). Each head's sums run in exactly the order of the one-head kernels
// above, so the results are theirs, bit for bit.

// func scoresF16x2NEON(out0, out1 *float32, k *uint16, q0, q1 *float32, n, hd int, v *uint16)
TEXT ·scoresF16x2NEON(SB), NOSPLIT, $0-64
	MOVD out0+0(FP), R0
	MOVD out1+8(FP), R12
	MOVD k+16(FP), R1
	MOVD n+40(FP), R3
	MOVD hd+48(FP), R4
	MOVD v+56(FP), R11
	LSL  $1, R4, R5 // bytes per key

ps4:
	CMP  $4, R3
	BLT  ps1
	MOVD q0+24(FP), R2
	MOVD q1+32(FP), R13
	MOVD R4, R6
	MOVD R1, R7
	ADD  R5, R1, R8
	ADD  R5, R8, R9
	ADD  R5, R9, R10
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16

ps4by4:
	PRFM   (R11), PLDL1KEEP
	ADD    $32, R11, R11
	VLD1.P 16(R2), [V4.S4]
	VLD1.P 16(R13), [V21.S4]
	VLD1.P 8(R7), [V5.H4]
	VLD1.P 8(R8), [V6.H4]
	VLD1.P 8(R9), [V7.H4]
	VLD1.P 8(R10), [V16.H4]
	FCVTL(5, 5)
	FCVTL(6, 6)
	FCVTL(7, 7)
	FCVTL(16, 16)
	VFMLA  V4.S4, V5.S4, V0.S4
	VFMLA  V4.S4, V6.S4, V1.S4
	VFMLA  V4.S4, V7.S4, V2.S4
	VFMLA  V4.S4, V16.S4, V3.S4
	VFMLA  V21.S4, V5.S4, V17.S4
	VFMLA  V21.S4, V6.S4, V18.S4
	VFMLA  V21.S4, V7.S4, V19.S4
	VFMLA  V21.S4, V16.S4, V20.S4
	SUBS   $4, R6
	BNE    ps4by4
	FADDP4S(0, 0, 1)     // head 0, as scoresF16NEON
	FADDP4S(2, 2, 3)
	FADDP4S(0, 0, 2)
	VST1.P [V0.S4], 16(R0)
	FADDP4S(17, 17, 18)  // head 1
	FADDP4S(19, 19, 20)
	FADDP4S(17, 17, 19)
	VST1.P [V17.S4], 16(R12)
	ADD    R5<<2, R1, R1
	SUB    $4, R3
	B      ps4

ps1:
	CBZ  R3, psdone
	MOVD q0+24(FP), R2
	MOVD q1+32(FP), R13
	MOVD R4, R6
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V17.B16, V17.B16, V17.B16

ps1by4:
	VLD1.P 16(R2), [V4.S4]
	VLD1.P 16(R13), [V21.S4]
	VLD1.P 8(R1), [V5.H4]
	FCVTL(5, 5)
	VFMLA  V4.S4, V5.S4, V0.S4
	VFMLA  V21.S4, V5.S4, V17.S4
	SUBS   $4, R6
	BNE    ps1by4
	FADDP4S(0, 0, 0)
	FADDP4S(0, 0, 0)
	FMOVS.P F0, 4(R0)
	FADDP4S(17, 17, 17)
	FADDP4S(17, 17, 17)
	FMOVS.P F17, 4(R12)
	SUB     $1, R3
	B       ps1

psdone:
	RET

// func mixF16x2NEON(out0, out1 *float32, v *uint16, w0, w1 *float32, n, hd int)
// 32 columns of both heads at a time (sixteen accumulators), then 4.
TEXT ·mixF16x2NEON(SB), NOSPLIT, $0-56
	MOVD out0+0(FP), R0
	MOVD out1+8(FP), R12
	MOVD v+16(FP), R1
	MOVD hd+48(FP), R4
	LSL  $1, R4, R5 // bytes per position

pm32:
	CMP  $32, R4
	BLT  pm4
	MOVD w0+24(FP), R2
	MOVD w1+32(FP), R13
	MOVD n+40(FP), R3
	MOVD R1, R7
	MOVD R0, R9
	VLD1.P 64(R9), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1 (R9), [V4.S4, V5.S4, V6.S4, V7.S4]
	MOVD R12, R9
	VLD1.P 64(R9), [V24.S4, V25.S4, V26.S4, V27.S4]
	VLD1 (R9), [V28.S4, V29.S4, V30.S4, V31.S4]

pm32pos:
	FMOVS.P 4(R2), F20
	FMOVS.P 4(R13), F21
	VLD1    (R7), [V8.H8, V9.H8, V10.H8, V11.H8]
	FCVTL(12, 8)
	FCVTL2(13, 8)
	FCVTL(14, 9)
	FCVTL2(15, 9)
	FCVTL(16, 10)
	FCVTL2(17, 10)
	FCVTL(18, 11)
	FCVTL2(19, 11)
	FMLAS0(0, 12, 20)
	FMLAS0(1, 13, 20)
	FMLAS0(2, 14, 20)
	FMLAS0(3, 15, 20)
	FMLAS0(4, 16, 20)
	FMLAS0(5, 17, 20)
	FMLAS0(6, 18, 20)
	FMLAS0(7, 19, 20)
	FMLAS0(24, 12, 21)
	FMLAS0(25, 13, 21)
	FMLAS0(26, 14, 21)
	FMLAS0(27, 15, 21)
	FMLAS0(28, 16, 21)
	FMLAS0(29, 17, 21)
	FMLAS0(30, 18, 21)
	FMLAS0(31, 19, 21)
	ADD     R5, R7, R7
	SUBS    $1, R3
	BNE     pm32pos
	VST1.P  [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	VST1.P  [V4.S4, V5.S4, V6.S4, V7.S4], 64(R0)
	VST1.P  [V24.S4, V25.S4, V26.S4, V27.S4], 64(R12)
	VST1.P  [V28.S4, V29.S4, V30.S4, V31.S4], 64(R12)
	ADD     $64, R1, R1
	SUB     $32, R4
	B       pm32

pm4:
	CBZ  R4, pmdone
	MOVD w0+24(FP), R2
	MOVD w1+32(FP), R13
	MOVD n+40(FP), R3
	MOVD R1, R7
	VLD1 (R0), [V0.S4]
	VLD1 (R12), [V24.S4]

pm4pos:
	FMOVS.P 4(R2), F20
	FMOVS.P 4(R13), F21
	VLD1    (R7), [V8.H4]
	FCVTL(12, 8)
	FMLAS0(0, 12, 20)
	FMLAS0(24, 12, 21)
	ADD     R5, R7, R7
	SUBS    $1, R3
	BNE     pm4pos
	VST1.P  [V0.S4], 16(R0)
	VST1.P  [V24.S4], 16(R12)
	ADD     $8, R1, R1
	SUB     $4, R4
	B       pm4

pmdone:
	RET
