//go:build arm64 && !purego

#include "textflag.h"
#include "simd_arm64.h"
#include "blocks_arm64.h"

// K-quant kernels (kquants.go): rows in GGUF's layout, x in Q8_K blocks of 256 (R5
// walking its int8 values, R7 its float32 scales, R11 its int16 sums of 16). Each
// super-block gives the reference's value: its integer sums exactly, then the same
// float32 operations (separate FMUL and FADD, no fused ones), into the row's lanes
// (blocks_arm64.h).
//
// The integer sums: SMULL/SMLAL/SMLAL2 multiply 8 int8 pairs into 8 int16 lanes, four
// times per sub-block of 32 (Q4_K, Q5_K), so each lane holds 4 products; ADDP adds
// the lanes of two sub-blocks pairwise (8 products a lane, still int16: |q·x| <=
// 31·127, 8·3937 < 32768), and SMLAL by element multiplies the four lanes of each
// sub-block by its 6-bit scale into int32 lanes. Q4_K's products are small enough
// (16·15·127 < 32768) for a second ADDP, two lanes a sub-block, which SMLAL multiplies
// by a vector of the scales, each twice: half the multiplies, on the A72's one
// multiplier pipe. The int32 lanes and those of the mins' products add up with ADDP
// at the super-block's end.

// KSCALES(blk): the eight 6-bit scales and mins of a Q4_K or Q5_K super-block at blk
// (kScale): V15.8B = scales, V14.8H = -mins. With scales[12] as little-endian
// words u0 u1 u2: scales 0-3 and mins 0-3 are the low 6 bits of u0 and u1; scales 4-7
// are the nibbles of u2 with the top 2 bits of u0's bytes above them, and mins 4-7
// the high nibbles of u2 with those of u1. In 64-bit registers, (u0 | u1<<32) gives
// the low halves at once, and (u2 | u2<<28) lines up u2 and u2>>4 for the high ones
// (the bits that spill into byte 3's high nibble are masked off). R9, R12-R15 scratch.
#define KSCALES(blk) \
	MOVD  4(blk), R9; \
	MOVWU 12(blk), R12; \
	AND   $0x3f3f3f3f3f3f3f3f, R9, R13; \
	ORR   R12<<28, R12, R12; \
	AND   $0x0f0f0f0f0f0f0f0f, R12, R12; \
	LSR   $2, R9, R14; \
	AND   $0x3030303030303030, R14, R14; \
	ORR   R14, R12, R12; \
	MOVD  R12, R15; \
	BFXIL $32, R13, $32, R15; \
	BFI   $32, R12, $32, R13; \
	FMOVD R13, F15; \
	FMOVD R15, F14; \
	VUXTL V14.B8, V14.H8; \
	NEG8H(14, 14)

// The value of each super-block is finished during the next one (or after the row's
// last), so that its float32 latency overlaps the next one's integer work: KSAVE
// leaves its isum and -msum in V27.S[0], V27.S[1] (from 4 int32 lanes each in V10 and
// V11) and float32(d·dx), float32(dmin·dx) in V28.S[0], V28.S[1] (fp16 d and dmin at
// hdr, dx the next x scale); KVALUE then adds float32(d·dx)·float32(isum) -
// float32(dmin·dx)·float32(msum), each product rounded, into the row's lanes
// (blocks_arm64.h), the subtraction as the sum of the first product and the negated
// second one, and rotates them. Before a row's first super-block V27 and V28 are
// zeros, which give +0: an extra rotation, and an addition that changes nothing.
#define KSAVE(hdr) \
	VADDP   V11.S4, V10.S4, V27.S4; \
	VADDP   V27.S4, V27.S4, V27.S4; \
	FMOVS   (hdr), F28; \
	FMOVS.P 4(R7), F12; \
	FCVTL(28, 28); \
	FMUL2S_S0(28, 28, 12)

#define KVALUE \
	SCVTF2S(27, 27); \
	FMUL2S(27, 27, 28); \
	FADDP2S(27, 27); \
	FADD4S(30, 30, 27); \
	ROTATE8(V28)

// KMINS: V11 = -msum's 4 int32 lanes: the next 16 bsums of x (R11) added in pairs
// (the sums of the sub-blocks of 32) times V14 (-mins).
#define KMINS \
	VLD1.P 32(R11), [V12.H8, V13.H8]; \
	VADDP  V13.H8, V12.H8, V12.H8; \
	SMULL4S(11, 12, 14); \
	SMLAL2_4S(11, 12, 14)

// Q4K_PAIR(off, xoff): 128 weights of a Q4_K super-block: each 32 bytes at R1+off
// and R1+off+32 hold a sub-block in their low nibbles and the next one in their high
// ones, against the 128 x values at R5+xoff; V8, V9, V24, V25 = the four sub-blocks'
// products, then V12 their sums, two lanes each (ADDP twice). The four sub-blocks'
// multiplies are interleaved: four independent chains.
#define Q4K_PAIR(off, xoff) \
	FMOVQ off(R1), F0; \
	FMOVQ off+16(R1), F1; \
	FMOVQ off+32(R1), F16; \
	FMOVQ off+48(R1), F17; \
	FMOVQ xoff(R5), F2; \
	FMOVQ xoff+16(R5), F3; \
	FMOVQ xoff+32(R5), F4; \
	FMOVQ xoff+48(R5), F5; \
	FMOVQ xoff+64(R5), F18; \
	FMOVQ xoff+80(R5), F19; \
	FMOVQ xoff+96(R5), F20; \
	FMOVQ xoff+112(R5), F21; \
	VAND  V29.B16, V0.B16, V6.B16; \
	VAND  V29.B16, V1.B16, V7.B16; \
	VAND  V29.B16, V16.B16, V22.B16; \
	VAND  V29.B16, V17.B16, V23.B16; \
	VUSHR $4, V0.B16, V0.B16; \
	VUSHR $4, V1.B16, V1.B16; \
	VUSHR $4, V16.B16, V16.B16; \
	VUSHR $4, V17.B16, V17.B16; \
	SMULL8H(8, 6, 2); \
	SMULL8H(9, 0, 4); \
	SMULL8H(24, 22, 18); \
	SMULL8H(25, 16, 20); \
	SMLAL2_8H(8, 6, 2); \
	SMLAL2_8H(9, 0, 4); \
	SMLAL2_8H(24, 22, 18); \
	SMLAL2_8H(25, 16, 20); \
	SMLAL8H(8, 7, 3); \
	SMLAL8H(9, 1, 5); \
	SMLAL8H(24, 23, 19); \
	SMLAL8H(25, 17, 21); \
	SMLAL2_8H(8, 7, 3); \
	SMLAL2_8H(9, 1, 5); \
	SMLAL2_8H(24, 23, 19); \
	SMLAL2_8H(25, 17, 21); \
	VADDP V9.H8, V8.H8, V12.H8; \
	VADDP V25.H8, V24.H8, V13.H8; \
	VADDP V13.H8, V12.H8, V12.H8

// func matVecQ4KNEON(out *float32, w *byte, xq *int8, xd *float32, xb *int16, rows, blocks int)
TEXT ·matVecQ4KNEON(SB), NOSPLIT, $0-56
	MOVD out+0(FP), R0
	MOVD w+8(FP), R1
	MOVD xq+16(FP), R2
	MOVD xd+24(FP), R4
	MOVD xb+32(FP), R10
	MOVD rows+40(FP), R3
	MOVD blocks+48(FP), R8
	VMOVI $15, V29.B16

q4krow:
	MOVD R2, R5
	MOVD R4, R7
	MOVD R10, R11
	MOVD R8, R6
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16
	VEOR V27.B16, V27.B16, V27.B16
	VEOR V28.B16, V28.B16, V28.B16

q4kblock:
	KSCALES(R1)
	VZIP1   V15.B16, V15.B16, V15.B16 // each scale twice:
	VUSHLL2 $0, V15.B16, V26.H8       // V26.8H = scales 4-7
	VUXTL   V15.B8, V15.H8            // V15.8H = scales 0-3
	KMINS
	Q4K_PAIR(16, 0)
	SMULL4S(10, 12, 15)
	SMLAL2_4S(10, 12, 15)
	KVALUE
	Q4K_PAIR(80, 128)
	SMLAL4S(10, 12, 26)
	SMLAL2_4S(10, 12, 26)
	KSAVE(R1)
	ADD  $144, R1
	ADD  $256, R5
	SUBS $1, R6
	BNE  q4kblock
	KVALUE

	NEG R8, R9
	AND $7, R9

q4kalign:
	CBZ R9, q4ksum
	ROTATE8(V28)
	SUB $1, R9
	B   q4kalign

q4ksum:
	SUM8_STORE
	SUBS $1, R3
	BNE  q4krow
	RET

// Q5_K: Q4_K's layout with the fifth bit of weight l of chunk c in qh[l] (bit 2c
// for the low nibbles' sub-block, 2c+1 for the high ones'). qh stays in V26 and V29
// (16 columns each), shifted down by 2 after each chunk, so that bits 0 and 1 are
// always the current chunk's: SLI by 4 of bit 0 onto the bytes keeps their low
// nibbles and adds the bit above them, and bit 1 moved to bit 4 (SHL 3, AND 0x10)
// takes the high nibbles below it (SRI by 4). q is then 0..31.

// Q5K_HALF(s, qh, x0, x1, lo, hi, h, b, MUL): 16 columns of a Q5_K chunk: Vs holds
// their bytes, Vqh their qh bits, Vx0 and Vx1 the x values of the low and the high
// nibbles' weights; Vlo and Vhi get the low and the high ones' products (MUL is
// SMULL8H for a chunk's first 16 columns, SMLAL8H to add the second 16); Vh, Vb
// scratch.
#define Q5K_HALF(s, qh, x0, x1, lo, hi, h, b, MUL) \
	Q5K_UNPACK(s, qh, h, b); \
	MUL(lo, s, x0); \
	SMLAL2_8H(lo, s, x0); \
	MUL(hi, h, x1); \
	SMLAL2_8H(hi, h, x1)

// Q5K_UNPACK(s, qh, h, b): Q5K_HALF's weights: Vs = the low nibbles of Vs with
// their fifth bits, Vh the high ones with theirs; Vqh moves on to the next chunk's
// bits; Vb scratch.
#define Q5K_UNPACK(s, qh, h, b) \
	SHL3_16B(h, qh); \
	AND16B(b, qh, 25); \
	AND16B(h, h, 24); \
	SRI4_16B(h, s); \
	SLI4_16B(s, b); \
	USHR2_16B(qh, qh)

// Q5K_CHUNK(off, xoff, c): 64 weights of a Q5_K super-block (bytes at R1+off, x at
// R5+xoff): V10 += the sums of sub-blocks 2c and 2c+1 times their scales.
#define Q5K_CHUNK(off, xoff, c) \
	LDURQ(0, 1, off); \
	LDURQ(1, 1, off+16); \
	LDURQ(2, 5, xoff); \
	LDURQ(3, 5, xoff+16); \
	LDURQ(4, 5, xoff+32); \
	LDURQ(5, 5, xoff+48); \
	Q5K_HALF(0, 26, 2, 4, 8, 9, 6, 7, SMULL8H); \
	Q5K_HALF(1, 29, 3, 5, 8, 9, 16, 17, SMLAL8H); \
	ADDP8H(12, 8, 9); \
	SMLAL_H4S(10, 12, 15, 2*c); \
	SMLAL2_H4S(10, 12, 15, 2*c+1)

// func matVecQ5KNEON(out *float32, w *byte, xq *int8, xd *float32, xb *int16, rows, blocks int)
TEXT ·matVecQ5KNEON(SB), NOSPLIT, $0-56
	MOVD  out+0(FP), R0
	MOVD  w+8(FP), R1
	MOVD  xq+16(FP), R2
	MOVD  xd+24(FP), R4
	MOVD  xb+32(FP), R10
	MOVD  rows+40(FP), R3
	MOVD  blocks+48(FP), R8
	VMOVI $0x10, V24.B16
	VMOVI $1, V25.B16

q5krow:
	MOVD R2, R5
	MOVD R4, R7
	MOVD R10, R11
	MOVD R8, R6
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16
	VEOR V27.B16, V27.B16, V27.B16
	VEOR V28.B16, V28.B16, V28.B16

q5kblock:
	KSCALES(R1)
	VUXTL V15.B8, V15.H8
	KMINS
	FMOVQ 16(R1), F26
	FMOVQ 32(R1), F29
	VEOR  V10.B16, V10.B16, V10.B16
	Q5K_CHUNK(48, 0, 0)
	Q5K_CHUNK(80, 64, 1)
	KVALUE
	Q5K_CHUNK(112, 128, 2)
	Q5K_CHUNK(144, 192, 3)
	KSAVE(R1)
	ADD  $176, R1
	ADD  $256, R5
	SUBS $1, R6
	BNE  q5kblock
	KVALUE

	NEG R8, R9
	AND $7, R9

q5kalign:
	CBZ R9, q5ksum
	ROTATE8(V28)
	SUB $1, R9
	B   q5kalign

q5ksum:
	SUM8_STORE
	SUBS $1, R3
	BNE  q5krow
	RET

// Q6_K: each half of a super-block (128 weights, ql[64h:], qh[32h:]) is two quarters
// of 16 columns l: qh[l] holds the top 2 bits of weights l, l+32, l+64 and l+96
// (sub-blocks j, j+2, j+4, j+6 of the half), ql[l] the low nibbles of weights l and
// l+64, ql[l+32] those of l+32 and l+96. The weights are made signed on the way,
// q - 32 in -32..31: with the top bit of each 2-bit field of qh flipped (EOR 0xaa),
// the field moved to bits 6-7 and shifted right arithmetically is field - 2, which
// goes above the nibble: shifted right by 2 (16·(field - 2) in bits 4-7), under
// which SRI puts a high nibble, or by 6, which SLI puts above a low one. Products
// of two sub-blocks of 16 go into one int16 register pairwise (ADDP, 4 products a
// lane: 4·32·127 < 32768), then by element times their int8 scales into V26's
// int32 lanes.

// Q6K_QUARTER(ql, qh, xoff): the quarter whose ql bytes are at R1+ql and R1+ql+32,
// qh bytes at R1+qh, and x values for its sub-blocks r, r+2, r+4, r+6 of the half at
// R5+xoff, +32, +64, +96: V12 = the products of r and r+2, V13 those of r+4 and r+6.
#define Q6K_QUARTER(ql, qh, xoff) \
	Q6K_LOAD(ql, qh); \
	Q6K_XLOAD(R5, xoff); \
	Q6K_UNPACK; \
	Q6K_PRODUCTS

// Q6K_LOAD(ql, qh): a quarter's bytes, ql in V0 and V1, qh in V2.
#define Q6K_LOAD(ql, qh) \
	FMOVQ ql(R1), F0; \
	FMOVQ ql+32(R1), F1; \
	FMOVQ qh(R1), F2

// Q6K_XLOAD(x, xoff): the x values for the quarter at Rx+xoff, +32, +64, +96 in
// V16-V19.
#define Q6K_XLOAD(x, xoff) \
	FMOVQ xoff(x), F16; \
	FMOVQ xoff+32(x), F17; \
	FMOVQ xoff+64(x), F18; \
	FMOVQ xoff+96(x), F19

// Q6K_UNPACK: the quarter's weights, q - 32, for its x values in V16-V19: V0,
// V1, V6, V7 (V2, V4, V5 scratch).
#define Q6K_UNPACK \
	VEOR  V25.B16, V2.B16, V2.B16; \
	SSHR2_16B(7, 2); \
	VSRI  $4, V1.B16, V7.B16; \
	VSHL  $2, V2.B16, V6.B16; \
	SSHR2_16B(6, 6); \
	VSRI  $4, V0.B16, V6.B16; \
	VSHL  $4, V2.B16, V5.B16; \
	SSHR6_16B(5, 5); \
	SLI4_16B(1, 5); \
	VSHL  $6, V2.B16, V4.B16; \
	SSHR6_16B(4, 4); \
	SLI4_16B(0, 4)

// Q6K_PRODUCTS: V12 = the products of the quarter's sub-blocks r and r+2 (V0, V1
// times V16, V17) added pairwise, V13 those of r+4 and r+6 (V6, V7 times V18, V19).
#define Q6K_PRODUCTS \
	SMULL8H(8, 0, 16); \
	SMULL8H(9, 1, 17); \
	SMULL8H(10, 6, 18); \
	SMULL8H(11, 7, 19); \
	SMLAL2_8H(8, 0, 16); \
	SMLAL2_8H(9, 1, 17); \
	SMLAL2_8H(10, 6, 18); \
	SMLAL2_8H(11, 7, 19); \
	VADDP V9.H8, V8.H8, V12.H8; \
	VADDP V11.H8, V10.H8, V13.H8

// Q6K_MAC(acc, sc, r, MUL): Vacc (+)= the quarter's sums (V12, V13) times their
// scales, Vsc's int16 lanes r, r+2, r+4, r+6 (MUL is SMULL_H4S for a super-block's
// first quarter, SMLAL_H4S to add).
#define Q6K_MAC(acc, sc, r, MUL) \
	MUL(acc, 12, sc, r); \
	SMLAL2_H4S(acc, 12, sc, r+2); \
	SMLAL_H4S(acc, 13, sc, r+4); \
	SMLAL2_H4S(acc, 13, sc, r+6)

// Q6K_SAVE and KVALUE6 are KSAVE and KVALUE for Q6_K: isum (V26's lanes) in V27.S[0],
// float32(d·dx) in V28.S[0], then float32(d·dx)·float32(isum) into the row's lanes.
#define Q6K_SAVE \
	ADDV4S(27, 26); \
	MOVHU   208(R1), R9; \
	FMOVS   R9, F28; \
	FCVTHS  F28, F28; \
	FMOVS.P 4(R7), F12; \
	FMULS   F12, F28, F28

#define KVALUE6 \
	SCVTFS(27, 27); \
	FMULS  F28, F27, F27; \
	FADD4S(30, 30, 27); \
	ROTATE8(V28)

// func matVecQ6KNEON(out *float32, w *byte, xq *int8, xd *float32, rows, blocks int)
TEXT ·matVecQ6KNEON(SB), NOSPLIT, $0-48
	MOVD  out+0(FP), R0
	MOVD  w+8(FP), R1
	MOVD  xq+16(FP), R2
	MOVD  xd+24(FP), R4
	MOVD  rows+32(FP), R3
	MOVD  blocks+40(FP), R8
	VMOVI $0xaa, V25.B16

q6krow:
	MOVD R2, R5
	MOVD R4, R7
	MOVD R8, R6
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16
	VEOR V27.B16, V27.B16, V27.B16
	VEOR V28.B16, V28.B16, V28.B16

q6kblock:
	FMOVQ 192(R1), F15
	SXTL2_8H(14, 15)
	SXTL8H(15, 15)
	Q6K_QUARTER(0, 128, 0)
	Q6K_MAC(26, 15, 0, SMULL_H4S)
	Q6K_QUARTER(16, 144, 16)
	Q6K_MAC(26, 15, 1, SMLAL_H4S)
	KVALUE6
	Q6K_QUARTER(64, 160, 128)
	Q6K_MAC(26, 14, 0, SMLAL_H4S)
	Q6K_QUARTER(80, 176, 144)
	Q6K_MAC(26, 14, 1, SMLAL_H4S)
	Q6K_SAVE
	ADD  $210, R1
	ADD  $256, R5
	SUBS $1, R6
	BNE  q6kblock
	KVALUE6

	NEG R8, R9
	AND $7, R9

q6kalign:
	CBZ R9, q6ksum
	ROTATE8(V28)
	SUB $1, R9
	B   q6kalign

q6ksum:
	SUM8_STORE
	SUBS $1, R3
	BNE  q6krow
	RET

// The batch kernels (impl.matMulQ4K, matMulQ6K): four tokens over each row, the
// weights loaded and unpacked once for all four. Each token's value of each
// super-block comes out of the same integer sums and float32 operations as in the
// one-token kernel, so each token gets that kernel's bits. The tokens are a
// neonBatch (simd_arm64.go): their q, d and bsums pointers, and the row's lanes,
// lane-major (lane k of the four tokens in one vector), to which super-block b adds
// its four values in lane b mod 8. Token t's row i goes to out[t*stride + i].
// Register use: R10, R11, R19, R20 walk the tokens' x values, R5, R7, R16, R17
// their scales, R21-R24 their bsums; R6 counts the row's super-blocks.

// BATCH_ROW: the tokens' pointers at the start of a row.
#define BATCH_ROW \
	MOVD NB_Q(R2), R10; \
	MOVD NB_Q+8(R2), R11; \
	MOVD NB_Q+16(R2), R19; \
	MOVD NB_Q+24(R2), R20; \
	MOVD NB_D(R2), R5; \
	MOVD NB_D+8(R2), R7; \
	MOVD NB_D+16(R2), R16; \
	MOVD NB_D+24(R2), R17; \
	MOVD NB_BSUMS(R2), R21; \
	MOVD NB_BSUMS+8(R2), R22; \
	MOVD NB_BSUMS+16(R2), R23; \
	MOVD NB_BSUMS+24(R2), R24; \
	MOVD ZR, R6

// BATCH_XD: V27 = the four tokens' next x scales.
#define BATCH_XD \
	VLD1.P 4(R5), V27.S[0]; \
	VLD1.P 4(R7), V27.S[1]; \
	VLD1.P 4(R16), V27.S[2]; \
	VLD1.P 4(R17), V27.S[3]

// BATCH_LANES(v): Vv (the four tokens' values of super-block R6) added into lane R6
// mod 8; R9 and V26 scratch.
#define BATCH_LANES(v) \
	AND   $7, R6, R9; \
	ADD   R9<<4, R2, R9; \
	FMOVQ NB_LANES(R9), F26; \
	FADD4S(26, 26, v); \
	FMOVQ F26, NB_LANES(R9)

// BATCH_NEXT(bytes, loop): on to the next super-block (bytes further) until the
// row's last.
#define BATCH_NEXT(bytes, loop) \
	ADD $bytes, R1; \
	ADD $256, R10; \
	ADD $256, R11; \
	ADD $256, R19; \
	ADD $256, R20; \
	ADD $1, R6; \
	CMP R6, R8; \
	BNE loop

// BATCH_STORE: the row's totals ((l0+l4)+(l1+l5))+((l2+l6)+(l3+l7)) to each
// token's out (R0, R4 apart), the lanes cleared for the next row; R0 moves on.
#define BATCH_STORE \
	FLDPQ NB_LANES(R2), (F0, F1); \
	FLDPQ NB_LANES+32(R2), (F2, F3); \
	FLDPQ NB_LANES+64(R2), (F4, F5); \
	FLDPQ NB_LANES+96(R2), (F6, F7); \
	VEOR  V8.B16, V8.B16, V8.B16; \
	FSTPQ (F8, F8), NB_LANES(R2); \
	FSTPQ (F8, F8), NB_LANES+32(R2); \
	FSTPQ (F8, F8), NB_LANES+64(R2); \
	FSTPQ (F8, F8), NB_LANES+96(R2); \
	FADD4S(0, 0, 4); \
	FADD4S(1, 1, 5); \
	FADD4S(2, 2, 6); \
	FADD4S(3, 3, 7); \
	FADD4S(0, 0, 1); \
	FADD4S(2, 2, 3); \
	FADD4S(0, 0, 2); \
	MOVD  R0, R9; \
	VST1  V0.S[0], (R9); \
	ADD   R4, R9; \
	VST1  V0.S[1], (R9); \
	ADD   R4, R9; \
	VST1  V0.S[2], (R9); \
	ADD   R4, R9; \
	VST1  V0.S[3], (R9); \
	ADD   $4, R0

// The Q4_K batch kernel.

// BK_MINS(b, acc): Vacc = the token's -msum in 4 int32 lanes, from its next 16
// bsums (Rb) added in pairs, times V14 (-mins).
#define BK_MINS(b, acc) \
	VLD1.P 32(b), [V25.H8, V26.H8]; \
	VADDP  V26.H8, V25.H8, V25.H8; \
	SMULL4S(acc, 25, 14); \
	SMLAL2_4S(acc, 25, 14)

// BK_PRODUCTS(x, xoff): V8, V9 = the products of the chunk's low nibbles (V2, V3)
// and high nibbles (V0, V1) with the token's 64 x values at Rx+xoff.
#define BK_PRODUCTS(x, xoff) \
	FMOVQ xoff(x), F4; \
	FMOVQ xoff+16(x), F5; \
	FMOVQ xoff+32(x), F6; \
	FMOVQ xoff+48(x), F7; \
	SMULL8H(8, 2, 4); \
	SMULL8H(9, 0, 6); \
	SMLAL2_8H(8, 2, 4); \
	SMLAL2_8H(9, 0, 6); \
	SMLAL8H(8, 3, 5); \
	SMLAL8H(9, 1, 7); \
	SMLAL2_8H(8, 3, 5); \
	SMLAL2_8H(9, 1, 7)

// BK_EVEN(x, xoff, u): chunks 0 and 2: Vu = the token's sums of the chunk's two
// sub-blocks, 4 lanes each.
#define BK_EVEN(x, xoff, u) \
	BK_PRODUCTS(x, xoff); \
	ADDP8H(u, 8, 9)

// BK_ODD(x, xoff, u): chunks 1 and 3: V8 = the token's sums of the chunk's
// sub-blocks and of the previous chunk's (Vu), two lanes for each of the four, for
// their scales to multiply.
#define BK_ODD(x, xoff, u) \
	BK_PRODUCTS(x, xoff); \
	ADDP8H(8, 8, 9); \
	ADDP8H(8, u, 8)

// BK_CHUNK(off): the chunk of 32 bytes at R1+off, unpacked: V2, V3 = its low
// nibbles, V0, V1 its high ones.
#define BK_CHUNK(off) \
	FMOVQ off(R1), F0; \
	FMOVQ off+16(R1), F1; \
	VAND  V29.B16, V0.B16, V2.B16; \
	VAND  V29.B16, V1.B16, V3.B16; \
	VUSHR $4, V0.B16, V0.B16; \
	VUSHR $4, V1.B16, V1.B16

// func matMulQ4KNEON(out *float32, stride int, w *byte, a *neonBatch, rows, blocks int)
// V16-V19 are the tokens' isums, V20-V23 their -msums, V10-V13 their sums of the
// even chunks; V15 and V24 hold the scales of sub-blocks 0-3 and 4-7, each twice (as
// matVecQ4KNEON).
TEXT ·matMulQ4KNEON(SB), NOSPLIT, $0-48
	MOVD  out+0(FP), R0
	MOVD  stride+8(FP), R4
	MOVD  w+16(FP), R1
	MOVD  a+24(FP), R2
	MOVD  rows+32(FP), R3
	MOVD  blocks+40(FP), R8
	LSL   $2, R4
	VMOVI $15, V29.B16

bkrow:
	BATCH_ROW

bkblock:
	KSCALES(R1)
	VZIP1   V15.B16, V15.B16, V15.B16
	VUSHLL2 $0, V15.B16, V24.H8
	VUXTL   V15.B8, V15.H8
	BK_MINS(R21, 20)
	BK_MINS(R22, 21)
	BK_MINS(R23, 22)
	BK_MINS(R24, 23)

	BK_CHUNK(16)
	BK_EVEN(R10, 0, 10)
	BK_EVEN(R11, 0, 11)
	BK_EVEN(R19, 0, 12)
	BK_EVEN(R20, 0, 13)
	BK_CHUNK(48)
	BK_ODD(R10, 64, 10)
	SMULL4S(16, 8, 15)
	SMLAL2_4S(16, 8, 15)
	BK_ODD(R11, 64, 11)
	SMULL4S(17, 8, 15)
	SMLAL2_4S(17, 8, 15)
	BK_ODD(R19, 64, 12)
	SMULL4S(18, 8, 15)
	SMLAL2_4S(18, 8, 15)
	BK_ODD(R20, 64, 13)
	SMULL4S(19, 8, 15)
	SMLAL2_4S(19, 8, 15)
	BK_CHUNK(80)
	BK_EVEN(R10, 128, 10)
	BK_EVEN(R11, 128, 11)
	BK_EVEN(R19, 128, 12)
	BK_EVEN(R20, 128, 13)
	BK_CHUNK(112)
	BK_ODD(R10, 192, 10)
	SMLAL4S(16, 8, 24)
	SMLAL2_4S(16, 8, 24)
	BK_ODD(R11, 192, 11)
	SMLAL4S(17, 8, 24)
	SMLAL2_4S(17, 8, 24)
	BK_ODD(R19, 192, 12)
	SMLAL4S(18, 8, 24)
	SMLAL2_4S(18, 8, 24)
	BK_ODD(R20, 192, 13)
	SMLAL4S(19, 8, 24)
	SMLAL2_4S(19, 8, 24)

	// The four tokens' isums in V25, -msums in V26, x scales in V27; then their
	// values float32(d·dx)·float32(isum) + float32(dmin·dx)·float32(-msum), each
	// product rounded, added into lane b mod 8.
	ADDP4S(25, 16, 17)
	ADDP4S(27, 18, 19)
	ADDP4S(25, 25, 27)
	ADDP4S(26, 20, 21)
	ADDP4S(27, 22, 23)
	ADDP4S(26, 26, 27)
	BATCH_XD
	FMOVS   (R1), F28
	FCVTL(28, 28)
	FMULS0(30, 27, 28)
	FMUL4S_S1(31, 27, 28)
	SCVTF4S(25, 25)
	SCVTF4S(26, 26)
	FMUL4S(25, 25, 30)
	FMUL4S(26, 26, 31)
	FADD4S(25, 25, 26)
	BATCH_LANES(25)
	BATCH_NEXT(144, bkblock)
	BATCH_STORE
	SUBS  $1, R3
	BNE   bkrow
	RET

// The Q6_K batch kernel: each quarter of a super-block unpacked once (Q6K_UNPACK)
// and multiplied by each token's x, into the token's int32 sums (V20-V23); V15
// and V14 hold the scales of sub-blocks 0-7 and 8-15 (as matVecQ6KNEON).

// BQ6_TOKEN(x, xoff, acc, sc, r, MUL): the quarter's products with the token's x
// at Rx+xoff, times the scales, into Vacc (Q6K_MAC).
#define BQ6_TOKEN(x, xoff, acc, sc, r, MUL) \
	Q6K_XLOAD(x, xoff); \
	Q6K_PRODUCTS; \
	Q6K_MAC(acc, sc, r, MUL)

// BQ6_QUARTER(ql, qh, xoff, sc, r, MUL): a quarter (Q6K_QUARTER's ql, qh and xoff)
// for the four tokens.
#define BQ6_QUARTER(ql, qh, xoff, sc, r, MUL) \
	Q6K_LOAD(ql, qh); \
	Q6K_UNPACK; \
	BQ6_TOKEN(R10, xoff, 20, sc, r, MUL); \
	BQ6_TOKEN(R11, xoff, 21, sc, r, MUL); \
	BQ6_TOKEN(R19, xoff, 22, sc, r, MUL); \
	BQ6_TOKEN(R20, xoff, 23, sc, r, MUL)

// func matMulQ6KNEON(out *float32, stride int, w *byte, a *neonBatch, rows, blocks int)
TEXT ·matMulQ6KNEON(SB), NOSPLIT, $0-48
	MOVD  out+0(FP), R0
	MOVD  stride+8(FP), R4
	MOVD  w+16(FP), R1
	MOVD  a+24(FP), R2
	MOVD  rows+32(FP), R3
	MOVD  blocks+40(FP), R8
	LSL   $2, R4
	VMOVI $0xaa, V25.B16

bq6row:
	BATCH_ROW

bq6block:
	FMOVQ 192(R1), F15
	SXTL2_8H(14, 15)
	SXTL8H(15, 15)
	BQ6_QUARTER(0, 128, 0, 15, 0, SMULL_H4S)
	BQ6_QUARTER(16, 144, 16, 15, 1, SMLAL_H4S)
	BQ6_QUARTER(64, 160, 128, 14, 0, SMLAL_H4S)
	BQ6_QUARTER(80, 176, 144, 14, 1, SMLAL_H4S)

	// The four tokens' isums in V24, x scales in V27; then their values
	// float32(d·dx)·float32(isum), each product rounded, added into lane b mod 8.
	ADDP4S(24, 20, 21)
	ADDP4S(26, 22, 23)
	ADDP4S(24, 24, 26)
	BATCH_XD
	MOVHU  208(R1), R9
	FMOVS  R9, F28
	FCVTHS F28, F28
	FMULS0(30, 27, 28)
	SCVTF4S(24, 24)
	FMUL4S(24, 24, 30)
	BATCH_LANES(24)
	BATCH_NEXT(210, bq6block)
	BATCH_STORE
	SUBS $1, R3
	BNE  bq6row
	RET

// The Q5_K batch kernel: each chunk of a super-block unpacked once (Q5K_UNPACK,
// the fifth bits in V26 and V29 as matVecQ5KNEON keeps them) and multiplied by each
// token's x, into the token's isum (V16-V19); its -msum in V20-V23; V15 the
// sub-blocks' scales, V14 the negated mins (KSCALES); V24 and V25 hold 0x10 and 1
// bytes.

// BQ5_MINS(b, acc): Vacc = the token's -msum in 4 int32 lanes (KMINS), from its next
// 16 bsums (Rb).
#define BQ5_MINS(b, acc) \
	VLD1.P 32(b), [V8.H8, V9.H8]; \
	VADDP  V9.H8, V8.H8, V8.H8; \
	SMULL4S(acc, 8, 14); \
	SMLAL2_4S(acc, 8, 14)

// BQ5_CHUNK(off): the chunk's 32 bytes at R1+off with their fifth bits: V0, V1 =
// the low nibbles' weights (sub-block 2c), V6, V7 the high ones' (2c+1).
#define BQ5_CHUNK(off) \
	LDURQ(0, 1, off); \
	LDURQ(1, 1, off+16); \
	Q5K_UNPACK(0, 26, 6, 13); \
	Q5K_UNPACK(1, 29, 7, 13)

// BQ5_TOKEN(x, xoff, acc, c, MUL): chunk c's weights times the token's 64 x values
// at Rx+xoff, the sums of its sub-blocks 2c and 2c+1 times their scales into Vacc
// (MUL is SMULL_H4S for the first chunk, SMLAL_H4S to add).
#define BQ5_TOKEN(x, xoff, acc, c, MUL) \
	FMOVQ xoff(x), F2; \
	FMOVQ xoff+16(x), F3; \
	FMOVQ xoff+32(x), F4; \
	FMOVQ xoff+48(x), F5; \
	SMULL8H(8, 0, 2); \
	SMULL8H(9, 6, 4); \
	SMLAL2_8H(8, 0, 2); \
	SMLAL2_8H(9, 6, 4); \
	SMLAL8H(8, 1, 3); \
	SMLAL8H(9, 7, 5); \
	SMLAL2_8H(8, 1, 3); \
	SMLAL2_8H(9, 7, 5); \
	ADDP8H(12, 8, 9); \
	MUL(acc, 12, 15, 2*c); \
	SMLAL2_H4S(acc, 12, 15, 2*c+1)

// BQ5_TOKENS(xoff, c, MUL): chunk c for the four tokens.
#define BQ5_TOKENS(xoff, c, MUL) \
	BQ5_TOKEN(R10, xoff, 16, c, MUL); \
	BQ5_TOKEN(R11, xoff, 17, c, MUL); \
	BQ5_TOKEN(R19, xoff, 18, c, MUL); \
	BQ5_TOKEN(R20, xoff, 19, c, MUL)

// func matMulQ5KNEON(out *float32, stride int, w *byte, a *neonBatch, rows, blocks int)
TEXT ·matMulQ5KNEON(SB), NOSPLIT, $0-48
	MOVD  out+0(FP), R0
	MOVD  stride+8(FP), R4
	MOVD  w+16(FP), R1
	MOVD  a+24(FP), R2
	MOVD  rows+32(FP), R3
	MOVD  blocks+40(FP), R8
	LSL   $2, R4
	VMOVI $0x10, V24.B16
	VMOVI $1, V25.B16

bq5row:
	BATCH_ROW

bq5block:
	KSCALES(R1)
	VUXTL V15.B8, V15.H8
	BQ5_MINS(R21, 20)
	BQ5_MINS(R22, 21)
	BQ5_MINS(R23, 22)
	BQ5_MINS(R24, 23)
	FMOVQ 16(R1), F26
	FMOVQ 32(R1), F29
	BQ5_CHUNK(48)
	BQ5_TOKENS(0, 0, SMULL_H4S)
	BQ5_CHUNK(80)
	BQ5_TOKENS(64, 1, SMLAL_H4S)
	BQ5_CHUNK(112)
	BQ5_TOKENS(128, 2, SMLAL_H4S)
	BQ5_CHUNK(144)
	BQ5_TOKENS(192, 3, SMLAL_H4S)

	// The four tokens' isums in V10, -msums in V11, then their values as
	// matMulQ4KNEON's.
	ADDP4S(10, 16, 17)
	ADDP4S(12, 18, 19)
	ADDP4S(10, 10, 12)
	ADDP4S(11, 20, 21)
	ADDP4S(12, 22, 23)
	ADDP4S(11, 11, 12)
	BATCH_XD
	FMOVS  (R1), F28
	FCVTL(28, 28)
	FMULS0(30, 27, 28)
	FMUL4S_S1(31, 27, 28)
	SCVTF4S(10, 10)
	SCVTF4S(11, 11)
	FMUL4S(10, 10, 30)
	FMUL4S(11, 11, 31)
	FADD4S(10, 10, 11)
	BATCH_LANES(10)
	BATCH_NEXT(176, bq5block)
	BATCH_STORE
	SUBS $1, R3
	BNE  bq5row
	RET
