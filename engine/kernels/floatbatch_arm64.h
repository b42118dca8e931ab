// The body of the batch kernels of the float encodings (float_arm64.s,
// bf16_arm64.s), included in each after its arguments are loaded (R0 a, R1 w, R2
// rows, R3 cols): four tokens and two rows per load of the weights, each row and
// token with the one-token kernel's arithmetic (matVecF32NEON, matVecF16NEON,
// matVecBF16NEON), so with its bits. That kernel keeps eight accumulators per row,
// one for each 4-column slice of every 32 columns (the row's last columns go into
// the first, 4 at a time for fp32, or into the first two, 8 at a time), and adds
// them as SUM8_V16_V23 does.
//
// Here a pass over a block of two rows' columns computes two slices' accumulators
// (8 columns of every 32) for the two rows and four tokens: sixteen FMLAs per two
// loads of weights and four of x, where the one-token kernel does one per load of
// each. A block is 16 chunks of 32 columns, and every pair of rows passes over it
// before the next, so that its x (8 KiB for four tokens) stays in L1 while the
// rows stream past; the accumulators wait between passes in the scratch a.acc
// points to, 1 KiB per pair of rows. Then each pair's last columns and sums.
//
// The file that includes it defines:
//	FN_PSHIFT   log2 of a pass's weight bytes (8 weights) in a chunk
//	FN_CSHIFT   log2 of a chunk's weight bytes (32 weights)
//	FN_W        a step's weights, widened: V0, V1 the first row's two slices,
//	            V2, V3 the second's, from R5 and R6 (moving on a chunk)
//	FN_TAILN    R12 = the steps after the chunks, from the columns in R9
//	FN_TAIL     one of those steps (its weights and x, into slice 0 or 0 and 1)
// Rows hold a multiple of 8 columns for fp16 and bf16, of 4 for fp32, and a call
// takes at most fbRows of them (the Go side splits the others, and takes rows of
// other widths token by token).
//
// Registers: R4 a row's bytes, R25 a pair's first row at the block, R5 and R6 its
// two rows' weights of the pass (the same row twice for a last row alone, whose
// second results are dropped), R7, R8, R10, R13 the tokens' x of the pass (from
// R19-R22), R3 the pass, R12 the steps, R24 the block's chunks, R14 the chunks
// after it, R15 and R16 the block's offsets into the rows and into x, R17 rows
// left, R11 the pair's accumulators (from R23); V16+8r+2t+s row r's accumulator of
// slice s of the pass for token t.

// floatBatch's fields (simd_arm64.go).
#define FN_OUT 0
#define FN_X 32
#define FN_ACC 64

// FN_X4(step): the four tokens' x for a step, V4+2t and V5+2t, moving on by step.
#define FN_X4(step) \
	FLDPQ.P step(R7), (F4, F5); \
	FLDPQ.P step(R8), (F6, F7); \
	FLDPQ.P step(R10), (F8, F9); \
	FLDPQ.P step(R13), (F10, F11)

// FN_FMA16: the step's products into the sixteen accumulators.
#define FN_FMA16 \
	VFMLA V0.S4, V4.S4, V16.S4; \
	VFMLA V1.S4, V5.S4, V17.S4; \
	VFMLA V0.S4, V6.S4, V18.S4; \
	VFMLA V1.S4, V7.S4, V19.S4; \
	VFMLA V0.S4, V8.S4, V20.S4; \
	VFMLA V1.S4, V9.S4, V21.S4; \
	VFMLA V0.S4, V10.S4, V22.S4; \
	VFMLA V1.S4, V11.S4, V23.S4; \
	VFMLA V2.S4, V4.S4, V24.S4; \
	VFMLA V3.S4, V5.S4, V25.S4; \
	VFMLA V2.S4, V6.S4, V26.S4; \
	VFMLA V3.S4, V7.S4, V27.S4; \
	VFMLA V2.S4, V8.S4, V28.S4; \
	VFMLA V3.S4, V9.S4, V29.S4; \
	VFMLA V2.S4, V10.S4, V30.S4; \
	VFMLA V3.S4, V11.S4, V31.S4

// FN_FMA8: a 4-column step's products (V0, V2 and V4+2t) into slice 0.
#define FN_FMA8 \
	VFMLA V0.S4, V4.S4, V16.S4; \
	VFMLA V0.S4, V6.S4, V18.S4; \
	VFMLA V0.S4, V8.S4, V20.S4; \
	VFMLA V0.S4, V10.S4, V22.S4; \
	VFMLA V2.S4, V4.S4, V24.S4; \
	VFMLA V2.S4, V6.S4, V26.S4; \
	VFMLA V2.S4, V8.S4, V28.S4; \
	VFMLA V2.S4, V10.S4, V30.S4

// FN_LOAD, FN_STORE: the sixteen accumulators from and to (R9).
#define FN_LOAD \
	FLDPQ (R9), (F16, F17); \
	FLDPQ 32(R9), (F18, F19); \
	FLDPQ 64(R9), (F20, F21); \
	FLDPQ 96(R9), (F22, F23); \
	FLDPQ 128(R9), (F24, F25); \
	FLDPQ 160(R9), (F26, F27); \
	FLDPQ 192(R9), (F28, F29); \
	FLDPQ 224(R9), (F30, F31)

#define FN_STORE \
	FSTPQ (F16, F17), (R9); \
	FSTPQ (F18, F19), 32(R9); \
	FSTPQ (F20, F21), 64(R9); \
	FSTPQ (F22, F23), 96(R9); \
	FSTPQ (F24, F25), 128(R9); \
	FSTPQ (F26, F27), 160(R9); \
	FSTPQ (F28, F29), 192(R9); \
	FSTPQ (F30, F31), 224(R9)

// FN_ROWS: R5 = R25 plus R9, and R6 the same in the pair's second row (or R5
// when only one row is left).
#define FN_ROWS \
	ADD  R9, R25, R5; \
	MOVD R5, R6; \
	CMP  $2, R17; \
	BLT  2(PC); \
	ADD  R4, R6, R6

// FN_XS: the tokens' x cursors at R9 past their bases.
#define FN_XS \
	ADD R19, R9, R7; \
	ADD R20, R9, R8; \
	ADD R21, R9, R10; \
	ADD R22, R9, R13

// FN_SUM(i): V16+2i = SUM8_V16_V23's sum of row and token i's eight slices, the
// first two in V16+2i and V17+2i, the others at R11 + 256 and on (V0-V3 scratch).
#define FN_SUM(i) \
	FADD4S(16+2*i, 16+2*i, 17+2*i); \
	FLDPQ 256+32*i(R11), (F0, F1); \
	FADD4S(0, 0, 1); \
	FADD4S(16+2*i, 16+2*i, 0); \
	FLDPQ 512+32*i(R11), (F0, F1); \
	FADD4S(0, 0, 1); \
	FLDPQ 768+32*i(R11), (F2, F3); \
	FADD4S(2, 2, 3); \
	FADD4S(0, 0, 2); \
	FADD4S(16+2*i, 16+2*i, 0)

// FN_OUT1(t, v, lane): token t's result, lane of Vv, to its output; R9 keeps the
// address.
#define FN_OUT1(t, v, lane) \
	MOVD FN_OUT+8*t(R0), R9; \
	VST1 v.S[lane], (R9)

// FN_OUT2(t, v, lane): the second row's result to the next output, and token t's
// outputs moved on by two rows.
#define FN_OUT2(t, v, lane) \
	ADD  $4, R9; \
	VST1 v.S[lane], (R9); \
	ADD  $4, R9; \
	MOVD R9, FN_OUT+8*t(R0)

	LSL  $FN_PSHIFT-3, R3, R4 // a row's bytes
	LSR  $5, R3, R14
	MOVD FN_X(R0), R19
	MOVD FN_X+8(R0), R20
	MOVD FN_X+16(R0), R21
	MOVD FN_X+24(R0), R22
	MOVD FN_ACC(R0), R23

	// Every pair's accumulators start at zero: 32 stores of 32 bytes a pair.
	ADD  $1, R2, R12
	LSR  $1, R12, R12
	LSL  $5, R12, R12
	MOVD R23, R9
	VEOR V0.B16, V0.B16, V0.B16

fnclear:
	FSTPQ.P (F0, F0), 32(R9)
	SUBS    $1, R12
	BNE     fnclear
	MOVD    ZR, R15
	MOVD    ZR, R16

fnblock:
	MOVD $16, R9
	CMP  R9, R14
	CSEL LT, R14, R9, R24
	CBZ  R24, fntail
	SUB  R24, R14, R14
	ADD  R15, R1, R25
	MOVD R2, R17
	MOVD R23, R11

fnpair:
	MOVD ZR, R3

fnpass:
	LSL  $FN_PSHIFT, R3, R9
	FN_ROWS
	LSL  $5, R3, R9
	ADD  R16, R9, R9
	FN_XS
	ADD  R3<<8, R11, R9
	FN_LOAD
	MOVD R24, R12

fnstep:
	FN_W
	FN_X4(128)
	FN_FMA16
	SUBS $1, R12
	BNE  fnstep
	ADD  R3<<8, R11, R9
	FN_STORE
	ADD  $1, R3
	CMP  $4, R3
	BNE  fnpass

	// The next pair of rows, or the next block.
	ADD  R4, R25, R25
	ADD  R4, R25, R25
	ADD  $1024, R11
	SUBS $2, R17
	BGT  fnpair
	ADD  R24<<7, R16, R16
	ADD  R24<<FN_CSHIFT, R15, R15
	B    fnblock

fntail:
	// Each pair: the columns after the last chunk, into slice 0 (and 1), then the
	// sums.
	ADD  R15, R1, R25
	MOVD R2, R17
	MOVD R23, R11

fntpair:
	MOVD  R11, R9
	FN_LOAD
	MOVD  ZR, R9
	FN_ROWS
	MOVD  R16, R9
	FN_XS
	MOVD  cols+24(FP), R9
	FN_TAILN
	CBZ   R12, fnsum

fntstep:
	FN_TAIL
	SUBS $1, R12
	BNE  fntstep

fnsum:
	FN_SUM(0)
	FN_SUM(1)
	FN_SUM(2)
	FN_SUM(3)
	FN_SUM(4)
	FN_SUM(5)
	FN_SUM(6)
	FN_SUM(7)

	// The lanes' sums (FADDP twice), four at a time: V0 = the first row's for the
	// four tokens, V2 the second's.
	FADDP4S(0, 16, 18)
	FADDP4S(1, 20, 22)
	FADDP4S(0, 0, 1)
	FADDP4S(2, 24, 26)
	FADDP4S(3, 28, 30)
	FADDP4S(2, 2, 3)
	CMP $2, R17
	BLT fnlast
	FN_OUT1(0, V0, 0)
	FN_OUT2(0, V2, 0)
	FN_OUT1(1, V0, 1)
	FN_OUT2(1, V2, 1)
	FN_OUT1(2, V0, 2)
	FN_OUT2(2, V2, 2)
	FN_OUT1(3, V0, 3)
	FN_OUT2(3, V2, 3)
	ADD  R4, R25, R25
	ADD  R4, R25, R25
	ADD  $1024, R11
	SUBS $2, R17
	BNE  fntpair
	RET

fnlast:
	FN_OUT1(0, V0, 0)
	FN_OUT1(1, V0, 1)
	FN_OUT1(2, V0, 2)
	FN_OUT1(3, V0, 3)
	RET

#undef FN_OUT
#undef FN_X
#undef FN_ACC
#undef FN_X4
#undef FN_FMA16
#undef FN_FMA8
#undef FN_LOAD
#undef FN_STORE
#undef FN_ROWS
#undef FN_XS
#undef FN_SUM
#undef FN_OUT1
#undef FN_OUT2
