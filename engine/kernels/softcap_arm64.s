//go:build arm64 && !purego

#include "textflag.h"
#include "simd_arm64.h"

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
	CONST(0x3fb8aa3b, V25) // log2 e
	CONST(0x3f317200, V24) // ln 2, high part
	CONST(0x35bfbe8e, V23) // ln 2, low part
	CONST(0x39500d01, V22) // 1/5040
	CONST(0x3ab60b61, V21) // 1/720
	CONST(0x3c088889, V20) // 1/120
	CONST(0x3d2aaaab, V19) // 1/24
	CONST(0x3e2aaaab, V18) // 1/6
	CONST(0x3f000000, V17) // 1/2
	CONST(127, V16)
	CONST(0x3f800000, V15) // 1
	CONST(0x40000000, V14) // 2

loop:
	VLD1     (R0), [V0.S4]
	FMUL4S(1, 0, 28)                 // y = x/c
	VAND     V29.B16, V1.B16, V2.B16 // its sign
	FABS4S(3, 1)
	FMIN4S(3, 27, 3)                 // min(9.01, |y|)
	FMUL4S(3, 3, 26)                 // z = -2|y|, in [-18.02, 0]
	FMUL4S(4, 3, 25)
	FCVTNS4S(5, 4)                   // k = nearest integer to z·log2 e
	SCVTF4S(6, 5)
	VMOV     V3.B16, V7.B16
	FMLS4S(7, 6, 24)                 // r = z - k·ln2 (in two parts)
	FMLS4S(7, 6, 23)
	HORNER(V21, 22, V8, 8)
	HORNER(V20, 8, V9, 9)
	HORNER(V19, 9, V8, 8)
	HORNER(V18, 8, V9, 9)
	HORNER(V17, 9, V8, 8)            // V8 = q
	FMUL4S(10, 7, 7)
	VMOV     V7.B16, V11.B16
	FMLA4S(11, 10, 8)                // s = r + r²·q = e^r - 1
	VADD     V16.S4, V5.S4, V5.S4
	VSHL     $23, V5.S4, V5.S4       // p = 2^k
	FSUB4S(12, 5, 15)                // p - 1
	FMLA4S(12, 5, 11)                // m = p·s + (p - 1)
	FADD4S(13, 12, 14)               // 2 + m
	FDIV4S(12, 12, 13)               // m/(2+m) = -tanh|y|
	VEOR     V29.B16, V12.B16, V12.B16
	VORR     V2.B16, V12.B16, V12.B16 // tanh y
	FMUL4S(12, 12, 30)
	VST1.P   [V12.S4], 16(R0)
	SUBS     $4, R1
	BNE      loop
	RET
