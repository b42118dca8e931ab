//go:build amd64 && !purego

#include "textflag.h"
#include "simd_amd64.h"
#include "blocksums_amd64.h"

// The quantizers of x (act.go), with the reference's arithmetic exactly.

// quantizeQ8Perm puts VPACKSSWB's dwords back in element order.
DATA quantizeQ8Perm<>+0(SB)/4, $0
DATA quantizeQ8Perm<>+4(SB)/4, $4
DATA quantizeQ8Perm<>+8(SB)/4, $1
DATA quantizeQ8Perm<>+12(SB)/4, $5
DATA quantizeQ8Perm<>+16(SB)/4, $2
DATA quantizeQ8Perm<>+20(SB)/4, $6
DATA quantizeQ8Perm<>+24(SB)/4, $3
DATA quantizeQ8Perm<>+28(SB)/4, $7
GLOBL quantizeQ8Perm<>(SB), RODATA|NOPTR, $32

#define BROADCAST_CONST(value, y) \
	MOVL         value, AX; \
	VMOVD        AX, X6; \
	VPBROADCASTD X6, y

// PACK_Q(dst): the 32 int32 in Y0-Y3 (within ±127: no saturation) as int8 in
// element order at dst; Y9 holds quantizeQ8Perm.
#define PACK_Q(dst) \
	VPACKSSDW Y1, Y0, Y0; \
	VPACKSSDW Y3, Y2, Y2; \
	VPACKSSWB Y2, Y0, Y0; \
	VPERMD    Y0, Y9, Y0; \
	VMOVDQU   Y0, dst

// Q8_BLOCK: one block of 32 values at (SI) in Q8_0's (and Q8_1's) quants at (DI),
// as quantizeBlock8 after llama.cpp's AVX2 quantize_row_q8_0: X5 = d = max|x|/127
// (not yet rounded to fp16), id = 127/max|x| (both 0 below tinyBlock), q = x*id
// rounded to the nearest integer, ties to even (VCVTPS2DQ under Go's MXCSR, which
// keeps the default rounding), and AX = Σq. Y15 holds 0x7fffffff, X11 127, X10
// tinyBlock.
#define Q8_BLOCK \
	VMOVUPS      (SI), Y0; \
	VMOVUPS      32(SI), Y1; \
	VMOVUPS      64(SI), Y2; \
	VMOVUPS      96(SI), Y3; \
	VANDPS       Y15, Y0, Y4; \
	VANDPS       Y15, Y1, Y5; \
	VANDPS       Y15, Y2, Y6; \
	VANDPS       Y15, Y3, Y7; \
	VMAXPS       Y5, Y4, Y4; \
	VMAXPS       Y7, Y6, Y6; \
	VMAXPS       Y6, Y4, Y4; \
	VEXTRACTF128 $1, Y4, X5; \
	VMAXPS       X5, X4, X4; \
	VPERMILPS    $0x4e, X4, X5; \
	VMAXPS       X5, X4, X4; \
	VPERMILPS    $0xb1, X4, X5; \
	VMAXPS       X5, X4, X4; \
	VCMPSS       $1, X10, X4, X7; \
	VDIVSS       X11, X4, X5; \
	VANDNPS      X5, X7, X5; \
	VDIVSS       X4, X11, X6; \
	VANDNPS      X6, X7, X6; \
	VBROADCASTSS X6, Y6; \
	VMULPS       Y6, Y0, Y0; \
	VMULPS       Y6, Y1, Y1; \
	VMULPS       Y6, Y2, Y2; \
	VMULPS       Y6, Y3, Y3; \
	VCVTPS2DQ    Y0, Y0; \
	VCVTPS2DQ    Y1, Y1; \
	VCVTPS2DQ    Y2, Y2; \
	VCVTPS2DQ    Y3, Y3; \
	VPADDD       Y1, Y0, Y8; \
	VPADDD       Y3, Y2, Y4; \
	VPADDD       Y4, Y8, Y8; \
	VEXTRACTI128 $1, Y8, X4; \
	VPADDD       X4, X8, X8; \
	VPSHUFD      $0x4e, X8, X4; \
	VPADDD       X4, X8, X8; \
	VPSHUFD      $0xb1, X8, X4; \
	VPADDD       X4, X8, X8; \
	VMOVD        X8, AX; \
	PACK_Q((DI))

// ROUND_F16(x): x's lane 0 rounded to fp16 (VCVTPS2PH's immediate 0: to nearest,
// ties to even) and widened back.
#define ROUND_F16(x) \
	VCVTPS2PH $0, x, x; \
	VCVTPH2PS x, x

#define Q8_CONSTS \
	BROADCAST_CONST($0x7fffffff, Y15); \
	MOVL    $0x42fe0000, AX; \
	VMOVD   AX, X11; \
	MOVL    $0x03800000, AX; \
	VMOVD   AX, X10; \
	VMOVDQU quantizeQ8Perm<>(SB), Y9

// func quantizeQ8AVX2(q *int8, d *float32, s8 *float32, x *float32, blocks int)
// Q8_0 (quantizeQ8Ref): d rounded to fp16, s8 = 8·Σq.
TEXT ·quantizeQ8AVX2(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), DI
	MOVQ d+8(FP), R8
	MOVQ s8+16(FP), R9
	MOVQ x+24(FP), SI
	MOVQ blocks+32(FP), CX
	Q8_CONSTS

q8loop:
	Q8_BLOCK
	ROUND_F16(X5)
	VMOVSS     X5, (R8)
	SHLL       $3, AX
	VCVTSI2SSL AX, X4, X4
	VMOVSS     X4, (R9)
	ADDQ       $128, SI
	ADDQ       $32, DI
	ADDQ       $4, R8
	ADDQ       $4, R9
	DECQ       CX
	JNZ        q8loop
	VZEROUPPER
	RET

// func quantizeQ8_1AVX2(q *int8, d *float32, s *float32, x *float32, blocks int)
// Q8_1 (quantizeQ8_1Ref): d rounded to fp16, s = fp16(d·Σq) with d before its
// rounding.
TEXT ·quantizeQ8_1AVX2(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), DI
	MOVQ d+8(FP), R8
	MOVQ s+16(FP), R9
	MOVQ x+24(FP), SI
	MOVQ blocks+32(FP), CX
	Q8_CONSTS

q81loop:
	Q8_BLOCK
	VCVTSI2SSL AX, X4, X4
	VMULSS     X5, X4, X4
	ROUND_F16(X4)
	VMOVSS     X4, (R9)
	ROUND_F16(X5)
	VMOVSS     X5, (R8)
	ADDQ       $128, SI
	ADDQ       $32, DI
	ADDQ       $4, R8
	ADDQ       $4, R9
	DECQ       CX
	JNZ        q81loop
	VZEROUPPER
	RET

// func quantizeQ8KAVX2(q *int8, d *float32, bsums *int16, x *float32, blocks int)
// Q8_K (quantizeQ8KRef, after llama.cpp's quantize_row_q8_K_ref), per block of
// 256: m, the first value of largest magnitude (found by comparing every |x| with
// the largest); iscale = -127/m; d = 1/iscale; q = min(127, x·iscale rounded to
// the nearest integer, ties to even); bsums the sums of every 16 q. A block of
// zeros gets d = 0 and zeros; where iscale overflows, d = 1/iscale (a signed zero)
// and zeros. The scratch: the int32 sums of each 16 q, as eight lanes, at 32g.
TEXT ·quantizeQ8KAVX2(SB), NOSPLIT, $512-40
	MOVQ q+0(FP), DI
	MOVQ d+8(FP), R8
	MOVQ bsums+16(FP), R9
	MOVQ x+24(FP), SI
	MOVQ blocks+32(FP), CX
	BROADCAST_CONST($0x7fffffff, Y15)
	BROADCAST_CONST($127, Y14)
	VMOVDQU quantizeQ8Perm<>(SB), Y9

qkblock:
	// the largest |x| into every lane of Y4
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	MOVQ   SI, BX
	MOVQ   $8, DX

qkmax:
	VANDPS (BX), Y15, Y0
	VANDPS 32(BX), Y15, Y1
	VANDPS 64(BX), Y15, Y2
	VANDPS 96(BX), Y15, Y3
	VMAXPS Y0, Y4, Y4
	VMAXPS Y1, Y5, Y5
	VMAXPS Y2, Y4, Y4
	VMAXPS Y3, Y5, Y5
	ADDQ   $128, BX
	DECQ   DX
	JNZ    qkmax
	VMAXPS       Y5, Y4, Y4
	VPERM2F128   $0x01, Y4, Y4, Y5
	VMAXPS       Y5, Y4, Y4
	VPERMILPS    $0x4e, Y4, Y5
	VMAXPS       Y5, Y4, Y4
	VPERMILPS    $0xb1, Y4, Y5
	VMAXPS       Y5, Y4, Y4
	VXORPS       X0, X0, X0
	VUCOMISS     X0, X4
	JEQ          qkzeros     // a block of zeros: d = 0 (X0)

	// m = x[j], j the first index whose |x| is the largest
	MOVQ SI, BX

qkfind:
	VANDPS    (BX), Y15, Y0
	VCMPPS    $0, Y4, Y0, Y0
	VMOVMSKPS Y0, AX
	TESTL     AX, AX
	JNZ       qkfound
	ADDQ      $32, BX
	JMP       qkfind

qkfound:
	BSFL   AX, AX
	VMOVSS (BX)(AX*4), X1
	MOVL   $0xc2fe0000, AX   // -127.0
	VMOVD  AX, X2
	VDIVSS X1, X2, X2        // iscale = -127/m
	MOVL   $0x3f800000, AX   // 1.0
	VMOVD  AX, X0
	VDIVSS X2, X0, X0        // d = 1/iscale
	VANDPS X15, X2, X3
	MOVL   $0x7f800000, AX   // +Inf
	VMOVD  AX, X1
	VUCOMISS X1, X3
	JEQ    qkzeros           // iscale overflowed

	VMOVSS       X0, (R8)
	VBROADCASTSS X2, Y8
	MOVQ         $0, DX

qkquant:
	VMULPS    (SI), Y8, Y0
	VMULPS    32(SI), Y8, Y1
	VMULPS    64(SI), Y8, Y2
	VMULPS    96(SI), Y8, Y3
	VCVTPS2DQ Y0, Y0
	VCVTPS2DQ Y1, Y1
	VCVTPS2DQ Y2, Y2
	VCVTPS2DQ Y3, Y3
	VPMINSD   Y14, Y0, Y0
	VPMINSD   Y14, Y1, Y1
	VPMINSD   Y14, Y2, Y2
	VPMINSD   Y14, Y3, Y3
	VPADDD    Y1, Y0, Y4
	VMOVDQU   Y4, (SP)(DX*1)
	VPADDD    Y3, Y2, Y4
	VMOVDQU   Y4, 32(SP)(DX*1)
	PACK_Q((DI))
	ADDQ      $128, SI
	ADDQ      $32, DI
	ADDQ      $64, DX
	CMPQ      DX, $512
	JNE       qkquant

	SUM8(0, Y0, Y1, Y2, Y3)
	SUM8(256, Y4, Y1, Y2, Y3)
	VPACKSSDW Y4, Y0, Y0
	VPERMQ    $0xd8, Y0, Y0
	VMOVDQU   Y0, (R9)
	JMP       qknext

qkzeros:
	VMOVSS X0, (R8)
	VXORPS Y0, Y0, Y0
	MOVQ   $8, DX

qkclear:
	VMOVDQU Y0, (DI)
	ADDQ    $32, DI
	DECQ    DX
	JNZ     qkclear
	VMOVDQU Y0, (R9)
	ADDQ    $1024, SI

qknext:
	ADDQ $4, R8
	ADDQ $32, R9
	DECQ CX
	JNZ  qkblock
	VZEROUPPER
	RET
