// Shared by the Q6_K kernels (kquants_amd64.s, kbatch_amd64.s): the unpacking of
// a super-block's quants and the spreading of its sub-block scales.

// q6Scale: VPSHUFB masks that spread scales 2j (low half) and 2j+1 (high half) of
// eight int16 over eight lanes each, for j = 0..3.
DATA q6Scale<>+0(SB)/8, $0x0100010001000100
DATA q6Scale<>+8(SB)/8, $0x0100010001000100
DATA q6Scale<>+16(SB)/8, $0x0302030203020302
DATA q6Scale<>+24(SB)/8, $0x0302030203020302
DATA q6Scale<>+32(SB)/8, $0x0504050405040504
DATA q6Scale<>+40(SB)/8, $0x0504050405040504
DATA q6Scale<>+48(SB)/8, $0x0706070607060706
DATA q6Scale<>+56(SB)/8, $0x0706070607060706
DATA q6Scale<>+64(SB)/8, $0x0908090809080908
DATA q6Scale<>+72(SB)/8, $0x0908090809080908
DATA q6Scale<>+80(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA q6Scale<>+88(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA q6Scale<>+96(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA q6Scale<>+104(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA q6Scale<>+112(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA q6Scale<>+120(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL q6Scale<>(SB), RODATA|NOPTR, $128

// Q6_QUANTS(r, h, q0, q1, q2, q3, t0, t1): the four vectors of half h's quants,
// 0..63, of the super-block at (r) (ql at 64h, qh at 128+32h; kquants.go): q0 =
// ql[0:32] low nibbles | qh bits 0-1, q1 = ql[32:64] low | bits 2-3, q2 = ql[0:32]
// high | bits 4-5, q3 = ql[32:64] high | bits 6-7. Y15 holds 0x0f bytes, Y13 0x30
// bytes; t0 and t1 are scratch.
#define Q6_QUANTS(r, h, q0, q1, q2, q3, t0, t1) \
	VMOVDQU 64*h(r), q0; \
	VMOVDQU 64*h+32(r), q1; \
	VPSRLW  $4, q0, q2; \
	VPSRLW  $4, q1, q3; \
	VPAND   Y15, q0, q0; \
	VPAND   Y15, q1, q1; \
	VPAND   Y15, q2, q2; \
	VPAND   Y15, q3, q3; \
	VMOVDQU 128+32*h(r), t0; \
	VPAND   Y13, t0, t1; \
	VPOR    t1, q2, q2; \
	VPSLLW  $4, t0, t1; \
	VPAND   Y13, t1, t1; \
	VPOR    t1, q0, q0; \
	VPSLLW  $2, t0, t1; \
	VPAND   Y13, t1, t1; \
	VPOR    t1, q1, q1; \
	VPSRLW  $2, t0, t1; \
	VPAND   Y13, t1, t1; \
	VPOR    t1, q3, q3
