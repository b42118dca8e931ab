// Shared by the kernels of the block encodings whose float arithmetic the
// reference defines to the bit (kquants_amd64.s, blocks32_amd64.s): each block
// (a K-quant super-block) gives one float32 value from its exact integer sums,
// block b into lane b mod 8 of an accumulator, and the lanes add up in blockSums'
// order (ref.go).
//
// A kernel takes a row's blocks one or two at a time and keeps each block's
// integer sums as vectors whose lanes add up to them (in any order: integer sums
// are exact), in registers or in a scratch area on its stack, and each block's
// scales beside them. After eight blocks, or the row's last, it reduces the
// vectors of all eight at once into one register, block k in lane k, and
// computes the eight values with one instruction per step of the reference's
// formula. R9 counts the blocks of the group so far (1 to 8 when a group ends);
// lanes beyond it get +0, which changes no lane's sum (a lane's sum is never -0).

// SUM8(base, dst, t1, t2, t3): dst = the lane sums of the eight int32 vectors at
// base(SP), base+32(SP), ..., vector k in lane k; t1-t3 are scratch.
#define SUM8(base, dst, t1, t2, t3) \
	VMOVDQU    base(SP), t1; \
	VPHADDD    base+32(SP), t1, t1; \
	VMOVDQU    base+64(SP), t2; \
	VPHADDD    base+96(SP), t2, t2; \
	VPHADDD    t2, t1, t1; \
	VMOVDQU    base+128(SP), t2; \
	VPHADDD    base+160(SP), t2, t2; \
	VMOVDQU    base+192(SP), t3; \
	VPHADDD    base+224(SP), t3, t3; \
	VPHADDD    t3, t2, t2; \
	VPERM2I128 $0x20, t2, t1, dst; \
	VPERM2I128 $0x31, t2, t1, t1; \
	VPADDD     t1, dst, dst

// SUM8X(base, dst, xdst, x1, x2): the same for eight vectors of four int32 at
// base(SP), base+16(SP), ...; xdst is dst's low half, x1 and x2 are scratch.
#define SUM8X(base, dst, xdst, x1, x2) \
	VMOVDQU     base(SP), xdst; \
	VPHADDD     base+16(SP), xdst, xdst; \
	VMOVDQU     base+32(SP), x1; \
	VPHADDD     base+48(SP), x1, x1; \
	VPHADDD     x1, xdst, xdst; \
	VMOVDQU     base+64(SP), x1; \
	VPHADDD     base+80(SP), x1, x1; \
	VMOVDQU     base+96(SP), x2; \
	VPHADDD     base+112(SP), x2, x2; \
	VPHADDD     x2, x1, x1; \
	VINSERTI128 $1, x1, dst, dst

// FOLD2(a, b, t): a = [a's halves added | b's halves added], four int32 of each
// sum (lane sums kept); t is scratch.
#define FOLD2(a, b, t) \
	VPERM2I128 $0x20, b, a, t; \
	VPERM2I128 $0x31, b, a, a; \
	VPADDD     t, a, a

// DM_INSERT(a, lane, x): the two fp16 scales of a block (d and m, or d and dmin),
// the dword at a, into dword lane of x: X10 collects the blocks of lanes 0, 1, 4
// and 5 of a group, X11 those of lanes 2, 3, 6 and 7, so that DM_WIDEN finds them
// in order.
#define DM_INSERT(a, lane, x) \
	VPINSRD $lane, a, x, x

// DM_WIDEN: Y1 = the group's d, Y2 its second scales (from X10 and X11); Y3 is
// scratch.
#define DM_WIDEN \
	VCVTPH2PS X10, Y1; \
	VCVTPH2PS X11, Y3; \
	VSHUFPS   $0xdd, Y3, Y1, Y2; \
	VSHUFPS   $0x88, Y3, Y1, Y1

// GROUP_MASK(y): y = all ones in lanes 0 to R9-1, zeros above.
#define GROUP_MASK(y) \
	MOVQ    $8, AX; \
	SUBQ    R9, AX; \
	LEAQ    groupMask<>(SB), DX; \
	VMOVDQU (DX)(AX*4), y

// HSUM8(y, x, xt): lane 0 of x (y's low half) = ((l0+l4) + (l1+l5)) + ((l2+l6) +
// (l3+l7)) of y's lanes, blockSums' total; xt is scratch.
#define HSUM8(y, x, xt) \
	VEXTRACTF128 $1, y, xt; \
	VADDPS       xt, x, x; \
	VHADDPS      x, x, x; \
	VHADDPS      x, x, x

// groupMask: eight dwords of ones, then eight of zeros (GROUP_MASK loads 8 from
// the right place).
DATA groupMask<>+0(SB)/8, $-1
DATA groupMask<>+8(SB)/8, $-1
DATA groupMask<>+16(SB)/8, $-1
DATA groupMask<>+24(SB)/8, $-1
DATA groupMask<>+32(SB)/8, $0
DATA groupMask<>+40(SB)/8, $0
DATA groupMask<>+48(SB)/8, $0
DATA groupMask<>+56(SB)/8, $0
GLOBL groupMask<>(SB), RODATA|NOPTR, $64

// pairOrder: VPERMD indices that put eight dwords [0, 2, 4, 6 | 1, 3, 5, 7] (the
// sums of four pairs of blocks, each pair one per 128-bit half) in order.
DATA pairOrder<>+0(SB)/8, $0x0000000400000000
DATA pairOrder<>+8(SB)/8, $0x0000000500000001
DATA pairOrder<>+16(SB)/8, $0x0000000600000002
DATA pairOrder<>+24(SB)/8, $0x0000000700000003
GLOBL pairOrder<>(SB), RODATA|NOPTR, $32
