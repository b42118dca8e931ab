//go:build amd64 && !purego

#include "textflag.h"
#include "simd_amd64.h"
#include "blocksums_amd64.h"
#include "kscales_amd64.h"
#include "q6k_amd64.h"

// The batch (prefill) kernel of Q4_K: four tokens' products per load of the
// weights. A super-block's nibbles are split, and its scales unpacked and
// broadcast, once, and then multiplied by each token's x: a token's share is two
// VPMADDUBSW, two VPMADDWD and two VPADDD per 64 weights, where matVecQ4KAVX2 also
// pays the loads, shifts, masks and shuffles. Every token's arithmetic is
// matVecQ4KAVX2's, the reference's (kquants.go): the same bits (MatMul must give
// MatVec's).
//
// func matMulQ4KAVX2(a *kBatch, w *byte, rows, blocks int)
// a holds the four tokens' outputs (for the rows), x quants, x scales and bsum2.
// Registers: SI the weights, R8 rows left, CX super-blocks left in the row, R9
// those of the group, BX the offset into each token's quants (R10-R13), DI into
// its bsum2, R14 into its scales.
//
// The stack (1760 bytes): per token t, its super-blocks' int32 sums of q·x at
// 256t+32k (BATCH_S) and of the mins' products at BATCH_M+128t+16k, its row's
// float accumulator at BATCH_ACC+32t, and its output, bsum2 and scale pointers.
#define BATCH_S 0
#define BATCH_M 1024
#define BATCH_ACC 1536
#define BATCH_OUT 1664
#define BATCH_BSUM2 1696
#define BATCH_D 1728


// KB_TOKEN(q, c, acc): chunk c of the super-block (nibbles in Y4 and Y5, scales
// broadcast in Y6 and Y13) times the token's x at q+BX, added into acc.
#define KB_TOKEN(q, c, acc) \
	VPMADDUBSW 64*c(q)(BX*1), Y4, Y0; \
	VPMADDWD   Y6, Y0, Y0; \
	VPMADDUBSW 64*c+32(q)(BX*1), Y5, Y1; \
	VPMADDWD   Y13, Y1, Y1; \
	VPADDD     Y1, Y0, Y0; \
	VPADDD     Y0, acc, acc

// KB_CHUNK(c, sc, s): chunk c of the super-block at SI for the four tokens; its
// scales are dwords s and s+0x55 of sc (as Q4K_CHUNK).
#define KB_CHUNK(c, sc, s) \
	VMOVDQU 16+32*c(SI), Y4; \
	VPSRLW  $4, Y4, Y5; \
	VPAND   Y15, Y4, Y4; \
	VPAND   Y15, Y5, Y5; \
	VPSHUFD $s, sc, Y6; \
	VPSHUFD $s+0x55, sc, Y13; \
	KB_TOKEN(R10, c, Y7); \
	KB_TOKEN(R11, c, Y8); \
	KB_TOKEN(R12, c, Y9); \
	KB_TOKEN(R13, c, Y12)

// KB_MINS(t, k): token t's mins term of super-block k (mins in X1).
#define KB_MINS(t, k) \
	MOVQ     BATCH_BSUM2+8*t(SP), AX; \
	VPMADDWD (AX)(DI*1), X1, X0; \
	VMOVDQU  X0, BATCH_M+128*t+16*k(SP)

// KB_SUPER(k, d, lane): super-block k of a group for the four tokens; its d and
// dmin into dword lane of d (DM_INSERT's order); after the row's last, R9 = k+1
// and on to kblast.
#define KB_SUPER(k, d, lane) \
	PREFETCHT0 PF(SI); \
	PREFETCHT0 PF+64(SI); \
	PREFETCHT0 PF+128(SI); \
	K_SCALES((SI)); \
	DM_INSERT((SI), lane, d); \
	KB_MINS(0, k); \
	KB_MINS(1, k); \
	KB_MINS(2, k); \
	KB_MINS(3, k); \
	VPXOR      Y7, Y7, Y7; \
	VPXOR      Y8, Y8, Y8; \
	VPXOR      Y9, Y9, Y9; \
	VPXOR      Y12, Y12, Y12; \
	KB_CHUNK(0, Y2, 0x00); \
	KB_CHUNK(1, Y2, 0xaa); \
	KB_CHUNK(2, Y3, 0x00); \
	KB_CHUNK(3, Y3, 0xaa); \
	VMOVDQU    Y7, BATCH_S+32*k(SP); \
	VMOVDQU    Y8, BATCH_S+256+32*k(SP); \
	VMOVDQU    Y9, BATCH_S+512+32*k(SP); \
	VMOVDQU    Y12, BATCH_S+768+32*k(SP); \
	ADDQ       $144, SI; \
	ADDQ       $256, BX; \
	ADDQ       $16, DI; \
	MOVQ       $k+1, R9; \
	DECQ       CX; \
	JZ         kblast

// KB_VALUES(t): token t's values of the group's R9 super-blocks (KGROUP_MIN's
// formula; d in Y10, dmin in Y11, the mask in Y8) added into its accumulator.
#define KB_VALUES(t) \
	MOVQ       BATCH_D+8*t(SP), AX; \
	VMASKMOVPS (AX)(R14*1), Y8, Y9; \
	SUM8(BATCH_S+256*t, Y0, Y1, Y2, Y3); \
	SUM8X(BATCH_M+128*t, Y4, X4, X5, X6); \
	VMULPS     Y9, Y10, Y1; \
	VCVTDQ2PS  Y0, Y0; \
	VMULPS     Y0, Y1, Y1; \
	VMULPS     Y9, Y11, Y2; \
	VCVTDQ2PS  Y4, Y4; \
	VMULPS     Y4, Y2, Y2; \
	VSUBPS     Y2, Y1, Y1; \
	VANDPS     Y8, Y1, Y1; \
	VADDPS     BATCH_ACC+32*t(SP), Y1, Y1; \
	VMOVUPS    Y1, BATCH_ACC+32*t(SP)

// KB_GROUP: the group's values for the four tokens. X10 and X11 become the
// group's d and dmin (DM_INSERT fills them anew for the next group).
#define KB_GROUP \
	GROUP_MASK(Y8); \
	DM_WIDEN; \
	VMOVAPS Y1, Y10; \
	VMOVAPS Y2, Y11; \
	KB_VALUES(0); \
	KB_VALUES(1); \
	KB_VALUES(2); \
	KB_VALUES(3)

// KB_STORE(t): token t's row total (HSUM8) into its output.
#define KB_STORE(t) \
	VMOVUPS BATCH_ACC+32*t(SP), Y0; \
	HSUM8(Y0, X0, X1); \
	MOVQ    BATCH_OUT+8*t(SP), AX; \
	VMOVSS  X0, (AX); \
	ADDQ    $4, BATCH_OUT+8*t(SP)

TEXT ·matMulQ4KAVX2(SB), $1760-32
	MOVQ    a+0(FP), AX
	VMOVDQU 0(AX), Y0
	VMOVDQU Y0, BATCH_OUT(SP)
	MOVQ    32(AX), R10
	MOVQ    40(AX), R11
	MOVQ    48(AX), R12
	MOVQ    56(AX), R13
	VMOVDQU 64(AX), Y0
	VMOVDQU Y0, BATCH_D(SP)
	VMOVDQU 96(AX), Y0
	VMOVDQU Y0, BATCH_BSUM2(SP)
	MOVQ    w+8(FP), SI
	MOVQ    rows+16(FP), R8
	MOVL         $0x0f0f0f0f, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15

kbrow:
	XORQ    BX, BX
	XORQ    DI, DI
	XORQ    R14, R14
	MOVQ    blocks+24(FP), CX
	VXORPS  Y0, Y0, Y0
	VMOVUPS Y0, BATCH_ACC(SP)
	VMOVUPS Y0, BATCH_ACC+32(SP)
	VMOVUPS Y0, BATCH_ACC+64(SP)
	VMOVUPS Y0, BATCH_ACC+96(SP)

kbgroup:
	KB_SUPER(0, X10, 0)
	KB_SUPER(1, X10, 1)
	KB_SUPER(2, X11, 0)
	KB_SUPER(3, X11, 1)
	KB_SUPER(4, X10, 2)
	KB_SUPER(5, X10, 3)
	KB_SUPER(6, X11, 2)
	KB_SUPER(7, X11, 3)
	KB_GROUP
	ADDQ $32, R14
	JMP  kbgroup

kblast:
	KB_GROUP
	KB_STORE(0)
	KB_STORE(1)
	KB_STORE(2)
	KB_STORE(3)
	DECQ R8
	JNZ  kbrow
	VZEROUPPER
	RET

// The batch kernel of Q8_0: four tokens per load of the weights, each token's
// arithmetic matVecQ8AVX2's to the instruction (the same products, in the same
// lanes, added in the same order into the same two accumulators: MatMul must give
// MatVec's bits, and Q8_0's order is its kernel's, not the reference's). The
// weights' sign extension to int16 serves all four.
//
// func matMulQ8AVX2(a *q8Batch, w *byte, rows, blocks int)
// a holds the four tokens' outputs (for the rows), x widened to int16 and x
// scales. Registers: SI the weights, R8 rows left, CX blocks left in the row, BX
// the offset into each token's x (R10-R13), R9 into its scales; token t's
// accumulators are Y(2t) and Y(2t+1). The stack (192 bytes): token t's eight
// scales d_w·d_x of a group at 32t, its output and scale pointers at Q8B_OUT and
// Q8B_D.
#define Q8B_OUT 128
#define Q8B_D 160

// Q8B_TOKEN(x, xoff, scale, acc): a block (its weights widened in Y8 and Y9) times
// the token's x at x+BX+xoff, scaled by the float at scale, into acc (Q8_BLOCK).
#define Q8B_TOKEN(x, xoff, scale, acc) \
	VPMADDWD     xoff(x)(BX*1), Y8, Y10; \
	VPMADDWD     xoff+32(x)(BX*1), Y9, Y11; \
	VPADDD       Y11, Y10, Y10; \
	VCVTDQ2PS    Y10, Y10; \
	VBROADCASTSS scale, Y12; \
	VFMADD231PS  Y12, Y10, acc

// Q8B_BLOCK(j, a0, a1, a2, a3): block j of a group for the four tokens, into their
// accumulators a0-a3.
#define Q8B_BLOCK(j, a0, a1, a2, a3) \
	VPMOVSXBW 16+32*j(SI), Y8; \
	VPMOVSXBW 32+32*j(SI), Y9; \
	Q8B_TOKEN(R10, 64*j, 4*j(SP), a0); \
	Q8B_TOKEN(R11, 64*j, 32+4*j(SP), a1); \
	Q8B_TOKEN(R12, 64*j, 64+4*j(SP), a2); \
	Q8B_TOKEN(R13, 64*j, 96+4*j(SP), a3)

// Q8B_SCALES(t): token t's eight scales of the group (SCALES8, the weights' fp16
// scales widened in Y13).
#define Q8B_SCALES(t) \
	MOVQ    Q8B_D+8*t(SP), AX; \
	VMULPS  (AX)(R9*1), Y13, Y10; \
	VMOVUPS Y10, 32*t(SP)

// Q8B_SCALE1(t): token t's scale of a lone block (SCALE1_Y2; the weight's scale
// widened in X13) into 32t(SP).
#define Q8B_SCALE1(t) \
	MOVQ   Q8B_D+8*t(SP), AX; \
	VMULSS (AX)(R9*1), X13, X10; \
	VMOVSS X10, 32*t(SP)

// Q8B_STORE(t, a, b, xa, xb): token t's row total (HSUM_Y0_Y1's order) into its
// output.
#define Q8B_STORE(t, a, b, xa, xb) \
	HSUM(a, b, xa, xb); \
	MOVQ   Q8B_OUT+8*t(SP), AX; \
	VMOVSS xa, (AX); \
	ADDQ   $4, Q8B_OUT+8*t(SP)

TEXT ·matMulQ8AVX2(SB), $192-32
	MOVQ    a+0(FP), AX
	VMOVDQU 0(AX), Y0
	VMOVDQU Y0, Q8B_OUT(SP)
	MOVQ    32(AX), R10
	MOVQ    40(AX), R11
	MOVQ    48(AX), R12
	MOVQ    56(AX), R13
	VMOVDQU 64(AX), Y0
	VMOVDQU Y0, Q8B_D(SP)
	MOVQ    w+8(FP), SI
	MOVQ    rows+16(FP), R8

q8brow:
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

q8bby8:
	CMPQ       CX, $8
	JLT        q8bby1
	PREFETCHT0 PF(SI)
	PREFETCHT0 PF+64(SI)
	PREFETCHT0 PF+128(SI)
	PREFETCHT0 PF+192(SI)
	PREFETCHT0 PF+256(SI)
	VCVTPH2PS  (SI), Y13
	Q8B_SCALES(0)
	Q8B_SCALES(1)
	Q8B_SCALES(2)
	Q8B_SCALES(3)
	Q8B_BLOCK(0, Y0, Y2, Y4, Y6)
	Q8B_BLOCK(1, Y1, Y3, Y5, Y7)
	Q8B_BLOCK(2, Y0, Y2, Y4, Y6)
	Q8B_BLOCK(3, Y1, Y3, Y5, Y7)
	Q8B_BLOCK(4, Y0, Y2, Y4, Y6)
	Q8B_BLOCK(5, Y1, Y3, Y5, Y7)
	Q8B_BLOCK(6, Y0, Y2, Y4, Y6)
	Q8B_BLOCK(7, Y1, Y3, Y5, Y7)
	ADDQ       $272, SI
	ADDQ       $512, BX
	ADDQ       $32, R9
	SUBQ       $8, CX
	JMP        q8bby8

q8bby1:
	// The lone blocks after the groups, in the file's layout (scale, then quants).
	TESTQ     CX, CX
	JZ        q8bstore
	MOVWLZX   (SI), AX
	VMOVD     AX, X13
	VCVTPH2PS X13, X13
	Q8B_SCALE1(0)
	Q8B_SCALE1(1)
	Q8B_SCALE1(2)
	Q8B_SCALE1(3)
	VPMOVSXBW 2(SI), Y8
	VPMOVSXBW 18(SI), Y9
	Q8B_TOKEN(R10, 0, 0(SP), Y0)
	Q8B_TOKEN(R11, 0, 32(SP), Y2)
	Q8B_TOKEN(R12, 0, 64(SP), Y4)
	Q8B_TOKEN(R13, 0, 96(SP), Y6)
	ADDQ      $34, SI
	ADDQ      $64, BX
	ADDQ      $4, R9
	DECQ      CX
	JMP       q8bby1

q8bstore:
	Q8B_STORE(0, Y0, Y1, X0, X1)
	Q8B_STORE(1, Y2, Y3, X2, X3)
	Q8B_STORE(2, Y4, Y5, X4, X5)
	Q8B_STORE(3, Y6, Y7, X6, X7)
	DECQ R8
	JNZ  q8brow
	VZEROUPPER
	RET

// The batch kernel of Q6_K: four tokens' products per load of the weights. Each
// half of a super-block is unpacked (its quants, 0..63, and its scales spread over
// the lanes, as matVecQ6KAVX2 does) once, then multiplied by each token's x: a
// token's share is a VPMADDUBSW, a VPMADDWD and a VPADDD per 32 weights, and a
// VPMADDWD and a shift for the -32·Σ sc·bsum of a super-block. Every token's
// arithmetic is matVecQ6KAVX2's, the reference's (kquants.go): the same bits.
//
// func matMulQ6KAVX2(a *kBatch, w *byte, rows, blocks int)
// a holds the four tokens' outputs (for the rows), x quants, x scales and bsums.
// Registers: SI the weights, R8 rows left, CX super-blocks left in the row, R9
// those of the group, BX the offset into each token's quants (R10-R13), DI into
// its bsums, R14 into its scales; Y8-Y11 the tokens' integer sums of a
// super-block, Y13 and Y15 Q6_QUANTS' constants.
//
// The stack (1280 bytes): per token t, its super-blocks' int32 sums at 256t+32k
// (BATCH_S), its row's float accumulator at Q6B_ACC+32t, and its output, bsums and
// scale pointers; the group's fp16 d at Q6B_DW.
#define Q6B_ACC 1024
#define Q6B_OUT 1152
#define Q6B_SUMS 1184
#define Q6B_D 1216
#define Q6B_DW 1248

// Q6B_MINS(t, acc): acc = -32·Σ sc·bsum over the super-block's sub-blocks for token
// t, eight int32 that add up to it (the scales negated in Y14).
#define Q6B_MINS(t, acc) \
	MOVQ     Q6B_SUMS+8*t(SP), AX; \
	VPMADDWD (AX)(DI*1), Y14, acc; \
	VPSLLD   $5, acc, acc

// Q6B_TOKEN(x, xoff, acc): the half's quants (Y0-Y3) times the token's x at
// x+BX+xoff, pairs times their scales (Y4-Y7), into acc (Q6_PRODUCT's).
#define Q6B_TOKEN(x, xoff, acc) \
	VPMADDUBSW xoff(x)(BX*1), Y0, Y12; \
	VPMADDWD   Y4, Y12, Y12; \
	VPMADDUBSW xoff+32(x)(BX*1), Y1, Y14; \
	VPMADDWD   Y5, Y14, Y14; \
	VPADDD     Y12, acc, acc; \
	VPADDD     Y14, acc, acc; \
	VPMADDUBSW xoff+64(x)(BX*1), Y2, Y12; \
	VPMADDWD   Y6, Y12, Y12; \
	VPMADDUBSW xoff+96(x)(BX*1), Y3, Y14; \
	VPMADDWD   Y7, Y14, Y14; \
	VPADDD     Y12, acc, acc; \
	VPADDD     Y14, acc, acc

// Q6B_HALF(h, perm): half h of the super-block at SI for the four tokens: its
// scales spread in Y4-Y7 (perm picks the half's eight of the sixteen), its quants
// in Y0-Y3, then each token's products.
#define Q6B_HALF(h, perm) \
	VPMOVSXBW  192(SI), Y12; \
	VPERMQ     $perm, Y12, Y12; \
	VPSHUFB    q6Scale<>+0(SB), Y12, Y4; \
	VPSHUFB    q6Scale<>+32(SB), Y12, Y5; \
	VPSHUFB    q6Scale<>+64(SB), Y12, Y6; \
	VPSHUFB    q6Scale<>+96(SB), Y12, Y7; \
	Q6_QUANTS(SI, h, Y0, Y1, Y2, Y3, Y12, Y14); \
	Q6B_TOKEN(R10, 128*h, Y8); \
	Q6B_TOKEN(R11, 128*h, Y9); \
	Q6B_TOKEN(R12, 128*h, Y10); \
	Q6B_TOKEN(R13, 128*h, Y11)

// Q6B_SUPER(k): super-block k of a group for the four tokens, its fp16 d into word
// k at Q6B_DW; after the row's last, R9 = k+1 and on to q6blast.
#define Q6B_SUPER(k) \
	PREFETCHT0 PF(SI); \
	PREFETCHT0 PF+64(SI); \
	PREFETCHT0 PF+128(SI); \
	PREFETCHT0 PF+192(SI); \
	MOVWLZX    208(SI), AX; \
	MOVW       AX, Q6B_DW+2*k(SP); \
	VPMOVSXBW  192(SI), Y12; \
	VPXOR      Y14, Y14, Y14; \
	VPSUBW     Y12, Y14, Y14; \
	Q6B_MINS(0, Y8); \
	Q6B_MINS(1, Y9); \
	Q6B_MINS(2, Y10); \
	Q6B_MINS(3, Y11); \
	Q6B_HALF(0, 0x44); \
	Q6B_HALF(1, 0xee); \
	VMOVDQU    Y8, BATCH_S+32*k(SP); \
	VMOVDQU    Y9, BATCH_S+256+32*k(SP); \
	VMOVDQU    Y10, BATCH_S+512+32*k(SP); \
	VMOVDQU    Y11, BATCH_S+768+32*k(SP); \
	ADDQ       $210, SI; \
	ADDQ       $256, BX; \
	ADDQ       $32, DI; \
	MOVQ       $k+1, R9; \
	DECQ       CX; \
	JZ         q6blast

// Q6B_VALUES(t): token t's values of the group's R9 super-blocks (Q6_VALUES' formula;
// the group's d in Y10, the mask in Y8) added into its accumulator.
#define Q6B_VALUES(t) \
	MOVQ       Q6B_D+8*t(SP), AX; \
	VMASKMOVPS (AX)(R14*1), Y8, Y9; \
	SUM8(BATCH_S+256*t, Y0, Y1, Y2, Y3); \
	VMULPS     Y9, Y10, Y1; \
	VCVTDQ2PS  Y0, Y0; \
	VMULPS     Y0, Y1, Y1; \
	VANDPS     Y8, Y1, Y1; \
	VADDPS     Q6B_ACC+32*t(SP), Y1, Y1; \
	VMOVUPS    Y1, Q6B_ACC+32*t(SP)

#define Q6B_GROUP \
	GROUP_MASK(Y8); \
	VCVTPH2PS Q6B_DW(SP), Y10; \
	Q6B_VALUES(0); \
	Q6B_VALUES(1); \
	Q6B_VALUES(2); \
	Q6B_VALUES(3)

// Q6B_STORE(t): token t's row total (HSUM8) into its output.
#define Q6B_STORE(t) \
	VMOVUPS Q6B_ACC+32*t(SP), Y0; \
	HSUM8(Y0, X0, X1); \
	MOVQ    Q6B_OUT+8*t(SP), AX; \
	VMOVSS  X0, (AX); \
	ADDQ    $4, Q6B_OUT+8*t(SP)

TEXT ·matMulQ6KAVX2(SB), $1280-32
	MOVQ         a+0(FP), AX
	VMOVDQU      0(AX), Y0
	VMOVDQU      Y0, Q6B_OUT(SP)
	MOVQ         32(AX), R10
	MOVQ         40(AX), R11
	MOVQ         48(AX), R12
	MOVQ         56(AX), R13
	VMOVDQU      64(AX), Y0
	VMOVDQU      Y0, Q6B_D(SP)
	VMOVDQU      96(AX), Y0
	VMOVDQU      Y0, Q6B_SUMS(SP)
	MOVQ         w+8(FP), SI
	MOVQ         rows+16(FP), R8
	MOVL         $0x0f0f0f0f, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15
	MOVL         $0x30303030, AX
	VMOVD        AX, X13
	VPBROADCASTD X13, Y13

q6brow:
	XORQ    BX, BX
	XORQ    DI, DI
	XORQ    R14, R14
	MOVQ    blocks+24(FP), CX
	VXORPS  Y0, Y0, Y0
	VMOVUPS Y0, Q6B_ACC(SP)
	VMOVUPS Y0, Q6B_ACC+32(SP)
	VMOVUPS Y0, Q6B_ACC+64(SP)
	VMOVUPS Y0, Q6B_ACC+96(SP)

q6bgroup:
	Q6B_SUPER(0)
	Q6B_SUPER(1)
	Q6B_SUPER(2)
	Q6B_SUPER(3)
	Q6B_SUPER(4)
	Q6B_SUPER(5)
	Q6B_SUPER(6)
	Q6B_SUPER(7)
	Q6B_GROUP
	ADDQ $32, R14
	JMP  q6bgroup

q6blast:
	Q6B_GROUP
	Q6B_STORE(0)
	Q6B_STORE(1)
	Q6B_STORE(2)
	Q6B_STORE(3)
	DECQ R8
	JNZ  q6brow
	VZEROUPPER
	RET
