// Shared by the Q4_K and Q5_K kernels (kquants_amd64.s, kbatch_amd64.s): the
// unpacking of a super-block's sub-block scales and mins, and Q5_K's fifth bits.

// kScale's shuffles (kquants.go), for two super-blocks: from each one's first 16
// bytes (d, dmin, scales[12]) to [sc0..sc7, m0..m7], in two parts. The low bits:
// bytes 4-7 (sc0-3, low 6 bits), 12-15 (sc4-7, low nibbles), 8-11 (m0-3, low 6
// bits), 12-15 (m4-7, high nibbles: shifted right by 4 within their dword); the
// high bits: bits 6-7 of bytes 4-7 (for sc4-7) and of bytes 8-11 (for m4-7), to
// bits 4-5.
DATA kScaleLo<>+0(SB)/8, $0x0f0e0d0c07060504
DATA kScaleLo<>+8(SB)/8, $0x0f0e0d0c0b0a0908
DATA kScaleLo<>+16(SB)/8, $0x0f0e0d0c07060504
DATA kScaleLo<>+24(SB)/8, $0x0f0e0d0c0b0a0908
GLOBL kScaleLo<>(SB), RODATA|NOPTR, $32

DATA kScaleShift<>+0(SB)/8, $0
DATA kScaleShift<>+8(SB)/8, $0x0000000400000000
DATA kScaleShift<>+16(SB)/8, $0
DATA kScaleShift<>+24(SB)/8, $0x0000000400000000
GLOBL kScaleShift<>(SB), RODATA|NOPTR, $32

DATA kScaleLoMask<>+0(SB)/8, $0x0f0f0f0f3f3f3f3f
DATA kScaleLoMask<>+8(SB)/8, $0x0f0f0f0f3f3f3f3f
DATA kScaleLoMask<>+16(SB)/8, $0x0f0f0f0f3f3f3f3f
DATA kScaleLoMask<>+24(SB)/8, $0x0f0f0f0f3f3f3f3f
GLOBL kScaleLoMask<>(SB), RODATA|NOPTR, $32

DATA kScaleHiMask<>+0(SB)/8, $0x3030303030303030
DATA kScaleHiMask<>+8(SB)/8, $0x3030303030303030
DATA kScaleHiMask<>+16(SB)/8, $0x3030303030303030
DATA kScaleHiMask<>+24(SB)/8, $0x3030303030303030
GLOBL kScaleHiMask<>(SB), RODATA|NOPTR, $32

DATA kScaleHi<>+0(SB)/8, $0x0706050480808080
DATA kScaleHi<>+8(SB)/8, $0x0b0a090880808080
DATA kScaleHi<>+16(SB)/8, $0x0706050480808080
DATA kScaleHi<>+24(SB)/8, $0x0b0a090880808080
GLOBL kScaleHi<>(SB), RODATA|NOPTR, $32

// kScaleDup03, kScaleDup47: sc0-3 (sc4-7) of [sc0..sc7, m0..m7] as dwords
// [sc, sc]; kMins: m0-7 as int16.
DATA kScaleDup03<>+0(SB)/8, $0x8001800180008000
DATA kScaleDup03<>+8(SB)/8, $0x8003800380028002
DATA kScaleDup03<>+16(SB)/8, $0x8001800180008000
DATA kScaleDup03<>+24(SB)/8, $0x8003800380028002
GLOBL kScaleDup03<>(SB), RODATA|NOPTR, $32

DATA kScaleDup47<>+0(SB)/8, $0x8005800580048004
DATA kScaleDup47<>+8(SB)/8, $0x8007800780068006
DATA kScaleDup47<>+16(SB)/8, $0x8005800580048004
DATA kScaleDup47<>+24(SB)/8, $0x8007800780068006
GLOBL kScaleDup47<>(SB), RODATA|NOPTR, $32

DATA kMins<>+0(SB)/8, $0x800b800a80098008
DATA kMins<>+8(SB)/8, $0x800f800e800d800c
DATA kMins<>+16(SB)/8, $0x800b800a80098008
DATA kMins<>+24(SB)/8, $0x800f800e800d800c
GLOBL kMins<>(SB), RODATA|NOPTR, $32

// K_SCALES(a, b): the scales of the Q4_K or Q5_K super-blocks at a and b, for a
// pair: Y2 = sub-blocks 0-3's as dwords [sc, sc] (the first super-block's in the
// low half, the second's in the high half), Y3 the same for sub-blocks 4-7, Y1 the
// mins as int16.
#define K_SCALES(a, b) \
	VMOVDQU     a, X0; \
	VINSERTI128 $1, b, Y0, Y0; \
	VPSHUFB     kScaleLo<>(SB), Y0, Y1; \
	VPSRLVD     kScaleShift<>(SB), Y1, Y1; \
	VPAND       kScaleLoMask<>(SB), Y1, Y1; \
	VPSHUFB     kScaleHi<>(SB), Y0, Y2; \
	VPSRLD      $2, Y2, Y2; \
	VPAND       kScaleHiMask<>(SB), Y2, Y2; \
	VPOR        Y2, Y1, Y1; \
	VPSHUFB     kScaleDup03<>(SB), Y1, Y2; \
	VPSHUFB     kScaleDup47<>(SB), Y1, Y3; \
	VPSHUFB     kMins<>(SB), Y1, Y1

// Q5K_FIFTH(shift, n, qh, t, q): q |= the fifth bits of its weights, bit b of the
// super-block's qh (in qh) moved to bit 4 by shift n (VPSLLW 4-b or VPSRLW b-4: no
// bit crosses into bit 4 from the other byte of a word) and picked by k5Bit. t is
// scratch.
#define Q5K_FIFTH(shift, n, qh, t, q) \
	shift $n, qh, t; \
	VPAND k5Bit<>(SB), t, t; \
	VPOR  t, q, q

DATA k5Bit<>+0(SB)/8, $0x1010101010101010
DATA k5Bit<>+8(SB)/8, $0x1010101010101010
DATA k5Bit<>+16(SB)/8, $0x1010101010101010
DATA k5Bit<>+24(SB)/8, $0x1010101010101010
GLOBL k5Bit<>(SB), RODATA|NOPTR, $32
