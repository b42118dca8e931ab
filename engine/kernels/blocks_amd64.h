// Shared by the block kernels (blocks_amd64.s, blocks_vnni_amd64.s).

// Block kernels. x arrives as Q8_0 blocks in the layouts prepareAVX2 makes: BX walks
// its values, R11 its float32 scales (and R12, for Q4_0, 8 times the sum of each
// block's values). The weights are in the kernels' layout (layout.go): blocks go 8 at
// a time, a group's 8 fp16 scales converted by one VCVTPH2PS and multiplied by the
// 8 x scales (SCALES8), the products d_w*d_x broadcast (or permuted) per block.
// The last blocks of a row, fewer than 8, are in the file's layout, one at a time.
// A block's integer dot product ends in int32 lanes, converted to float, multiplied
// by the block's scale and accumulated in Y0/Y1. Y15 holds sixteen int16 ones.

// SCALES8: Y6 = the 8 fp16 scales of the group at SI times the 8 x scales at R11.
#define SCALES8 \
	VCVTPH2PS (SI), Y6; \
	VMULPS    (R11), Y6, Y6

// SCALE1_Y2: Y2 = the fp16 scale at 0(SI) times the x scale at 0(R11), broadcast
// (for the last blocks of a row, fewer than 8).
#define SCALE1_Y2 \
	MOVWLZX      0(SI), AX; \
	VMOVD        AX, X2; \
	VCVTPH2PS    X2, X2; \
	VMULSS       (R11), X2, X2; \
	VBROADCASTSS X2, Y2

// One Q4 block alone (the last blocks of a row) against x in its plain order: the
// bytes in both halves of Y3, the high half shifted by 4 (VPSRLVD, counts 0 x4 and
// 4 x4 in Y13), scale in Y2, correction included.
#define Q4_BLOCK(woff, xoff, acc) \
	VBROADCASTI128 woff+2(SI), Y3; \
	VPSRLVD        Y13, Y3, Y3; \
	VPAND          Y14, Y3, Y3; \
	VPMADDUBSW     xoff(BX), Y3, Y3; \
	VPMADDWD       Y15, Y3, Y3; \
	VCVTDQ2PS      Y3, Y3; \
	VFMADD231PS    Y2, Y3, acc

// PAIR_INDEX(k, y): y = dwords [2k x4, 2k+1 x4], VPERMPS indices for pair k.
#define PAIR_INDEX(k, y) \
	MOVQ         $(2*k), AX; \
	VMOVQ        AX, X5; \
	VPBROADCASTD X5, Y5; \
	MOVQ         $(2*k+1), AX; \
	VMOVQ        AX, X4; \
	VPBROADCASTD X4, X4; \
	VINSERTI128  $1, X4, Y5, y
