//go:build arm64 && !purego

#include "textflag.h"
#include "simd_arm64.h"
#include "blocks_arm64.h"

// Q4_1, Q5_0 and Q5_1 kernels (blocks32.go): rows in GGUF's layout, x in Q8_0 or
// Q8_1 blocks of 32 (R5 walking its int8 values, R7 its float32 scales). A block's
// value is the reference's: its exact integer sum, then the same float32 operations
// (separate FMUL and FADD), into lane b mod 8 of the row's lanes (blocks_arm64.h).
//
// Eight blocks at a time: each block's 32 products go into 8 int16 lanes (SMULL,
// SMLAL2, SMLAL, SMLAL2), four blocks' lanes add up pairwise (ADDP, twice) and then
// widen to one int32 lane per block (SADDLP; Q5_1's SADALP onto x's 16·Σq), so that
// blocks 0-3 of the group give one vector of values for lanes 0-3 and blocks 4-7
// one for lanes 4-7. The blocks after the last group go one at a time, their value
// added into lane 0 and the lanes rotated.
//
// The fifth bits: qh's four bytes in a vector register (Q5_1's beside its d and m,
// as one load brings them), TBL spreads the first two over 8 lanes each (V28's
// indices) and the last two likewise (V27's), and CMTST against each lane's bit
// (V26: 1, 2, ..., 128 twice) gives 0xff where it is set. SLI by 4 of such a mask
// onto the nibbles keeps their low 4 bits and sets the high 4, and SRI by 4 of the
// nibbles into a mask keeps its high 4 bits and puts the high nibble below them: so
// a mask of the complemented qh gives the nibble - 16 where the bit is 0 (q - 16,
// signed: Q5_0's weights, and Q5_1's in its groups of eight, x's 16·Σq added back),
// and a mask shifted down to 1 (SLI) or 0x1f (SRI) gives the nibble + 16 where the
// bit is 1 (Q5_1's q, unsigned, in its batch kernel and lone blocks).

// BLOCK1_VALUE(dreg): a lone block's value, float32(float32(d_w·d_x)·float32(isum)),
// from its isum in S16 and its fp16 d_w in the low 16 bits of dreg, with the next x
// scale (R7), into lane 0 of the row's lanes, which then rotate.
#define BLOCK1_VALUE(dreg) \
	FMOVS   dreg, F15; \
	FCVTHS  F15, F15; \
	FMOVS.P 4(R7), F14; \
	FMULS   F14, F15, F15; \
	SCVTFS(16, 16); \
	FMULS   F15, F16, F16; \
	FADD4S(30, 30, 16); \
	ROTATE8(V24)

// B32_CONSTS(first) sets V26-V28 for the fifth bits, whose four bytes are bytes
// first to first+3 of Vq (Q50_LOAD's and Q51_LOAD's).
#define B32_CONSTS(first) \
	VMOVQ $0x8040201008040201, $0x8040201008040201, V26; \
	VMOVQ $(0x0101010101010101*((first)+2)), $(0x0101010101010101*((first)+3)), V27; \
	VMOVQ $(0x0101010101010101*(first)), $(0x0101010101010101*((first)+1)), V28

// Q50_BLOCK(off, xoff, t, q, s, x0, x1, a, b): the Q5_0 block at R1+off against the
// 32 x values at R5+xoff: Vt = its products in 8 int16 lanes; R9 = its fp16 d. Vq,
// Vs, Vx0, Vx1, Va, Vb and R10 scratch.
#define Q50_BLOCK(off, xoff, t, q, s, x0, x1, a, b) \
	Q50_LOAD(off, q, s); \
	X_LOAD(xoff, x0, x1); \
	Q50_PRODUCTS(t, q, s, x0, x1, a, b)

// X_LOAD(xoff, x0, x1): Vx0, Vx1 = the 32 x values at R5+xoff.
#define X_LOAD(xoff, x0, x1) \
	LDURQ(x0, 5, xoff); \
	LDURQ(x1, 5, xoff+16)

// Q50_PRODUCTS(t, q, s, x0, x1, a, b): Vt = the products of a block's q - 16
// (Q50_UNPACK's, from the nibbles in Vs and the complemented qh in Vq) with its x
// values in Vx0 and Vx1; Va, Vb scratch.
#define Q50_PRODUCTS(t, q, s, x0, x1, a, b) \
	Q50_UNPACK(q, s, a, b); \
	B32_PRODUCTS(t, s, b, x0, x1)

// Q50_LOAD(off, q, s): the Q5_0 block at R1+off: R9 = its fp16 d, Vq's low 32 bits
// its complemented qh, Vs its nibbles; R10 scratch.
#define Q50_LOAD(off, q, s) \
	MOVHU off(R1), R9; \
	MOVWU off+2(R1), R10; \
	MVNW  R10, R10; \
	FMOVSW(q, 10); \
	LDURQ(s, 1, off+6)

// Q50_UNPACK(q, s, a, b): Vs = weights 0-15 (q - 16, signed), Vb = weights 16-31,
// from the nibbles in Vs and the complemented qh in Vq (B32_CONSTS' bytes); Va
// scratch.
#define Q50_UNPACK(q, s, a, b) \
	TBL16B(a, q, 28); \
	TBL16B(b, q, 27); \
	CMTST16B(a, a, 26); \
	CMTST16B(b, b, 26); \
	SRI4_16B(b, s); \
	SLI4_16B(s, a)

// B32_PRODUCTS(t, s, h, x0, x1): Vt = the products of a block's weights (Vs: 0-15,
// Vh: 16-31) with its x values (Vx0, Vx1), in 8 int16 lanes.
#define B32_PRODUCTS(t, s, h, x0, x1) \
	SMULL8H(t, s, x0); \
	SMLAL2_8H(t, s, x0); \
	SMLAL8H(t, h, x1); \
	SMLAL2_8H(t, h, x1)

// TREE4(i, t0, t1, t2, t3, tmp): Vi.4S = the int32 sums of blocks t0-t3 (int16 lanes
// of at most 4 products of 16·127: two ADDPs keep them in int16).
#define TREE4(i, t0, t1, t2, t3, tmp) \
	ADDP8H(i, t0, t1); \
	ADDP8H(tmp, t2, t3); \
	ADDP8H(i, i, tmp); \
	SADDLP4S(i, i)

// GROUP_DDX(dreg, xoff, d, t): Vd = float32(d_w·d_x) of four blocks, their fp16 d_w
// in dreg (16 bits each), their d_x at R7+xoff; Vt scratch.
#define GROUP_DDX(dreg, xoff, d, t) \
	FMOVDX(d, dreg); \
	LDURQ(t, 7, xoff); \
	FCVTL(d, d); \
	FMUL4S(d, d, t)

// GROUP_ADD(lanes, i, d): Vlanes += float32(Vd·float32(isum)) of four blocks,
// their isums in Vi and GROUP_DDX's products in Vd.
#define GROUP_ADD(lanes, i, d) \
	SCVTF4S(i, i); \
	FMUL4S(i, i, d); \
	FADD4S(lanes, lanes, i)

// func matVecQ5_0NEON(out *float32, w *byte, xq *int8, xd *float32, rows, blocks int)
TEXT ·matVecQ5_0NEON(SB), NOSPLIT, $0-48
	MOVD out+0(FP), R0
	MOVD w+8(FP), R1
	MOVD xq+16(FP), R2
	MOVD xd+24(FP), R4
	MOVD rows+32(FP), R3
	MOVD blocks+40(FP), R8
	B32_CONSTS(0)

q50row:
	MOVD R2, R5
	MOVD R4, R7
	MOVD R8, R6
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16
	SUBS $8, R6
	BLT  q50tail

q50by8:
	// Each block is loaded before the previous one is unpacked and multiplied, so
	// that the unpacking does not wait on the loads.
	Q50_LOAD(0, 0, 1)
	X_LOAD(0, 3, 4)
	AND $0xffff, R9, R11
	Q50_LOAD(22, 7, 8)
	X_LOAD(32, 10, 11)
	BFI $16, R9, $16, R11
	Q50_PRODUCTS(16, 0, 1, 3, 4, 5, 6)
	Q50_LOAD(44, 0, 1)
	X_LOAD(64, 3, 4)
	BFI $32, R9, $16, R11
	Q50_PRODUCTS(17, 7, 8, 10, 11, 12, 13)
	Q50_LOAD(66, 7, 8)
	X_LOAD(96, 10, 11)
	BFI $48, R9, $16, R11
	Q50_PRODUCTS(18, 0, 1, 3, 4, 5, 6)
	Q50_LOAD(88, 0, 1)
	X_LOAD(128, 3, 4)
	AND $0xffff, R9, R12
	Q50_PRODUCTS(19, 7, 8, 10, 11, 12, 13)
	Q50_LOAD(110, 7, 8)
	X_LOAD(160, 10, 11)
	BFI $16, R9, $16, R12
	Q50_PRODUCTS(20, 0, 1, 3, 4, 5, 6)
	Q50_LOAD(132, 0, 1)
	X_LOAD(192, 3, 4)
	BFI $32, R9, $16, R12
	Q50_PRODUCTS(21, 7, 8, 10, 11, 12, 13)
	Q50_LOAD(154, 7, 8)
	X_LOAD(224, 10, 11)
	BFI $48, R9, $16, R12
	Q50_PRODUCTS(22, 0, 1, 3, 4, 5, 6)
	Q50_PRODUCTS(23, 7, 8, 10, 11, 12, 13)
	GROUP_DDX(11, 0, 14, 15)
	GROUP_DDX(12, 16, 12, 13)
	TREE4(24, 16, 17, 18, 19, 25)
	TREE4(25, 20, 21, 22, 23, 29)
	GROUP_ADD(30, 24, 14)
	GROUP_ADD(31, 25, 12)
	ADD  $176, R1
	ADD  $256, R5
	ADD  $32, R7
	SUBS $8, R6
	BGE  q50by8

q50tail:
	ADD $8, R6

q50by1:
	CBZ R6, q50align
	Q50_BLOCK(0, 0, 16, 0, 1, 3, 4, 5, 6)
	SADDLV8H(16, 16)
	BLOCK1_VALUE(R9)
	ADD $22, R1
	ADD $32, R5
	SUB $1, R6
	B   q50by1

q50align:
	NEG R8, R9
	AND $7, R9

q50rot:
	CBZ R9, q50sum
	ROTATE8(V24)
	SUB $1, R9
	B   q50rot

q50sum:
	SUM8_STORE
	SUBS $1, R3
	BNE  q50row
	RET

// The Q4_1 and Q5_1 kernels: weights q·d + m with q unsigned (0..15, 0..31), x in
// Q8_1 blocks (R12 walking their float32 sums s). A block's value is
// float32(float32(d·d_x)·float32(isum)) + float32(m·s), each product rounded, then
// their sum. Q5_1's groups of eight multiply q - 16, as Q5_0's kernel does (its
// signed lanes add 16 products before they widen, the unsigned ones 8), and widen
// their sums onto 16·Σq of x's blocks (R21, from prepareNEON), which makes isum.

// GROUP_VALUES_M(lanes, i, dreg, mreg, xoff): Vlanes += float32(float32(d·d_x)·
// float32(isum)) + float32(m·s) of four blocks: isums in Vi, their fp16 d and m in
// dreg and mreg (16 bits each), their x scales and sums at R7+xoff and R12+xoff.
#define GROUP_VALUES_M(lanes, i, dreg, mreg, xoff) \
	FMOVD dreg, F15; \
	FMOVD mreg, F13; \
	FMOVQ xoff(R7), F14; \
	FMOVQ xoff(R12), F12; \
	FCVTL(15, 15); \
	FCVTL(13, 13); \
	SCVTF4S(i, i); \
	FMUL4S(15, 15, 14); \
	FMUL4S(13, 13, 12); \
	FMUL4S(i, i, 15); \
	FADD4S(i, i, 13); \
	FADD4S(lanes, lanes, i)

// BLOCK1_VALUE_M(dm): BLOCK1_VALUE for Q4_1 and Q5_1, the fp16 d and m in the low
// 32 bits of dm, the block's isum in S16, its x scale and sum at R7 and R12.
#define BLOCK1_VALUE_M(dm) \
	FMOVS   dm, F15; \
	LSR     $16, dm, R10; \
	FMOVS   R10, F13; \
	FCVTHS  F15, F15; \
	FCVTHS  F13, F13; \
	FMOVS.P 4(R7), F14; \
	FMOVS.P 4(R12), F12; \
	FMULS   F14, F15, F15; \
	FMULS   F12, F13, F13; \
	SCVTFS(16, 16); \
	FMULS   F15, F16, F16; \
	FADDS   F13, F16, F16; \
	FADD4S(30, 30, 16); \
	ROTATE8(V24)

// DM_FIELDS(k): R9's low 32 bits (a block's fp16 d and m) into the 16-bit fields k
// of R13 (the d) and R14 (the m) of a group's four blocks; R10 scratch.
#define DM_FIELDS(k) \
	LSR $16, R9, R10; \
	BFI $(16*k), R9, $16, R13; \
	BFI $(16*k), R10, $16, R14

// Q41_BLOCK(off, xoff, t, s, h, x0, x1): the Q4_1 block at R1+off against the x
// values at R5+xoff: Vt = its products in 8 int16 lanes; R9 = its fp16 d and m.
#define Q41_BLOCK(off, xoff, t, s, h, x0, x1) \
	Q41_LOAD(off, s); \
	LDURQ(x0, 5, xoff); \
	LDURQ(x1, 5, xoff+16); \
	Q41_UNPACK(s, h); \
	B32_PRODUCTS(t, s, h, x0, x1)

// Q41_LOAD(off, s): the Q4_1 block at R1+off: R9 = its fp16 d and m, Vs its nibbles.
#define Q41_LOAD(off, s) \
	MOVWU off(R1), R9; \
	LDURQ(s, 1, off+4)

// Q41_UNPACK(s, h): Vs = weights 0-15, Vh = 16-31, from Q41_LOAD's Vs (V29 holds
// 0x0f bytes).
#define Q41_UNPACK(s, h) \
	USHR4_16B(h, s); \
	AND16B(s, s, 29)

// Q51_BLOCK(off, xoff, t, q, s, x0, x1, a, b): the Q5_1 block at R1+off: Vt = its
// products; R9's low 32 bits = its fp16 d and m.
#define Q51_BLOCK(off, xoff, t, q, s, x0, x1, a, b) \
	Q51_LOAD(off, q, s); \
	LDURQ(x0, 5, xoff); \
	LDURQ(x1, 5, xoff+16); \
	Q51_UNPACK(q, s, a, b); \
	B32_PRODUCTS(t, s, b, x0, x1)

// Q51_LOAD(off, q, s): the Q5_1 block at R1+off: R9's low 32 bits = its fp16 d and
// m, Vq's bytes 4-7 its qh, Vs its nibbles.
#define Q51_LOAD(off, q, s) \
	MOVD off(R1), R9; \
	FMOVDX(q, 9); \
	LDURQ(s, 1, off+8)

// Q51_UNPACK(q, s, a, b): Vs = weights 0-15 (q, unsigned), Vb = 16-31, from
// Q51_LOAD's Vq and Vs; Va scratch.
#define Q51_UNPACK(q, s, a, b) \
	TBL16B(a, q, 28); \
	TBL16B(b, q, 27); \
	CMTST16B(a, a, 26); \
	CMTST16B(b, b, 26); \
	USHR7_16B(a, a); \
	USHR3_16B(b, b); \
	SRI4_16B(b, s); \
	SLI4_16B(s, a)

// Q51S_LOAD(off, xoff, r, q, s, x0, x1): the Q5_1 block at R1+off in a group of
// eight, for Q50_PRODUCTS, and its x values at R5+xoff: Rr = its d, m and qh (8
// bytes), Vq's bytes 4-7 its complemented qh, Vs its nibbles, Vx0 and Vx1 the x
// values; R10 scratch.
#define Q51S_LOAD(off, xoff, r, q, s, x0, x1) \
	MOVD off(R1), r; \
	EOR  $0xffffffff00000000, r, R10; \
	FMOVDX(q, 10); \
	LDURQ(s, 1, off+8); \
	X_LOAD(xoff, x0, x1)

// GROUP_VALUES_S(lanes, p0, p1, xoff, t0, t1, t2, t3): Vlanes += float32(float32(
// d·d_x)·float32(isum)) + float32(m·s) of four Q5_1 blocks of a group of eight: the
// products of their q - 16 in Vt0-Vt3 (scratch), their fp16 d and m as pairs in the
// low and high halves of registers p0 (the first two blocks) and p1, their x
// scales, sums and 16·Σq at R7+xoff, R12+xoff and R21+xoff. isum = 16·Σq +
// Σ (q - 16)·q_x exactly: the products' int16 lanes (bounded as Q5_0's) widen onto
// 16·Σq by SADALP.
#define GROUP_VALUES_S(lanes, p0, p1, xoff, t0, t1, t2, t3) \
	FMOVDX(14, p0); \
	FMOVDX(15, p1); \
	UZP1_4H(24, 14, 15); \
	UZP2_4H(25, 14, 15); \
	LDURQ(14, 7, xoff); \
	LDURQ(15, 12, xoff); \
	FCVTL(24, 24); \
	FCVTL(25, 25); \
	FMUL4S(24, 24, 14); \
	FMUL4S(25, 25, 15); \
	LDURQ(29, 21, xoff); \
	ADDP8H(t0, t0, t1); \
	ADDP8H(t2, t2, t3); \
	ADDP8H(t0, t0, t2); \
	SADALP4S(29, t0); \
	SCVTF4S(29, 29); \
	FMUL4S(29, 29, 24); \
	FADD4S(29, 29, 25); \
	FADD4S(lanes, lanes, 29)

// func matVecQ4_1NEON(out *float32, w *byte, xq *int8, xd *float32, xs *float32, rows, blocks int)
TEXT ·matVecQ4_1NEON(SB), NOSPLIT, $0-56
	MOVD  out+0(FP), R0
	MOVD  w+8(FP), R1
	MOVD  xq+16(FP), R2
	MOVD  xd+24(FP), R4
	MOVD  xs+32(FP), R11
	MOVD  rows+40(FP), R3
	MOVD  blocks+48(FP), R8
	VMOVI $15, V29.B16

q41row:
	MOVD R2, R5
	MOVD R4, R7
	MOVD R11, R12
	MOVD R8, R6
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16

q41by8:
	CMP $8, R6
	BLT q41by1
	Q41_BLOCK(0, 0, 16, 0, 1, 2, 3)
	DM_FIELDS(0)
	Q41_BLOCK(20, 32, 17, 4, 5, 6, 7)
	DM_FIELDS(1)
	Q41_BLOCK(40, 64, 18, 0, 1, 2, 3)
	DM_FIELDS(2)
	Q41_BLOCK(60, 96, 19, 4, 5, 6, 7)
	DM_FIELDS(3)
	TREE4(24, 16, 17, 18, 19, 25)
	GROUP_VALUES_M(30, 24, R13, R14, 0)
	Q41_BLOCK(80, 128, 20, 0, 1, 2, 3)
	DM_FIELDS(0)
	Q41_BLOCK(100, 160, 21, 4, 5, 6, 7)
	DM_FIELDS(1)
	Q41_BLOCK(120, 192, 22, 0, 1, 2, 3)
	DM_FIELDS(2)
	Q41_BLOCK(140, 224, 23, 4, 5, 6, 7)
	DM_FIELDS(3)
	TREE4(25, 20, 21, 22, 23, 24)
	GROUP_VALUES_M(31, 25, R13, R14, 16)
	ADD $160, R1
	ADD $256, R5
	ADD $32, R7
	ADD $32, R12
	SUB $8, R6
	B   q41by8

q41by1:
	CBZ R6, q41align
	Q41_BLOCK(0, 0, 16, 0, 1, 2, 3)
	SADDLV8H(16, 16)
	BLOCK1_VALUE_M(R9)
	ADD $20, R1
	ADD $32, R5
	SUB $1, R6
	B   q41by1

q41align:
	NEG R8, R9
	AND $7, R9

q41rot:
	CBZ R9, q41sum
	ROTATE8(V24)
	SUB $1, R9
	B   q41rot

q41sum:
	SUM8_STORE
	SUBS $1, R3
	BNE  q41row
	RET

// func matVecQ5_1NEON(out *float32, w *byte, xq *int8, xd *float32, xs *float32, xs16 *int32, rows, blocks int)
TEXT ·matVecQ5_1NEON(SB), NOSPLIT, $0-64
	MOVD out+0(FP), R0
	MOVD w+8(FP), R1
	MOVD xq+16(FP), R2
	MOVD xd+24(FP), R4
	MOVD xs+32(FP), R11
	MOVD xs16+40(FP), R19
	MOVD rows+48(FP), R3
	MOVD blocks+56(FP), R8
	B32_CONSTS(4)

q51row:
	MOVD R2, R5
	MOVD R4, R7
	MOVD R11, R12
	MOVD R19, R21
	MOVD R8, R6
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16
	SUBS $8, R6
	BLT  q51tail

q51by8:
	// Each block is loaded before the previous one is unpacked and multiplied, as
	// in the Q5_0 kernel; blocks 0 and 1's d and m go to R13, 2 and 3's to R14, 4
	// and 5's to R15, 6 and 7's to R22. Both groups' float32 work follows the eight
	// blocks' integer work, which it overlaps.
	Q51S_LOAD(0, 0, R13, 0, 1, 2, 3)
	Q51S_LOAD(24, 32, R9, 6, 7, 8, 9)
	BFI $32, R9, $32, R13
	Q50_PRODUCTS(16, 0, 1, 2, 3, 4, 5)
	Q51S_LOAD(48, 64, R14, 0, 1, 2, 3)
	Q50_PRODUCTS(17, 6, 7, 8, 9, 10, 11)
	Q51S_LOAD(72, 96, R9, 6, 7, 8, 9)
	BFI $32, R9, $32, R14
	Q50_PRODUCTS(18, 0, 1, 2, 3, 4, 5)
	Q51S_LOAD(96, 128, R15, 0, 1, 2, 3)
	Q50_PRODUCTS(19, 6, 7, 8, 9, 10, 11)
	Q51S_LOAD(120, 160, R9, 6, 7, 8, 9)
	BFI $32, R9, $32, R15
	Q50_PRODUCTS(20, 0, 1, 2, 3, 4, 5)
	Q51S_LOAD(144, 192, R22, 0, 1, 2, 3)
	Q50_PRODUCTS(21, 6, 7, 8, 9, 10, 11)
	Q51S_LOAD(168, 224, R9, 6, 7, 8, 9)
	BFI $32, R9, $32, R22
	Q50_PRODUCTS(22, 0, 1, 2, 3, 4, 5)
	Q50_PRODUCTS(23, 6, 7, 8, 9, 10, 11)
	GROUP_VALUES_S(30, 13, 14, 0, 16, 17, 18, 19)
	GROUP_VALUES_S(31, 15, 22, 16, 20, 21, 22, 23)
	ADD  $192, R1
	ADD  $256, R5
	ADD  $32, R7
	ADD  $32, R12
	ADD  $32, R21
	SUBS $8, R6
	BGE  q51by8

q51tail:
	ADD $8, R6

q51by1:
	CBZ R6, q51align
	Q51_BLOCK(0, 0, 16, 0, 1, 3, 4, 5, 6)
	SADDLV8H(16, 16)
	BLOCK1_VALUE_M(R9)
	ADD $24, R1
	ADD $32, R5
	SUB $1, R6
	B   q51by1

q51align:
	NEG R8, R9
	AND $7, R9

q51rot:
	CBZ R9, q51sum
	ROTATE8(V24)
	SUB $1, R9
	B   q51rot

q51sum:
	SUM8_STORE
	SUBS $1, R3
	BNE  q51row
	RET

// The batch kernels (blocks32batch_arm64.h).

// func matMulQ5_0NEON(out *float32, stride int, w *byte, a *neonBatch, rows, blocks int)
#define B32N_BYTES 22
#define B32N_QH 0
#define B32N_WEIGHTS(off) \
	Q50_LOAD(off, 2, 0); \
	Q50_UNPACK(2, 0, 3, 1)
#define B32N_FIELD(j) BFI $(16*j), R9, $16, R11
#define B32N_TREE(a, b) \
	ADDP8H(a, a, b); \
	SADDLP4S(a, a)
#define B32N_DS \
	FMOVD R11, F15; \
	FCVTL(15, 15)
#define B32N_VALUE(d, s, i, xoff) \
	FMOVQ xoff(d), F5; \
	FMUL4S(5, 15, 5); \
	SCVTF4S(i, i); \
	FMUL4S(i, i, 5)
#define B32N_DS1 \
	FMOVS  R9, F15; \
	FCVTHS F15, F15
#define B32N_VALUE1(d, s) \
	FMOVS.P 4(d), F5; \
	FMULS   F5, F15, F5; \
	SCVTFS(4, 4); \
	FMULS   F5, F4, F4
TEXT ·matMulQ5_0NEON(SB), NOSPLIT, $0-48
	MOVD out+0(FP), R0
	MOVD stride+8(FP), R4
	MOVD w+16(FP), R1
	MOVD a+24(FP), R2
	MOVD rows+32(FP), R3
	MOVD blocks+40(FP), R8
#include "blocks32batch_arm64.h"
#undef B32N_BYTES
#undef B32N_QH
#undef B32N_WEIGHTS
#undef B32N_FIELD
#undef B32N_TREE
#undef B32N_DS
#undef B32N_VALUE
#undef B32N_DS1
#undef B32N_VALUE1

// The encodings with a min: d and m of a half's blocks in R13 and R14 (DM_FIELDS),
// their values GROUP_VALUES_M's and BLOCK1_VALUE_M's.
#define B32N_FIELD(j) DM_FIELDS(j)
#define B32N_DS \
	FMOVD R13, F15; \
	FMOVD R14, F24; \
	FCVTL(15, 15); \
	FCVTL(24, 24)
#define B32N_VALUE(d, s, i, xoff) \
	FMOVQ xoff(d), F5; \
	FMOVQ xoff(s), F14; \
	FMUL4S(5, 15, 5); \
	FMUL4S(14, 24, 14); \
	SCVTF4S(i, i); \
	FMUL4S(i, i, 5); \
	FADD4S(i, i, 14)
#define B32N_DS1 \
	FMOVS  R9, F15; \
	LSR    $16, R9, R10; \
	FMOVS  R10, F24; \
	FCVTHS F15, F15; \
	FCVTHS F24, F24
#define B32N_VALUE1(d, s) \
	FMOVS.P 4(d), F5; \
	FMOVS.P 4(s), F14; \
	FMULS   F5, F15, F5; \
	FMULS   F14, F24, F14; \
	SCVTFS(4, 4); \
	FMULS   F5, F4, F4; \
	FADDS   F14, F4, F4

// func matMulQ4_1NEON(out *float32, stride int, w *byte, a *neonBatch, rows, blocks int)
#define B32N_BYTES 20
#define B32N_QH 0
#define B32N_WEIGHTS(off) \
	Q41_LOAD(off, 0); \
	Q41_UNPACK(0, 1)
#define B32N_TREE(a, b) \
	ADDP8H(a, a, b); \
	SADDLP4S(a, a)
TEXT ·matMulQ4_1NEON(SB), NOSPLIT, $0-48
	MOVD out+0(FP), R0
	MOVD stride+8(FP), R4
	MOVD w+16(FP), R1
	MOVD a+24(FP), R2
	MOVD rows+32(FP), R3
	MOVD blocks+40(FP), R8
#include "blocks32batch_arm64.h"
#undef B32N_BYTES
#undef B32N_QH
#undef B32N_WEIGHTS
#undef B32N_TREE

// func matMulQ5_1NEON(out *float32, stride int, w *byte, a *neonBatch, rows, blocks int)
// (unsigned 5-bit weights: their sums of 8 products fit int16, not those of 16, so
// the pairs widen to int32 before they add up)
#define B32N_BYTES 24
#define B32N_QH 4
#define B32N_WEIGHTS(off) \
	Q51_LOAD(off, 2, 0); \
	Q51_UNPACK(2, 0, 3, 1)
#define B32N_TREE(a, b) \
	SADDLP4S(a, a); \
	SADDLP4S(b, b); \
	ADDP4S(a, a, b)
TEXT ·matMulQ5_1NEON(SB), NOSPLIT, $0-48
	MOVD out+0(FP), R0
	MOVD stride+8(FP), R4
	MOVD w+16(FP), R1
	MOVD a+24(FP), R2
	MOVD rows+32(FP), R3
	MOVD blocks+40(FP), R8
#include "blocks32batch_arm64.h"
