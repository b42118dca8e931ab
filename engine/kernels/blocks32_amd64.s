//go:build amd64 && !purego

#include "textflag.h"
#include "simd_amd64.h"
#include "blocksums_amd64.h"
#include "blockbatch_amd64.h"

// The kernels of Q5_0, Q4_1 and Q5_1 (AVX2): x in Q8_0 or Q8_1 blocks of 32, the
// weights in the file's blocks (blocks32.go). Each block's value is the
// reference's (matVecBlocks32Ref) to the bit: its isum is exact, and the float
// steps are the reference's, eight blocks at a time (blocksums_amd64.h).
//
// Blocks go two at a time: one load puts A's 16 bytes of nibbles in the low half
// and B's in the high half, so the low nibbles are [A0-15 | B0-15] and the high
// ones [A16-31 | B16-31], which VPMADDUBSW multiplies by x laid out the same way
// (pair order, prepareAVX2). The quants multiply unsigned (Q5_0's less their bias
// of 16 afterwards, as -16Σx). The fifth bits of Q5_0 and Q5_1 become 16 in the
// bytes of their weights as in llama.cpp's bytes_from_bits_32 (ggml-cpu-quants.c):
// each byte of the qh dword spread over eight bytes, each byte's own bit picked and
// compared.
//
// The four pairs of a group keep their int16 sums in Y4-Y7 (a round trip of a
// 32-byte vector through the stack cost more here than the group's arithmetic)
// and their scales in X10 (and X11, B32_D).

// b32BitsLo, b32BitsHi: VPSHUFB indices that give each weight's byte of a block's
// qh (one dword in every lane of a half): bytes 0 and 1 for weights 0-15 (in both
// halves: A's, B's), 2 and 3 for weights 16-31; b32BitsOne: the first for the
// low half and the second for the high one (a block alone). b32BitMasks: bit
// j mod 8 for byte j.
DATA b32BitsLo<>+0(SB)/8, $0x0000000000000000
DATA b32BitsLo<>+8(SB)/8, $0x0101010101010101
DATA b32BitsLo<>+16(SB)/8, $0x0000000000000000
DATA b32BitsLo<>+24(SB)/8, $0x0101010101010101
GLOBL b32BitsLo<>(SB), RODATA|NOPTR, $32

DATA b32BitsHi<>+0(SB)/8, $0x0202020202020202
DATA b32BitsHi<>+8(SB)/8, $0x0303030303030303
DATA b32BitsHi<>+16(SB)/8, $0x0202020202020202
DATA b32BitsHi<>+24(SB)/8, $0x0303030303030303
GLOBL b32BitsHi<>(SB), RODATA|NOPTR, $32

DATA b32BitsOne<>+0(SB)/8, $0x0000000000000000
DATA b32BitsOne<>+8(SB)/8, $0x0101010101010101
DATA b32BitsOne<>+16(SB)/8, $0x0202020202020202
DATA b32BitsOne<>+24(SB)/8, $0x0303030303030303
GLOBL b32BitsOne<>(SB), RODATA|NOPTR, $32

DATA b32BitMasks<>+0(SB)/8, $0x8040201008040201
DATA b32BitMasks<>+8(SB)/8, $0x8040201008040201
DATA b32BitMasks<>+16(SB)/8, $0x8040201008040201
DATA b32BitMasks<>+24(SB)/8, $0x8040201008040201
GLOBL b32BitMasks<>(SB), RODATA|NOPTR, $32

// b32Shift: VPSRLVD counts, 0 for the low half and 4 for the high one (a block
// alone: its low nibbles, then its high ones).
DATA b32Shift<>+0(SB)/8, $0
DATA b32Shift<>+8(SB)/8, $0
DATA b32Shift<>+16(SB)/8, $0x0000000400000004
DATA b32Shift<>+24(SB)/8, $0x0000000400000004
GLOBL b32Shift<>(SB), RODATA|NOPTR, $32

DATA b32Ones<>+0(SB)/8, $0x0001000100010001
DATA b32Ones<>+8(SB)/8, $0x0001000100010001
DATA b32Ones<>+16(SB)/8, $0x0001000100010001
DATA b32Ones<>+24(SB)/8, $0x0001000100010001
GLOBL b32Ones<>(SB), RODATA|NOPTR, $32

// func matVecQ5_0AVX2(out *float32, w *byte, xp *int8, xd *float32, xs8 *float32, rows, blocks int)
// func matMulQ5_0AVX2(a *blockBatch, w *byte, rows, blocks int)
#define B32_KERNEL ·matVecQ5_0AVX2
#define B32_BATCH ·matMulQ5_0AVX2
#define B32_BYTES 22
#define B32_QS 6
#define B32_QH 2
#include "blocks32kernel_amd64.h"
#undef B32_KERNEL
#undef B32_BATCH
#undef B32_BYTES
#undef B32_QS
#undef B32_QH

// func matVecQ4_1AVX2(out *float32, w *byte, xp *int8, xd *float32, xs *float32, rows, blocks int)
// func matMulQ4_1AVX2(a *blockBatch, w *byte, rows, blocks int)
#define B32_KERNEL ·matVecQ4_1AVX2
#define B32_BATCH ·matMulQ4_1AVX2
#define B32_BYTES 20
#define B32_QS 4
#define B32_MIN
#include "blocks32kernel_amd64.h"
#undef B32_KERNEL
#undef B32_BATCH
#undef B32_BYTES
#undef B32_QS

// func matVecQ5_1AVX2(out *float32, w *byte, xp *int8, xd *float32, xs *float32, rows, blocks int)
// func matMulQ5_1AVX2(a *blockBatch, w *byte, rows, blocks int)
#define B32_KERNEL ·matVecQ5_1AVX2
#define B32_BATCH ·matMulQ5_1AVX2
#define B32_BYTES 24
#define B32_QS 8
#define B32_QH 4
#include "blocks32kernel_amd64.h"
