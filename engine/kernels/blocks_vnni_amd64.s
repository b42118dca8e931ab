//go:build amd64 && !purego

#include "textflag.h"
#include "simd_amd64.h"
#include "blocks_amd64.h"

// The Q4_0 kernel for CPUs with AVX512-VNNI and AVX512-VL (Intel since Ice Lake
// server, AMD since Zen 4): VPDPBUSD adds four u8 x s8 products into each int32
// lane, which is what VPMADDUBSW, VPADDW and VPMADDWD with ones give the AVX2
// kernel (exactly: no int16 sum there can saturate, 2*15*127 and twice that fit),
// in two instructions instead of four, so its results are the AVX2 kernel's bit
// for bit. Go's assembler encodes it as EVEX on the YMM registers; everything else
// is the AVX2 kernel (q4kernel_amd64.h). The nibbles and x's layout are as there.

// Q4_PAIR: two blocks of one row (see blocks_amd64.s), their dword sums in Y5.
#define Q4_PAIR(qoff, xoff, idx, acc) \
	VMOVDQU     qoff(SI), Y3; \
	VPSRLW      $4, Y3, Y4; \
	VPAND       Y14, Y3, Y3; \
	VPAND       Y14, Y4, Y4; \
	VPXOR       Y5, Y5, Y5; \
	VPDPBUSD    xoff(BX), Y3, Y5; \
	VPDPBUSD    xoff+32(BX), Y4, Y5; \
	VCVTDQ2PS   Y5, Y3; \
	VPERMPS     Y6, idx, Y2; \
	VFMADD231PS Y2, Y3, acc

// Q4_PAIR2: the same two blocks of two rows, the second R13 bytes further, one
// after the other through Y15 (the ones the AVX2 pairs need, unused here; the
// two-row path has no lone blocks, whose Q4_BLOCK reads them).
#define Q4_PAIR2(qoff, xoff, idx, accA, accB) \
	VMOVDQU     qoff(SI), Y4; \
	VMOVDQU     qoff(SI)(R13*1), Y12; \
	VPSRLW      $4, Y4, Y5; \
	VPAND       Y14, Y4, Y4; \
	VPAND       Y14, Y5, Y5; \
	VPSRLW      $4, Y12, Y13; \
	VPAND       Y14, Y12, Y12; \
	VPAND       Y14, Y13, Y13; \
	VPXOR       Y15, Y15, Y15; \
	VPDPBUSD    xoff(BX), Y4, Y15; \
	VPDPBUSD    xoff+32(BX), Y5, Y15; \
	VCVTDQ2PS   Y15, Y4; \
	VPERMPS     Y6, idx, Y5; \
	VFMADD231PS Y5, Y4, accA; \
	VPXOR       Y15, Y15, Y15; \
	VPDPBUSD    xoff(BX), Y12, Y15; \
	VPDPBUSD    xoff+32(BX), Y13, Y15; \
	VCVTDQ2PS   Y15, Y12; \
	VPERMPS     Y7, idx, Y13; \
	VFMADD231PS Y13, Y12, accB

// func matVecQ4VNNI(out *float32, w *byte, xp *int8, xq *int8, xd *float32, xs8 *float32, rows, blocks int)
#define Q4_KERNEL ·matVecQ4VNNI
#include "q4kernel_amd64.h"
