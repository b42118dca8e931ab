//go:build amd64 && !purego

#include "textflag.h"

// AVX2 + FMA + F16C kernels (Go assembler syntax: sources first, destination last).
// Register use common to the matrix kernels:
//	DI out, SI weights (walks every row in turn), R8 rows left
//	BX x cursor, CX columns or blocks left in the row, Y0-Y3 accumulators

// HSUM_Y0_Y1 adds the 8 lanes of Y0 and the 8 lanes of Y1 into X0 lane 0.
#define HSUM_Y0_Y1 \
	VADDPS       Y1, Y0, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS       X1, X0, X0; \
	VHADDPS      X0, X0, X0; \
	VHADDPS      X0, X0, X0

// func matVecF32AVX2(out *float32, w *byte, x *float32, rows, cols int)
TEXT ·matVecF32AVX2(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ rows+24(FP), R8
	MOVQ cols+32(FP), R9

f32row:
	MOVQ   DX, BX
	MOVQ   R9, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

f32by32:
	CMPQ        CX, $32
	JLT         f32by8
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS (BX), Y4, Y0
	VFMADD231PS 32(BX), Y5, Y1
	VFMADD231PS 64(BX), Y6, Y2
	VFMADD231PS 96(BX), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, BX
	SUBQ        $32, CX
	JMP         f32by32

f32by8:
	CMPQ        CX, $8
	JLT         f32sum
	VMOVUPS     (SI), Y4
	VFMADD231PS (BX), Y4, Y0
	ADDQ        $32, SI
	ADDQ        $32, BX
	SUBQ        $8, CX
	JMP         f32by8

f32sum:
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y1, Y1
	HSUM_Y0_Y1

f32tail:
	TESTQ       CX, CX
	JZ          f32store
	VMOVSS      (SI), X4
	VFMADD231SS (BX), X4, X0
	ADDQ        $4, SI
	ADDQ        $4, BX
	DECQ        CX
	JMP         f32tail

f32store:
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	DECQ   R8
	JNZ    f32row
	VZEROUPPER
	RET

// func matVecF16AVX2(out *float32, w *byte, x *float32, rows, cols int)
// VCVTPH2PS widens 8 halves to 8 floats exactly (subnormals included), so the
// products are those of the reference; only the order of the additions differs.
TEXT ·matVecF16AVX2(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ rows+24(FP), R8
	MOVQ cols+32(FP), R9

f16row:
	MOVQ   DX, BX
	MOVQ   R9, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

f16by32:
	CMPQ        CX, $32
	JLT         f16by8
	VCVTPH2PS   (SI), Y4
	VCVTPH2PS   16(SI), Y5
	VCVTPH2PS   32(SI), Y6
	VCVTPH2PS   48(SI), Y7
	VFMADD231PS (BX), Y4, Y0
	VFMADD231PS 32(BX), Y5, Y1
	VFMADD231PS 64(BX), Y6, Y2
	VFMADD231PS 96(BX), Y7, Y3
	ADDQ        $64, SI
	ADDQ        $128, BX
	SUBQ        $32, CX
	JMP         f16by32

f16by8:
	CMPQ        CX, $8
	JLT         f16sum
	VCVTPH2PS   (SI), Y4
	VFMADD231PS (BX), Y4, Y0
	ADDQ        $16, SI
	ADDQ        $32, BX
	SUBQ        $8, CX
	JMP         f16by8

f16sum:
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y1, Y1
	HSUM_Y0_Y1

f16tail:
	TESTQ       CX, CX
	JZ          f16store
	MOVWLZX     (SI), AX
	VMOVD       AX, X4
	VCVTPH2PS   X4, X4
	VFMADD231SS (BX), X4, X0
	ADDQ        $2, SI
	ADDQ        $4, BX
	DECQ        CX
	JMP         f16tail

f16store:
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	DECQ   R8
	JNZ    f16row
	VZEROUPPER
	RET

// Block kernels. x arrives as Q8_0 blocks: BX walks its int8 values, R11 its
// float32 scales. Per block, the integer dot product of 32 weights with 32 values
// uses the sign trick of llama.cpp's mul_sum_i8_pairs (ggml-cpu x86 quants):
// VPMADDUBSW multiplies unsigned by signed bytes, so it gets |w| and x*sign(w).
// Pairs of products fit int16 (2*128*127 < 32767: weights may be -128, x never
// is), VPMADDWD with ones adds pairs into int32, and the 8 int32 lanes are
// converted to float, scaled by d_w*d_x and accumulated.
// Y15 holds sixteen int16 ones, Y14 bytes 0x0f, Y13 bytes 8.

// BLOCK_SCALE_Y2 broadcasts d_w*d_x into Y2: d_w is the fp16 at woff(SI),
// d_x the float32 at doff(R11).
#define BLOCK_SCALE_Y2(woff, doff) \
	MOVWLZX      woff(SI), AX; \
	VMOVD        AX, X2; \
	VCVTPH2PS    X2, X2; \
	VMULSS       doff(R11), X2, X2; \
	VBROADCASTSS X2, Y2

// DOT_I8_Y3_Y4 leaves in Y3, as floats, the pairwise integer sums of Y3 (weights)
// times Y4 (x values), and adds Y3 * Y2 to acc.
#define DOT_I8_Y3_Y4(acc) \
	VPSIGNB     Y3, Y4, Y4; \
	VPABSB      Y3, Y3; \
	VPMADDUBSW  Y4, Y3, Y3; \
	VPMADDWD    Y15, Y3, Y3; \
	VCVTDQ2PS   Y3, Y3; \
	VFMADD231PS Y2, Y3, acc

// Q8 block at woff(SI): fp16 d, then 32 int8.
#define Q8_BLOCK(woff, xoff, doff, acc) \
	BLOCK_SCALE_Y2(woff, doff); \
	VMOVDQU   woff+2(SI), Y3; \
	VMOVDQU   xoff(BX), Y4; \
	DOT_I8_Y3_Y4(acc)

// Q4 block at woff(SI): fp16 d, then 16 bytes; byte j holds weight j in its low
// nibble and weight j+16 in its high nibble, so [low nibbles | high nibbles] is
// the block in order. Nibbles minus 8 are the signed weights.
#define Q4_BLOCK(woff, xoff, doff, acc) \
	BLOCK_SCALE_Y2(woff, doff); \
	VMOVDQU     woff+2(SI), X3; \
	VPSRLW      $4, X3, X5; \
	VINSERTI128 $1, X5, Y3, Y3; \
	VPAND       Y14, Y3, Y3; \
	VPSUBB      Y13, Y3, Y3; \
	VMOVDQU     xoff(BX), Y4; \
	DOT_I8_Y3_Y4(acc)

#define BLOCK_CONSTANTS \
	VPCMPEQW     Y15, Y15, Y15; \
	VPSRLW       $15, Y15, Y15; \
	MOVL         $0x0f0f0f0f, AX; \
	VMOVD        AX, X14; \
	VPBROADCASTD X14, Y14; \
	MOVL         $0x08080808, AX; \
	VMOVD        AX, X13; \
	VPBROADCASTD X13, Y13

// func matVecQ8AVX2(out *float32, w *byte, xq *int8, xd *float32, rows, blocks int)
TEXT ·matVecQ8AVX2(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ xq+16(FP), DX
	MOVQ xd+24(FP), R10
	MOVQ rows+32(FP), R8
	MOVQ blocks+40(FP), R9
	BLOCK_CONSTANTS

q8row:
	MOVQ   DX, BX
	MOVQ   R10, R11
	MOVQ   R9, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

q8by2:
	CMPQ CX, $2
	JLT  q8by1
	Q8_BLOCK(0, 0, 0, Y0)
	Q8_BLOCK(34, 32, 4, Y1)
	ADDQ $68, SI
	ADDQ $64, BX
	ADDQ $8, R11
	SUBQ $2, CX
	JMP  q8by2

q8by1:
	TESTQ CX, CX
	JZ    q8store
	Q8_BLOCK(0, 0, 0, Y0)
	ADDQ  $34, SI

q8store:
	HSUM_Y0_Y1
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	DECQ   R8
	JNZ    q8row
	VZEROUPPER
	RET

// func matVecQ4AVX2(out *float32, w *byte, xq *int8, xd *float32, rows, blocks int)
TEXT ·matVecQ4AVX2(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ xq+16(FP), DX
	MOVQ xd+24(FP), R10
	MOVQ rows+32(FP), R8
	MOVQ blocks+40(FP), R9
	BLOCK_CONSTANTS

q4row:
	MOVQ   DX, BX
	MOVQ   R10, R11
	MOVQ   R9, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

q4by2:
	CMPQ CX, $2
	JLT  q4by1
	Q4_BLOCK(0, 0, 0, Y0)
	Q4_BLOCK(18, 32, 4, Y1)
	ADDQ $36, SI
	ADDQ $64, BX
	ADDQ $8, R11
	SUBQ $2, CX
	JMP  q4by2

q4by1:
	TESTQ CX, CX
	JZ    q4store
	Q4_BLOCK(0, 0, 0, Y0)
	ADDQ  $18, SI

q4store:
	HSUM_Y0_Y1
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	DECQ   R8
	JNZ    q4row
	VZEROUPPER
	RET

// func axpyAVX2(dst *float32, a float32, x *float32, n int)
TEXT ·axpyAVX2(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	VBROADCASTSS a+8(FP), Y0
	MOVQ         x+16(FP), SI
	MOVQ         n+24(FP), CX

axby32:
	CMPQ        CX, $32
	JLT         axby8
	VMOVUPS     (DI), Y1
	VMOVUPS     32(DI), Y2
	VMOVUPS     64(DI), Y3
	VMOVUPS     96(DI), Y4
	VFMADD231PS (SI), Y0, Y1
	VFMADD231PS 32(SI), Y0, Y2
	VFMADD231PS 64(SI), Y0, Y3
	VFMADD231PS 96(SI), Y0, Y4
	VMOVUPS     Y1, (DI)
	VMOVUPS     Y2, 32(DI)
	VMOVUPS     Y3, 64(DI)
	VMOVUPS     Y4, 96(DI)
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	JMP         axby32

axby8:
	CMPQ        CX, $8
	JLT         axtail
	VMOVUPS     (DI), Y1
	VFMADD231PS (SI), Y0, Y1
	VMOVUPS     Y1, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         axby8

axtail:
	TESTQ       CX, CX
	JZ          axdone
	VMOVSS      (DI), X1
	VFMADD231SS (SI), X0, X1
	VMOVSS      X1, (DI)
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JMP         axtail

axdone:
	VZEROUPPER
	RET

// func readStreamAVX2(p *byte, n int) uint64
// ORs every byte of p[:n] (n > 0, a multiple of 128) into the result: a plain
// sequential read with four independent 32-byte loads per step, the machine's read
// bandwidth against which the kernels are measured.
TEXT ·readStreamAVX2(SB), NOSPLIT, $0-24
	MOVQ  p+0(FP), SI
	MOVQ  n+8(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3

rdloop:
	VPOR (SI), Y0, Y0
	VPOR 32(SI), Y1, Y1
	VPOR 64(SI), Y2, Y2
	VPOR 96(SI), Y3, Y3
	ADDQ $128, SI
	SUBQ $128, CX
	JNZ  rdloop

	VPOR         Y1, Y0, Y0
	VPOR         Y3, Y2, Y2
	VPOR         Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPOR         X1, X0, X0
	VPSRLDQ      $8, X0, X1
	VPOR         X1, X0, X0
	VMOVQ        X0, AX
	MOVQ         AX, ret+16(FP)
	VZEROUPPER
	RET
