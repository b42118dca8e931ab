//go:build amd64 && !purego

#include "textflag.h"
#include "simd_amd64.h"
#include "blocksums_amd64.h"
#include "kscales_amd64.h"
#include "q6k_amd64.h"

// The batch (prefill) kernels of Q4_K and Q5_K (kbatchkernel_amd64.h): four
// tokens' products per load of the weights. A super-block's nibbles are split (and
// Q5_K's fifth bits put above them), and its scales unpacked and broadcast, once,
// and then multiplied by each token's x: a token's share is two VPMADDUBSW, two
// VPMADDWD and two VPADDD per 64 weights, where the one-token kernels also pay the
// loads, shifts, masks and shuffles. Every token's arithmetic is the reference's
// (kquants.go), as in matVecQ4KAVX2 and matVecQ5KAVX2: the same bits (MatMul must
// give MatVec's).
//
// func matMulQ4KAVX2(a *kBatch, w *byte, rows, blocks int)
// func matMulQ5KAVX2(a *kBatch, w *byte, rows, blocks int)
// a holds the four tokens' outputs (for the rows), x quants, x scales and bsum2.
// Registers: SI the weights, R8 rows left, CX super-blocks left in the row, R9
// those of the group, BX the offset into each token's quants (R10-R13), DI into
// its bsum2, R14 into its scales (or, two rows at a time, the second row).
//
// The stack (1768 bytes): per token t, the int32 sums of q·x of the group's
// super-block in lane k at 256t+32k (BATCH_S) and of the mins' products at
// BATCH_M+128t+16k, its row's float accumulator at BATCH_ACC+32t, and its output,
// bsum2 and scale pointers; a row's bytes at BATCH_RB.
#define BATCH_S 0
#define BATCH_M 1024
#define BATCH_ACC 1536
#define BATCH_OUT 1664
#define BATCH_SUMS 1696
#define BATCH_D 1728
#define BATCH_RB 1760

// KB_TOKEN(q, c, acc): chunk c of the super-block (its quants in Y4 and Y5, scales
// broadcast in Y6 and Y13) times the token's x at q+BX, added into acc.
#define KB_TOKEN(q, c, acc) \
	VPMADDUBSW 64*c(q)(BX*1), Y4, Y0; \
	VPMADDWD   Y6, Y0, Y0; \
	VPMADDUBSW 64*c+32(q)(BX*1), Y5, Y1; \
	VPMADDWD   Y13, Y1, Y1; \
	VPADDD     Y1, Y0, Y0; \
	VPADDD     Y0, acc, acc

// KB_TOKENS(c, sc, s): chunk c's quants (Y4, Y5) for the four tokens; its scales
// are dwords s and s+0x55 of sc (as Q4K_CHUNK).
#define KB_TOKENS(c, sc, s) \
	VPSHUFD $s, sc, Y6; \
	VPSHUFD $s+0x55, sc, Y13; \
	KB_TOKEN(R10, c, Y7); \
	KB_TOKEN(R11, c, Y8); \
	KB_TOKEN(R12, c, Y9); \
	KB_TOKEN(R13, c, Y12)

// KB_NIBBLES(a): Y4, Y5 = the low and high nibbles of the 32 bytes at a.
#define KB_NIBBLES(a) \
	VMOVDQU a, Y4; \
	VPSRLW  $4, Y4, Y5; \
	VPAND   Y15, Y4, Y4; \
	VPAND   Y15, Y5, Y5

// KB4_CHUNKS(r): the four chunks of the Q4_K super-block at (r).
#define KB4_CHUNKS(r) \
	KB_NIBBLES(16(r)); \
	KB_TOKENS(0, Y2, 0x00); \
	KB_NIBBLES(48(r)); \
	KB_TOKENS(1, Y2, 0xaa); \
	KB_NIBBLES(80(r)); \
	KB_TOKENS(2, Y3, 0x00); \
	KB_NIBBLES(112(r)); \
	KB_TOKENS(3, Y3, 0xaa)

// KB5_CHUNK(r, c, sc, s, slo, nlo, shi, nhi): chunk c of the Q5_K super-block at
// (r), its qh in Y14 (Q5K_CHUNK's shifts).
#define KB5_CHUNK(r, c, sc, s, slo, nlo, shi, nhi) \
	KB_NIBBLES(48+32*c(r)); \
	Q5K_FIFTH(slo, nlo, Y14, Y6, Y4); \
	Q5K_FIFTH(shi, nhi, Y14, Y6, Y5); \
	KB_TOKENS(c, sc, s)

// KB5_CHUNKS(r): the four chunks of the Q5_K super-block at (r).
#define KB5_CHUNKS(r) \
	VMOVDQU 16(r), Y14; \
	KB5_CHUNK(r, 0, Y2, 0x00, VPSLLW, 4, VPSLLW, 3); \
	KB5_CHUNK(r, 1, Y2, 0xaa, VPSLLW, 2, VPSLLW, 1); \
	KB5_CHUNK(r, 2, Y3, 0x00, VPSLLW, 0, VPSRLW, 1); \
	KB5_CHUNK(r, 3, Y3, 0xaa, VPSRLW, 2, VPSRLW, 3)

// KB_MINS(t, k): token t's mins term of the super-block in lane k (mins in X1).
#define KB_MINS(t, k) \
	MOVQ     BATCH_SUMS+8*t(SP), AX; \
	VPMADDWD (AX)(DI*1), X1, X0; \
	VMOVDQU  X0, BATCH_M+128*t+16*k(SP)

// KB_VALUES(t, DX): token t's values of the group's super-blocks (KGROUP_MIN's
// formula; d in Y10, dmin in Y11, the mask in Y8) into Y1, its x scales loaded by
// DX (into Y9).
#define KB_VALUES(t, DX) \
	MOVQ       BATCH_D+8*t(SP), AX; \
	DX; \
	SUM8(BATCH_S+256*t, Y0, Y1, Y2, Y3); \
	SUM8X(BATCH_M+128*t, Y4, X4, X5, X6); \
	VMULPS     Y9, Y10, Y1; \
	VCVTDQ2PS  Y0, Y0; \
	VMULPS     Y0, Y1, Y1; \
	VMULPS     Y9, Y11, Y2; \
	VCVTDQ2PS  Y4, Y4; \
	VMULPS     Y4, Y2, Y2; \
	VSUBPS     Y2, Y1, Y1; \
	VANDPS     Y8, Y1, Y1

// KB_DX: a group's x scales, from R14 on (the lanes beyond R9 masked).
#define KB_DX VMASKMOVPS (AX)(R14*1), Y8, Y9

// KB_DX2: the x scales of two rows' super-blocks, lanes 0-3 and 4-7.
#define KB_DX2 \
	VMASKMOVPS  (AX), X8, X9; \
	VINSERTF128 $1, X9, Y9, Y9

// KB_ACC(t): token t's values (Y1) added into its accumulator.
#define KB_ACC(t) \
	VADDPS  BATCH_ACC+32*t(SP), Y1, Y1; \
	VMOVUPS Y1, BATCH_ACC+32*t(SP)

// KB_ROWS2(t): token t's values of two rows (Y1, lanes 0-3 and 4-7) summed per row
// as KROWS2_MIN sums them, into its outputs.
#define KB_ROWS2(t) \
	VXORPS       Y4, Y4, Y4; \
	VADDPS       Y1, Y4, Y4; \
	VHADDPS      Y4, Y4, Y4; \
	VHADDPS      Y4, Y4, Y4; \
	MOVQ         BATCH_OUT+8*t(SP), AX; \
	VMOVSS       X4, (AX); \
	VEXTRACTF128 $1, Y4, X5; \
	VMOVSS       X5, 4(AX); \
	ADDQ         $8, BATCH_OUT+8*t(SP)

// KB_D: Y10 and Y11 become the group's d and dmin (from X10 and X11, which
// KB_BLOCK fills anew for the next group).
#define KB_D \
	DM_WIDEN; \
	VMOVAPS Y1, Y10; \
	VMOVAPS Y2, Y11

// KB_GROUP: the group's values for the four tokens, added into their accumulators.
#define KB_GROUP \
	GROUP_MASK(Y8); \
	KB_D; \
	KB_VALUES(0, KB_DX); \
	KB_ACC(0); \
	KB_VALUES(1, KB_DX); \
	KB_ACC(1); \
	KB_VALUES(2, KB_DX); \
	KB_ACC(2); \
	KB_VALUES(3, KB_DX); \
	KB_ACC(3)

// KB_GROUP2: two rows' values for the four tokens, into their outputs.
#define KB_GROUP2 \
	MOVQ           $8, AX; \
	SUBQ           R9, AX; \
	LEAQ           groupMask<>(SB), DX; \
	VBROADCASTF128 (DX)(AX*4), Y8; \
	KB_D; \
	KB_VALUES(0, KB_DX2); \
	KB_ROWS2(0); \
	KB_VALUES(1, KB_DX2); \
	KB_ROWS2(1); \
	KB_VALUES(2, KB_DX2); \
	KB_ROWS2(2); \
	KB_VALUES(3, KB_DX2); \
	KB_ROWS2(3)

// KB_STORE(t): token t's row total (HSUM8) into its output.
#define KB_STORE(t) \
	VMOVUPS BATCH_ACC+32*t(SP), Y0; \
	HSUM8(Y0, X0, X1); \
	MOVQ    BATCH_OUT+8*t(SP), AX; \
	VMOVSS  X0, (AX); \
	ADDQ    $4, BATCH_OUT+8*t(SP)

#define KB_KERNEL ·matMulQ4KAVX2
#define KB_BYTES 144
#define KB_CHUNKS KB4_CHUNKS
#include "kbatchkernel_amd64.h"
#undef KB_KERNEL
#undef KB_BYTES
#undef KB_CHUNKS

#define KB_KERNEL ·matMulQ5KAVX2
#define KB_BYTES 176
#define KB_CHUNKS KB5_CHUNKS
#include "kbatchkernel_amd64.h"

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
// its bsums, R14 into its scales (or, two rows at a time, the second row); Y8-Y11
// the tokens' integer sums of a super-block, Y13 and Y15 Q6_QUANTS' constants.
//
// The stack (1288 bytes): per token t, the int32 sums of the group's super-block in
// lane k at 256t+32k (BATCH_S), its row's float accumulator at Q6B_ACC+32t, and its
// output, bsums and scale pointers; the group's fp16 d at Q6B_DW, a row's bytes at
// Q6B_RB.
#define Q6B_ACC 1024
#define Q6B_OUT 1152
#define Q6B_SUMS 1184
#define Q6B_D 1216
#define Q6B_DW 1248
#define Q6B_RB 1264

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

// Q6B_HALF(r, h, perm): half h of the super-block at (r) for the four tokens: its
// scales spread in Y4-Y7 (perm picks the half's eight of the sixteen), its quants
// in Y0-Y3, then each token's products.
#define Q6B_HALF(r, h, perm) \
	VPMOVSXBW  192(r), Y12; \
	VPERMQ     $perm, Y12, Y12; \
	VPSHUFB    q6Scale<>+0(SB), Y12, Y4; \
	VPSHUFB    q6Scale<>+32(SB), Y12, Y5; \
	VPSHUFB    q6Scale<>+64(SB), Y12, Y6; \
	VPSHUFB    q6Scale<>+96(SB), Y12, Y7; \
	Q6_QUANTS(r, h, Y0, Y1, Y2, Y3, Y12, Y14); \
	Q6B_TOKEN(R10, 128*h, Y8); \
	Q6B_TOKEN(R11, 128*h, Y9); \
	Q6B_TOKEN(R12, 128*h, Y10); \
	Q6B_TOKEN(R13, 128*h, Y11)

// Q6B_BLOCK(r, k): the super-block at (r) for the four tokens, into the group's
// lane k, its fp16 d into word k at Q6B_DW.
#define Q6B_BLOCK(r, k) \
	PREFETCHT0 PF(r); \
	PREFETCHT0 PF+64(r); \
	PREFETCHT0 PF+128(r); \
	PREFETCHT0 PF+192(r); \
	MOVWLZX    208(r), AX; \
	MOVW       AX, Q6B_DW+2*k(SP); \
	VPMOVSXBW  192(r), Y12; \
	VPXOR      Y14, Y14, Y14; \
	VPSUBW     Y12, Y14, Y14; \
	Q6B_MINS(0, Y8); \
	Q6B_MINS(1, Y9); \
	Q6B_MINS(2, Y10); \
	Q6B_MINS(3, Y11); \
	Q6B_HALF(r, 0, 0x44); \
	Q6B_HALF(r, 1, 0xee); \
	VMOVDQU    Y8, BATCH_S+32*k(SP); \
	VMOVDQU    Y9, BATCH_S+256+32*k(SP); \
	VMOVDQU    Y10, BATCH_S+512+32*k(SP); \
	VMOVDQU    Y11, BATCH_S+768+32*k(SP)

// Q6B_STEP(k): super-block k of a group of a row; after the row's last, R9 = k+1
// and on to q6blast.
#define Q6B_STEP(k) \
	Q6B_BLOCK(SI, k); \
	ADDQ $210, SI; \
	ADDQ $256, BX; \
	ADDQ $32, DI; \
	MOVQ $k+1, R9; \
	DECQ CX; \
	JZ   q6blast

// Q6B_STEP2(k, k4): super-block k (k < 4) of two rows, into lanes k and k4 = k+4
// (KB_STEP2); after the last, on to q6b2end.
#define Q6B_STEP2(k, k4) \
	Q6B_BLOCK(SI, k); \
	Q6B_BLOCK(R14, k4); \
	ADDQ $210, SI; \
	ADDQ $210, R14; \
	ADDQ $256, BX; \
	ADDQ $32, DI; \
	MOVQ $k+1, R9; \
	DECQ CX; \
	JZ   q6b2end

// Q6B_VALUES(t, DX): token t's values of the group's super-blocks (Q6_VALUES'
// formula; the group's d in Y10, the mask in Y8) into Y1, its x scales loaded by
// DX (KB_DX, KB_DX2).
#define Q6B_VALUES(t, DX) \
	MOVQ       Q6B_D+8*t(SP), AX; \
	DX; \
	SUM8(BATCH_S+256*t, Y0, Y1, Y2, Y3); \
	VMULPS     Y9, Y10, Y1; \
	VCVTDQ2PS  Y0, Y0; \
	VMULPS     Y0, Y1, Y1; \
	VANDPS     Y8, Y1, Y1

// Q6B_ADD(t): token t's values (Y1) added into its accumulator.
#define Q6B_ADD(t) \
	VADDPS  Q6B_ACC+32*t(SP), Y1, Y1; \
	VMOVUPS Y1, Q6B_ACC+32*t(SP)

#define Q6B_GROUP \
	GROUP_MASK(Y8); \
	VCVTPH2PS Q6B_DW(SP), Y10; \
	Q6B_VALUES(0, KB_DX); \
	Q6B_ADD(0); \
	Q6B_VALUES(1, KB_DX); \
	Q6B_ADD(1); \
	Q6B_VALUES(2, KB_DX); \
	Q6B_ADD(2); \
	Q6B_VALUES(3, KB_DX); \
	Q6B_ADD(3)

// Q6B_ROWS2(t): token t's values of two rows (Y1) into its outputs (KB_ROWS2).
#define Q6B_ROWS2(t) \
	VXORPS       Y4, Y4, Y4; \
	VADDPS       Y1, Y4, Y4; \
	VHADDPS      Y4, Y4, Y4; \
	VHADDPS      Y4, Y4, Y4; \
	MOVQ         Q6B_OUT+8*t(SP), AX; \
	VMOVSS       X4, (AX); \
	VEXTRACTF128 $1, Y4, X5; \
	VMOVSS       X5, 4(AX); \
	ADDQ         $8, Q6B_OUT+8*t(SP)

#define Q6B_GROUP2 \
	MOVQ           $8, AX; \
	SUBQ           R9, AX; \
	LEAQ           groupMask<>(SB), DX; \
	VBROADCASTF128 (DX)(AX*4), Y8; \
	VCVTPH2PS      Q6B_DW(SP), Y10; \
	Q6B_VALUES(0, KB_DX2); \
	Q6B_ROWS2(0); \
	Q6B_VALUES(1, KB_DX2); \
	Q6B_ROWS2(1); \
	Q6B_VALUES(2, KB_DX2); \
	Q6B_ROWS2(2); \
	Q6B_VALUES(3, KB_DX2); \
	Q6B_ROWS2(3)

// Q6B_STORE(t): token t's row total (HSUM8) into its output.
#define Q6B_STORE(t) \
	VMOVUPS Q6B_ACC+32*t(SP), Y0; \
	HSUM8(Y0, X0, X1); \
	MOVQ    Q6B_OUT+8*t(SP), AX; \
	VMOVSS  X0, (AX); \
	ADDQ    $4, Q6B_OUT+8*t(SP)

TEXT ·matMulQ6KAVX2(SB), $1288-32
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

	// Rows of at most four super-blocks go two at a time (q6brows2).
	MOVQ  blocks+24(FP), AX
	CMPQ  AX, $4
	JGT   q6brow
	IMULQ $210, AX
	MOVQ  AX, Q6B_RB(SP)

q6brows2:
	CMPQ R8, $2
	JLT  q6brow
	XORQ BX, BX
	XORQ DI, DI
	MOVQ blocks+24(FP), CX
	MOVQ SI, R14
	ADDQ Q6B_RB(SP), R14
	Q6B_STEP2(0, 4)
	Q6B_STEP2(1, 5)
	Q6B_STEP2(2, 6)
	Q6B_STEP2(3, 7)

q6b2end:
	Q6B_GROUP2
	ADDQ Q6B_RB(SP), SI // past the second row
	SUBQ $2, R8
	JNZ  q6brows2
	VZEROUPPER
	RET

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
	Q6B_STEP(0)
	Q6B_STEP(1)
	Q6B_STEP(2)
	Q6B_STEP(3)
	Q6B_STEP(4)
	Q6B_STEP(5)
	Q6B_STEP(6)
	Q6B_STEP(7)
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
