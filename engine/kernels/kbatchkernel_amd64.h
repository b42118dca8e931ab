// The batch kernel of Q4_K and Q5_K (kbatch_amd64.s), included once for each. The
// file that includes it defines KB_KERNEL (its name), KB_BYTES (bytes per
// super-block) and KB_CHUNKS(r) (the four chunks of the super-block at (r) for the
// four tokens, into Y7, Y8, Y9, Y12, its scales as K_SCALES leaves them).

// KB_BLOCK(r, k, d, lane): the super-block at (r) for the four tokens, into the
// group's lane k; its d and dmin into dword lane of d (DM_INSERT's order).
#define KB_BLOCK(r, k, d, lane) \
	PREFETCHT0 PF(r); \
	PREFETCHT0 PF+64(r); \
	PREFETCHT0 PF+128(r); \
	K_SCALES((r), (r)); \
	DM_INSERT((r), lane, d); \
	KB_MINS(0, k); \
	KB_MINS(1, k); \
	KB_MINS(2, k); \
	KB_MINS(3, k); \
	VPXOR      Y7, Y7, Y7; \
	VPXOR      Y8, Y8, Y8; \
	VPXOR      Y9, Y9, Y9; \
	VPXOR      Y12, Y12, Y12; \
	KB_CHUNKS(r); \
	VMOVDQU    Y7, BATCH_S+32*k(SP); \
	VMOVDQU    Y8, BATCH_S+256+32*k(SP); \
	VMOVDQU    Y9, BATCH_S+512+32*k(SP); \
	VMOVDQU    Y12, BATCH_S+768+32*k(SP)

// KB_STEP(k, d, lane): super-block k of a group of a row; after the row's last,
// R9 = k+1 and on to kblast.
#define KB_STEP(k, d, lane) \
	KB_BLOCK(SI, k, d, lane); \
	ADDQ $KB_BYTES, SI; \
	ADDQ $256, BX; \
	ADDQ $16, DI; \
	MOVQ $k+1, R9; \
	DECQ CX; \
	JZ   kblast

// KB_STEP2(k, k4, d, lane): super-block k (k < 4) of two rows, the first's into
// lane k and the second's (R14) into lane k4 = k+4, as the one-token kernels take
// rows of at most four super-blocks (kminkernel_amd64.h); after the last, on to
// kb2end.
#define KB_STEP2(k, k4, d, lane) \
	KB_BLOCK(SI, k, d, lane); \
	KB_BLOCK(R14, k4, d, lane+2); \
	ADDQ $KB_BYTES, SI; \
	ADDQ $KB_BYTES, R14; \
	ADDQ $256, BX; \
	ADDQ $16, DI; \
	MOVQ $k+1, R9; \
	DECQ CX; \
	JZ   kb2end

TEXT KB_KERNEL(SB), $1768-32
	MOVQ         a+0(FP), AX
	VMOVDQU      0(AX), Y0
	VMOVDQU      Y0, BATCH_OUT(SP)
	MOVQ         32(AX), R10
	MOVQ         40(AX), R11
	MOVQ         48(AX), R12
	MOVQ         56(AX), R13
	VMOVDQU      64(AX), Y0
	VMOVDQU      Y0, BATCH_D(SP)
	VMOVDQU      96(AX), Y0
	VMOVDQU      Y0, BATCH_SUMS(SP)
	MOVQ         w+8(FP), SI
	MOVQ         rows+16(FP), R8
	MOVL         $0x0f0f0f0f, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15

	// Rows of at most four super-blocks go two at a time (kbrows2), one group's end
	// for both.
	MOVQ  blocks+24(FP), AX
	CMPQ  AX, $4
	JGT   kbrow
	IMULQ $KB_BYTES, AX
	MOVQ  AX, BATCH_RB(SP)

kbrows2:
	CMPQ R8, $2
	JLT  kbrow
	XORQ BX, BX
	XORQ DI, DI
	MOVQ blocks+24(FP), CX
	MOVQ SI, R14
	ADDQ BATCH_RB(SP), R14
	KB_STEP2(0, 4, X10, 0)
	KB_STEP2(1, 5, X10, 1)
	KB_STEP2(2, 6, X11, 0)
	KB_STEP2(3, 7, X11, 1)

kb2end:
	KB_GROUP2
	ADDQ BATCH_RB(SP), SI // past the second row
	SUBQ $2, R8
	JNZ  kbrows2
	VZEROUPPER
	RET

kbrow:
	XORQ    BX, BX
	XORQ    DI, DI
	XORQ    R14, R14
	MOVQ    blocks+24(FP), CX
	VXORPS  Y0, Y0, Y0
	VMOVUPS Y0, BATCH_ACC(SP)
	VMOVUPS Y0, BATCH_ACC+32(SP)
	VMOVUPS Y0, BATCH_ACC+64(SP)
	VMOVUPS Y0, BATCH_ACC+96(SP)

kbgroup:
	KB_STEP(0, X10, 0)
	KB_STEP(1, X10, 1)
	KB_STEP(2, X11, 0)
	KB_STEP(3, X11, 1)
	KB_STEP(4, X10, 2)
	KB_STEP(5, X10, 3)
	KB_STEP(6, X11, 2)
	KB_STEP(7, X11, 3)
	KB_GROUP
	ADDQ $32, R14
	JMP  kbgroup

kblast:
	KB_GROUP
	KB_STORE(0)
	KB_STORE(1)
	KB_STORE(2)
	KB_STORE(3)
	DECQ R8
	JNZ  kbrow
	VZEROUPPER
	RET

#undef KB_BLOCK
#undef KB_STEP
#undef KB_STEP2
