// The Q4_0 kernel's body, included once per way of multiplying the blocks of a
// group. The file that includes it defines Q4_KERNEL (its name) and either Q4_PAIR
// and Q4_PAIR2 (two blocks at a time on YMM registers, the AVX2 and VNNI kernels:
// the group macros below follow from them) or the group macros themselves (the
// ZMM kernel):
//	Q4_CONSTS   constants beyond Y13-Y15 (which Q4_BLOCK reads too)
//	Q4_GROUP2   one 8-block group of two rows into Y0/Y1 and Y2/Y3, the correction
//	            -d·8Σx (scales in Y6 and Y7) included
//	Q4_GROUP1   the same for one row, into Y0/Y1
//	Q4_DONE2, Q4_DONE1  after the groups, to leave the sums in Y0/Y1 (and Y2/Y3)
//
// func Q4_KERNEL(out *float32, w *byte, xp *int8, xq *int8, xd *float32, xs8 *float32, rows, blocks int)
// xp is x in the group macros' order (for the 8-block groups), xq in plain order
// (for the rest).

#ifndef Q4_GROUP2
#define Q4_CONSTS \
	PAIR_INDEX(0, Y8); \
	PAIR_INDEX(1, Y9); \
	PAIR_INDEX(2, Y10); \
	PAIR_INDEX(3, Y11)

#define Q4_GROUP2 \
	VFNMADD231PS (R12), Y6, Y0; \
	VFNMADD231PS (R12), Y7, Y2; \
	Q4_PAIR2(16, 0, Y8, Y0, Y2); \
	Q4_PAIR2(48, 64, Y9, Y1, Y3); \
	Q4_PAIR2(80, 128, Y10, Y0, Y2); \
	Q4_PAIR2(112, 192, Y11, Y1, Y3)

#define Q4_GROUP1 \
	VFNMADD231PS (R12), Y6, Y0; \
	Q4_PAIR(16, 0, Y8, Y0); \
	Q4_PAIR(48, 64, Y9, Y1); \
	Q4_PAIR(80, 128, Y10, Y0); \
	Q4_PAIR(112, 192, Y11, Y1)

#define Q4_DONE2
#define Q4_DONE1
#endif

TEXT Q4_KERNEL(SB), NOSPLIT, $0-64
	MOVQ         out+0(FP), DI
	MOVQ         w+8(FP), SI
	MOVQ         rows+48(FP), R8
	VPCMPEQW     Y15, Y15, Y15
	VPSRLW       $15, Y15, Y15
	MOVL         $0x0f0f0f0f, AX
	VMOVD        AX, X14
	VPBROADCASTD X14, Y14
	MOVL         $4, AX
	VMOVD        AX, X5
	VPBROADCASTD X5, X5
	VPXOR        Y13, Y13, Y13
	VINSERTI128  $1, X5, Y13, Y13
	Q4_CONSTS

	// Rows of whole groups go two at a time (q4row2), each row's arithmetic exactly
	// as on its own: the two share the loop, the x loads' addresses and the set-up,
	// which cost as much as the products on rows of three groups (768 columns).
	MOVQ blocks+56(FP), R13
	TESTQ $7, R13
	JNZ  q4row
	IMULQ $18, R13             // bytes per row

q4row2:
	CMPQ   R8, $2
	JLT    q4row
	MOVQ   xp+16(FP), BX
	MOVQ   xd+32(FP), R11
	MOVQ   xs8+40(FP), R12
	MOVQ   blocks+56(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

q4two:
	PREFETCHT0   PF(SI)
	PREFETCHT0   PF+64(SI)
	PREFETCHT0   PF+128(SI)
	PREFETCHT0   PF(SI)(R13*1)
	PREFETCHT0   PF+64(SI)(R13*1)
	PREFETCHT0   PF+128(SI)(R13*1)
	SCALES8
	VCVTPH2PS    (SI)(R13*1), Y7
	VMULPS       (R11), Y7, Y7
	Q4_GROUP2
	ADDQ         $144, SI
	ADDQ         $256, BX
	ADDQ         $32, R11
	ADDQ         $32, R12
	SUBQ         $8, CX
	JNZ          q4two

	Q4_DONE2
	HSUM_Y0_Y1
	VMOVSS       X0, (DI)
	HSUM(Y2, Y3, X2, X3)         // the same for the second row
	VMOVSS       X2, 4(DI)
	ADDQ         $8, DI
	ADDQ         R13, SI         // past the second row
	SUBQ         $2, R8
	JNZ          q4row2
	VZEROUPPER
	RET

q4row:
	MOVQ   xp+16(FP), BX
	MOVQ   xd+32(FP), R11
	MOVQ   xs8+40(FP), R12
	MOVQ   blocks+56(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

q4by8:
	CMPQ         CX, $8
	JLT          q4rest
	PREFETCHT0   PF(SI)
	PREFETCHT0   PF+64(SI)
	PREFETCHT0   PF+128(SI)
	SCALES8
	Q4_GROUP1
	ADDQ         $144, SI
	ADDQ         $256, BX
	ADDQ         $32, R11
	ADDQ         $32, R12
	SUBQ         $8, CX
	JMP          q4by8

q4rest:
	// The remaining blocks read x in plain order, from the same block on.
	Q4_DONE1
	SUBQ xp+16(FP), BX
	ADDQ xq+24(FP), BX

q4by1:
	TESTQ        CX, CX
	JZ           q4store
	SCALE1_Y2
	VMOVSS       (R12), X7       // lanes 1-7 of Y7 become zero
	VFNMADD231PS Y2, Y7, Y1      // Y1 lane 0 -= d_w*d_x*8Σx
	Q4_BLOCK(0, 0, Y0)
	ADDQ         $18, SI
	ADDQ         $32, BX
	ADDQ         $4, R11
	ADDQ         $4, R12
	DECQ         CX
	JMP          q4by1

q4store:
	HSUM_Y0_Y1
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	DECQ   R8
	JNZ    q4row
	VZEROUPPER
	RET
