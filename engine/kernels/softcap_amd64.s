//go:build amd64 && !purego

#include "textflag.h"

// Softcap's constants, broadcast from here (Tanh32's, vec.go).
DATA softcapK<>+0(SB)/4, $0x80000000 // sign bit
DATA softcapK<>+4(SB)/4, $9.01       // tanh is ±1 in float32 beyond
DATA softcapK<>+8(SB)/4, $-2.0
DATA softcapK<>+12(SB)/4, $1.44269504088896341   // log2 e
DATA softcapK<>+16(SB)/4, $0.693145751953125     // ln 2, high part
DATA softcapK<>+20(SB)/4, $1.42860682030941723212e-6 // ln 2, low part
DATA softcapK<>+24(SB)/4, $0.000198412698412698  // 1/5040
DATA softcapK<>+28(SB)/4, $0.00138888888888888   // 1/720
DATA softcapK<>+32(SB)/4, $0.00833333333333333   // 1/120
DATA softcapK<>+36(SB)/4, $0.0416666666666667    // 1/24
DATA softcapK<>+40(SB)/4, $0.166666666666667     // 1/6
DATA softcapK<>+44(SB)/4, $0.5
DATA softcapK<>+48(SB)/4, $1.0
DATA softcapK<>+52(SB)/4, $2.0
DATA softcapK<>+56(SB)/4, $127
GLOBL softcapK<>(SB), RODATA|NOPTR, $60

// HORNER(k, y): Y5 = Y5*r + the constant at softcapK+k (r in Y4; y scratch).
#define HORNER(k, y) \
	VBROADCASTSS softcapK<>+k(SB), y; \
	VFMADD213PS  y, Y4, Y5

// func softcapAVX2(x *float32, n int, c, invc float32)
// x[i] = c·tanh(x[i]·invc) for n values (n > 0, a multiple of 8), 8 at a time: Tanh32's
// arithmetic (tanh|y| = -m/(2+m), m = e^-2|y| - 1 = 2^k·s + (2^k - 1)) in vectors.
TEXT ·softcapAVX2(SB), NOSPLIT, $0-24
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS c+16(FP), Y15
	VBROADCASTSS invc+20(FP), Y14
	VBROADCASTSS softcapK<>+0(SB), Y13  // sign bit
	VBROADCASTSS softcapK<>+4(SB), Y12  // 9.01
	VBROADCASTSS softcapK<>+12(SB), Y11 // log2 e
	VBROADCASTSS softcapK<>+16(SB), Y10 // ln 2 high
	VBROADCASTSS softcapK<>+20(SB), Y9  // ln 2 low
	VBROADCASTSS softcapK<>+8(SB), Y8   // -2

loop:
	VMOVUPS      (DI), Y0
	VMULPS       Y14, Y0, Y0   // y = x/c
	VANDPS       Y13, Y0, Y1   // its sign
	VANDNPS      Y0, Y13, Y2   // |y|
	VMINPS       Y2, Y12, Y2   // min(9.01, |y|); a NaN stays NaN (VMINPS returns its second source then)
	VMULPS       Y8, Y2, Y2    // z = -2|y|, in [-18.02, 0]
	VMULPS       Y11, Y2, Y3
	VROUNDPS     $0, Y3, Y3    // k = nearest integer to z·log2 e
	VMOVAPS      Y2, Y4
	VFNMADD231PS Y10, Y3, Y4   // r = z - k·ln2 (in two parts)
	VFNMADD231PS Y9, Y3, Y4
	VBROADCASTSS softcapK<>+24(SB), Y5
	HORNER(28, Y6)
	HORNER(32, Y6)
	HORNER(36, Y6)
	HORNER(40, Y6)
	HORNER(44, Y6)             // Y5 = q
	VMULPS       Y4, Y4, Y6
	VFMADD213PS  Y4, Y6, Y5    // s = r + r²·q = e^r - 1
	VCVTPS2DQ    Y3, Y7
	VPBROADCASTD softcapK<>+56(SB), Y6
	VPADDD       Y6, Y7, Y7
	VPSLLD       $23, Y7, Y7   // p = 2^k
	VBROADCASTSS softcapK<>+48(SB), Y6
	VSUBPS       Y6, Y7, Y6    // p - 1
	VFMADD213PS  Y6, Y7, Y5    // m = p·s + (p - 1)
	VBROADCASTSS softcapK<>+52(SB), Y6
	VADDPS       Y6, Y5, Y6    // 2 + m
	VDIVPS       Y6, Y5, Y5    // m/(2+m) = -tanh|y|
	VXORPS       Y13, Y5, Y5   // tanh|y|
	VORPS        Y1, Y5, Y5    // tanh y
	VMULPS       Y15, Y5, Y5
	VMOVUPS      Y5, (DI)
	ADDQ         $32, DI
	SUBQ         $8, CX
	JNZ          loop
	VZEROUPPER
	RET
