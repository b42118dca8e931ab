// The kernel of the 16-bit float rows, fp16 (float_amd64.s) and bf16
// (bf16_amd64.s), included once for each. The file that includes it defines
// HALF_KERNEL (its name), WIDEN(src, y) (eight values at src widened to float32
// in y, exactly) and WIDEN1(x) (the value in AX's low 16 bits widened into x's
// lane 0); the widening is exact, so the products are those of the reference and
// only the order of the additions differs.
//
// func HALF_KERNEL(out *float32, w *byte, x *float32, rows, cols int)
TEXT HALF_KERNEL(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ rows+24(FP), R8
	MOVQ cols+32(FP), R9

	// Rows whose length is a multiple of 32 go two at a time (halfrow2), each row's
	// arithmetic exactly as alone: one load of x serves both rows' FMAs, and the
	// two rows are two streams from memory per core instead of one.
	MOVQ  R9, R10
	TESTQ $31, R10
	JNZ   halfrow
	SHLQ  $1, R10              // bytes per row

halfrow2:
	CMPQ   R8, $2
	JLT    halfrow
	MOVQ   DX, BX
	MOVQ   R9, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

halftwo:
	PREFETCHT0  PF(SI)
	PREFETCHT0  PF(SI)(R10*1)
	VMOVUPS     (BX), Y12
	VMOVUPS     32(BX), Y13
	VMOVUPS     64(BX), Y14
	VMOVUPS     96(BX), Y15
	WIDEN((SI), Y4)
	WIDEN(16(SI), Y5)
	WIDEN(32(SI), Y6)
	WIDEN(48(SI), Y7)
	VFMADD231PS Y12, Y4, Y0
	VFMADD231PS Y13, Y5, Y1
	VFMADD231PS Y14, Y6, Y2
	VFMADD231PS Y15, Y7, Y3
	WIDEN((SI)(R10*1), Y4)
	WIDEN(16(SI)(R10*1), Y5)
	WIDEN(32(SI)(R10*1), Y6)
	WIDEN(48(SI)(R10*1), Y7)
	VFMADD231PS Y12, Y4, Y8
	VFMADD231PS Y13, Y5, Y9
	VFMADD231PS Y14, Y6, Y10
	VFMADD231PS Y15, Y7, Y11
	ADDQ        $64, SI
	ADDQ        $128, BX
	SUBQ        $32, CX
	JNZ         halftwo

	VADDPS       Y3, Y2, Y2      // halfsum's steps, for each row
	VADDPS       Y2, Y1, Y1
	HSUM_Y0_Y1
	VMOVSS       X0, (DI)
	VADDPS       Y11, Y10, Y10
	VADDPS       Y10, Y9, Y9
	HSUM(Y8, Y9, X8, X9)
	VMOVSS       X8, 4(DI)
	ADDQ         $8, DI
	ADDQ         R10, SI         // past the second row
	SUBQ         $2, R8
	JNZ          halfrow2
	VZEROUPPER
	RET

halfrow:
	MOVQ   DX, BX
	MOVQ   R9, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

halfby32:
	CMPQ        CX, $32
	JLT         halfby8
	PREFETCHT0  PF(SI)
	WIDEN((SI), Y4)
	WIDEN(16(SI), Y5)
	WIDEN(32(SI), Y6)
	WIDEN(48(SI), Y7)
	VFMADD231PS (BX), Y4, Y0
	VFMADD231PS 32(BX), Y5, Y1
	VFMADD231PS 64(BX), Y6, Y2
	VFMADD231PS 96(BX), Y7, Y3
	ADDQ        $64, SI
	ADDQ        $128, BX
	SUBQ        $32, CX
	JMP         halfby32

halfby8:
	CMPQ        CX, $8
	JLT         halfsum
	WIDEN((SI), Y4)
	VFMADD231PS (BX), Y4, Y0
	ADDQ        $16, SI
	ADDQ        $32, BX
	SUBQ        $8, CX
	JMP         halfby8

halfsum:
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y1, Y1
	HSUM_Y0_Y1

halftail:
	TESTQ       CX, CX
	JZ          halfstore
	MOVWLZX     (SI), AX
	WIDEN1(X4)
	VFMADD231SS (BX), X4, X0
	ADDQ        $2, SI
	ADDQ        $4, BX
	DECQ        CX
	JMP         halftail

halfstore:
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	DECQ   R8
	JNZ    halfrow
	VZEROUPPER
	RET
