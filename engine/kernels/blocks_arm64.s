//go:build arm64 && !purego

#include "textflag.h"
#include "simd_arm64.h"
#include "blocks_arm64.h"

// Block kernels: x arrives as Q8_0 blocks, R5 walking its int8 values and R7 its
// float32 scales. The weights are in the kernels' layout (layout.go): a group of 8
// blocks starts with their 8 fp16 scales, which GROUP_SCALES widens and multiplies
// by the 8 x scales at once (V25 = blocks 0-3, V24 = blocks 4-7), then the 8 blocks'
// quants follow, two blocks per step, accumulated into V16 and V17. The last blocks
// of a row, fewer than 8, keep the file's layout (scale, quants) and go one by one.
// Products of two int8 fit int16, and so does the sum of two (2*128*127 < 32767:
// weights may be -128, quantized x never is), which lets SMLAL2 add the high half's
// products onto the low half's before SADDLP/SADALP widen to int32.

// GROUP_SCALES: V25.4S, V24.4S = the 8 fp16 scales at R1 (d_w) times the next 8 x
// scales (d_x); R1 and R7 move past them.
#define GROUP_SCALES \
	VLD1.P 16(R1), [V24.H8]; \
	VLD1.P 32(R7), [V26.S4, V27.S4]; \
	FCVTL(25, 24); \
	FCVTL2(24, 24); \
	FMUL4S(25, 25, 26); \
	FMUL4S(24, 24, 27)

// BLOCK_SCALE(wreg, sd): Ssd = fp16 bits in wreg (d_w) * next x scale (d_x).
#define BLOCK_SCALE(wreg, sd) \
	FMOVS.P 4(R7), F24; \
	FMOVS   wreg, sd; \
	FCVTHS  sd, sd; \
	FMULS   F24, sd, sd

// DOT32(wa, wb, xa, xb, t, acc, vs, i): acc += float(Σ wa·xa + wb·xb) * Vvs.S[i], for
// 16-byte weight registers wa, wb and x registers xa, xb; t and t+1 are scratch.
#define DOT32(wa, wb, xa, xb, t, acc, vs, i) \
	SMULL8H(t, wa, xa); \
	SMLAL2_8H(t, wa, xa); \
	SMULL8H(t+1, wb, xb); \
	SMLAL2_8H(t+1, wb, xb); \
	SADDLP4S(t, t); \
	SADALP4S(t, t+1); \
	SCVTF4S(t, t); \
	FMLASI(acc, t, vs, i)

// Q8_STEP(vs, i): the next two blocks of a group, scales Vvs.S[i] and Vvs.S[i+1].
#define Q8_STEP(vs, i) \
	VLD1.P 64(R1), [V0.B16, V1.B16, V2.B16, V3.B16]; \
	VLD1.P 64(R5), [V4.B16, V5.B16, V6.B16, V7.B16]; \
	DOT32(0, 1, 4, 5, 8, 16, vs, i); \
	DOT32(2, 3, 6, 7, 10, 17, vs, i+1)

// func matVecQ8NEON(out *float32, w *byte, xq *int8, xd *float32, rows, blocks int)
TEXT ·matVecQ8NEON(SB), NOSPLIT, $0-48
	MOVD out+0(FP), R0
	MOVD w+8(FP), R1
	MOVD xq+16(FP), R2
	MOVD xd+24(FP), R4
	MOVD rows+32(FP), R3
	MOVD blocks+40(FP), R8

q8row:
	MOVD R2, R5
	MOVD R4, R7
	MOVD R8, R6
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16

q8by8:
	CMP $8, R6
	BLT q8by1
	GROUP_SCALES
	Q8_STEP(25, 0)
	Q8_STEP(25, 2)
	Q8_STEP(24, 0)
	Q8_STEP(24, 2)
	SUB $8, R6
	B   q8by8

q8by1:
	CBZ     R6, q8sum
	MOVHU.P 2(R1), R9
	VLD1.P  32(R1), [V0.B16, V1.B16]
	VLD1.P  32(R5), [V4.B16, V5.B16]
	BLOCK_SCALE(R9, F22)
	DOT32(0, 1, 4, 5, 8, 16, 22, 0)
	SUB     $1, R6
	B       q8by1

q8sum:
	FADD4S(16, 16, 17)
	FADDP4S(16, 16, 16)
	FADDP4S(16, 16, 16)
	FMOVS.P F16, 4(R0)
	SUBS    $1, R3
	BNE     q8row
	RET

// Q4_0: a block's byte j holds weight j in its low nibble and weight j+16 in its
// high nibble: AND 0x0f gives weights 0..15, USHR 4 gives 16..31, each q - 8.
// In a group the nibbles are multiplied as they are, 0..15 (still valid int8), so
// four products fit one int16 lane (4*15*127 = 7620) and one SADDLP widens a block;
// the -8 of every weight is applied once per group: acc -= d_w*d_x*8Σx (x's s8, R12),
// as the AVX2 kernel does. The last blocks of a row subtract 8 from each nibble.

// NIBBLES(q, lo): lo = low nibbles of q - 8, q = high nibbles - 8 (V registers).
#define NIBBLES(q, lo) \
	VAND  V30.B16, q.B16, lo.B16; \
	VUSHR $4, q.B16, q.B16; \
	VSUB  V31.B16, lo.B16, lo.B16; \
	VSUB  V31.B16, q.B16, q.B16

// DOT32U(wa, wb, xa, xb, t, acc, vs, i): DOT32 for unsigned nibbles, one int16
// accumulation for the whole block.
#define DOT32U(wa, wb, xa, xb, t, acc, vs, i) \
	SMULL8H(t, wa, xa); \
	SMLAL2_8H(t, wa, xa); \
	SMLAL8H(t, wb, xb); \
	SMLAL2_8H(t, wb, xb); \
	SADDLP4S(t, t); \
	SCVTF4S(t, t); \
	FMLASI(acc, t, vs, i)

// Q4_STEP(vs, i): the next two blocks of a group, scales Vvs.S[i] and Vvs.S[i+1].
#define Q4_STEP(vs, i) \
	VLD1.P 32(R1), [V1.B16, V2.B16]; \
	VLD1.P 64(R5), [V4.B16, V5.B16, V6.B16, V7.B16]; \
	VAND   V30.B16, V1.B16, V0.B16; \
	VUSHR  $4, V1.B16, V1.B16; \
	VAND   V30.B16, V2.B16, V3.B16; \
	VUSHR  $4, V2.B16, V2.B16; \
	DOT32U(0, 1, 4, 5, 8, 16, vs, i); \
	DOT32U(3, 2, 6, 7, 9, 17, vs, i+1)

// func matVecQ4NEON(out *float32, w *byte, xq *int8, xd *float32, xs8 *float32, rows, blocks int)
TEXT ·matVecQ4NEON(SB), NOSPLIT, $0-56
	MOVD out+0(FP), R0
	MOVD w+8(FP), R1
	MOVD xq+16(FP), R2
	MOVD xd+24(FP), R4
	MOVD xs8+32(FP), R11
	MOVD rows+40(FP), R3
	MOVD blocks+48(FP), R8
	VMOVI $15, V30.B16
	VMOVI $8, V31.B16

q4row:
	MOVD R2, R5
	MOVD R4, R7
	MOVD R11, R12
	MOVD R8, R6
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16

q4by8:
	CMP    $8, R6
	BLT    q4by1
	GROUP_SCALES
	VLD1.P 32(R12), [V26.S4, V27.S4]
	FMLS4S(16, 25, 26)
	FMLS4S(17, 24, 27)
	Q4_STEP(25, 0)
	Q4_STEP(25, 2)
	Q4_STEP(24, 0)
	Q4_STEP(24, 2)
	SUB    $8, R6
	B      q4by8

q4by1:
	CBZ     R6, q4sum
	MOVHU.P 2(R1), R9
	VLD1.P  16(R1), [V1.B16]
	VLD1.P  32(R5), [V4.B16, V5.B16]
	NIBBLES(V1, V0)
	BLOCK_SCALE(R9, F22)
	DOT32(0, 1, 4, 5, 8, 16, 22, 0)
	SUB     $1, R6
	B       q4by1

q4sum:
	FADD4S(16, 16, 17)
	FADDP4S(16, 16, 16)
	FADDP4S(16, 16, 16)
	FMOVS.P F16, 4(R0)
	SUBS    $1, R3
	BNE     q4row
	RET

// BQ8_SCALES(d, lo, hi): Vlo, Vhi = a token's d_w·d_x of a group (V24, V25 the d_w of
// blocks 0-3 and 4-7), its next 8 x scales at Rd.
#define BQ8_SCALES(d, lo, hi) \
	VLD1.P 32(d), [V30.S4, V31.S4]; \
	FMUL4S(lo, 24, 30); \
	FMUL4S(hi, 25, 31)

// BQ8_STEP(off, vs, i): the next two blocks of a group (R1), against each token's x
// at off past its cursor, its scales in lanes i and i+1 of Vvs+t.
#define BQ8_STEP(off, vs, i) \
	VLD1.P 64(R1), [V0.B16, V1.B16, V2.B16, V3.B16]; \
	BQ8_TOKEN(R10, off, 16, vs, i); \
	BQ8_TOKEN(R11, off, 18, vs+1, i); \
	BQ8_TOKEN(R19, off, 20, vs+2, i); \
	BQ8_TOKEN(R20, off, 22, vs+3, i)

// BQ8_TOKEN(x, off, acc, vs, i): Q8_STEP's two DOT32s for one token: its x values at
// Rx+off, its accumulators Vacc and Vacc+1.
#define BQ8_TOKEN(x, off, acc, vs, i) \
	FMOVQ off(x), F4; \
	FMOVQ off+16(x), F5; \
	FMOVQ off+32(x), F6; \
	FMOVQ off+48(x), F7; \
	DOT32(0, 1, 4, 5, 8, acc, vs, i); \
	DOT32(2, 3, 6, 7, 10, acc+1, vs, i+1)

// BQ8_ONE(x, d, acc): a lone block (its quants in V0, V1, d_w in F24) for one token:
// BLOCK_SCALE's d_w·d_x with the token's next x scale (Rd), then DOT32 into Vacc.
#define BQ8_ONE(x, d, acc) \
	FMOVS.P 4(d), F25; \
	FMULS   F25, F24, F26; \
	VLD1.P  32(x), [V4.B16, V5.B16]; \
	DOT32(0, 1, 4, 5, 8, acc, 26, 0)

// BQ_STORE: each token's row total, Q8_0's and Q4_0's order (q8sum), from its
// accumulators V16+2t and V17+2t to its out (R0, R4 apart); R0 moves on.
#define BQ_STORE \
	FADD4S(16, 16, 17); \
	FADD4S(18, 18, 19); \
	FADD4S(20, 20, 21); \
	FADD4S(22, 22, 23); \
	FADDP4S(16, 16, 18); \
	FADDP4S(20, 20, 22); \
	FADDP4S(16, 16, 20); \
	MOVD R0, R9; \
	VST1 V16.S[0], (R9); \
	ADD  R4, R9; \
	VST1 V16.S[1], (R9); \
	ADD  R4, R9; \
	VST1 V16.S[2], (R9); \
	ADD  R4, R9; \
	VST1 V16.S[3], (R9); \
	ADD  $4, R0

// func matMulQ8NEON(out *float32, stride int, w *byte, a *neonBatch, rows, blocks int)
// The Q8_0 batch kernel (impl.matMulQ8): matVecQ8NEON for four tokens over each row,
// each token with the same operations in the same accumulators (V16+2t, V17+2t), so
// with its bits; the weights and their scales are loaded and widened once for all
// four. The tokens are a neonBatch (simd_arm64.go), token t's row i goes to
// out[t*stride + i]. R10, R11, R19, R20 walk the tokens' x values, R5, R7, R16, R17
// their scales; V12-V15 and V26-V29 hold each token's d_w·d_x of a group.
TEXT ·matMulQ8NEON(SB), NOSPLIT, $0-48
	MOVD out+0(FP), R0
	MOVD stride+8(FP), R4
	MOVD w+16(FP), R1
	MOVD a+24(FP), R2
	MOVD rows+32(FP), R3
	MOVD blocks+40(FP), R8
	LSL  $2, R4

bq8row:
	MOVD NB_Q(R2), R10
	MOVD NB_Q+8(R2), R11
	MOVD NB_Q+16(R2), R19
	MOVD NB_Q+24(R2), R20
	MOVD NB_D(R2), R5
	MOVD NB_D+8(R2), R7
	MOVD NB_D+16(R2), R16
	MOVD NB_D+24(R2), R17
	MOVD R8, R6
	ZERO8_V16_V23

bq8by8:
	CMP    $8, R6
	BLT    bq8by1
	VLD1.P 16(R1), [V25.H8]
	FCVTL(24, 25)
	FCVTL2(25, 25)
	BQ8_SCALES(R5, 12, 26)
	BQ8_SCALES(R7, 13, 27)
	BQ8_SCALES(R16, 14, 28)
	BQ8_SCALES(R17, 15, 29)
	BQ8_STEP(0, 12, 0)
	BQ8_STEP(64, 12, 2)
	BQ8_STEP(128, 26, 0)
	BQ8_STEP(192, 26, 2)
	ADD    $256, R10
	ADD    $256, R11
	ADD    $256, R19
	ADD    $256, R20
	SUB    $8, R6
	B      bq8by8

bq8by1:
	CBZ     R6, bq8sum
	MOVHU.P 2(R1), R9
	VLD1.P  32(R1), [V0.B16, V1.B16]
	FMOVS   R9, F24
	FCVTHS  F24, F24
	BQ8_ONE(R10, R5, 16)
	BQ8_ONE(R11, R7, 18)
	BQ8_ONE(R19, R16, 20)
	BQ8_ONE(R20, R17, 22)
	SUB     $1, R6
	B       bq8by1

bq8sum:
	BQ_STORE
	SUBS $1, R3
	BNE  bq8row
	RET

// The Q4_0 batch kernel (impl.matMulQ4): matVecQ4NEON for four tokens over each
// row, each token with the same operations in the same accumulators (V16+2t,
// V17+2t), so with its bits; the nibbles are split and the weights' scales widened
// once for all four. Registers as matMulQ8NEON's, and R21-R24 walk the tokens' s8;
// V30 and V31 hold 0x0f and 8 bytes.

// BQ4_SCALES(d, s, lo, hi, acc): Vlo, Vhi = a token's d_w·d_x of a group (V24, V25
// the d_w of blocks 0-3 and 4-7; its x scales at Rd) and its correction, the
// accumulators Vacc and Vacc+1 less d_w·d_x·8Σx (its s8 at Rs).
#define BQ4_SCALES(d, s, lo, hi, acc) \
	VLD1.P 32(d), [V10.S4, V11.S4]; \
	FMUL4S(lo, 24, 10); \
	FMUL4S(hi, 25, 11); \
	VLD1.P 32(s), [V10.S4, V11.S4]; \
	FMLS4S(acc, lo, 10); \
	FMLS4S(acc+1, hi, 11)

// BQ4_TOKEN(x, off, acc, vs, i): Q4_STEP's two DOT32Us for one token: its x values
// at Rx+off, its accumulators Vacc and Vacc+1.
#define BQ4_TOKEN(x, off, acc, vs, i) \
	FMOVQ off(x), F4; \
	FMOVQ off+16(x), F5; \
	FMOVQ off+32(x), F6; \
	FMOVQ off+48(x), F7; \
	DOT32U(0, 1, 4, 5, 8, acc, vs, i); \
	DOT32U(3, 2, 6, 7, 9, acc+1, vs, i+1)

// BQ4_STEP(off, vs, i): the next two blocks of a group (R1), split as Q4_STEP
// splits them, for the four tokens.
#define BQ4_STEP(off, vs, i) \
	VLD1.P 32(R1), [V1.B16, V2.B16]; \
	VAND   V30.B16, V1.B16, V0.B16; \
	VUSHR  $4, V1.B16, V1.B16; \
	VAND   V30.B16, V2.B16, V3.B16; \
	VUSHR  $4, V2.B16, V2.B16; \
	BQ4_TOKEN(R10, off, 16, vs, i); \
	BQ4_TOKEN(R11, off, 18, vs+1, i); \
	BQ4_TOKEN(R19, off, 20, vs+2, i); \
	BQ4_TOKEN(R20, off, 22, vs+3, i)

// func matMulQ4NEON(out *float32, stride int, w *byte, a *neonBatch, rows, blocks int)
TEXT ·matMulQ4NEON(SB), NOSPLIT, $0-48
	MOVD  out+0(FP), R0
	MOVD  stride+8(FP), R4
	MOVD  w+16(FP), R1
	MOVD  a+24(FP), R2
	MOVD  rows+32(FP), R3
	MOVD  blocks+40(FP), R8
	LSL   $2, R4
	VMOVI $15, V30.B16
	VMOVI $8, V31.B16

bq4row:
	MOVD NB_Q(R2), R10
	MOVD NB_Q+8(R2), R11
	MOVD NB_Q+16(R2), R19
	MOVD NB_Q+24(R2), R20
	MOVD NB_D(R2), R5
	MOVD NB_D+8(R2), R7
	MOVD NB_D+16(R2), R16
	MOVD NB_D+24(R2), R17
	MOVD NB_S(R2), R21
	MOVD NB_S+8(R2), R22
	MOVD NB_S+16(R2), R23
	MOVD NB_S+24(R2), R24
	MOVD R8, R6
	ZERO8_V16_V23

bq4by8:
	CMP    $8, R6
	BLT    bq4by1
	VLD1.P 16(R1), [V25.H8]
	FCVTL(24, 25)
	FCVTL2(25, 25)
	BQ4_SCALES(R5, R21, 12, 26, 16)
	BQ4_SCALES(R7, R22, 13, 27, 18)
	BQ4_SCALES(R16, R23, 14, 28, 20)
	BQ4_SCALES(R17, R24, 15, 29, 22)
	BQ4_STEP(0, 12, 0)
	BQ4_STEP(64, 12, 2)
	BQ4_STEP(128, 26, 0)
	BQ4_STEP(192, 26, 2)
	ADD    $256, R10
	ADD    $256, R11
	ADD    $256, R19
	ADD    $256, R20
	SUB    $8, R6
	B      bq4by8

bq4by1:
	// The lone blocks after the groups, their nibbles less 8 (as q4by1).
	CBZ     R6, bq4sum
	MOVHU.P 2(R1), R9
	VLD1.P  16(R1), [V1.B16]
	NIBBLES(V1, V0)
	FMOVS   R9, F24
	FCVTHS  F24, F24
	BQ8_ONE(R10, R5, 16)
	BQ8_ONE(R11, R7, 18)
	BQ8_ONE(R19, R16, 20)
	BQ8_ONE(R20, R17, 22)
	ADD     $4, R21
	ADD     $4, R22
	ADD     $4, R23
	ADD     $4, R24
	SUB     $1, R6
	B       bq4by1

bq4sum:
	BQ_STORE
	SUBS $1, R3
	BNE  bq4row
	RET
