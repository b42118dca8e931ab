//go:build amd64 && !purego

#include "textflag.h"

// The elementwise kernels built on one exponential: Exp32's range reduction and
// series (vec.go, expReduce) 8 values at a time, shared by Softcap, SwiGLU and Softmax.

DATA expK<>+0(SB)/4, $0x80000000 // sign bit
DATA expK<>+4(SB)/4, $1.44269504088896341   // log2 e
DATA expK<>+8(SB)/4, $0.693145751953125     // ln 2, high part
DATA expK<>+12(SB)/4, $1.42860682030941723212e-6 // ln 2, low part
DATA expK<>+16(SB)/4, $0.000198412698412698 // 1/5040
DATA expK<>+20(SB)/4, $0.00138888888888888  // 1/720
DATA expK<>+24(SB)/4, $0.00833333333333333  // 1/120
DATA expK<>+28(SB)/4, $0.0416666666666667   // 1/24
DATA expK<>+32(SB)/4, $0.166666666666667    // 1/6
DATA expK<>+36(SB)/4, $0.5
DATA expK<>+40(SB)/4, $1.0
DATA expK<>+44(SB)/4, $2.0
DATA expK<>+48(SB)/4, $127
DATA expK<>+52(SB)/4, $9.01  // tanh is ±1 in float32 beyond
DATA expK<>+56(SB)/4, $-2.0
DATA expK<>+60(SB)/4, $88.0  // e^x stays finite up to here
DATA expK<>+64(SB)/4, $-87.3 // and normal down to here
DATA expK<>+68(SB)/4, $-87.33654 // Exp32's 0 below here
GLOBL expK<>(SB), RODATA|NOPTR, $72

// EXP_CONSTS loads what EXP_PARTS keeps in registers: log2 e in Y11, ln 2 in two
// parts in Y10 and Y9.
#define EXP_CONSTS \
	VBROADCASTSS expK<>+4(SB), Y11; \
	VBROADCASTSS expK<>+8(SB), Y10; \
	VBROADCASTSS expK<>+12(SB), Y9

// HORNER(k): Y5 = Y5*r + the constant at expK+k (r in Y4; Y6 scratch).
#define HORNER(k) \
	VBROADCASTSS expK<>+k(SB), Y6; \
	VFMADD213PS  Y6, Y4, Y5

// EXP_PARTS splits e^x = Y7·(1 + Y5) for x in Y2 (-87.4 < x < 88.8): k = the
// nearest integer to x·log2 e, r = x - k·ln2 (ln 2 in two parts), Y5 = s = e^r - 1 =
// r + r²·q (Taylor to r^7), Y7 = 2^k. Y3, Y4 and Y6 are scratch.
#define EXP_PARTS \
	VMULPS       Y11, Y2, Y3; \
	VROUNDPS     $0, Y3, Y3; \
	VMOVAPS      Y2, Y4; \
	VFNMADD231PS Y10, Y3, Y4; \
	VFNMADD231PS Y9, Y3, Y4; \
	VBROADCASTSS expK<>+16(SB), Y5; \
	HORNER(20); \
	HORNER(24); \
	HORNER(28); \
	HORNER(32); \
	HORNER(36); \
	VMULPS       Y4, Y4, Y6; \
	VFMADD213PS  Y4, Y6, Y5; \
	VCVTPS2DQ    Y3, Y7; \
	VPBROADCASTD expK<>+48(SB), Y6; \
	VPADDD       Y6, Y7, Y7; \
	VPSLLD       $23, Y7, Y7

// func softcapAVX2(x *float32, n int, c, invc float32)
// x[i] = c·tanh(x[i]·invc) for n values (n > 0, a multiple of 8), 8 at a time: Tanh32's
// arithmetic (tanh|y| = -m/(2+m), m = e^-2|y| - 1 = 2^k·s + (2^k - 1)) in vectors.
TEXT ·softcapAVX2(SB), NOSPLIT, $0-24
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS c+16(FP), Y15
	VBROADCASTSS invc+20(FP), Y14
	VBROADCASTSS expK<>+0(SB), Y13  // sign bit
	VBROADCASTSS expK<>+52(SB), Y12 // 9.01
	VBROADCASTSS expK<>+56(SB), Y8  // -2
	EXP_CONSTS

softcapLoop:
	VMOVUPS      (DI), Y0
	VMULPS       Y14, Y0, Y0   // y = x/c
	VANDPS       Y13, Y0, Y1   // its sign
	VANDNPS      Y0, Y13, Y2   // |y|
	VMINPS       Y2, Y12, Y2   // min(9.01, |y|); a NaN stays NaN (VMINPS returns its second source then)
	VMULPS       Y8, Y2, Y2    // z = -2|y|, in [-18.02, 0]
	EXP_PARTS                  // e^z = p·(1 + s): p in Y7, s in Y5
	VBROADCASTSS expK<>+40(SB), Y6
	VSUBPS       Y6, Y7, Y6    // p - 1
	VFMADD213PS  Y6, Y7, Y5    // m = p·s + (p - 1)
	VBROADCASTSS expK<>+44(SB), Y6
	VADDPS       Y6, Y5, Y6    // 2 + m
	VDIVPS       Y6, Y5, Y5    // m/(2+m) = -tanh|y|
	VXORPS       Y13, Y5, Y5   // tanh|y|
	VORPS        Y1, Y5, Y5    // tanh y
	VMULPS       Y15, Y5, Y5
	VMOVUPS      Y5, (DI)
	ADDQ         $32, DI
	SUBQ         $8, CX
	JNZ          softcapLoop
	VZEROUPPER
	RET

// func swigluAVX2(h, gate *float32, n int)
// h[i] = h[i]/(1 + e^-h[i]) · gate[i] for n values (n > 0, a multiple of 8), 8 at a
// time, with the exponent held to [-87.3, 88] (outside it the quotient is h or 0 to
// float32 precision anyway).
TEXT ·swigluAVX2(SB), NOSPLIT, $0-24
	MOVQ         h+0(FP), DI
	MOVQ         gate+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS expK<>+0(SB), Y15  // sign bit
	VBROADCASTSS expK<>+60(SB), Y14 // 88
	VBROADCASTSS expK<>+64(SB), Y13 // -87.3
	VBROADCASTSS expK<>+40(SB), Y12 // 1
	EXP_CONSTS

swigluLoop:
	VMOVUPS      (DI), Y0
	VXORPS       Y15, Y0, Y2   // x = -h
	VMINPS       Y2, Y14, Y2   // min(88, x); NaN stays (VMINPS/VMAXPS return their second source then)
	VMAXPS       Y2, Y13, Y2   // max(-87.3, x)
	EXP_PARTS                  // e^x = p·(1 + s): p in Y7, s in Y5
	VFMADD213PS  Y7, Y7, Y5    // e^x = p·s + p
	VADDPS       Y12, Y5, Y5   // 1 + e^-h
	VDIVPS       Y5, Y0, Y0    // silu(h)
	VMULPS       (SI), Y0, Y0
	VMOVUPS      Y0, (DI)
	ADDQ         $32, DI
	ADDQ         $32, SI
	SUBQ         $8, CX
	JNZ          swigluLoop
	VZEROUPPER
	RET

// func softmaxExpAVX2(x *float32, n int, s, m float32) float32
// x[i] = e^(x[i]·s - m) for n values (n > 0, a multiple of 8), 8 at a time, and
// returns their sum (eight lane sums, then added across). The product is rounded
// before the subtraction (no FMA), as softmaxExpRef does. As Exp32, 0 below
// -87.33654 (the exponent is held there and the lane masked off).
TEXT ·softmaxExpAVX2(SB), NOSPLIT, $0-28
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS s+16(FP), Y8
	VBROADCASTSS m+20(FP), Y15
	VBROADCASTSS expK<>+68(SB), Y14 // -87.33654
	VXORPS       Y12, Y12, Y12      // the sums
	EXP_CONSTS

softmaxLoop:
	VMOVUPS      (DI), Y0
	VMULPS       Y8, Y0, Y0        // x·s
	VSUBPS       Y15, Y0, Y2       // x·s - m
	VCMPPS       $1, Y14, Y2, Y13  // lanes below -87.33654 (LT_OS)
	VMAXPS       Y2, Y14, Y2
	EXP_PARTS                      // e^x = p·(1 + s): p in Y7, s in Y5
	VFMADD213PS  Y7, Y7, Y5        // p·s + p
	VANDNPS      Y5, Y13, Y5       // 0 where masked
	VMOVUPS      Y5, (DI)
	VADDPS       Y5, Y12, Y12
	ADDQ         $32, DI
	SUBQ         $8, CX
	JNZ          softmaxLoop
	VEXTRACTF128 $1, Y12, X1
	VADDPS       X1, X12, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMOVSS       X0, ret+24(FP)
	VZEROUPPER
	RET

// func divideAVX2(x *float32, n int, d float32)
// x[i] /= d for n values, n a multiple of 8 (Softmax's normalisation: a scalar
// division per value had cost as much as the exponentials).
TEXT ·divideAVX2(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS d+16(FP), Y0

div8:
	TESTQ   CX, CX
	JZ      divdone
	VMOVUPS (DI), Y1
	VDIVPS  Y0, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     div8

divdone:
	VZEROUPPER
	RET

// func scaleAVX2(out, x, w *float32, n int, s float32)
// out[i] = w[i]·(s·x[i]), or s·x[i] when w is nil, for n values (a multiple of 8):
// two roundings, as RMSNorm's and run.c's rmsnorm's loops. out may be x.
TEXT ·scaleAVX2(SB), NOSPLIT, $0-36
	MOVQ         out+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         w+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS s+32(FP), Y0
	TESTQ        DX, DX
	JZ           scale8

scalew8:
	VMULPS  (SI), Y0, Y1
	VMULPS  (DX), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     scalew8
	VZEROUPPER
	RET

scale8:
	VMULPS  (SI), Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     scale8
	VZEROUPPER
	RET
