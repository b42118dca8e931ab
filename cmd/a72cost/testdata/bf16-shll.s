// matvec over bf16 weights (fp16 rows converted to bf16 at load): the f16
// kernel's loop with each FCVTL/FCVTL2 replaced by SHLL/SHLL2 #16, which puts
// the bf16 bits in the high half of a float32. 32 weights per iteration.
.Lloop:
	cmp	x6, #32
	b.lt	.Lloop
	ld1	{ v0.8h, v1.8h, v2.8h, v3.8h }, [x1], #64
	ld1	{ v24.4s, v25.4s, v26.4s, v27.4s }, [x5], #64
	ld1	{ v28.4s, v29.4s, v30.4s, v31.4s }, [x5], #64
	shll	v4.4s, v0.4h, #16
	shll2	v5.4s, v0.8h, #16
	shll	v6.4s, v1.4h, #16
	shll2	v7.4s, v1.8h, #16
	shll	v8.4s, v2.4h, #16
	shll2	v9.4s, v2.8h, #16
	shll	v10.4s, v3.4h, #16
	shll2	v11.4s, v3.8h, #16
	fmla	v16.4s, v24.4s, v4.4s
	fmla	v17.4s, v25.4s, v5.4s
	fmla	v18.4s, v26.4s, v6.4s
	fmla	v19.4s, v27.4s, v7.4s
	fmla	v20.4s, v28.4s, v8.4s
	fmla	v21.4s, v29.4s, v9.4s
	fmla	v22.4s, v30.4s, v10.4s
	fmla	v23.4s, v31.4s, v11.4s
	sub	x6, x6, #32
	b	.Lloop
