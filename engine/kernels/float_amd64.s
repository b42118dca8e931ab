//go:build amd64 && !purego

#include "textflag.h"
#include "simd_amd64.h"

// Float kernels: fp32 and fp16 rows, axpy, and the plain read the others are
// measured against. AVX2 + FMA + F16C.

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
	PREFETCHT0  PF(SI)
	PREFETCHT0  PF+64(SI)
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
// VCVTPH2PS widens 8 halves to 8 floats exactly (subnormals included).
#define HALF_KERNEL ·matVecF16AVX2
#define WIDEN(src, y) VCVTPH2PS src, y
#define WIDEN1(x) \
	VMOVD     AX, x; \
	VCVTPH2PS x, x
#include "halfkernel_amd64.h"

// func matMulF32AVX2(a *floatBatch, w *byte, rows, cols int)
// func matMulF16AVX2(a *floatBatch, w *byte, rows, cols int)
#define FB_KERNEL ·matMulF32AVX2
#define FB_ES 4
#define FB_SHIFT 5
#define FB_XS 1
#define FB_WIDEN(src, y) VMOVUPS src, y
#include "floatbatch_amd64.h"
#undef FB_KERNEL
#undef FB_ES
#undef FB_SHIFT
#undef FB_XS
#undef FB_WIDEN

#define FB_KERNEL ·matMulF16AVX2
#define FB_ES 2
#define FB_SHIFT 4
#define FB_XS 2
#define FB_WIDEN(src, y) WIDEN(src, y)
#include "floatbatch_amd64.h"

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
	PREFETCHT0 PF(SI)
	PREFETCHT0 PF+64(SI)
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

// Attention over one head of the KV cache (Attend): n positions of hd values each,
// hd a multiple of 8.

// func scoresAVX2(out *float32, k *float32, q *float32, n, hd int, v *float32)
// out[j] = dot(q, key j) for n keys, four keys at a time: one load of q serves four
// FMAs, and four sums leave their registers together (two VHADDPS rounds and one
// 128-bit add) instead of one horizontal sum per key, which cost more than the
// products themselves at hd = 64 or 128. The last n%4 keys go alone.
//
// The values at v (laid out as the keys) are prefetched at the pace the keys are
// read: the mix pass after the softmax then finds them in cache instead of starting
// a second cold stream from memory. Decoding llama-50m at 160 positions, attention
// from memory took 16% less time (12 layers: 346 -> 290 us, alternating runs).
TEXT ·scoresAVX2(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DI
	MOVQ k+8(FP), SI
	MOVQ n+24(FP), R8
	MOVQ hd+32(FP), R9
	MOVQ v+40(FP), R12          // the values, prefetched as the keys are read
	MOVQ R9, R10
	SHLQ $2, R10                // bytes per key

sc4:
	CMPQ   R8, $4
	JLT    sc1
	MOVQ   q+16(FP), BX
	MOVQ   R9, CX
	MOVQ   SI, AX
	LEAQ   (SI)(R10*2), DX      // key 2
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

sc4by8:
	PREFETCHT0  (R12)           // 128 bytes of the four keys' values per 32 of each key
	PREFETCHT0  64(R12)
	ADDQ        $128, R12
	VMOVUPS     (BX), Y4
	VFMADD231PS (AX), Y4, Y0
	VFMADD231PS (AX)(R10*1), Y4, Y1
	VFMADD231PS (DX), Y4, Y2
	VFMADD231PS (DX)(R10*1), Y4, Y3
	ADDQ        $32, AX
	ADDQ        $32, DX
	ADDQ        $32, BX
	SUBQ        $8, CX
	JNZ         sc4by8

	VHADDPS      Y1, Y0, Y0     // [k0 k0 k1 k1 | k0 k0 k1 k1] pairs
	VHADDPS      Y3, Y2, Y2
	VHADDPS      Y2, Y0, Y0     // [k0 k1 k2 k3 | k0 k1 k2 k3]
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, (DI)
	ADDQ         $16, DI
	LEAQ         (SI)(R10*4), SI
	SUBQ         $4, R8
	JMP          sc4

sc1:
	TESTQ  R8, R8
	JZ     scdone
	MOVQ   q+16(FP), BX
	MOVQ   R9, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

sc1by8:
	VMOVUPS     (SI), Y4
	VFMADD231PS (BX), Y4, Y0
	ADDQ        $32, SI
	ADDQ        $32, BX
	SUBQ        $8, CX
	JNZ         sc1by8
	HSUM_Y0_Y1
	VMOVSS      X0, (DI)
	ADDQ        $4, DI
	DECQ        R8
	JMP         sc1

scdone:
	VZEROUPPER
	RET

// func mixAVX2(out *float32, v *float32, w *float32, n, hd int)
// out[:hd] += Σ_j w[j]·value j, the values' columns 64 at a time in eight registers
// across all n positions (one broadcast and eight FMAs per position), then 8 at a
// time: out is written once, where one axpy per position loaded and stored it all
// every time. Each column's sum runs over j in order, with FMA, as the axpys did.
TEXT ·mixAVX2(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ v+8(FP), SI
	MOVQ hd+32(FP), R9
	MOVQ R9, R10
	SHLQ $2, R10                // bytes per position

mx64:
	CMPQ   R9, $64
	JLT    mx8
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

mx64pos:
	VBROADCASTSS (BX), Y8
	VFMADD231PS  (AX), Y8, Y0
	VFMADD231PS  32(AX), Y8, Y1
	VFMADD231PS  64(AX), Y8, Y2
	VFMADD231PS  96(AX), Y8, Y3
	VFMADD231PS  128(AX), Y8, Y4
	VFMADD231PS  160(AX), Y8, Y5
	VFMADD231PS  192(AX), Y8, Y6
	VFMADD231PS  224(AX), Y8, Y7
	ADDQ         $4, BX
	ADDQ         R10, AX
	DECQ         CX
	JNZ          mx64pos

	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	ADDQ    $256, DI
	ADDQ    $256, SI
	SUBQ    $64, R9
	JMP     mx64

mx8:
	CMPQ   R9, $8
	JLT    mxdone
	MOVQ   w+16(FP), BX
	MOVQ   n+24(FP), CX
	MOVQ   SI, AX
	VMOVUPS (DI), Y0

mx8pos:
	VBROADCASTSS (BX), Y8
	VFMADD231PS  (AX), Y8, Y0
	ADDQ         $4, BX
	ADDQ         R10, AX
	DECQ         CX
	JNZ          mx8pos

	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	SUBQ    $8, R9
	JMP     mx8

mxdone:
	VZEROUPPER
	RET

// Argmax's passes over a vector of n floats, n a multiple of 8.

// func maxValueAVX2(x *float32, n int) float32
// The largest value, four vectors at a time, or NaN when x holds one: VMAXPS
// passes NaNs by operand order, so the NaN lanes are collected apart (VCMPPS
// unordered) and checked at the end.
TEXT ·maxValueAVX2(SB), NOSPLIT, $0-20
	MOVQ    x+0(FP), SI
	MOVQ    n+8(FP), CX
	VMOVUPS (SI), Y0            // every running maximum starts at the first vector
	VMOVAPS Y0, Y1
	VMOVAPS Y0, Y2
	VMOVAPS Y0, Y3
	VXORPS  Y4, Y4, Y4          // lanes that met a NaN

mv32:
	CMPQ    CX, $32
	JLT     mv8
	VMOVUPS (SI), Y5
	VMOVUPS 32(SI), Y6
	VMOVUPS 64(SI), Y7
	VMOVUPS 96(SI), Y8
	VMAXPS  Y5, Y0, Y0
	VMAXPS  Y6, Y1, Y1
	VMAXPS  Y7, Y2, Y2
	VMAXPS  Y8, Y3, Y3
	VCMPPS  $3, Y5, Y5, Y5      // unordered: NaN
	VCMPPS  $3, Y6, Y6, Y6
	VCMPPS  $3, Y7, Y7, Y7
	VCMPPS  $3, Y8, Y8, Y8
	VORPS   Y5, Y4, Y4
	VORPS   Y6, Y4, Y4
	VORPS   Y7, Y4, Y4
	VORPS   Y8, Y4, Y4
	ADDQ    $128, SI
	SUBQ    $32, CX
	JMP     mv32

mv8:
	TESTQ   CX, CX
	JZ      mvreduce
	VMOVUPS (SI), Y5
	VMAXPS  Y5, Y0, Y0
	VCMPPS  $3, Y5, Y5, Y5
	VORPS   Y5, Y4, Y4
	ADDQ    $32, SI
	SUBQ    $8, CX
	JMP     mv8

mvreduce:
	VMAXPS       Y1, Y0, Y0
	VMAXPS       Y3, Y2, Y2
	VMAXPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	VMOVMSKPS    Y4, AX
	TESTL        AX, AX
	JZ           mvdone
	MOVL         $0x7fc00000, AX
	VMOVD        AX, X0

mvdone:
	VMOVSS X0, ret+16(FP)
	VZEROUPPER
	RET

// func findAVX2(x *float32, n int, v float32) int
// The start of the first vector of 8 holding v (==), or n.
TEXT ·findAVX2(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS v+16(FP), Y1
	XORQ         DX, DX

fd8:
	CMPQ      DX, CX
	JGE       fddone
	VCMPPS    $0, (SI)(DX*4), Y1, Y2 // equal, ordered
	VMOVMSKPS Y2, AX
	TESTL     AX, AX
	JNZ       fddone
	ADDQ      $8, DX
	JMP       fd8

fddone:
	MOVQ DX, ret+24(FP)
	VZEROUPPER
	RET
