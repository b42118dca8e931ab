// Shared by the batch (prefill) kernels of the blocks of 32 (batch_amd64.s,
// blocks32_amd64.s): four tokens' products per load of the weights, each token's
// arithmetic its one-token kernel's to the instruction where that kernel's lanes
// define the bits (Q4_0), or the reference's. The tokens are a blockBatch
// (simd_amd64.go): their outputs (for the rows), x in pair order (xp) and in plain
// order (xq), x scales and x sums (s8 or s), copied to the stack (the offsets
// below); R10-R13 walk the tokens' x, BX is the offset into it.
#define BB_OUT 0
#define BB_XP 32
#define BB_XQ 64
#define BB_D 96
#define BB_S 128

// BB_COPY(frame): the blockBatch at a into the stack at frame.
#define BB_COPY(frame) \
	MOVQ    a+0(FP), AX; \
	VMOVDQU 0(AX), Y0; \
	VMOVDQU Y0, frame+BB_OUT(SP); \
	VMOVDQU 32(AX), Y0; \
	VMOVDQU Y0, frame+BB_XP(SP); \
	VMOVDQU 64(AX), Y0; \
	VMOVDQU Y0, frame+BB_XQ(SP); \
	VMOVDQU 96(AX), Y0; \
	VMOVDQU Y0, frame+BB_D(SP); \
	VMOVDQU 128(AX), Y0; \
	VMOVDQU Y0, frame+BB_S(SP)

// BB_X(frame, f): R10-R13 = the tokens' x pointers of field f (BB_XP, BB_XQ).
#define BB_X(frame, f) \
	MOVQ frame+f(SP), R10; \
	MOVQ frame+f+8(SP), R11; \
	MOVQ frame+f+16(SP), R12; \
	MOVQ frame+f+24(SP), R13

// BB_STORE(frame, t, a, b, xa, xb): token t's row total (HSUM_Y0_Y1's order) into
// its output.
#define BB_STORE(frame, t, a, b, xa, xb) \
	HSUM(a, b, xa, xb); \
	MOVQ   frame+BB_OUT+8*t(SP), AX; \
	VMOVSS xa, (AX); \
	ADDQ   $4, frame+BB_OUT+8*t(SP)
