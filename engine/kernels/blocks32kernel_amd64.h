// The kernels of Q5_0, Q4_1 and Q5_1 (blocks32_amd64.s), included once per
// encoding: the one-token kernel and the batch kernel. The file that includes it
// defines:
//	B32_KERNEL  the one-token kernel's name
//	B32_BATCH   the batch kernel's name
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
	B32_WEIGHTS2; \
	VPMADDUBSW  (BX), Y0, Y0; \
	VPMADDUBSW  32(BX), Y1, Y1; \
	VPADDW      Y1, Y0, p

// B32_ONE(k, p): block k alone, the row's last: Y0 = [weights 0-15 | 16-31]
// against x in plain order, the halves folded into p's low half (the high one,
// block k+1's, 0).
#define B32_ONE(k, p) \
	B32_WEIGHTS1; \
	VPMADDUBSW     (BX), Y0, Y0; \
	VEXTRACTI128   $1, Y0, X1; \
	VPADDW         X1, X0, X0; \
	VMOVDQA        Y0, p

// B32_WEIGHTS2: the weights of the pair at SI, Y0 = [A's weights 0-15 | B's 0-15],
// Y1 = [A's 16-31 | B's 16-31] (B32_PAIR's); Y2, Y3 scratch.
#define B32_WEIGHTS2 \
	VMOVDQU     B32_QS(SI), X0; \
	VINSERTI128 $1, B32_BYTES+B32_QS(SI), Y0, Y0; \
	VPSRLW      $4, Y0, Y1; \
	VPAND       Y15, Y0, Y0; \
	VPAND       Y15, Y1, Y1; \
	B32_PAIR_FIFTH

// B32_WEIGHTS1: the weights of the block at SI alone, Y0 = [weights 0-15 | 16-31]
// (B32_ONE's); Y2, Y3 scratch.
#define B32_WEIGHTS1 \
	VBROADCASTI128 B32_QS(SI), Y0; \
	VPSRLVD        b32Shift<>(SB), Y0, Y0; \
	VPAND          Y15, Y0, Y0; \
	B32_ONE_FIFTH

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
	B32_VALUES((R12)); \
	VANDPS     Y8, Y1, Y1; \
	VADDPS     Y1, Y14, Y14

// B32_VALUES(xs): Y1 = the blocks' values from their isums in Y0, x's scales in Y7,
// its sums (s or s8) at xs and the mask in Y8: float32(d·dx)·float32(isum), each
// product rounded, plus float32(m·s) for the encodings with a min.
#ifdef B32_MIN
#define B32_VALUES(xs) \
	DM_WIDEN; \
	VMULPS     Y7, Y1, Y1; \
	VCVTDQ2PS  Y0, Y0; \
	VMULPS     Y0, Y1, Y1; \
	VMASKMOVPS xs, Y8, Y4; \
	VMULPS     Y4, Y2, Y2; \
	VADDPS     Y2, Y1, Y1
#else
#define B32_VALUES(xs) \
	VMASKMOVPS xs, Y8, Y2; \
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

// The batch kernel: four tokens per load of the weights. A pair's weights are
// unpacked once (B32_WEIGHTS2, B32_WEIGHTS1) and multiplied by each token's x, the
// token's int16 sums of the pair kept at B32B_P+128t+32k (B32_PAIR's p); at a
// group's end each token's values come out of them as B32_GROUP's, into its
// accumulator at B32B_ACC+32t. R10-R13 walk the tokens' x (pair order), R14 is the
// offset into their scales and sums; the blockBatch is at B32B_BB.
//
// func B32_BATCH(a *blockBatch, w *byte, rows, blocks int)
#define B32B_P 0
#define B32B_ACC 512
#define B32B_BB 640

// B32B_TOKEN(x, t, k): the pair's weights (Y0, Y1) times token t's x at x+BX, into
// its slot k.
#define B32B_TOKEN(x, t, k) \
	VPMADDUBSW (x)(BX*1), Y0, Y2; \
	VPMADDUBSW 32(x)(BX*1), Y1, Y3; \
	VPADDW     Y3, Y2, Y2; \
	VMOVDQU    Y2, B32B_P+128*t+32*k(SP)

// B32B_TOKEN1(x, t, k): a lone block's weights (Y0) times token t's x, as B32_ONE.
#define B32B_TOKEN1(x, t, k) \
	VPMADDUBSW   (x)(BX*1), Y0, Y2; \
	VEXTRACTI128 $1, Y2, X3; \
	VPADDW       X3, X2, X2; \
	VMOVDQU      Y2, B32B_P+128*t+32*k(SP)

// B32B_PAIR(k, r, lane): blocks k and k+1 of a group for the four tokens.
#define B32B_PAIR(k, r, lane) \
	PREFETCHT0 PF(SI); \
	B32_D(k, r, lane); \
	B32_WEIGHTS2; \
	B32B_TOKEN(R10, 0, k/2); \
	B32B_TOKEN(R11, 1, k/2); \
	B32B_TOKEN(R12, 2, k/2); \
	B32B_TOKEN(R13, 3, k/2); \
	ADDQ       $2*B32_BYTES, SI; \
	ADDQ       $64, BX

// B32B_STEP(k, r, lane, one): B32B_PAIR in a group's tail, where the row may end
// (on to b32blast) or leave a block alone (on to one).
#define B32B_STEP(k, r, lane, one) \
	CMPQ CX, $1; \
	JEQ  one; \
	B32B_PAIR(k, r, lane); \
	MOVQ $k+2, R9; \
	SUBQ $2, CX; \
	JZ   b32blast

#define B32B_LAST1(k, r, lane) \
	B32_D1(k, r, lane); \
	B32_WEIGHTS1; \
	B32B_TOKEN1(R10, 0, k/2); \
	B32B_TOKEN1(R11, 1, k/2); \
	B32B_TOKEN1(R12, 2, k/2); \
	B32B_TOKEN1(R13, 3, k/2); \
	ADDQ $B32_BYTES, SI; \
	MOVQ $k+1, R9; \
	JMP  b32blast

// B32B_VALUES(t): token t's values of the group's R9 blocks (B32_GROUP's; the mask
// in Y8), added into its accumulator.
#define B32B_VALUES(t) \
	VMOVDQU    B32B_P+128*t(SP), Y4; \
	VPHADDW    B32B_P+128*t+32(SP), Y4, Y0; \
	VMOVDQU    B32B_P+128*t+64(SP), Y4; \
	VPHADDW    B32B_P+128*t+96(SP), Y4, Y1; \
	MOVQ       B32B_BB+BB_D+8*t(SP), AX; \
	VMASKMOVPS (AX)(R14*1), Y8, Y7; \
	VMOVDQU    b32Ones<>(SB), Y2; \
	VPMADDWD   Y2, Y0, Y0; \
	VPMADDWD   Y2, Y1, Y1; \
	VPHADDD    Y1, Y0, Y0; \
	VMOVDQU    pairOrder<>(SB), Y2; \
	VPERMD     Y0, Y2, Y0; \
	MOVQ       B32B_BB+BB_S+8*t(SP), DX; \
	B32_VALUES((DX)(R14*1)); \
	VANDPS     Y8, Y1, Y1; \
	VADDPS     B32B_ACC+32*t(SP), Y1, Y1; \
	VMOVUPS    Y1, B32B_ACC+32*t(SP)

#define B32B_GROUP \
	GROUP_MASK(Y8); \
	B32B_VALUES(0); \
	B32B_VALUES(1); \
	B32B_VALUES(2); \
	B32B_VALUES(3)

// B32B_STORE(t): token t's row total (HSUM8) into its output.
#define B32B_STORE(t) \
	VMOVUPS B32B_ACC+32*t(SP), Y0; \
	HSUM8(Y0, X0, X1); \
	MOVQ    B32B_BB+BB_OUT+8*t(SP), AX; \
	VMOVSS  X0, (AX); \
	ADDQ    $4, B32B_BB+BB_OUT+8*t(SP)

TEXT B32_BATCH(SB), $800-32
	BB_COPY(B32B_BB)
	MOVQ         w+8(FP), SI
	MOVQ         rows+16(FP), R8
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

b32brow:
	BB_X(B32B_BB, BB_XP)
	XORQ    BX, BX
	XORQ    R14, R14
	MOVQ    blocks+24(FP), CX
	VXORPS  Y0, Y0, Y0
	VMOVUPS Y0, B32B_ACC(SP)
	VMOVUPS Y0, B32B_ACC+32(SP)
	VMOVUPS Y0, B32B_ACC+64(SP)
	VMOVUPS Y0, B32B_ACC+96(SP)

b32bgroup:
	CMPQ CX, $8
	JLT  b32btail
	B32B_PAIR(0, X10, 0)
	B32B_PAIR(2, X11, 0)
	B32B_PAIR(4, X10, 2)
	B32B_PAIR(6, X11, 2)
	MOVQ $8, R9
	SUBQ $8, CX
	B32B_GROUP
	ADDQ $32, R14
	JMP  b32bgroup

b32btail:
	TESTQ CX, CX
	JZ    b32bstore
	B32B_STEP(0, X10, 0, b32bone0)
	B32B_STEP(2, X11, 0, b32bone2)
	B32B_STEP(4, X10, 2, b32bone4)
	B32B_STEP(6, X11, 2, b32bone6)

b32bone0:
	B32B_LAST1(0, X10, 0)
b32bone2:
	B32B_LAST1(2, X11, 0)
b32bone4:
	B32B_LAST1(4, X10, 2)
b32bone6:
	B32B_LAST1(6, X11, 2)

b32blast:
	B32B_GROUP

b32bstore:
	B32B_STORE(0)
	B32B_STORE(1)
	B32B_STORE(2)
	B32B_STORE(3)
	DECQ R8
	JNZ  b32brow
	VZEROUPPER
	RET

#ifdef B32_QH
#undef B32_FIFTH
#endif
#undef B32_PAIR
#undef B32_ONE
#undef B32_WEIGHTS2
#undef B32_WEIGHTS1
#undef B32B_P
#undef B32B_ACC
#undef B32B_BB
#undef B32B_TOKEN
#undef B32B_TOKEN1
#undef B32B_PAIR
#undef B32B_STEP
#undef B32B_LAST1
#undef B32B_VALUES
#undef B32B_GROUP
#undef B32B_STORE
#undef B32_PAIR_FIFTH
#undef B32_ONE_FIFTH
#undef B32_D
#undef B32_D1
#undef B32_GROUP
#undef B32_VALUES
#undef B32_FULL
#undef B32_STEP
#undef B32_LAST1
