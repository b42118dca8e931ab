//go:build amd64 && !purego

#include "textflag.h"
#include "simd_amd64.h"


// Attention over an fp16 KV cache (KV, Attend): scoresAVX2 and mixAVX2 with every
// key and value widened by VCVTPH2PS on the way in (exactly, as F16ToF32), and the
// conversion that fills the cache. hd is a multiple of 8.

// func scoresF16AVX2(out *float32, k *uint16, q *float32, n, hd int, v *uint16)
// out[j] = dot(q, key j), four keys at a time as in scoresAVX2, prefetching the
// values at the pace the keys are read (64 bytes of values per 16 of each key).
TEXT ·scoresF16AVX2(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DI
	MOVQ k+8(FP), SI
	MOVQ n+24(FP), R8
	MOVQ hd+32(FP), R9
	MOVQ v+40(FP), R12
	MOVQ R9, R10
	SHLQ $1, R10                // bytes per key

hs4:
	CMPQ   R8, $4
	JLT    hs1
	MOVQ   q+16(FP), BX
	MOVQ   R9, CX
	MOVQ   SI, AX
	LEAQ   (SI)(R10*2), DX      // key 2
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

hs4by8:
	PREFETCHT0  (R12)
	ADDQ        $64, R12
	VMOVUPS     (BX), Y4
	VCVTPH2PS   (AX), Y5
	VCVTPH2PS   (AX)(R10*1), Y6
	VCVTPH2PS   (DX), Y7
	VCVTPH2PS   (DX)(R10*1), Y8
	VFMADD231PS Y5, Y4, Y0
	VFMADD231PS Y6, Y4, Y1
	VFMADD231PS Y7, Y4, Y2
	VFMADD231PS Y8, Y4, Y3
	ADDQ        $16, AX
	ADDQ        $16, DX
	ADDQ        $32, BX
	SUBQ        $8, CX
	JNZ         hs4by8

	VHADDPS      Y1, Y0, Y0     // [k0 k0 k1 k1 | k0 k0 k1 k1] pairs
	VHADDPS      Y3, Y2, Y2
	VHADDPS      Y2, Y0, Y0     // [k0 k1 k2 k3 | k0 k1 k2 k3]
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, (DI)
	ADDQ         $16, DI
	LEAQ         (SI)(R10*4), SI
	SUBQ         $4, R8
	JMP          hs4

hs1:
	TESTQ  R8, R8
	JZ     hsdone
	MOVQ   q+16(FP), BX
	MOVQ   R9, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

hs1by8:
	VCVTPH2PS   (SI), Y4
	VFMADD231PS (BX), Y4, Y0
	ADDQ        $16, SI
	ADDQ        $32, BX
	SUBQ        $8, CX
	JNZ         hs1by8
	HSUM_Y0_Y1
	VMOVSS      X0, (DI)
	ADDQ        $4, DI
	DECQ        R8
	JMP         hs1

hsdone:
	VZEROUPPER
	RET

// func mixF16AVX2(out *float32, v *uint16, w *float32, n, hd int)
// out[:hd] += Σ_j w[j]·value j, 64 columns at a time in eight registers across all
// n positions, then 8 at a time, as mixAVX2.
TEXT ·mixF16AVX2(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ v+8(FP), SI
	MOVQ hd+32(FP), R9
	MOVQ R9, R10
	SHLQ $1, R10                // bytes per position

hm64:
	CMPQ   R9, $64
	JLT    hm8
	MOVQ   w+16(FP), BX
	MOVQ   n+24(FP), CX
	MOVQ   SI, AX
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VMOVUPS 128(DI), Y4
	VMOVUPS 160(DI), Y5
	VMOVUPS 192(DI), Y6
	VMOVUPS 224(DI), Y7

hm64pos:
	VBROADCASTSS (BX), Y8
	VCVTPH2PS    (AX), Y9
	VCVTPH2PS    16(AX), Y10
	VCVTPH2PS    32(AX), Y11
	VCVTPH2PS    48(AX), Y12
	VFMADD231PS  Y9, Y8, Y0
	VFMADD231PS  Y10, Y8, Y1
	VFMADD231PS  Y11, Y8, Y2
	VFMADD231PS  Y12, Y8, Y3
	VCVTPH2PS    64(AX), Y9
	VCVTPH2PS    80(AX), Y10
	VCVTPH2PS    96(AX), Y11
	VCVTPH2PS    112(AX), Y12
	VFMADD231PS  Y9, Y8, Y4
	VFMADD231PS  Y10, Y8, Y5
	VFMADD231PS  Y11, Y8, Y6
	VFMADD231PS  Y12, Y8, Y7
	ADDQ         $4, BX
	ADDQ         R10, AX
	DECQ         CX
	JNZ          hm64pos

	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	ADDQ    $256, DI
	ADDQ    $128, SI
	SUBQ    $64, R9
	JMP     hm64

hm8:
	CMPQ   R9, $8
	JLT    hmdone
	MOVQ   w+16(FP), BX
	MOVQ   n+24(FP), CX
	MOVQ   SI, AX
	VMOVUPS (DI), Y0

hm8pos:
	VBROADCASTSS (BX), Y8
	VCVTPH2PS    (AX), Y9
	VFMADD231PS  Y9, Y8, Y0
	ADDQ         $4, BX
	ADDQ         R10, AX
	DECQ         CX
	JNZ          hm8pos

	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $16, SI
	SUBQ    $8, R9
	JMP     hm8

hmdone:
	VZEROUPPER
	RET

// func toF16AVX2(dst *uint16, src *float32, n int)
// dst[i] = src[i] rounded to fp16, n a multiple of 8. VCVTPS2PH's immediate 0 rounds
// to nearest, ties to even (Intel SDM, VCVTPS2PH), as F32ToF16.
TEXT ·toF16AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

tf8:
	VMOVUPS   (SI), Y0
	VCVTPS2PH $0, Y0, (DI)
	ADDQ      $32, SI
	ADDQ      $16, DI
	SUBQ      $8, CX
	JNZ       tf8
	VZEROUPPER
	RET

// Two query heads over one key/value head (GQA, Attend2): each key and value is
// widened once for both heads, which halves the conversions, on this CPU the
// bound of both passes (one VCVTPH2PS a cycle). Each head's sums run in exactly
// the order of the one-head kernels above, so the results are theirs, bit for bit.

// func scoresF16x2AVX2(out0, out1 *float32, k *uint16, q0, q1 *float32, n, hd int, v *uint16)
TEXT ·scoresF16x2AVX2(SB), NOSPLIT, $0-64
	MOVQ out0+0(FP), DI
	MOVQ out1+8(FP), R11
	MOVQ k+16(FP), SI
	MOVQ n+40(FP), R8
	MOVQ hd+48(FP), R9
	MOVQ v+56(FP), R12
	MOVQ R9, R10
	SHLQ $1, R10                // bytes per key

ps4:
	CMPQ   R8, $4
	JLT    ps1
	MOVQ   q0+24(FP), BX
	MOVQ   q1+32(FP), R13
	MOVQ   R9, CX
	MOVQ   SI, AX
	LEAQ   (SI)(R10*2), DX      // key 2
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

ps4by8:
	PREFETCHT0  (R12)
	ADDQ        $64, R12
	VMOVUPS     (BX), Y8
	VMOVUPS     (R13), Y9
	VCVTPH2PS   (AX), Y10
	VCVTPH2PS   (AX)(R10*1), Y11
	VCVTPH2PS   (DX), Y12
	VCVTPH2PS   (DX)(R10*1), Y13
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y11, Y8, Y1
	VFMADD231PS Y12, Y8, Y2
	VFMADD231PS Y13, Y8, Y3
	VFMADD231PS Y10, Y9, Y4
	VFMADD231PS Y11, Y9, Y5
	VFMADD231PS Y12, Y9, Y6
	VFMADD231PS Y13, Y9, Y7
	ADDQ        $16, AX
	ADDQ        $16, DX
	ADDQ        $32, BX
	ADDQ        $32, R13
	SUBQ        $8, CX
	JNZ         ps4by8

	VHADDPS      Y1, Y0, Y0     // head 0, as scoresF16AVX2
	VHADDPS      Y3, Y2, Y2
	VHADDPS      Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, (DI)
	VHADDPS      Y5, Y4, Y4     // head 1
	VHADDPS      Y7, Y6, Y6
	VHADDPS      Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VADDPS       X5, X4, X4
	VMOVUPS      X4, (R11)
	ADDQ         $16, DI
	ADDQ         $16, R11
	LEAQ         (SI)(R10*4), SI
	SUBQ         $4, R8
	JMP          ps4

ps1:
	TESTQ  R8, R8
	JZ     psdone
	MOVQ   q0+24(FP), BX
	MOVQ   q1+32(FP), R13
	MOVQ   R9, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5

ps1by8:
	VCVTPH2PS   (SI), Y8
	VFMADD231PS (BX), Y8, Y0
	VFMADD231PS (R13), Y8, Y4
	ADDQ        $16, SI
	ADDQ        $32, BX
	ADDQ        $32, R13
	SUBQ        $8, CX
	JNZ         ps1by8
	HSUM_Y0_Y1
	VMOVSS      X0, (DI)
	HSUM(Y4, Y5, X4, X5)
	VMOVSS      X4, (R11)
	ADDQ        $4, DI
	ADDQ        $4, R11
	DECQ        R8
	JMP         ps1

psdone:
	VZEROUPPER
	RET

// func mixF16x2AVX2(out0, out1 *float32, v *uint16, w0, w1 *float32, n, hd int)
// 32 columns of both heads at a time (eight accumulators), then 8.
TEXT ·mixF16x2AVX2(SB), NOSPLIT, $0-56
	MOVQ out0+0(FP), DI
	MOVQ out1+8(FP), R11
	MOVQ v+16(FP), SI
	MOVQ hd+48(FP), R9
	MOVQ R9, R10
	SHLQ $1, R10                // bytes per position

pm32:
	CMPQ   R9, $32
	JLT    pm8
	MOVQ   w0+24(FP), BX
	MOVQ   w1+32(FP), R13
	MOVQ   n+40(FP), CX
	MOVQ   SI, AX
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VMOVUPS (R11), Y4
	VMOVUPS 32(R11), Y5
	VMOVUPS 64(R11), Y6
	VMOVUPS 96(R11), Y7

pm32pos:
	VBROADCASTSS (BX), Y8
	VBROADCASTSS (R13), Y9
	VCVTPH2PS    (AX), Y10
	VCVTPH2PS    16(AX), Y11
	VCVTPH2PS    32(AX), Y12
	VCVTPH2PS    48(AX), Y13
	VFMADD231PS  Y10, Y8, Y0
	VFMADD231PS  Y11, Y8, Y1
	VFMADD231PS  Y12, Y8, Y2
	VFMADD231PS  Y13, Y8, Y3
	VFMADD231PS  Y10, Y9, Y4
	VFMADD231PS  Y11, Y9, Y5
	VFMADD231PS  Y12, Y9, Y6
	VFMADD231PS  Y13, Y9, Y7
	ADDQ         $4, BX
	ADDQ         $4, R13
	ADDQ         R10, AX
	DECQ         CX
	JNZ          pm32pos

	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, (R11)
	VMOVUPS Y5, 32(R11)
	VMOVUPS Y6, 64(R11)
	VMOVUPS Y7, 96(R11)
	ADDQ    $128, DI
	ADDQ    $128, R11
	ADDQ    $64, SI
	SUBQ    $32, R9
	JMP     pm32

pm8:
	CMPQ   R9, $8
	JLT    pmdone
	MOVQ   w0+24(FP), BX
	MOVQ   w1+32(FP), R13
	MOVQ   n+40(FP), CX
	MOVQ   SI, AX
	VMOVUPS (DI), Y0
	VMOVUPS (R11), Y4

pm8pos:
	VBROADCASTSS (BX), Y8
	VBROADCASTSS (R13), Y9
	VCVTPH2PS    (AX), Y10
	VFMADD231PS  Y10, Y8, Y0
	VFMADD231PS  Y10, Y9, Y4
	ADDQ         $4, BX
	ADDQ         $4, R13
	ADDQ         R10, AX
	DECQ         CX
	JNZ          pm8pos

	VMOVUPS Y0, (DI)
	VMOVUPS Y4, (R11)
	ADDQ    $32, DI
	ADDQ    $32, R11
	ADDQ    $16, SI
	SUBQ    $8, R9
	JMP     pm8

pmdone:
	VZEROUPPER
	RET
