//go:build arm64 && !purego

#include "textflag.h"
#include "simd_arm64.h"

// func swigluNEON(h, gate *float32, n int)
// h[i] = h[i]/(1 + e^-h[i]) · gate[i] for n values (n > 0, a multiple of 4), 4 at a
// time: e^x = 2^k·(1 + s) as Exp32 computes it, with x held to [-87.3, 88] (outside
// it the quotient is h or 0 to float32 precision anyway).
TEXT ·swigluNEON(SB), NOSPLIT, $0-24
	MOVD h+0(FP), R0
	MOVD gate+8(FP), R1
	MOVD n+16(FP), R2
	CONST(0x80000000, V30) // sign bit
	CONST(0x42b00000, V29) // 88: e^x stays finite up to here
	CONST(0xc2ae999a, V28) // -87.3: and normal down to here
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

loop:
	VLD1     (R0), [V0.S4]
	VLD1.P   16(R1), [V1.S4]
	VEOR     V30.B16, V0.B16, V3.B16 // x = -h
	FMIN4S(3, 29, 3)                 // min(88, x); FMIN and FMAX keep a NaN
	FMAX4S(3, 28, 3)                 // max(-87.3, x)
	FMUL4S(4, 3, 25)
	FCVTNS4S(5, 4)                   // k = nearest integer to x·log2 e
	SCVTF4S(6, 5)
	VMOV     V3.B16, V7.B16
	FMLS4S(7, 6, 24)                 // r = x - k·ln2 (in two parts)
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
	VMOV     V5.B16, V12.B16
	FMLA4S(12, 5, 11)                // e^x = p + p·s
	FADD4S(12, 12, 15)               // 1 + e^-h
	FDIV4S(0, 0, 12)                 // silu(h)
	FMUL4S(0, 0, 1)
	VST1.P   [V0.S4], 16(R0)
	SUBS     $4, R2
	BNE      loop
	RET
