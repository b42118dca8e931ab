//go:build amd64 && !purego

#include "textflag.h"
#include "simd_amd64.h"
#include "blocks_amd64.h"

// Q8 block: 32 int8 weights at qoff(SI) against x widened to int16 at xoff(BX)
// (64 bytes), scale in Y2. VPMOVSXBW (port 5) widens the weights and VPMADDWD
// multiplies and adds pairs into int32, exactly.
#define Q8_BLOCK(qoff, xoff, acc) \
	VPMOVSXBW   qoff(SI), Y3; \
	VPMOVSXBW   qoff+16(SI), Y4; \
	VPMADDWD    xoff(BX), Y3, Y3; \
	VPMADDWD    xoff+32(BX), Y4, Y4; \
	VPADDD      Y4, Y3, Y3; \
	VCVTDQ2PS   Y3, Y3; \
	VFMADD231PS Y2, Y3, acc

// func matVecQ8AVX2(out *float32, w *byte, x16 *int16, xd *float32, rows, blocks int)
TEXT ·matVecQ8AVX2(SB), NOSPLIT, $32-48
	MOVQ out+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ rows+32(FP), R8

q8row:
	MOVQ   x16+16(FP), BX
	MOVQ   xd+24(FP), R11
	MOVQ   blocks+40(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

q8by8:
	CMPQ         CX, $8
	JLT          q8by1
	PREFETCHT0   PF(SI)
	PREFETCHT0   PF+64(SI)
	PREFETCHT0   PF+128(SI)
	PREFETCHT0   PF+192(SI)
	PREFETCHT0   PF+256(SI)
	SCALES8
	VMOVUPS      Y6, 0(SP)
	VBROADCASTSS 0(SP), Y2
	Q8_BLOCK(16, 0, Y0)
	VBROADCASTSS 4(SP), Y2
	Q8_BLOCK(48, 64, Y1)
	VBROADCASTSS 8(SP), Y2
	Q8_BLOCK(80, 128, Y0)
	VBROADCASTSS 12(SP), Y2
	Q8_BLOCK(112, 192, Y1)
	VBROADCASTSS 16(SP), Y2
	Q8_BLOCK(144, 256, Y0)
	VBROADCASTSS 20(SP), Y2
	Q8_BLOCK(176, 320, Y1)
	VBROADCASTSS 24(SP), Y2
	Q8_BLOCK(208, 384, Y0)
	VBROADCASTSS 28(SP), Y2
	Q8_BLOCK(240, 448, Y1)
	ADDQ         $272, SI
	ADDQ         $512, BX
	ADDQ         $32, R11
	SUBQ         $8, CX
	JMP          q8by8

q8by1:
	TESTQ CX, CX
	JZ    q8store
	SCALE1_Y2
	Q8_BLOCK(2, 0, Y0)
	ADDQ  $34, SI
	ADDQ  $64, BX
	ADDQ  $4, R11
	DECQ  CX
	JMP   q8by1

q8store:
	HSUM_Y0_Y1
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	DECQ   R8
	JNZ    q8row
	VZEROUPPER
	RET

// Q4_0: a block's byte j holds weight j in its low nibble and weight j+16 in its
// high one; the weights are nibble-8. Two blocks A and B go together: one load puts
// A's 16 bytes in the low half of Y3, B's (next in the group) in the high half;
// AND 0x0f (Y14) gives [A0-15 | B0-15]
// and a shift by 4 first gives [A16-31 | B16-31]. prepareAVX2 stores x for each pair
// of blocks in that same order, so VPMADDUBSW multiplies the unsigned nibbles by x
// directly (2*15*127 fits int16), the two halves add as int16 (4*15*127 fits too)
// and one VPMADDWD, VCVTDQ2PS and VFMADD finish both blocks, with the scale vector
// [sA x4, sB x4] permuted out of Y6 (indices in Y8-Y11). The -8 of every weight is
// applied once per 8 blocks: Y0 -= d_w*d_x*8Σx.
#define Q4_PAIR(qoff, xoff, idx, acc) \
	VMOVDQU     qoff(SI), Y3; \
	VPSRLW      $4, Y3, Y4; \
	VPAND       Y14, Y3, Y3; \
	VPAND       Y14, Y4, Y4; \
	VPMADDUBSW  xoff(BX), Y3, Y3; \
	VPMADDUBSW  xoff+32(BX), Y4, Y4; \
	VPADDW      Y4, Y3, Y3; \
	VPMADDWD    Y15, Y3, Y3; \
	VCVTDQ2PS   Y3, Y3; \
	VPERMPS     Y6, idx, Y2; \
	VFMADD231PS Y2, Y3, acc

// Q4_PAIR2: Q4_PAIR for the same two blocks of two rows, the second R13 bytes
// further, with scales in Y6 and Y7 and accumulators accA and accB.
#define Q4_PAIR2(qoff, xoff, idx, accA, accB) \
	VMOVDQU     qoff(SI), Y4; \
	VMOVDQU     qoff(SI)(R13*1), Y12; \
	VPSRLW      $4, Y4, Y5; \
	VPAND       Y14, Y4, Y4; \
	VPAND       Y14, Y5, Y5; \
	VPSRLW      $4, Y12, Y13; \
	VPAND       Y14, Y12, Y12; \
	VPAND       Y14, Y13, Y13; \
	VPMADDUBSW  xoff(BX), Y4, Y4; \
	VPMADDUBSW  xoff+32(BX), Y5, Y5; \
	VPMADDUBSW  xoff(BX), Y12, Y12; \
	VPMADDUBSW  xoff+32(BX), Y13, Y13; \
	VPADDW      Y5, Y4, Y4; \
	VPADDW      Y13, Y12, Y12; \
	VPMADDWD    Y15, Y4, Y4; \
	VPMADDWD    Y15, Y12, Y12; \
	VCVTDQ2PS   Y4, Y4; \
	VCVTDQ2PS   Y12, Y12; \
	VPERMPS     Y6, idx, Y5; \
	VPERMPS     Y7, idx, Y13; \
	VFMADD231PS Y5, Y4, accA; \
	VFMADD231PS Y13, Y12, accB

#define Q4_KERNEL ·matVecQ4AVX2
#include "q4kernel_amd64.h"
#undef Q4_KERNEL

// quantizeQ8Perm puts VPACKSSWB's dwords back in element order (see quantizeQ8AVX2).
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

// func quantizeQ8AVX2(q *int8, d *float32, s8 *float32, x *float32, blocks int)
// The reference's arithmetic exactly (quantizeQ8Ref, after llama.cpp's AVX2
// quantize_row_q8_0): per block of 32, d = max|x|/127 rounded to fp16 (VCVTPS2PH's
// immediate 0: to nearest, ties to even) and widened back, id = 127/max|x| (both 0
// below tinyBlock), q = x*id rounded to the nearest integer, ties to even
// (VCVTPS2DQ under Go's MXCSR, which keeps the default rounding), s8 = 8*Σq.
TEXT ·quantizeQ8AVX2(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), DI
	MOVQ d+8(FP), R8
	MOVQ s8+16(FP), R9
	MOVQ x+24(FP), SI
	MOVQ blocks+32(FP), CX
	BROADCAST_CONST($0x7fffffff, Y15)
	MOVL    $0x42fe0000, AX           // 127.0
	VMOVD   AX, X11
	MOVL    $0x03800000, AX           // 2^-120, tinyBlock
	VMOVD   AX, X10
	VMOVDQU quantizeQ8Perm<>(SB), Y9

qloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3

	// amax into every lane of X4
	VANDPS       Y15, Y0, Y4
	VANDPS       Y15, Y1, Y5
	VANDPS       Y15, Y2, Y6
	VANDPS       Y15, Y3, Y7
	VMAXPS       Y5, Y4, Y4
	VMAXPS       Y7, Y6, Y6
	VMAXPS       Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VMAXPS       X5, X4, X4
	VPERMILPS    $0x4e, X4, X5
	VMAXPS       X5, X4, X4
	VPERMILPS    $0xb1, X4, X5
	VMAXPS       X5, X4, X4

	VCMPSS       $1, X10, X4, X7 // amax < tinyBlock: d = id = 0
	VDIVSS       X11, X4, X5     // d = amax / 127
	VCVTPS2PH    $0, X5, X5      // rounded to fp16
	VCVTPH2PS    X5, X5          // and widened back
	VANDNPS      X5, X7, X5
	VMOVSS       X5, (R8)
	VDIVSS       X4, X11, X5     // id = 127 / amax
	VANDNPS      X5, X7, X5
	VBROADCASTSS X5, Y5
	VMULPS       Y5, Y0, Y0
	VMULPS       Y5, Y1, Y1
	VMULPS       Y5, Y2, Y2
	VMULPS       Y5, Y3, Y3
	VCVTPS2DQ    Y0, Y0
	VCVTPS2DQ    Y1, Y1
	VCVTPS2DQ    Y2, Y2
	VCVTPS2DQ    Y3, Y3

	// s8 = 8 * Σq
	VPADDD       Y1, Y0, Y8
	VPADDD       Y3, Y2, Y4
	VPADDD       Y4, Y8, Y8
	VEXTRACTI128 $1, Y8, X4
	VPADDD       X4, X8, X8
	VPSHUFD      $0x4e, X8, X4
	VPADDD       X4, X8, X8
	VPSHUFD      $0xb1, X8, X4
	VPADDD       X4, X8, X8
	VMOVD        X8, AX
	SHLL         $3, AX
	VCVTSI2SSL   AX, X4, X4
	VMOVSS       X4, (R9)

	// int32 -> int8 (the values are within ±127: no saturation), back in order
	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD    Y0, Y9, Y0
	VMOVDQU   Y0, (DI)

	ADDQ $128, SI
	ADDQ $32, DI
	ADDQ $4, R8
	ADDQ $4, R9
	DECQ CX
	JNZ  qloop
	VZEROUPPER
	RET
