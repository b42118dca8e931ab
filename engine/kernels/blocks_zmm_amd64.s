//go:build amd64 && !purego

#include "textflag.h"
#include "simd_amd64.h"
#include "blocks_amd64.h"

// The Q4_0 kernel on 512-bit registers, for CPUs with AVX512-VNNI and AVX512-BW:
// four blocks per VPDPBUSD where the VNNI kernel (blocks_vnni_amd64.s) does two.
// Its results are the AVX2 kernel's bit for bit. That kernel adds the blocks of a
// group into two accumulators, pairs 0 and 2 (blocks 0-1, 4-5) into Y0 and pairs
// 1 and 3 into Y1, eight lanes each; here Z0 holds both, Y0's lanes in its low half
// and Y1's in its high half, so the four blocks 0-3 (pairs 0 and 1) go in with one
// instruction of each kind, every lane receiving the same values in the same order
// as before. The correction -d·8Σx, which the AVX2 kernel subtracts from Y0 only,
// is subtracted from Z0 with zeros in the high half (x - 0·0 is x, signed zeros
// and NaNs included). Before the lone blocks after the groups and before the sums,
// Y1 is taken back out of Z0's high half, and the AVX2 kernel's code goes on.
//
// x comes in quad order (xz, prepareZMM): per four blocks a, b, c, d, their low
// halves a0-15 b0-15 c0-15 d0-15, then their high halves; the quants of four
// blocks are 64 contiguous bytes of the group (layout.go), whose low nibbles are
// the blocks' values 0-15 and high nibbles 16-31.

// quadIndex: VPERMPS indices that spread scales 0-3 (then 4-7) over four lanes each.
DATA quadIndex<>+0(SB)/8, $0x0000000000000000
DATA quadIndex<>+8(SB)/8, $0x0000000000000000
DATA quadIndex<>+16(SB)/8, $0x0000000100000001
DATA quadIndex<>+24(SB)/8, $0x0000000100000001
DATA quadIndex<>+32(SB)/8, $0x0000000200000002
DATA quadIndex<>+40(SB)/8, $0x0000000200000002
DATA quadIndex<>+48(SB)/8, $0x0000000300000003
DATA quadIndex<>+56(SB)/8, $0x0000000300000003
DATA quadIndex<>+64(SB)/8, $0x0000000400000004
DATA quadIndex<>+72(SB)/8, $0x0000000400000004
DATA quadIndex<>+80(SB)/8, $0x0000000500000005
DATA quadIndex<>+88(SB)/8, $0x0000000500000005
DATA quadIndex<>+96(SB)/8, $0x0000000600000006
DATA quadIndex<>+104(SB)/8, $0x0000000600000006
DATA quadIndex<>+112(SB)/8, $0x0000000700000007
DATA quadIndex<>+120(SB)/8, $0x0000000700000007
GLOBL quadIndex<>(SB), RODATA|NOPTR, $128

// Q4_QUAD(qoff, xoff, idx, acc): four blocks of one row, quants at qoff(SI), x at
// xoff(BX), scales in Z6 spread by idx, added into acc.
#define Q4_QUAD(qoff, xoff, idx, acc) \
	VMOVDQU64   qoff(SI), Z3; \
	VPSRLW      $4, Z3, Z4; \
	VPANDD      Z14, Z3, Z3; \
	VPANDD      Z14, Z4, Z4; \
	VPXORD      Z5, Z5, Z5; \
	VPDPBUSD    xoff(BX), Z3, Z5; \
	VPDPBUSD    xoff+64(BX), Z4, Z5; \
	VCVTDQ2PS   Z5, Z3; \
	VPERMPS     Z6, idx, Z4; \
	VFMADD231PS Z4, Z3, acc

// Q4_QUAD2: the same four blocks of two rows, the second R13 bytes further, with
// scales in Z6 and Z7 and accumulators accA and accB.
#define Q4_QUAD2(qoff, xoff, idx, accA, accB) \
	VMOVDQU64   qoff(SI), Z3; \
	VMOVDQU64   qoff(SI)(R13*1), Z10; \
	VPSRLW      $4, Z3, Z4; \
	VPANDD      Z14, Z3, Z3; \
	VPANDD      Z14, Z4, Z4; \
	VPSRLW      $4, Z10, Z11; \
	VPANDD      Z14, Z10, Z10; \
	VPANDD      Z14, Z11, Z11; \
	VPXORD      Z5, Z5, Z5; \
	VPDPBUSD    xoff(BX), Z3, Z5; \
	VPDPBUSD    xoff+64(BX), Z4, Z5; \
	VCVTDQ2PS   Z5, Z3; \
	VPERMPS     Z6, idx, Z4; \
	VFMADD231PS Z4, Z3, accA; \
	VPXORD      Z5, Z5, Z5; \
	VPDPBUSD    xoff(BX), Z10, Z5; \
	VPDPBUSD    xoff+64(BX), Z11, Z5; \
	VCVTDQ2PS   Z5, Z10; \
	VPERMPS     Z7, idx, Z11; \
	VFMADD231PS Z11, Z10, accB

// The group macros of q4kernel_amd64.h, which has the rest (the rows, the lone
// blocks after the groups with the AVX2 kernel's code, the sums). The correction's
// 8Σx go through Y12, whose high half the load clears.
#define Q4_CONSTS \
	VPBROADCASTD X14, Z14; \
	VMOVDQU32    quadIndex<>+0(SB), Z8; \
	VMOVDQU32    quadIndex<>+64(SB), Z9

#define Q4_GROUP2 \
	VMOVUPS      (R12), Y12; \
	VFNMADD231PS Z12, Z6, Z0; \
	VFNMADD231PS Z12, Z7, Z2; \
	Q4_QUAD2(16, 0, Z8, Z0, Z2); \
	Q4_QUAD2(80, 128, Z9, Z0, Z2)

#define Q4_GROUP1 \
	VMOVUPS      (R12), Y12; \
	VFNMADD231PS Z12, Z6, Z0; \
	Q4_QUAD(16, 0, Z8, Z0); \
	Q4_QUAD(80, 128, Z9, Z0)

// Y1 (and Y3) back out of the high halves.
#define Q4_DONE2 \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VEXTRACTF64X4 $1, Z2, Y3

#define Q4_DONE1 \
	VEXTRACTF64X4 $1, Z0, Y1

// func matVecQ4ZMM(out *float32, w *byte, xp *int8, xq *int8, xd *float32, xs8 *float32, rows, blocks int)
// xp is x in quad order (prepareZMM).
#define Q4_KERNEL ·matVecQ4ZMM
#include "q4kernel_amd64.h"
