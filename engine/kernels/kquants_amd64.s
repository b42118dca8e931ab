//go:build amd64 && !purego

#include "textflag.h"
#include "simd_amd64.h"
#include "blocksums_amd64.h"
#include "kscales_amd64.h"
#include "q6k_amd64.h"

// The K-quant kernels (AVX2): x in Q8_K blocks of 256 (its quants at BX, its
// scales at R11, and for Q4_K and Q5_K the sums of every 32 quants at R12, bsum2),
// the weights in the file's super-blocks (kquants.go). Each super-block's value is
// the reference's (matVecKRef, matVecQ6KRef) to the bit: its integer sums are
// exact, and the float steps are the reference's, eight super-blocks at a time
// (blocksums_amd64.h).
//
// A sub-block's quants (unsigned) and x's go through VPMADDUBSW, which adds pairs
// of products into int16 (at most 2·63·127), and VPMADDWD with the sub-block's
// scale in every int16 lane, which multiplies and adds pairs into int32, as
// llama.cpp's AVX2 ggml_vec_dot_q4_K_q8_K does. Q4_K's and Q5_K's super-blocks go
// two at a time through the unpacking of their scales, one per 128-bit half.
//
// Rows of at most four super-blocks (a 768-wide row is three) go two at a time:
// the k-th super-blocks of the two rows pair up, and one group's end serves both
// rows, lanes 0-3 for the first and 4-7 for the second. Alone, such a row would
// pay a group's end for three super-blocks, and Q4_K's third would pair with
// nothing.
//
// Q4_K's and Q5_K's integer sums of a group stay in registers (K_KEEP): a round
// trip of a 32-byte vector through the stack cost more here than the group's
// arithmetic. Its d and dmin collect in X10 and X11 (DM_INSERT).

// Q4K_CHUNK(q, x, s, sc, acc): a chunk of a Q4_K super-block's quants at q (two
// sub-blocks, in the low and high nibbles) times x at x(BX) and x+32(BX), each
// sub-block's pairs times its scale, broadcast from sc's dwords (VPSHUFD with s,
// then s+0x55: dwords 0 and 1, or 2 and 3), added into acc. Y15 holds 0x0f bytes;
// Y4-Y6 are scratch.
#define Q4K_CHUNK(q, x, s, sc, acc) \
	VMOVDQU    q, Y4; \
	VPSRLW     $4, Y4, Y5; \
	VPAND      Y15, Y4, Y4; \
	VPAND      Y15, Y5, Y5; \
	VPMADDUBSW x(BX), Y4, Y4; \
	VPMADDUBSW x+32(BX), Y5, Y5; \
	VPSHUFD    $s, sc, Y6; \
	VPMADDWD   Y6, Y4, Y4; \
	VPSHUFD    $s+0x55, sc, Y6; \
	VPMADDWD   Y6, Y5, Y5; \
	VPADDD     Y5, Y4, Y4; \
	VPADDD     Y4, acc, acc

// Q4K_SUPER(r, w, x, half, acc): the Q4_K super-block at w(r), x at x(BX), its
// scales in half (0x44 low, 0xee high) of Y2 and Y3, into acc: eight int32 that
// add up to its isum. Y0 and Y1 are scratch.
#define Q4K_SUPER(r, w, x, half, acc) \
	VPERMQ $half, Y2, Y0; \
	VPERMQ $half, Y3, Y1; \
	VPXOR  acc, acc, acc; \
	Q4K_CHUNK(w+16(r), x, 0x00, Y0, acc); \
	Q4K_CHUNK(w+48(r), x+64, 0xaa, Y0, acc); \
	Q4K_CHUNK(w+80(r), x+128, 0x00, Y1, acc); \
	Q4K_CHUNK(w+112(r), x+192, 0xaa, Y1, acc)

// K_KEEP and K_ADD are how a pair's vector v (KM_PAIR) joins the group's: the
// first and third pairs' are kept in acc as they are, the second and fourth
// pairs' added in pairs with them (VPHADDD), so that acc holds [S, M, S', M'] per
// 128-bit half: the sums of two super-blocks (the first half: the pair's first
// super-blocks) and their mins' products. K_FIX does for a group that ends after
// a first or third pair what its second or fourth would have (its lanes are
// masked out).
#define K_KEEP(v, acc) VMOVDQA v, acc
#define K_ADD(v, acc) VPHADDD v, acc, acc
#define K_FIX(acc) VPHADDD acc, acc, acc

// K_SPLIT(isum, msum): from the group's pair vectors in Y9 (pairs 0 and 1) and
// Y13 (pairs 2 and 3), isum = [S0, S2, S4, S6 | S1, S3, S5, S7], msum the same
// for the mins' products.
#define K_SPLIT(isum, msum) \
	VSHUFPS $0x88, Y13, Y9, isum; \
	VSHUFPS $0xdd, Y13, Y9, msum

// K_VALUES_MIN(isum, msum): Y1 = float32(d·dx)·float32(isum) -
// float32(dmin·dx)·float32(msum) for the group's lanes (Q4_K, Q5_K), each product
// rounded, then the difference; dx in Y9, Y8 the mask of the lanes in use (the
// others get +0).
#define K_VALUES_MIN(isum, msum) \
	DM_WIDEN; \
	VMULPS     Y9, Y1, Y1; \
	VCVTDQ2PS  isum, isum; \
	VMULPS     isum, Y1, Y1; \
	VMULPS     Y9, Y2, Y2; \
	VCVTDQ2PS  msum, msum; \
	VMULPS     msum, Y2, Y2; \
	VSUBPS     Y2, Y1, Y1; \
	VANDPS     Y8, Y1, Y1

// KGROUP_MIN: the values of the group's R9 super-blocks of a row, added into Y14
// (lane k: super-block k; the pairs' sums come as [0, 2, 4, 6 | 1, 3, 5, 7]).
#define KGROUP_MIN \
	K_SPLIT(Y0, Y4); \
	VMOVDQU    pairOrder<>(SB), Y7; \
	VPERMD     Y0, Y7, Y0; \
	VPERMD     Y4, Y7, Y4; \
	GROUP_MASK(Y8); \
	VMASKMOVPS (R11), Y8, Y9; \
	K_VALUES_MIN(Y0, Y4); \
	VADDPS     Y1, Y14, Y14

// KROWS2_MIN: the values of two rows of R9 super-blocks each (KM_ROWS2), lanes 0-3
// the first row's and 4-7 the second's, summed per row into lanes 0 and 4 of Y14 as
// blockSums sums a row whose lanes 4-7 are 0: ((l0+l1) + (l2+l3)), as l + 0 = l for
// every lane l (never -0).
#define KROWS2_MIN \
	K_SPLIT(Y0, Y4); \
	MOVQ           $8, AX; \
	SUBQ           R9, AX; \
	LEAQ           groupMask<>(SB), DX; \
	VBROADCASTF128 (DX)(AX*4), Y8; \
	VMASKMOVPS     (R11), X8, X9; \
	VINSERTF128    $1, X9, Y9, Y9; \
	K_VALUES_MIN(Y0, Y4); \
	VXORPS         Y14, Y14, Y14; \
	VADDPS         Y1, Y14, Y14; \
	VHADDPS        Y14, Y14, Y14; \
	VHADDPS        Y14, Y14, Y14

// func matVecQ4KAVX2(out *float32, w *byte, xq *int8, xd *float32, bsum2 *int16, rows, blocks int)
#define KM_KERNEL ·matVecQ4KAVX2
#define KM_FRAME 0
#define KM_BYTES 144
#define KM_SUPER Q4K_SUPER
#define KM_MINS(y) VPMADDWD y, Y1, Y12
#define KM_MSUM Y12
#define KM_PREFETCH \
	PREFETCHT0 PF(SI); \
	PREFETCHT0 PF+64(SI); \
	PREFETCHT0 PF+128(SI); \
	PREFETCHT0 PF+192(SI); \
	PREFETCHT0 PF+256(SI)
#include "kminkernel_amd64.h"
#undef KM_KERNEL
#undef KM_FRAME
#undef KM_BYTES
#undef KM_SUPER
#undef KM_MINS
#undef KM_MSUM
#undef KM_PREFETCH

// Q5K_CHUNK(q, x, s, sc, slo, nlo, shi, nhi, acc): Q4K_CHUNK for Q5_K, the fifth
// bits of the low nibbles' sub-block moved by slo nlo, the high ones' by shi nhi;
// the quants, 0..31, multiply unsigned (at most 2·31·127 per int16 pair).
#define Q5K_CHUNK(q, x, s, sc, slo, nlo, shi, nhi, acc) \
	VMOVDQU    q, Y4; \
	VPSRLW     $4, Y4, Y5; \
	VPAND      Y15, Y4, Y4; \
	VPAND      Y15, Y5, Y5; \
	Q5K_FIFTH(slo, nlo, Y12, Y6, Y4); \
	Q5K_FIFTH(shi, nhi, Y12, Y6, Y5); \
	VPMADDUBSW x(BX), Y4, Y4; \
	VPMADDUBSW x+32(BX), Y5, Y5; \
	VPSHUFD    $s, sc, Y6; \
	VPMADDWD   Y6, Y4, Y4; \
	VPSHUFD    $s+0x55, sc, Y6; \
	VPMADDWD   Y6, Y5, Y5; \
	VPADDD     Y5, Y4, Y4; \
	VPADDD     Y4, acc, acc

// Q5K_SUPER(r, w, x, half, acc): Q4K_SUPER for the Q5_K super-block at w(r): qh at
// w+16 (bits 2c and 2c+1 for chunk c's sub-blocks), the nibbles at w+48.
#define Q5K_SUPER(r, w, x, half, acc) \
	VPERMQ  $half, Y2, Y0; \
	VPERMQ  $half, Y3, Y1; \
	VPXOR   acc, acc, acc; \
	VMOVDQU w+16(r), Y12; \
	Q5K_CHUNK(w+48(r), x, 0x00, Y0, VPSLLW, 4, VPSLLW, 3, acc); \
	Q5K_CHUNK(w+80(r), x+64, 0xaa, Y0, VPSLLW, 2, VPSLLW, 1, acc); \
	Q5K_CHUNK(w+112(r), x+128, 0x00, Y1, VPSLLW, 0, VPSRLW, 1, acc); \
	Q5K_CHUNK(w+144(r), x+192, 0xaa, Y1, VPSRLW, 2, VPSRLW, 3, acc)

// func matVecQ5KAVX2(out *float32, w *byte, xq *int8, xd *float32, bsum2 *int16, rows, blocks int)
#define KM_KERNEL ·matVecQ5KAVX2
#define KM_FRAME 32
#define KM_BYTES 176
#define KM_SUPER Q5K_SUPER
#define KM_MINS(y) \
	VPMADDWD y, Y1, Y1; \
	VMOVDQU  Y1, (SP)
#define KM_MSUM (SP)
#define KM_PREFETCH \
	PREFETCHT0 PF(SI); \
	PREFETCHT0 PF+64(SI); \
	PREFETCHT0 PF+128(SI); \
	PREFETCHT0 PF+192(SI); \
	PREFETCHT0 PF+256(SI); \
	PREFETCHT0 PF+320(SI)
#include "kminkernel_amd64.h"

// Q6_K: a super-block's weights are (q - 32)·scale (kquants.go), so isum =
// Σ_s sc_s·Σ q·x - 32·Σ_s sc_s·bsum_s: the quants multiply unsigned (0..63, at
// most 2·63·127 per int16 pair), and the second sum is one VPMADDWD of the scales
// with x's bsums (Q8_K's sums of every 16, Q6_K's sub-blocks). Each vector of 32
// quants is two sub-blocks of 16, one per 128-bit half, so its VPMADDWD takes the
// two scales [sc_a x8 | sc_b x8], shuffled out of the sixteen (as int16) in
// place. The scratch: per super-block k of a group, its int32 sums at 32k; the
// group's d collect in X10.
#define Q6_FRAME 256

// Q6_PRODUCT(q, x, sc, j, acc): acc += vector q of quants times x at x(BX), its two
// sub-blocks' pairs times their scales (mask j of q6Scale over sc); Y5 scratch.
#define Q6_PRODUCT(q, x, sc, j, acc) \
	VPMADDUBSW x(BX), q, q; \
	VPSHUFB    q6Scale<>+32*j(SB), sc, Y5; \
	VPMADDWD   Y5, q, q; \
	VPADDD     q, acc, acc

// Q6_SUPER(r, lane): the super-block at (r) (x at BX, its bsums at R12): its eight
// int32 sums into the scratch at 32·lane, its d into word lane of X10.
#define Q6_SUPER(r, lane) \
	PREFETCHT0   PF(r); \
	PREFETCHT0   PF+64(r); \
	PREFETCHT0   PF+128(r); \
	PREFETCHT0   PF+192(r); \
	VPMOVSXBW    192(r), Y0; \
	VPINSRW      $lane, 208(r), X10, X10; \
	VPMADDWD     (R12), Y0, Y9; \
	VPSLLD       $5, Y9, Y9; \
	VPXOR        Y4, Y4, Y4; \
	VPSUBD       Y9, Y4, Y9; \
	VPERMQ       $0x44, Y0, Y1; \
	VPERMQ       $0xee, Y0, Y2; \
	Q6_QUANTS(r, 0, Y4, Y6, Y7, Y8, Y3, Y5); \
	Q6_PRODUCT(Y4, 0, Y1, 0, Y9); \
	Q6_PRODUCT(Y6, 32, Y1, 1, Y9); \
	Q6_PRODUCT(Y7, 64, Y1, 2, Y9); \
	Q6_PRODUCT(Y8, 96, Y1, 3, Y9); \
	Q6_QUANTS(r, 1, Y4, Y6, Y7, Y8, Y3, Y5); \
	Q6_PRODUCT(Y4, 128, Y2, 0, Y9); \
	Q6_PRODUCT(Y6, 160, Y2, 1, Y9); \
	Q6_PRODUCT(Y7, 192, Y2, 2, Y9); \
	Q6_PRODUCT(Y8, 224, Y2, 3, Y9); \
	VMOVDQU      Y9, 32*lane(SP)

// Q6_VALUES: Y1 = float32(d·dx)·float32(isum) for the group's lanes, each product
// rounded; dx in Y9, Y8 the mask of the lanes in use (the others get +0).
#define Q6_VALUES \
	SUM8(0, Y0, Y1, Y2, Y3); \
	VCVTPH2PS X10, Y1; \
	VMULPS    Y9, Y1, Y1; \
	VCVTDQ2PS Y0, Y0; \
	VMULPS    Y0, Y1, Y1; \
	VANDPS    Y8, Y1, Y1

// func matVecQ6KAVX2(out *float32, w *byte, xq *int8, xd *float32, bsums *int16, rows, blocks int)
TEXT ·matVecQ6KAVX2(SB), NOSPLIT, $Q6_FRAME-56
	MOVQ         out+0(FP), DI
	MOVQ         w+8(FP), SI
	MOVQ         rows+40(FP), R8
	MOVL         $0x0f0f0f0f, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15
	MOVL         $0x30303030, AX
	VMOVD        AX, X13
	VPBROADCASTD X13, Y13

	// Rows of at most four super-blocks go two at a time, as Q4_K's.
	MOVQ  blocks+48(FP), R13
	CMPQ  R13, $4
	JGT   q6row
	IMULQ $210, R13            // bytes per row

q6rows2:
	CMPQ R8, $2
	JLT  q6row
	MOVQ xq+16(FP), BX
	MOVQ xd+24(FP), R11
	MOVQ bsums+32(FP), R12
	MOVQ blocks+48(FP), CX
	LEAQ (SI)(R13*1), R14

#define Q6_STEP2(k, k4) \
	Q6_SUPER(SI, k); \
	Q6_SUPER(R14, k4); \
	ADDQ $210, SI; \
	ADDQ $210, R14; \
	ADDQ $256, BX; \
	ADDQ $32, R12; \
	MOVQ $k+1, R9; \
	DECQ CX; \
	JZ   q6rows2end

	Q6_STEP2(0, 4)
	Q6_STEP2(1, 5)
	Q6_STEP2(2, 6)
	Q6_STEP2(3, 7)

q6rows2end:
	MOVQ           $8, AX
	SUBQ           R9, AX
	LEAQ           groupMask<>(SB), DX
	VBROADCASTF128 (DX)(AX*4), Y8
	VMASKMOVPS     (R11), X8, X9
	VINSERTF128    $1, X9, Y9, Y9
	Q6_VALUES
	VXORPS         Y14, Y14, Y14
	VADDPS         Y1, Y14, Y14
	VHADDPS        Y14, Y14, Y14 // per row, as KROWS2_MIN
	VHADDPS        Y14, Y14, Y14
	VMOVSS         X14, (DI)
	VEXTRACTF128   $1, Y14, X1
	VMOVSS         X1, 4(DI)
	ADDQ           $8, DI
	ADDQ           R13, SI       // past the second row
	SUBQ           $2, R8
	JNZ            q6rows2
	VZEROUPPER
	RET

q6row:
	MOVQ   xq+16(FP), BX
	MOVQ   xd+24(FP), R11
	MOVQ   bsums+32(FP), R12
	MOVQ   blocks+48(FP), CX
	VXORPS Y14, Y14, Y14

#define Q6_STEP(k) \
	Q6_SUPER(SI, k); \
	ADDQ $210, SI; \
	ADDQ $256, BX; \
	ADDQ $32, R12; \
	MOVQ $k+1, R9; \
	DECQ CX; \
	JZ   q6last

q6group:
	Q6_STEP(0)
	Q6_STEP(1)
	Q6_STEP(2)
	Q6_STEP(3)
	Q6_STEP(4)
	Q6_STEP(5)
	Q6_STEP(6)
	Q6_STEP(7)
	GROUP_MASK(Y8)
	VMOVUPS (R11), Y9
	Q6_VALUES
	VADDPS  Y1, Y14, Y14
	ADDQ    $32, R11
	JMP     q6group

q6last:
	GROUP_MASK(Y8)
	VMASKMOVPS (R11), Y8, Y9
	Q6_VALUES
	VADDPS     Y1, Y14, Y14
	HSUM8(Y14, X14, X1)
	VMOVSS     X14, (DI)
	ADDQ       $4, DI
	DECQ       R8
	JNZ        q6row
	VZEROUPPER
	RET
