// The kernel of Q5_0, Q4_1 and Q5_1 (blocks32_amd64.s), included once per
// encoding. The file that includes it defines:
//	B32_KERNEL  the kernel's name
//	B32_BYTES   bytes per block
//	B32_QS      offset of the 16 bytes of nibbles in a block
//	B32_QH      offset of the 32 fifth bits (Q5_0, Q5_1 only)
//	B32_MIN     for the encodings with a min (Q4_1, Q5_1): d and m are a dword at
//	            the block's start, and each block's value adds m·s (x's Q8_1 sum);
//	            otherwise (Q5_0) the quants carry a bias of 16, taken off as 16Σx
//	            with x's 8Σx (s8)
//
// func B32_KERNEL(out *float32, w *byte, xp *int8, xd *float32, xs *float32, rows, blocks int)
// xp is x in pair order (prepareAVX2); xs is s8 (Q5_0) or s (Q4_1, Q5_1).

// B32_FIFTH(bits, sel, q): q |= 16 where the weight's fifth bit is set: sel
// spreads the bytes of the qh dwords in bits over the weights' bytes, Y12's byte
// masks single out each one's bit. Y3 is scratch.
#ifdef B32_QH
#define B32_FIFTH(bits, sel, q) \
	VPSHUFB  sel, bits, Y3; \
	VPAND    Y12, Y3, Y3; \
	VPCMPEQB Y12, Y3, Y3; \
	VPAND    Y9, Y3, Y3; \
	VPOR     Y3, q, q
#endif

// B32_PAIR(k, p): blocks k and k+1 of a group (k even), at (SI) and
// B32_BYTES(SI), x at (BX): Y0 = [A's weights 0-15 | B's 0-15], Y1 = [A's 16-31 |
// B's 16-31], their products with x added in int16 pairs and the two halves added
// (four products of at most 31·127 each) into p: its low half sums to A's isum,
// its high half to B's.
#define B32_PAIR(k, p) \
	VMOVDQU     B32_QS(SI), X0; \
	VINSERTI128 $1, B32_BYTES+B32_QS(SI), Y0, Y0; \
	VPSRLW      $4, Y0, Y1; \
	VPAND       Y15, Y0, Y0; \
	VPAND       Y15, Y1, Y1; \
	B32_PAIR_FIFTH; \
	VPMADDUBSW  (BX), Y0, Y0; \
	VPMADDUBSW  32(BX), Y1, Y1; \
	VPADDW      Y1, Y0, p

// B32_ONE(k, p): block k alone, the row's last: Y0 = [weights 0-15 | 16-31]
// against x in plain order, the halves folded into p's low half (the high one,
// block k+1's, 0).
#define B32_ONE(k, p) \
	VBROADCASTI128 B32_QS(SI), Y0; \
	VPSRLVD        b32Shift<>(SB), Y0, Y0; \
	VPAND          Y15, Y0, Y0; \
	B32_ONE_FIFTH; \
	VPMADDUBSW     (BX), Y0, Y0; \
	VEXTRACTI128   $1, Y0, X1; \
	VPADDW         X1, X0, X0; \
	VMOVDQA        Y0, p

#ifdef B32_QH
#define B32_PAIR_FIFTH \
	VPBROADCASTD B32_QH(SI), Y2; \
	VPBROADCASTD B32_BYTES+B32_QH(SI), Y3; \
	VPBLENDD     $0xf0, Y3, Y2, Y2; \
	B32_FIFTH(Y2, Y13, Y0); \
	B32_FIFTH(Y2, b32BitsHi<>(SB), Y1)

#define B32_ONE_FIFTH \
	VPBROADCASTD B32_QH(SI), Y2; \
	B32_FIFTH(Y2, b32BitsOne<>(SB), Y0)
#else
#define B32_PAIR_FIFTH
#define B32_ONE_FIFTH
#endif

// B32_D(k, r, lane), B32_D1(k, r, lane): the scales of blocks k and k+1 (of block
// k alone): Q5_0's d into words k and k+1 of X10; d and m, one dword per block,
// into dwords lane and lane+1 of r (X10 for lanes 0, 1, 4, 5 of the group, X11 for
// 2, 3, 6, 7: DM_WIDEN's order).
#ifdef B32_MIN
#define B32_D(k, r, lane) \
	VPINSRD $lane, (SI), r, r; \
	VPINSRD $lane+1, B32_BYTES(SI), r, r

#define B32_D1(k, r, lane) \
	VPINSRD $lane, (SI), r, r
#else
#define B32_D(k, r, lane) \
	VPINSRW $k, (SI), X10, X10; \
	VPINSRW $k+1, B32_BYTES(SI), X10, X10

#define B32_D1(k, r, lane) \
	VPINSRW $k, (SI), X10, X10
#endif

// B32_GROUP: the values of the group's R9 blocks, added into Y14. Their isums: the
// pairs' int16 added in pairs once more (eight products), then to int32 with ones,
// per block in the order [0, 2, 4, 6 | 1, 3, 5, 7], then in order.
#define B32_GROUP \
	VPHADDW    Y5, Y4, Y0; \
	VPHADDW    Y7, Y6, Y1; \
	GROUP_MASK(Y8); \
	VMASKMOVPS (R11), Y8, Y7; \
	VMOVDQU    b32Ones<>(SB), Y2; \
	VPMADDWD   Y2, Y0, Y0; \
	VPMADDWD   Y2, Y1, Y1; \
	VPHADDD    Y1, Y0, Y0; \
	VMOVDQU    pairOrder<>(SB), Y2; \
	VPERMD     Y0, Y2, Y0; \
	B32_VALUES; \
	VANDPS     Y8, Y1, Y1; \
	VADDPS     Y1, Y14, Y14

// B32_VALUES: Y1 = the blocks' values from their isums in Y0, x's scales in Y7 and
// the mask in Y8: float32(d·dx)·float32(isum), each product rounded, plus
// float32(m·s) for the encodings with a min.
#ifdef B32_MIN
#define B32_VALUES \
	DM_WIDEN; \
	VMULPS     Y7, Y1, Y1; \
	VCVTDQ2PS  Y0, Y0; \
	VMULPS     Y0, Y1, Y1; \
	VMASKMOVPS (R12), Y8, Y4; \
	VMULPS     Y4, Y2, Y2; \
	VADDPS     Y2, Y1, Y1
#else
#define B32_VALUES \
	VMASKMOVPS (R12), Y8, Y2; \
	VCVTTPS2DQ Y2, Y2; \
	VPADDD     Y2, Y2, Y2; \
	VPSUBD     Y2, Y0, Y0; \
	VCVTPH2PS  X10, Y1; \
	VMULPS     Y7, Y1, Y1; \
	VCVTDQ2PS  Y0, Y0; \
	VMULPS     Y0, Y1, Y1
#endif

TEXT B32_KERNEL(SB), NOSPLIT, $0-56
	MOVQ         out+0(FP), DI
	MOVQ         w+8(FP), SI
	MOVQ         rows+40(FP), R8
	MOVL         $0x0f0f0f0f, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15
#ifdef B32_QH
	VMOVDQU      b32BitsLo<>(SB), Y13
	VMOVDQU      b32BitMasks<>(SB), Y12
	MOVL         $0x10101010, AX
	VMOVD        AX, X9
	VPBROADCASTD X9, Y9
#endif

b32row:
	MOVQ   xp+16(FP), BX
	MOVQ   xd+24(FP), R11
	MOVQ   xs+32(FP), R12
	MOVQ   blocks+48(FP), CX
	VXORPS Y14, Y14, Y14

// Whole groups of eight blocks go without a look at the count between pairs
// (B32_FULL); the blocks after them pair up with one (B32_STEP).
#define B32_FULL(k, r, lane, p) \
	PREFETCHT0 PF(SI); \
	B32_D(k, r, lane); \
	B32_PAIR(k, p); \
	ADDQ       $2*B32_BYTES, SI; \
	ADDQ       $64, BX

#define B32_STEP(k, r, lane, p, one) \
	CMPQ       CX, $1; \
	JEQ        one; \
	PREFETCHT0 PF(SI); \
	B32_D(k, r, lane); \
	B32_PAIR(k, p); \
	ADDQ       $2*B32_BYTES, SI; \
	ADDQ       $64, BX; \
	MOVQ       $k+2, R9; \
	SUBQ       $2, CX; \
	JZ         b32last

b32group:
	CMPQ CX, $8
	JLT  b32tail
	B32_FULL(0, X10, 0, Y4)
	B32_FULL(2, X11, 0, Y5)
	B32_FULL(4, X10, 2, Y6)
	B32_FULL(6, X11, 2, Y7)
	MOVQ $8, R9
	SUBQ $8, CX
	B32_GROUP
	ADDQ $32, R11
	ADDQ $32, R12
	JMP  b32group

b32tail:
	TESTQ CX, CX
	JZ    b32store
	B32_STEP(0, X10, 0, Y4, b32one0)
	B32_STEP(2, X11, 0, Y5, b32one2)
	B32_STEP(4, X10, 2, Y6, b32one4)
	B32_STEP(6, X11, 2, Y7, b32one6)

#define B32_LAST1(k, r, lane, p) \
	B32_D1(k, r, lane); \
	B32_ONE(k, p); \
	ADDQ $B32_BYTES, SI; \
	MOVQ $k+1, R9; \
	JMP  b32last

b32one0:
	B32_LAST1(0, X10, 0, Y4)
b32one2:
	B32_LAST1(2, X11, 0, Y5)
b32one4:
	B32_LAST1(4, X10, 2, Y6)
b32one6:
	B32_LAST1(6, X11, 2, Y7)

b32last:
	B32_GROUP

b32store:
	HSUM8(Y14, X14, X1)
	VMOVSS X14, (DI)
	ADDQ   $4, DI
	DECQ   R8
	JNZ    b32row
	VZEROUPPER
	RET

#ifdef B32_QH
#undef B32_FIFTH
#endif
#undef B32_PAIR
#undef B32_ONE
#undef B32_PAIR_FIFTH
#undef B32_ONE_FIFTH
#undef B32_D
#undef B32_D1
#undef B32_GROUP
#undef B32_VALUES
#undef B32_FULL
#undef B32_STEP
#undef B32_LAST1
