// The body of the batch kernels of Q5_0, Q4_1 and Q5_1 (blocks32_arm64.s),
// included in each after its arguments are loaded (R0 out, R4 stride, R1 w, R2 a,
// R3 rows, R8 blocks): four tokens over each row, each block's weights loaded and unpacked once
// for all four, each token's block values the one-token kernel's (its integer sums,
// then the same float32 operations) in its own eight lanes. The file that includes
// it defines:
//	B32N_BYTES       bytes per block
//	B32N_QH          the first byte of qh in the vector B32N_WEIGHTS loads it
//	                 into (B32_CONSTS; Q4_1 has none, any value)
//	B32N_WEIGHTS(off)  the block at R1+off unpacked as the one-token kernel
//	                 unpacks it: V0 = weights 0-15, V1 = 16-31, R9 its fp16
//	                 fields (V2-V4, R10 scratch)
//	B32N_FIELD(j)    R9's fields into slot j of a group half's (R11, or R13, R14)
//	B32N_TREE(a, b)  the int32 sums of four blocks in Va, from Va (the products of
//	                 the first two, added pairwise) and Vb (the last two's)
//	B32N_DS          the half's fp16 fields widened: V15 = d (and V24 = m)
//	B32N_VALUE(d, s, i, xoff)  Vi = the token's values of the four blocks of a
//	                 half from their isums in Vi, its x scales (and sums) at
//	                 Rd+xoff (and Rs+xoff) (GROUP_DDX's and GROUP_ADD's formula)
//	B32N_DS1         a lone block's fields widened: F15 = d (and F24 = m)
//	B32N_VALUE1(d, s)  F4 = the token's value of a lone block from its isum in S4,
//	                 its next x scale (and sum) at Rd (and Rs), both moving on
//	                 (BLOCK1_VALUE's formula)
//
// Token t's row i goes to out[t*stride + i]. Registers: R19-R22 walk the tokens' x
// values, R5, R7, R16, R17 their scales, R23, R24, R25, R12 their sums; V16-V19 and
// V20-V23 the tokens' products of a half group; V(6+2t) and V(7+2t) token t's
// lanes 0-3 and 4-7.

// B32N_X(x, k, t): Vt = block k's products with the token's x (Rx).
#define B32N_X(x, k, t) \
	LDURQ(2, x, 32*k); \
	LDURQ(3, x, 32*k+16); \
	B32_PRODUCTS(t, 0, 1, 2, 3)

// B32N_XADD(x, k, t): Vt += block k's products, added pairwise to the previous
// block's (ADDP).
#define B32N_XADD(x, k, t) \
	LDURQ(2, x, 32*k); \
	LDURQ(3, x, 32*k+16); \
	B32_PRODUCTS(4, 0, 1, 2, 3); \
	ADDP8H(t, t, 4)

// B32N_FIRST(k, j, a), B32N_NEXT(k, j, a): block k of a group, slot j of its half,
// for the four tokens: its products into Va+t, or added pairwise to them.
#define B32N_FIRST(k, j, a) \
	B32N_WEIGHTS(k*B32N_BYTES); \
	B32N_FIELD(j); \
	B32N_X(19, k, a); \
	B32N_X(20, k, a+1); \
	B32N_X(21, k, a+2); \
	B32N_X(22, k, a+3)

#define B32N_NEXT(k, j, a) \
	B32N_WEIGHTS(k*B32N_BYTES); \
	B32N_FIELD(j); \
	B32N_XADD(19, k, a); \
	B32N_XADD(20, k, a+1); \
	B32N_XADD(21, k, a+2); \
	B32N_XADD(22, k, a+3)

// B32N_HALF(k0, k1, k2, k3, xoff, g): blocks k0 to k3 of a group (half g) for the
// four tokens, their values into the tokens' lanes 4g to 4g+3.
#define B32N_HALF(k0, k1, k2, k3, xoff, g) \
	B32N_FIRST(k0, 0, 16); \
	B32N_NEXT(k1, 1, 16); \
	B32N_FIRST(k2, 2, 20); \
	B32N_NEXT(k3, 3, 20); \
	B32N_TREE(16, 20); \
	B32N_TREE(17, 21); \
	B32N_TREE(18, 22); \
	B32N_TREE(19, 23); \
	B32N_DS; \
	B32N_VALUE(R5, R23, 16, xoff); \
	FADD4S(6+g, 6+g, 16); \
	B32N_VALUE(R7, R24, 17, xoff); \
	FADD4S(8+g, 8+g, 17); \
	B32N_VALUE(R16, R25, 18, xoff); \
	FADD4S(10+g, 10+g, 18); \
	B32N_VALUE(R17, R12, 19, xoff); \
	FADD4S(12+g, 12+g, 19)

// B32N_ROT(lo, hi): token lanes Vlo, Vhi rotated down by one (ROTATE8); V25
// scratch.
#define B32N_ROT(lo, hi) \
	EXT16B(25, lo, hi, 4); \
	EXT16B(hi, hi, lo, 4); \
	MOV16B(lo, 25)

// B32N_ONE(x, d, s, lo): a lone block (its weights in V0, V1) for one token, its x
// at Rx moving on: its value added into lane 0 of Vlo, and the lanes rotated.
#define B32N_ONE(x, d, s, lo) \
	VLD1.P 32(x), [V2.B16, V3.B16]; \
	B32_PRODUCTS(4, 0, 1, 2, 3); \
	SADDLV8H(4, 4); \
	B32N_VALUE1(d, s); \
	FADD4S(lo, lo, 4); \
	B32N_ROT(lo, lo+1)

	LSL  $2, R4
	B32_CONSTS(B32N_QH)
	VMOVI $15, V29.B16

bnrow:
	MOVD NB_Q(R2), R19
	MOVD NB_Q+8(R2), R20
	MOVD NB_Q+16(R2), R21
	MOVD NB_Q+24(R2), R22
	MOVD NB_D(R2), R5
	MOVD NB_D+8(R2), R7
	MOVD NB_D+16(R2), R16
	MOVD NB_D+24(R2), R17
	MOVD NB_S(R2), R23
	MOVD NB_S+8(R2), R24
	MOVD NB_S+16(R2), R25
	MOVD NB_S+24(R2), R12
	MOVD R8, R6
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16
	VEOR V8.B16, V8.B16, V8.B16
	VEOR V9.B16, V9.B16, V9.B16
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16

bnby8:
	CMP $8, R6
	BLT bnby1
	B32N_HALF(0, 1, 2, 3, 0, 0)
	B32N_HALF(4, 5, 6, 7, 16, 1)
	ADD $8*B32N_BYTES, R1
	ADD $256, R19
	ADD $256, R20
	ADD $256, R21
	ADD $256, R22
	ADD $32, R5
	ADD $32, R7
	ADD $32, R16
	ADD $32, R17
	ADD $32, R23
	ADD $32, R24
	ADD $32, R25
	ADD $32, R12
	SUB $8, R6
	B   bnby8

bnby1:
	CBZ R6, bnalign
	B32N_WEIGHTS(0)
	B32N_DS1
	B32N_ONE(R19, R5, R23, 6)
	B32N_ONE(R20, R7, R24, 8)
	B32N_ONE(R21, R16, R25, 10)
	B32N_ONE(R22, R17, R12, 12)
	ADD $B32N_BYTES, R1
	SUB $1, R6
	B   bnby1

bnalign:
	NEG R8, R9
	AND $7, R9

bnrot:
	CBZ R9, bnsum
	B32N_ROT(6, 7)
	B32N_ROT(8, 9)
	B32N_ROT(10, 11)
	B32N_ROT(12, 13)
	SUB $1, R9
	B   bnrot

bnsum:
	// Each token's total ((l0+l4)+(l1+l5))+((l2+l6)+(l3+l7)), as SUM8_STORE.
	FADD4S(6, 6, 7)
	FADD4S(8, 8, 9)
	FADD4S(10, 10, 11)
	FADD4S(12, 12, 13)
	FADDP4S(6, 6, 8)
	FADDP4S(10, 10, 12)
	FADDP4S(6, 6, 10)
	MOVD R0, R9
	VST1 V6.S[0], (R9)
	ADD  R4, R9
	VST1 V6.S[1], (R9)
	ADD  R4, R9
	VST1 V6.S[2], (R9)
	ADD  R4, R9
	VST1 V6.S[3], (R9)
	ADD  $4, R0
	SUBS $1, R3
	BNE  bnrow
	RET

#undef B32N_X
#undef B32N_XADD
#undef B32N_FIRST
#undef B32N_NEXT
#undef B32N_HALF
#undef B32N_ROT
#undef B32N_ONE
