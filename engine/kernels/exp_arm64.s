//go:build arm64 && !purego

#include "textflag.h"
#include "simd_arm64.h"

// The elementwise kernels built on one exponential: Exp32's range reduction and
// series (vec.go, expReduce) 4 values at a time, shared by Softcap, SwiGLU and Softmax.

// CONST(bits, v): every lane of v = the 32-bit pattern bits.
#define CONST(bits, v) \
	MOVD $bits, R3; \
	VDUP R3, v.S4

// EXP_CONSTS loads what EXP_PARTS keeps in V15-V25.
#define EXP_CONSTS \
	CONST(0x3fb8aa3b, V25); /* log2 e */ \
	CONST(0x3f317200, V24); /* ln 2, high part */ \
	CONST(0x35bfbe8e, V23); /* ln 2, low part */ \
	CONST(0x39500d01, V22); /* 1/5040 */ \
	CONST(0x3ab60b61, V21); /* 1/720 */ \
	CONST(0x3c088889, V20); /* 1/120 */ \
	CONST(0x3d2aaaab, V19); /* 1/24 */ \
	CONST(0x3e2aaaab, V18); /* 1/6 */ \
	CONST(0x3f000000, V17); /* 1/2 */ \
	CONST(127, V16); \
	CONST(0x3f800000, V15) /* 1 */

// HORNER(c, from, to, n): to (register n) = c + from·r (r in V7).
#define HORNER(c, from, to, n) \
	VMOV   c.B16, to.B16; \
	FMLA4S(n, from, 7)

// EXP_PARTS splits e^x = V5·(1 + V11) for x in V3 (-87.4 < x < 88.8): k = the
// nearest integer to x·log2 e, r = x - k·ln2 (ln 2 in two parts), V11 = s = e^r - 1
// = r + r²·q (Taylor to r^7), V5 = 2^k. V4 and V6-V10 are scratch.
#define EXP_PARTS \
	FMUL4S(4, 3, 25); \
	FCVTNS4S(5, 4); \
	SCVTF4S(6, 5); \
	VMOV     V3.B16, V7.B16; \
	FMLS4S(7, 6, 24); \
	FMLS4S(7, 6, 23); \
	HORNER(V21, 22, V8, 8); \
	HORNER(V20, 8, V9, 9); \
	HORNER(V19, 9, V8, 8); \
	HORNER(V18, 8, V9, 9); \
	HORNER(V17, 9, V8, 8); \
	FMUL4S(10, 7, 7); \
	VMOV     V7.B16, V11.B16; \
	FMLA4S(11, 10, 8); \
	VADD     V16.S4, V5.S4, V5.S4; \
	VSHL     $23, V5.S4, V5.S4

// func softcapNEON(x *float32, n int, c, invc float32)
// x[i] = c·tanh(x[i]·invc) for n values (n > 0, a multiple of 4), 4 at a time: Tanh32's
// arithmetic (tanh|y| = -m/(2+m), m = e^-2|y| - 1 = 2^k·s + (2^k - 1)) in vectors.
TEXT ·softcapNEON(SB), NOSPLIT, $0-24
	MOVD  x+0(FP), R0
	MOVD  n+8(FP), R1
	MOVWU c+16(FP), R2
	VDUP  R2, V30.S4
	MOVWU invc+20(FP), R2
	VDUP  R2, V28.S4
	CONST(0x80000000, V29) // sign bit
	CONST(0x411028f6, V27) // 9.01: tanh is ±1 in float32 beyond
	CONST(0xc0000000, V26) // -2
	CONST(0x40000000, V14) // 2
	EXP_CONSTS

softcapLoop:
	VLD1     (R0), [V0.S4]
	FMUL4S(1, 0, 28)                 // y = x/c
	VAND     V29.B16, V1.B16, V2.B16 // its sign
	FABS4S(3, 1)
	FMIN4S(3, 27, 3)                 // min(9.01, |y|)
	FMUL4S(3, 3, 26)                 // z = -2|y|, in [-18.02, 0]
	EXP_PARTS                        // e^z = p·(1 + s): p in V5, s in V11
	FSUB4S(12, 5, 15)                // p - 1
	FMLA4S(12, 5, 11)                // m = p·s + (p - 1)
	FADD4S(13, 12, 14)               // 2 + m
	FDIV4S(12, 12, 13)               // m/(2+m) = -tanh|y|
	VEOR     V29.B16, V12.B16, V12.B16
	VORR     V2.B16, V12.B16, V12.B16 // tanh y
	FMUL4S(12, 12, 30)
	VST1.P   [V12.S4], 16(R0)
	SUBS     $4, R1
	BNE      softcapLoop
	RET

// func swigluNEON(h, gate *float32, n int)
// h[i] = h[i]/(1 + e^-h[i]) · gate[i] for n values (n > 0, a multiple of 4), 4 at a
// time, with the exponent held to [-87.3, 88] (outside it the quotient is h or 0 to
// float32 precision anyway).
TEXT ·swigluNEON(SB), NOSPLIT, $0-24
	MOVD h+0(FP), R0
	MOVD gate+8(FP), R1
	MOVD n+16(FP), R2
	CONST(0x80000000, V30) // sign bit
	CONST(0x42b00000, V29) // 88: e^x stays finite up to here
	CONST(0xc2ae999a, V28) // -87.3: and normal down to here
	EXP_CONSTS

swigluLoop:
	VLD1     (R0), [V0.S4]
	VLD1.P   16(R1), [V1.S4]
	VEOR     V30.B16, V0.B16, V3.B16 // x = -h
	FMIN4S(3, 29, 3)                 // min(88, x); FMIN and FMAX keep a NaN
	FMAX4S(3, 28, 3)                 // max(-87.3, x)
	EXP_PARTS                        // e^x = p·(1 + s): p in V5, s in V11
	VMOV     V5.B16, V12.B16
	FMLA4S(12, 5, 11)                // e^x = p + p·s
	FADD4S(12, 12, 15)               // 1 + e^-h
	FDIV4S(0, 0, 12)                 // silu(h)
	FMUL4S(0, 0, 1)
	VST1.P   [V0.S4], 16(R0)
	SUBS     $4, R2
	BNE      swigluLoop
	RET

// func softmaxExpNEON(x *float32, n int, s, m float32) float32
// x[i] = e^(x[i]·s - m) for n values (n > 0, a multiple of 4), 4 at a time, and
// returns their sum (four lane sums, then added across). The product is rounded
// before the subtraction (FMUL, then FSUB), as softmaxExpRef does. As Exp32, 0
// below -87.33654 (the exponent is held there and the lane masked off).
TEXT ·softmaxExpNEON(SB), NOSPLIT, $0-28
	MOVD  x+0(FP), R0
	MOVD  n+8(FP), R1
	MOVWU s+16(FP), R2
	VDUP  R2, V31.S4
	MOVWU m+20(FP), R2
	VDUP  R2, V30.S4
	CONST(0xc2aeac4f, V29) // -87.33654
	VEOR  V28.B16, V28.B16, V28.B16 // the sums
	EXP_CONSTS

softmaxLoop:
	VLD1     (R0), [V0.S4]
	FMUL4S(0, 0, 31)                    // x·s
	FSUB4S(3, 0, 30)                    // x·s - m
	FCMGE4S(13, 3, 29)                  // lanes at or above -87.33654
	FMAX4S(3, 29, 3)
	EXP_PARTS                           // e^x = p·(1 + s): p in V5, s in V11
	VMOV     V5.B16, V12.B16
	FMLA4S(12, 5, 11)                   // p + p·s
	VAND     V13.B16, V12.B16, V12.B16  // 0 where masked
	VST1.P   [V12.S4], 16(R0)
	FADD4S(28, 28, 12)
	SUBS     $4, R1
	BNE      softmaxLoop
	FADDP4S(28, 28, 28)
	FADDP4S(28, 28, 28)
	FMOVS    F28, ret+24(FP)
	RET

// func divideNEON(x *float32, n int, d float32)
// x[i] /= d for n values, n a multiple of 4 (see divideAVX2).
TEXT ·divideNEON(SB), NOSPLIT, $0-20
	MOVD  x+0(FP), R0
	MOVD  n+8(FP), R1
	FMOVS d+16(FP), F0
	VDUP  V0.S[0], V1.S4

div4:
	CBZ    R1, divdone
	VLD1   (R0), [V2.S4]
	FDIV4S(2, 2, 1)
	VST1.P [V2.S4], 16(R0)
	SUB    $4, R1
	B      div4

divdone:
	RET

// func scaleNEON(out, x, w *float32, n int, s float32)
// out[i] = w[i]·(s·x[i]), or s·x[i] when w is nil, for n values (a multiple of 4):
// two roundings (FMUL, FMUL), as RMSNorm's and run.c's rmsnorm's loops. out may be x.
TEXT ·scaleNEON(SB), NOSPLIT, $0-36
	MOVD  out+0(FP), R0
	MOVD  x+8(FP), R1
	MOVD  w+16(FP), R2
	MOVD  n+24(FP), R3
	FMOVS s+32(FP), F0
	VDUP  V0.S[0], V1.S4
	CBZ   R2, scale4

scalew4:
	VLD1.P 16(R1), [V2.S4]
	VLD1.P 16(R2), [V3.S4]
	FMUL4S(2, 2, 1)
	FMUL4S(2, 2, 3)
	VST1.P [V2.S4], 16(R0)
	SUBS   $4, R3
	BNE    scalew4
	RET

scale4:
	VLD1.P 16(R1), [V2.S4]
	FMUL4S(2, 2, 1)
	VST1.P [V2.S4], 16(R0)
	SUBS   $4, R3
	BNE    scale4
	RET
