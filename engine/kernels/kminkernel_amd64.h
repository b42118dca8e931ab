// The kernel of Q4_K and Q5_K (kquants_amd64.s), included once for each. The file
// that includes it defines KM_KERNEL (its name), KM_FRAME (its stack), KM_BYTES
// (bytes per super-block), KM_PREFETCH (the lines PF ahead of a pair of
// super-blocks at (SI)), KM_SUPER(r, w, x, half, acc) (the super-block at w(r)
// times x at x(BX), its scales in half (0x44 low, 0xee high) of Y2 and Y3 as
// K_SCALES leaves them, into acc: eight int32 that add up to its isum; Y0, Y1 and
// Y4-Y6 scratch), and KM_MINS(y) and KM_MSUM (the mins' products, y times the
// mins in Y1, kept for KM_VECTOR: KM_MSUM names where).
//
// A pair of super-blocks A, B ends as one vector (KM_VECTOR): [A's sums of q·x,
// A's mins' products | B's], two int32 of each, which joins the group's in Y9
// (pairs 0 and 1) or Y13 (pairs 2 and 3) as combine says (K_KEEP, K_ADD).

// KM_VECTOR: Y7 = the pair's vector from its sums in Y7 (A) and Y8 (B) and its
// mins' products at KM_MSUM ([A's four | B's four]).
#define KM_VECTOR \
	FOLD2(Y7, Y8, Y4); \
	VPHADDD KM_MSUM, Y7, Y7

// KM_PAIR(k, d, acc, combine): super-blocks k and k+1 of a group of a row (k
// even), at (SI) and KM_BYTES(SI), x at (BX) and 256(BX), into acc; their d and
// dmin into lanes k and k+1 of the group (d is X10 or X11).
#define KM_PAIR(k, d, acc, combine) \
	KM_PREFETCH; \
	K_SCALES((SI), KM_BYTES(SI)); \
	KM_MINS((R12)); \
	DM_INSERT((SI), (k&4)/2, d); \
	DM_INSERT(KM_BYTES(SI), (k&4)/2+1, d); \
	KM_SUPER(SI, 0, 0, 0x44, Y7); \
	KM_SUPER(SI, KM_BYTES, 256, 0xee, Y8); \
	KM_VECTOR; \
	combine(Y7, acc)

// KM_ONE(k, d, acc, combine): KM_PAIR for a row's last super-block when it is
// alone (lane k+1 gets copies, masked out at the group's end).
#define KM_ONE(k, d, acc, combine) \
	K_SCALES((SI), (SI)); \
	VBROADCASTI128 (R12), Y0; \
	KM_MINS(Y0); \
	DM_INSERT((SI), (k&4)/2, d); \
	KM_SUPER(SI, 0, 0, 0x44, Y7); \
	VMOVDQA    Y7, Y8; \
	KM_VECTOR; \
	combine(Y7, acc)

// KM_ROWS2(k, d, dlane, acc, combine): super-block k (k < 4) of two rows at
// once, the second row's at (R14), for rows of at most four super-blocks: the
// group's lanes 0-3 hold the first row's super-blocks and lanes 4-7 the second's
// (lanes k and k+4; their dwords of d and dmin go into lanes dlane and dlane+2 of
// d). x is the same for both.
#define KM_ROWS2(k, d, dlane, acc, combine) \
	KM_PREFETCH; \
	PREFETCHT0 PF(R14); \
	PREFETCHT0 PF+64(R14); \
	PREFETCHT0 PF+128(R14); \
	K_SCALES((SI), (R14)); \
	VBROADCASTI128 (R12), Y0; \
	KM_MINS(Y0); \
	DM_INSERT((SI), dlane, d); \
	DM_INSERT((R14), dlane+2, d); \
	KM_SUPER(SI, 0, 0, 0x44, Y7); \
	KM_SUPER(R14, 0, 0, 0xee, Y8); \
	KM_VECTOR; \
	combine(Y7, acc)

// func KM_KERNEL(out *float32, w *byte, xq *int8, xd *float32, bsum2 *int16, rows, blocks int)
TEXT KM_KERNEL(SB), NOSPLIT, $KM_FRAME-56
	MOVQ         out+0(FP), DI
	MOVQ         w+8(FP), SI
	MOVQ         rows+40(FP), R8
	MOVL         $0x0f0f0f0f, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15

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

#define KM_STEP2(k, d, dlane, acc, combine, end) \
	KM_ROWS2(k, d, dlane, acc, combine); \
	ADDQ $KM_BYTES, SI; \
	ADDQ $KM_BYTES, R14; \
	ADDQ $256, BX; \
	ADDQ $16, R12; \
	MOVQ $k+1, R9; \
	DECQ CX; \
	JZ   end

	KM_STEP2(0, X10, 0, Y9, K_KEEP, kmrows2fix9)
	KM_STEP2(1, X10, 1, Y9, K_ADD, kmrows2end)
	KM_STEP2(2, X11, 0, Y13, K_KEEP, kmrows2fix13)
	KM_STEP2(3, X11, 1, Y13, K_ADD, kmrows2end)

kmrows2fix9:
	K_FIX(Y9)
	JMP kmrows2end

kmrows2fix13:
	K_FIX(Y13)

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

#define KM_STEP(k, d, acc, combine, one, end) \
	CMPQ CX, $1; \
	JEQ  one; \
	KM_PAIR(k, d, acc, combine); \
	ADDQ $2*KM_BYTES, SI; \
	ADDQ $512, BX; \
	ADDQ $32, R12; \
	MOVQ $k+2, R9; \
	SUBQ $2, CX; \
	JZ   end

kmgroup:
	KM_STEP(0, X10, Y9, K_KEEP, kmone0, kmfix9)
	KM_STEP(2, X11, Y9, K_ADD, kmone2, kmlast)
	KM_STEP(4, X10, Y13, K_KEEP, kmone4, kmfix13)
	KM_STEP(6, X11, Y13, K_ADD, kmone6, kmlast)
	KGROUP_MIN
	ADDQ $32, R11
	JMP  kmgroup

#define KM_LAST1(k, d, acc, combine, end) \
	KM_ONE(k, d, acc, combine); \
	ADDQ $KM_BYTES, SI; \
	MOVQ $k+1, R9; \
	JMP  end

kmone0:
	KM_LAST1(0, X10, Y9, K_KEEP, kmfix9)
kmone2:
	KM_LAST1(2, X11, Y9, K_ADD, kmlast)
kmone4:
	KM_LAST1(4, X10, Y13, K_KEEP, kmfix13)
kmone6:
	KM_LAST1(6, X11, Y13, K_ADD, kmlast)

kmfix9:
	K_FIX(Y9)
	JMP kmlast

kmfix13:
	K_FIX(Y13)

kmlast:
	KGROUP_MIN
	HSUM8(Y14, X14, X1)
	VMOVSS X14, (DI)
	ADDQ   $4, DI
	DECQ   R8
	JNZ    kmrow
	VZEROUPPER
	RET

#undef KM_VECTOR
#undef KM_PAIR
#undef KM_ONE
#undef KM_ROWS2
#undef KM_STEP2
#undef KM_STEP
#undef KM_LAST1
