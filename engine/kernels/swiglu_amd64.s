//go:build amd64 && !purego

#include "textflag.h"

// SwiGLU's constants, broadcast from here (Exp32's, vec.go).
DATA swigluK<>+0(SB)/4, $0x80000000 // sign bit
DATA swigluK<>+4(SB)/4, $88.0        // e^x stays finite up to here
DATA swigluK<>+8(SB)/4, $-87.3       // and normal down to here
DATA swigluK<>+12(SB)/4, $1.44269504088896341   // log2 e
DATA swigluK<>+16(SB)/4, $0.693145751953125     // ln 2, high part
DATA swigluK<>+20(SB)/4, $1.42860682030941723212e-6 // ln 2, low part
DATA swigluK<>+24(SB)/4, $0.000198412698412698  // 1/5040
DATA swigluK<>+28(SB)/4, $0.00138888888888888   // 1/720
DATA swigluK<>+32(SB)/4, $0.00833333333333333   // 1/120
DATA swigluK<>+36(SB)/4, $0.0416666666666667    // 1/24
DATA swigluK<>+40(SB)/4, $0.166666666666667     // 1/6
DATA swigluK<>+44(SB)/4, $0.5
DATA swigluK<>+48(SB)/4, $1.0
DATA swigluK<>+52(SB)/4, $127
GLOBL swigluK<>(SB), RODATA|NOPTR, $56

// HORNER(k, y): Y5 = Y5*r + the constant at swigluK+k (r in Y4; y scratch).
#define HORNER(k, y) \
	VBROADCASTSS swigluK<>+k(SB), y; \
	VFMADD213PS  y, Y4, Y5

// func swigluAVX2(h, gate *float32, n int)
// h[i] = h[i]/(1 + e^-h[i]) · gate[i] for n values (n > 0, a multiple of 8), 8 at a
// time: e^x = 2^k·(1 + s) as Exp32 computes it, with x held to [-87.3, 88] (outside
// it the quotient is h or 0 to float32 precision anyway).
TEXT ·swigluAVX2(SB), NOSPLIT, $0-24
	MOVQ         h+0(FP), DI
	MOVQ         gate+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS swigluK<>+0(SB), Y15  // sign bit
	VBROADCASTSS swigluK<>+4(SB), Y14  // 88
	VBROADCASTSS swigluK<>+8(SB), Y13  // -87.3
	VBROADCASTSS swigluK<>+12(SB), Y12 // log2 e
	VBROADCASTSS swigluK<>+16(SB), Y11 // ln 2 high
	VBROADCASTSS swigluK<>+20(SB), Y10 // ln 2 low
	VBROADCASTSS swigluK<>+48(SB), Y9  // 1
	VPBROADCASTD swigluK<>+52(SB), Y8  // 127

loop:
	VMOVUPS      (DI), Y0
	VXORPS       Y15, Y0, Y2   // x = -h
	VMINPS       Y2, Y14, Y2   // min(88, x); NaN stays (VMINPS/VMAXPS return their second source then)
	VMAXPS       Y2, Y13, Y2   // max(-87.3, x)
	VMULPS       Y12, Y2, Y3
	VROUNDPS     $0, Y3, Y3    // k = nearest integer to x·log2 e
	VMOVAPS      Y2, Y4
	VFNMADD231PS Y11, Y3, Y4   // r = x - k·ln2 (in two parts)
	VFNMADD231PS Y10, Y3, Y4
	VBROADCASTSS swigluK<>+24(SB), Y5
	HORNER(28, Y6)
	HORNER(32, Y6)
	HORNER(36, Y6)
	HORNER(40, Y6)
	HORNER(44, Y6)             // Y5 = q
	VMULPS       Y4, Y4, Y6
	VFMADD213PS  Y4, Y6, Y5    // s = r + r²·q = e^r - 1
	VCVTPS2DQ    Y3, Y7
	VPADDD       Y8, Y7, Y7
	VPSLLD       $23, Y7, Y7   // p = 2^k
	VFMADD213PS  Y7, Y7, Y5    // e^x = p·s + p
	VADDPS       Y9, Y5, Y5    // 1 + e^-h
	VDIVPS       Y5, Y0, Y0    // silu(h)
	VMULPS       (SI), Y0, Y0
	VMOVUPS      Y0, (DI)
	ADDQ         $32, DI
	ADDQ         $32, SI
	SUBQ         $8, CX
	JNZ          loop
	VZEROUPPER
	RET
