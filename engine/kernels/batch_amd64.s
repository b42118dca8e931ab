//go:build amd64 && !purego

#include "textflag.h"
#include "simd_amd64.h"
#include "blockbatch_amd64.h"

// The batch kernel of Q4_0 (matVecQ4AVX2's arithmetic, q4kernel_amd64.h): token t's accumulators are
// Y(2t) and Y(2t+1). A group's 8 fp16 scales are widened once (Y12) and multiplied
// by each token's x scales, kept at Q4B_S+32t for the pairs' VPERMPS; a pair's
// nibbles are split once (Y9, Y10, its VPERMPS indices in Y11), then multiplied by
// each token's x. Y14 holds 0x0f bytes, Y15 int16 ones, Y13 the lone blocks'
// shifts (Q4_BLOCK). The stack: the tokens' scales, then the blockBatch.
#define Q4B_S 0
#define Q4B_BB 128

// q4PairIdx: PAIR_INDEX(k) for k = 0..3.
DATA q4PairIdx<>+0(SB)/8, $0x0000000000000000
DATA q4PairIdx<>+8(SB)/8, $0x0000000000000000
DATA q4PairIdx<>+16(SB)/8, $0x0000000100000001
DATA q4PairIdx<>+24(SB)/8, $0x0000000100000001
DATA q4PairIdx<>+32(SB)/8, $0x0000000200000002
DATA q4PairIdx<>+40(SB)/8, $0x0000000200000002
DATA q4PairIdx<>+48(SB)/8, $0x0000000300000003
DATA q4PairIdx<>+56(SB)/8, $0x0000000300000003
DATA q4PairIdx<>+64(SB)/8, $0x0000000400000004
DATA q4PairIdx<>+72(SB)/8, $0x0000000400000004
DATA q4PairIdx<>+80(SB)/8, $0x0000000500000005
DATA q4PairIdx<>+88(SB)/8, $0x0000000500000005
DATA q4PairIdx<>+96(SB)/8, $0x0000000600000006
DATA q4PairIdx<>+104(SB)/8, $0x0000000600000006
DATA q4PairIdx<>+112(SB)/8, $0x0000000700000007
DATA q4PairIdx<>+120(SB)/8, $0x0000000700000007
GLOBL q4PairIdx<>(SB), RODATA|NOPTR, $128

// Q4B_SCALES(t, acc): token t's scales of the group (SCALES8's, into Q4B_S+32t) and
// its correction, acc -= d_w·d_x·8Σx (Q4_GROUP1's).
#define Q4B_SCALES(t, acc) \
	MOVQ         Q4B_BB+BB_D+8*t(SP), AX; \
	VMULPS       (AX)(R9*1), Y12, Y8; \
	VMOVUPS      Y8, Q4B_S+32*t(SP); \
	MOVQ         Q4B_BB+BB_S+8*t(SP), AX; \
	VFNMADD231PS (AX)(R9*1), Y8, acc

// Q4B_TOKEN(x, k, t, acc): pair k's nibbles times token t's x (Q4_PAIR).
#define Q4B_TOKEN(x, k, t, acc) \
	VPMADDUBSW  64*k(x)(BX*1), Y9, Y8; \
	VPMADDUBSW  64*k+32(x)(BX*1), Y10, Y12; \
	VPADDW      Y12, Y8, Y8; \
	VPMADDWD    Y15, Y8, Y8; \
	VCVTDQ2PS   Y8, Y8; \
	VPERMPS     Q4B_S+32*t(SP), Y11, Y12; \
	VFMADD231PS Y12, Y8, acc

// Q4B_PAIR(k, a0, a1, a2, a3): pair k of a group for the four tokens.
#define Q4B_PAIR(k, a0, a1, a2, a3) \
	VMOVDQU 16+32*k(SI), Y9; \
	VPSRLW  $4, Y9, Y10; \
	VPAND   Y14, Y9, Y9; \
	VPAND   Y14, Y10, Y10; \
	VMOVDQU q4PairIdx<>+32*k(SB), Y11; \
	Q4B_TOKEN(R10, k, 0, a0); \
	Q4B_TOKEN(R11, k, 1, a1); \
	Q4B_TOKEN(R12, k, 2, a2); \
	Q4B_TOKEN(R13, k, 3, a3)

// Q4B_ONE(x, t, acc0, acc1): a lone block (its nibbles in Y9, its fp16 scale
// widened in X11) for token t: SCALE1_Y2's scale, the correction into acc1 and
// Q4_BLOCK into acc0.
#define Q4B_ONE(x, t, acc0, acc1) \
	MOVQ         Q4B_BB+BB_D+8*t(SP), AX; \
	VMULSS       (AX)(R9*1), X11, X8; \
	VBROADCASTSS X8, Y8; \
	MOVQ         Q4B_BB+BB_S+8*t(SP), AX; \
	VMOVSS       (AX)(R9*1), X12; \
	VFNMADD231PS Y8, Y12, acc1; \
	VPMADDUBSW   (x)(BX*1), Y9, Y10; \
	VPMADDWD     Y15, Y10, Y10; \
	VCVTDQ2PS    Y10, Y10; \
	VFMADD231PS  Y8, Y10, acc0

// func matMulQ4AVX2(a *blockBatch, w *byte, rows, blocks int)
TEXT ·matMulQ4AVX2(SB), $288-32
	BB_COPY(Q4B_BB)
	MOVQ         w+8(FP), SI
	MOVQ         rows+16(FP), R8
	VPCMPEQW     Y15, Y15, Y15
	VPSRLW       $15, Y15, Y15
	MOVL         $0x0f0f0f0f, AX
	VMOVD        AX, X14
	VPBROADCASTD X14, Y14
	MOVL         $4, AX
	VMOVD        AX, X5
	VPBROADCASTD X5, X5
	VPXOR        Y13, Y13, Y13
	VINSERTI128  $1, X5, Y13, Y13

q4brow:
	BB_X(Q4B_BB, BB_XP)
	XORQ   BX, BX
	XORQ   R9, R9
	MOVQ   blocks+24(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

q4bby8:
	CMPQ       CX, $8
	JLT        q4bby1
	PREFETCHT0 PF(SI)
	PREFETCHT0 PF+64(SI)
	PREFETCHT0 PF+128(SI)
	VCVTPH2PS  (SI), Y12
	Q4B_SCALES(0, Y0)
	Q4B_SCALES(1, Y2)
	Q4B_SCALES(2, Y4)
	Q4B_SCALES(3, Y6)
	Q4B_PAIR(0, Y0, Y2, Y4, Y6)
	Q4B_PAIR(1, Y1, Y3, Y5, Y7)
	Q4B_PAIR(2, Y0, Y2, Y4, Y6)
	Q4B_PAIR(3, Y1, Y3, Y5, Y7)
	ADDQ       $144, SI
	ADDQ       $256, BX
	ADDQ       $32, R9
	SUBQ       $8, CX
	JMP        q4bby8

q4bby1:
	// The lone blocks after the groups read x in plain order, at the same offsets.
	TESTQ          CX, CX
	JZ             q4bstore
	BB_X(Q4B_BB, BB_XQ)
	MOVWLZX        (SI), AX
	VMOVD          AX, X11
	VCVTPH2PS      X11, X11
	VBROADCASTI128 2(SI), Y9
	VPSRLVD        Y13, Y9, Y9
	VPAND          Y14, Y9, Y9
	Q4B_ONE(R10, 0, Y0, Y1)
	Q4B_ONE(R11, 1, Y2, Y3)
	Q4B_ONE(R12, 2, Y4, Y5)
	Q4B_ONE(R13, 3, Y6, Y7)
	ADDQ           $18, SI
	ADDQ           $32, BX
	ADDQ           $4, R9
	DECQ           CX
	JMP            q4bby1

q4bstore:
	BB_STORE(Q4B_BB, 0, Y0, Y1, X0, X1)
	BB_STORE(Q4B_BB, 1, Y2, Y3, X2, X3)
	BB_STORE(Q4B_BB, 2, Y4, Y5, X4, X5)
	BB_STORE(Q4B_BB, 3, Y6, Y7, X6, X7)
	DECQ R8
	JNZ  q4brow
	VZEROUPPER
	RET
