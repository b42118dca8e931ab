// The batch kernel of the float encodings (float_amd64.s, bf16_amd64.s), included
// once for each: four tokens and two rows per load of the weights, each row and
// token with the one-token kernel's arithmetic (matVecF32AVX2, or halfkernel_amd64.h
// for fp16 and bf16), so with its bits. That kernel keeps four accumulators per
// row, one for each 8-column slice of every 32 columns (and the row's last columns,
// by 8, in the first), adds them as acc0 + (acc1 + (acc2 + acc3)) and its lanes in
// HSUM's order.
//
// Here a pass over a block of two rows' columns computes one slice's accumulators
// for the two rows and four tokens (eight FMAs per two loads of weights and four
// of x, where the one-token kernel does one per load of each), from zero in the
// first block and from the stack in the others. A block is 16 chunks of 32
// columns, and every pair of rows passes over it before the next: its x (8 KiB for
// four tokens in fp32) stays in L1 while the rows stream past. Passes before the
// last block store each pair's accumulators on the stack (1 KiB a pair). In the
// last block each pair finishes at once: slices 3, 2 and 1 leave acc3, acc2 +
// acc3 and acc1 + (acc2 + acc3) in one 256-byte area that every pair reuses (so
// rows of one block touch no other stack), slice 0 takes the columns after the
// last chunk, 8 at a time, adds that sum, and the pair's eight results are reduced
// together (HSUM's additions, two 128-bit halves at a time) and stored.
//
// The file that includes it defines FB_KERNEL (its name), FB_ES (bytes per
// weight), FB_SHIFT (log2 of 8 weights' bytes), FB_XS (4 / FB_ES, the scale from
// an offset into a row to the same columns' offset into x) and FB_WIDEN(src, y)
// (eight weights at src widened exactly to float32 in y). Rows hold a multiple of
// 8 columns, and a call takes at most fbRows of them (the Go side splits the
// others, and takes rows of other widths token by token).
//
// func FB_KERNEL(a *floatBatch, w *byte, rows, cols int)
// Registers: DI a pair of rows, SI and R14 its two rows (the same row twice for a
// last row alone, whose second results are dropped), BX the offset into them of
// the pass's columns (one index for the weights and, times FB_XS, the tokens' x at
// R10-R13, so one addition a step), AX the slice, CX the steps of the pass, R9
// the chunks after the block, R8 rows left, R15 the pair's accumulators on the
// stack; Y0-Y3 the first row's accumulators for tokens 0-3, Y4-Y7 the second
// row's. The stack: each pair's accumulators, 1 KiB (slice k's eight at 256k),
// the last block's running sums (FB_T), then the tokens' outputs, a row's bytes,
// the chunks, the 8-column steps after them, the block's offset into the rows and
// its chunks.
#define FB_T 8192
#define FB_OUT 8448
#define FB_RB 8480
#define FB_CHUNKS 8488
#define FB_BY8 8496
#define FB_WOFF 8504
#define FB_N 8512

// FB_STEP: eight columns of the two rows (at SI and R14) for the four tokens.
#define FB_STEP \
	FB_WIDEN((SI)(BX*1), Y8); \
	FB_WIDEN((R14)(BX*1), Y9); \
	VMOVUPS     (R10)(BX*FB_XS), Y10; \
	VMOVUPS     (R11)(BX*FB_XS), Y11; \
	VMOVUPS     (R12)(BX*FB_XS), Y12; \
	VMOVUPS     (R13)(BX*FB_XS), Y13; \
	VFMADD231PS Y10, Y8, Y0; \
	VFMADD231PS Y11, Y8, Y1; \
	VFMADD231PS Y12, Y8, Y2; \
	VFMADD231PS Y13, Y8, Y3; \
	VFMADD231PS Y10, Y9, Y4; \
	VFMADD231PS Y11, Y9, Y5; \
	VFMADD231PS Y12, Y9, Y6; \
	VFMADD231PS Y13, Y9, Y7

// FB_ZERO: the eight accumulators at zero.
#define FB_ZERO \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7

// FB_LOAD, FB_STORE: the eight accumulators from and to (SP)(DX*1).
#define FB_LOAD \
	VMOVUPS (SP)(DX*1), Y0; \
	VMOVUPS 32(SP)(DX*1), Y1; \
	VMOVUPS 64(SP)(DX*1), Y2; \
	VMOVUPS 96(SP)(DX*1), Y3; \
	VMOVUPS 128(SP)(DX*1), Y4; \
	VMOVUPS 160(SP)(DX*1), Y5; \
	VMOVUPS 192(SP)(DX*1), Y6; \
	VMOVUPS 224(SP)(DX*1), Y7

#define FB_STORE \
	VMOVUPS Y0, (SP)(DX*1); \
	VMOVUPS Y1, 32(SP)(DX*1); \
	VMOVUPS Y2, 64(SP)(DX*1); \
	VMOVUPS Y3, 96(SP)(DX*1); \
	VMOVUPS Y4, 128(SP)(DX*1); \
	VMOVUPS Y5, 160(SP)(DX*1); \
	VMOVUPS Y6, 192(SP)(DX*1); \
	VMOVUPS Y7, 224(SP)(DX*1)

// FB_PAIR: R14 = the second row of the pair at SI, or SI when only one is left.
#define FB_PAIR \
	MOVQ  SI, R14; \
	CMPQ  R8, $2; \
	JLT   2(PC); \
	ADDQ  FB_RB(SP), R14

// FB_SLICE: slice AX's pass over the block for the pair at DI: its rows in SI and
// R14 (FB_PAIR), BX the offset of its first columns in the block, DX its
// accumulators' place on the stack.
#define FB_SLICE \
	MOVQ DI, SI; \
	FB_PAIR; \
	MOVQ AX, BX; \
	SHLQ $FB_SHIFT, BX; \
	ADDQ FB_WOFF(SP), BX; \
	MOVQ AX, DX; \
	SHLQ $8, DX; \
	ADDQ R15, DX

// FB_NEXTPAIR: DI and R15 on to the next pair of rows; R8 two rows fewer (the
// flags say what is left).
#define FB_NEXTPAIR \
	ADDQ $1024, R15; \
	ADDQ FB_RB(SP), DI; \
	ADDQ FB_RB(SP), DI; \
	SUBQ $2, R8

// FB_ADDT: the eight accumulators plus the last block's running sums, each
// accumulator the first operand (acc2 + acc3, acc1 + (acc2 + acc3), acc0 + ...,
// as the one-token kernel adds them). FB_PUTT: the eight into the running sums.
#define FB_ADDT \
	VADDPS FB_T(SP), Y0, Y0; \
	VADDPS FB_T+32(SP), Y1, Y1; \
	VADDPS FB_T+64(SP), Y2, Y2; \
	VADDPS FB_T+96(SP), Y3, Y3; \
	VADDPS FB_T+128(SP), Y4, Y4; \
	VADDPS FB_T+160(SP), Y5, Y5; \
	VADDPS FB_T+192(SP), Y6, Y6; \
	VADDPS FB_T+224(SP), Y7, Y7

#define FB_PUTT \
	VMOVUPS Y0, FB_T(SP); \
	VMOVUPS Y1, FB_T+32(SP); \
	VMOVUPS Y2, FB_T+64(SP); \
	VMOVUPS Y3, FB_T+96(SP); \
	VMOVUPS Y4, FB_T+128(SP); \
	VMOVUPS Y5, FB_T+160(SP); \
	VMOVUPS Y6, FB_T+192(SP); \
	VMOVUPS Y7, FB_T+224(SP)

// FB_HALVES(a, b, s, t): s = [a's lanes 0-3 + 4-7 | b's], HSUM's first addition for
// two sums; t scratch.
#define FB_HALVES(a, b, s, t) \
	VPERM2F128 $0x20, b, a, s; \
	VPERM2F128 $0x31, b, a, t; \
	VADDPS     t, s, s

TEXT FB_KERNEL(SB), $8520-32
	MOVQ    a+0(FP), AX
	VMOVDQU 0(AX), Y0
	VMOVDQU Y0, FB_OUT(SP)
	MOVQ    32(AX), R10
	MOVQ    40(AX), R11
	MOVQ    48(AX), R12
	MOVQ    56(AX), R13
	MOVQ    cols+24(FP), AX
	MOVQ    AX, CX
	SHRQ    $5, CX
	MOVQ    CX, FB_CHUNKS(SP)
	MOVQ    AX, CX
	ANDQ    $31, CX
	SHRQ    $3, CX
	MOVQ    CX, FB_BY8(SP)
	IMULQ   $FB_ES, AX
	MOVQ    AX, FB_RB(SP)
	MOVQ    $0, FB_WOFF(SP)
	MOVQ    FB_CHUNKS(SP), R9

fbblock:
	MOVQ  R9, CX
	CMPQ  CX, $16
	JLE   fbsized
	MOVQ  $16, CX

fbsized:
	MOVQ  CX, FB_N(SP)
	SUBQ  CX, R9
	MOVQ  w+8(FP), DI
	MOVQ  rows+16(FP), R8
	XORQ  R15, R15
	TESTQ R9, R9
	JZ    fblast

fbpair:
	MOVQ $3, AX

fbslice:
	FB_SLICE
	CMPQ FB_WOFF(SP), $0
	JNE  fbload
	FB_ZERO
	JMP  fbchunks

fbload:
	FB_LOAD

fbchunks:
	MOVQ FB_N(SP), CX
	PCALIGN $32

fbchunk:
	FB_STEP
	ADDQ       $32*FB_ES, BX
	DECQ       CX
	JNZ        fbchunk
	FB_STORE
	DECQ       AX
	JGE        fbslice

	// On to the next pair of rows, or to the next block.
	FB_NEXTPAIR
	JGT fbpair
	MOVQ FB_N(SP), CX
	IMULQ $32*FB_ES, CX
	ADDQ CX, FB_WOFF(SP)
	JMP  fbblock

fblast:
	// The last block (of no chunks for rows of fewer than 32 columns): each pair's
	// slices 3 to 1 into the running sums, then slice 0, its last columns, the sums
	// and the results.
	MOVQ $3, AX

fblslice:
	FB_SLICE
	CMPQ FB_WOFF(SP), $0
	JNE  fblload
	FB_ZERO
	JMP  fblchunks

fblload:
	FB_LOAD

fblchunks:
	MOVQ  FB_N(SP), CX
	TESTQ CX, CX
	JZ    fblsum
	PCALIGN $32

fblchunk:
	FB_STEP
	ADDQ       $32*FB_ES, BX
	DECQ       CX
	JNZ        fblchunk

fblsum:
	TESTQ AX, AX
	JZ    fbby8
	CMPQ  AX, $3
	JEQ   fblput
	FB_ADDT

fblput:
	FB_PUTT
	DECQ AX
	JMP  fblslice

fbby8:
	MOVQ  FB_BY8(SP), CX
	TESTQ CX, CX
	JZ    fbsum

fbstep:
	FB_STEP
	ADDQ $8*FB_ES, BX
	DECQ CX
	JNZ  fbstep

fbsum:
	FB_ADDT

	// HSUM for the eight: lanes 0-3 plus 4-7, then two VHADDPS, which leave
	// [A0, A2, B0, B2 | A1, A3, B1, B3] (A the first row's, B the second's).
	FB_HALVES(Y0, Y1, Y8, Y9)
	FB_HALVES(Y2, Y3, Y9, Y10)
	VHADDPS      Y9, Y8, Y8
	FB_HALVES(Y4, Y5, Y9, Y10)
	FB_HALVES(Y6, Y7, Y10, Y11)
	VHADDPS      Y10, Y9, Y9
	VHADDPS      Y9, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	MOVQ         FB_OUT(SP), AX
	VMOVSS       X8, (AX)
	MOVQ         FB_OUT+8(SP), AX
	VMOVSS       X9, (AX)
	MOVQ         FB_OUT+16(SP), AX
	VEXTRACTPS   $1, X8, (AX)
	MOVQ         FB_OUT+24(SP), AX
	VEXTRACTPS   $1, X9, (AX)
	CMPQ         R8, $2
	JLT          fbdone
	MOVQ         FB_OUT(SP), AX
	VEXTRACTPS   $2, X8, 4(AX)
	MOVQ         FB_OUT+8(SP), AX
	VEXTRACTPS   $2, X9, 4(AX)
	MOVQ         FB_OUT+16(SP), AX
	VEXTRACTPS   $3, X8, 4(AX)
	MOVQ         FB_OUT+24(SP), AX
	VEXTRACTPS   $3, X9, 4(AX)
	ADDQ         $8, FB_OUT(SP)
	ADDQ         $8, FB_OUT+8(SP)
	ADDQ         $8, FB_OUT+16(SP)
	ADDQ         $8, FB_OUT+24(SP)
	FB_NEXTPAIR
	JNZ          fblast

fbdone:
	VZEROUPPER
	RET

#undef FB_OUT
#undef FB_RB
#undef FB_CHUNKS
#undef FB_BY8
#undef FB_WOFF
#undef FB_N
#undef FB_STEP
#undef FB_LOAD
#undef FB_ZERO
#undef FB_STORE
#undef FB_PAIR
#undef FB_SLICE
#undef FB_NEXTPAIR
#undef FB_ADDT
#undef FB_PUTT
#undef FB_T
#undef FB_HALVES
