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
