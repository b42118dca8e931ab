// The kernel of Q4_K and Q5_K (kquants_amd64.s), included once for each. The file
// that includes it defines KM_KERNEL (its name), KM_BYTES (bytes per
// super-block), KM_CONSTS (its constants' set-up), KM_PREFETCH (the lines PF
// ahead of a pair of super-blocks at (SI)) and KM_SUPER(r, w, x, half, acc) (the
// super-block at w(r) times x at x(BX), its scales in half (0x44 low, 0xee high)
// of Y2 and Y3 as K_SCALES leaves them, into acc: eight int32 that add up to its
// isum; Y0, Y1 and Y4-Y6 scratch).


// KM_PAIR(k, d): super-blocks k and k+1 of a group of a row (k even), at (SI) and
// KM_BYTES(SI), x at (BX) and 256(BX): the pair's sums (FOLD2) and its mins' products
// into the scratch of pair k/2, their d and dmin into lanes k and k+1 of the group
// (d is X10 or X11).
#define KM_PAIR(k, d) \
	KM_PREFETCH; \
	K_SCALES(KM_BYTES(SI)); \
	VPMADDWD   (R12), Y1, Y1; \
	VMOVDQU    Y1, KMIN_AT+16*k(SP); \
	DM_INSERT((SI), (k&4)/2, d); \
	DM_INSERT(KM_BYTES(SI), (k&4)/2+1, d); \
	KM_SUPER(SI, 0, 0, 0x44, Y7); \
	KM_SUPER(SI, KM_BYTES, 256, 0xee, Y8); \
	FOLD2(Y7, Y8, Y9); \
	VMOVDQU    Y7, KSUM_AT+16*k(SP)

// KM_ONE(k, d): KM_PAIR for a row's last super-block when it is alone (lane k+1
// gets copies, masked out at the group's end).
#define KM_ONE(k, d) \
	K_SCALES((SI)); \
	VBROADCASTI128 (R12), Y0; \
	VPMADDWD   Y0, Y1, Y1; \
	VMOVDQU    Y1, KMIN_AT+16*k(SP); \
	DM_INSERT((SI), (k&4)/2, d); \
	KM_SUPER(SI, 0, 0, 0x44, Y7); \
	FOLD2(Y7, Y7, Y9); \
	VMOVDQU    Y7, KSUM_AT+16*k(SP)

// KM_ROWS2(k, d, dlane): super-block k (k < 4) of two rows at once, the second
// row's at (R14), for rows of at most four super-blocks: the group's lanes 0-3
// hold the first row's super-blocks and lanes 4-7 the second's (lanes k and k+4;
// their dwords of d and dmin go into lanes dlane and dlane+2 of d). x is the same
// for both.
#define KM_ROWS2(k, d, dlane) \
	KM_PREFETCH; \
	PREFETCHT0 PF(R14); \
	PREFETCHT0 PF+64(R14); \
	PREFETCHT0 PF+128(R14); \
	K_SCALES((R14)); \
	VBROADCASTI128 (R12), Y0; \
	VPMADDWD   Y0, Y1, Y1; \
	VMOVDQU    Y1, KMIN_AT+32*k(SP); \
	DM_INSERT((SI), dlane, d); \
	DM_INSERT((R14), dlane+2, d); \
	KM_SUPER(SI, 0, 0, 0x44, Y7); \
	KM_SUPER(R14, 0, 0, 0xee, Y8); \
	FOLD2(Y7, Y8, Y9); \
	VMOVDQU    Y7, KSUM_AT+32*k(SP)

// func KM_KERNEL(out *float32, w *byte, xq *int8, xd *float32, bsum2 *int16, rows, blocks int)
TEXT KM_KERNEL(SB), NOSPLIT, $KFRAME-56
	MOVQ         out+0(FP), DI
	MOVQ         w+8(FP), SI
	MOVQ         rows+40(FP), R8
	MOVL         $0x0f0f0f0f, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15
	KM_CONSTS

	// Rows of at most four super-blocks go two at a time (kmrows2), the two rows'
	// k-th super-blocks paired where a row's own would pair with each other: a
	// 768-wide row is three super-blocks, which on its own takes two pairs' work
	// and a group's end.
	MOVQ blocks+48(FP), R13
	CMPQ R13, $4
	JGT  kmrow
	IMULQ $KM_BYTES, R13            // bytes per row

kmrows2:
	CMPQ R8, $2
	JLT  kmrow
	MOVQ xq+16(FP), BX
	MOVQ xd+24(FP), R11
	MOVQ bsum2+32(FP), R12
	MOVQ blocks+48(FP), CX
	LEAQ (SI)(R13*1), R14

#define KM_STEP2(k, d, dlane) \
	KM_ROWS2(k, d, dlane); \
	ADDQ $KM_BYTES, SI; \
	ADDQ $KM_BYTES, R14; \
	ADDQ $256, BX; \
	ADDQ $16, R12; \
	MOVQ $k+1, R9; \
	DECQ CX; \
	JZ   kmrows2end

	KM_STEP2(0, X10, 0)
	KM_STEP2(1, X10, 1)
	KM_STEP2(2, X11, 0)
	KM_STEP2(3, X11, 1)

kmrows2end:
	KROWS2_MIN
	VMOVSS       X14, (DI)
	VEXTRACTF128 $1, Y14, X1
	VMOVSS       X1, 4(DI)
	ADDQ         $8, DI
	ADDQ         R13, SI       // past the second row
	SUBQ         $2, R8
	JNZ          kmrows2
	VZEROUPPER
	RET

kmrow:
	MOVQ   xq+16(FP), BX
	MOVQ   xd+24(FP), R11
	MOVQ   bsum2+32(FP), R12
	MOVQ   blocks+48(FP), CX
	VXORPS Y14, Y14, Y14

#define KM_STEP(k, d, one) \
	CMPQ CX, $1; \
	JEQ  one; \
	KM_PAIR(k, d); \
	ADDQ $2*KM_BYTES, SI; \
	ADDQ $512, BX; \
	ADDQ $32, R12; \
	MOVQ $k+2, R9; \
	SUBQ $2, CX; \
	JZ   kmlast

kmgroup:
	KM_STEP(0, X10, kmone0)
	KM_STEP(2, X11, kmone2)
	KM_STEP(4, X10, kmone4)
	KM_STEP(6, X11, kmone6)
	KGROUP_MIN
	ADDQ $32, R11
	JMP  kmgroup

#define KM_LAST1(k, d) \
	KM_ONE(k, d); \
	ADDQ $KM_BYTES, SI; \
	MOVQ $k+1, R9; \
	JMP  kmlast

kmone0:
	KM_LAST1(0, X10)
kmone2:
	KM_LAST1(2, X11)
kmone4:
	KM_LAST1(4, X10)
kmone6:
	KM_LAST1(6, X11)

kmlast:
	KGROUP_MIN
	HSUM8(Y14, X14, X1)
	VMOVSS X14, (DI)
	ADDQ   $4, DI
	DECQ   R8
	JNZ    kmrow
	VZEROUPPER
	RET

#undef KM_PAIR
#undef KM_ONE
#undef KM_ROWS2
#undef KM_STEP2
#undef KM_STEP
#undef KM_LAST1
