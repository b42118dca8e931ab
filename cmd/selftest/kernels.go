//go:build linux && arm64

package main

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/metal/sys"
)

// checkKernels: the engines' hot loops on bare metal are the same NEON kernels and
// the same worker pool as hosted. Matrices of every encoding a model.bin holds, 512x256 (from
// 74 KiB in q4_0 to 512 KiB in fp32, all above the 64 KiB at which MatVec splits
// rows across the pool, engine/kernels matvec.go), are multiplied by MatVec and by
// the batched MatMul of prompt prefill,
// with integer data whose sums float32 holds exactly, so the result must be the
// exact answer. Then the pool hands out slices of a matrix to its workers, each
// recording the core it runs on: every core must have run the kernels.
func checkKernels() (string, error) {
	if impl := kernels.Implementation(); impl != "neon" {
		return "", fmt.Errorf("kernels in use: %q, want the NEON kernels", impl)
	}
	info, err := sys.Info()
	if err != nil {
		return "", err
	}
	cores := int(info.Cores)
	pool := kernels.DefaultPool()
	if pool.Workers() != runtime.GOMAXPROCS(0) || pool.Workers() != cores {
		return "", fmt.Errorf("pool of %d workers, GOMAXPROCS %d, %d cores", pool.Workers(), runtime.GOMAXPROCS(0), info.Cores)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	const rows, cols, tokens = 512, 256, 3
	var f16 exactCase
	for _, enc := range []kernels.Encoding{kernels.F32, kernels.F16, kernels.Q8_0, kernels.Q4_0} {
		c, err := newExactCase(rng, enc, rows, cols, tokens)
		if err != nil {
			return "", err
		}
		got := make([]float32, rows)
		kernels.MatVec(got, c.m, c.x[:cols])
		if err := c.check(got, 0, "MatVec"); err != nil {
			return "", err
		}
		got = make([]float32, tokens*rows)
		kernels.MatMul(got, c.m, c.x, tokens)
		for t := range tokens {
			if err := c.check(got[t*rows:(t+1)*rows], t, "MatMul"); err != nil {
				return "", err
			}
		}
		if enc == kernels.F16 {
			f16 = c
		}
	}

	// Slices of 8 rows on the pool's workers (each MatVec inside runs on the worker
	// that took the slice), until every core has been seen or 3 s have passed.
	const slice = 8
	seen := map[int]bool{}
	rounds := 0
	for deadline := time.Now().Add(3 * time.Second); len(seen) < cores && time.Now().Before(deadline); rounds++ {
		ran := make([]int, rows/slice)
		out := make([]float32, rows)
		rb := len(f16.m.Data) / rows
		kernels.Parallel(rows/slice, func(i int) {
			ran[i] = sys.CurrentCore()
			sub, err := kernels.NewMatrix(f16.m.Data[i*slice*rb:(i+1)*slice*rb], slice, cols, kernels.F16)
			if err != nil {
				panic(err)
			}
			kernels.MatVec(out[i*slice:(i+1)*slice], sub, f16.x[:cols])
		})
		if err := f16.check(out, 0, "MatVec slices on the pool"); err != nil {
			return "", err
		}
		for _, c := range ran {
			seen[c] = true
		}
	}
	var list []int
	for c := range seen {
		list = append(list, c)
	}
	slices.Sort(list)
	if len(list) < cores {
		return "", fmt.Errorf("pool workers ran the kernels on cores %v only, want all %d", list, cores)
	}
	kv, err := checkKVCache(rng)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("kernels %s, %d workers; %dx%d fp32/fp16/q8_0/q4_0 exact through MatVec and MatMul; slices ran on cores %v (%d rounds); %s",
		kernels.Implementation(), pool.Workers(), rows, cols, list, rounds, kv), nil
}

// checkKVCache: q4_0 models keep their KV cache in fp16, rounded by FCVTN in the
// rounding mode of FPCR, which on bare metal is the kernel's to set (each thread's
// starts at zero: to nearest, ties to even, no flush to zero). The pool's workers
// store values and the ties between fp16 neighbours into an fp16 cache, which must
// hold what the pure-Go F32ToF16 gives; then attention over it, with every key
// the same (a uniform softmax over 8 positions) and integer values, must give
// their mean exactly, through Attend2's paired kernels for two query heads.
func checkKVCache(rng *rand.Rand) (string, error) {
	const n = 4096
	src := make([]float32, n)
	for i := range src {
		h := uint16(rng.Uint32())
		if h&0x7c00 == 0x7c00 {
			h &^= 0x4000 // finite
		}
		f := kernels.F16ToF32(h)
		if i%2 == 1 { // the tie between h and the next value up in magnitude
			f = float32((float64(f) + float64(kernels.F16ToF32(h+1))) / 2)
		}
		src[i] = f
	}
	cache := kernels.NewKV(n, kernels.F16)
	const slice = 64
	kernels.Parallel(n/slice, func(i int) { cache.Store(i*slice, src[i*slice:(i+1)*slice]) })
	got := make([]float32, n)
	cache.Load(0, got)
	for i, f := range src {
		if want := kernels.F16ToF32(kernels.F32ToF16(f)); got[i] != want && !(got[i] != got[i] && want != want) {
			return "", fmt.Errorf("fp16 KV cache: %v stored as %v, want %v (FPCR rounding?)", f, got[i], want)
		}
	}

	const positions, hd = 8, 64
	keys, values := kernels.NewKV(positions*hd, kernels.F16), kernels.NewKV(positions*hd, kernels.F16)
	key, value := make([]float32, hd), make([]float32, hd)
	for i := range key {
		key[i] = float32(i%7) - 3
	}
	for p := range positions {
		for i := range value {
			value[i] = float32(p * (i%5 + 1)) // mean over p: 3.5 * (i%5 + 1)
		}
		keys.Store(p*hd, key)
		values.Store(p*hd, value)
	}
	q0, q1 := make([]float32, hd), make([]float32, hd)
	for i := range q0 {
		q0[i], q1[i] = float32(i%3), -float32(i%4)
	}
	out0, out1 := make([]float32, hd), make([]float32, hd)
	s0, s1 := make([]float32, positions), make([]float32, positions)
	kernels.Attend2(out0, out1, q0, q1, keys, values, s0, s1, 0.125)
	for i := range hd {
		want := 3.5 * float32(i%5+1)
		if out0[i] != want || out1[i] != want {
			return "", fmt.Errorf("attention over an fp16 cache: output %d = %v, %v, want %v", i, out0[i], out1[i], want)
		}
	}
	return fmt.Sprintf("fp16 KV cache rounded as F32ToF16 on the workers (%d values, %d ties), attention over it exact", n, n/2), nil
}

// exactCase is a matrix and tokens of integers: weights w and activations x whose
// products and sums are exact in float32, also after the quantized kernels' Q8_0
// rounding of x (every block of x reaches ±127, so its scale is exactly 1) and in
// Q8_0 (a ±127 per block) and Q4_0 (a -8 per block: scale 1, nibble = w+8).
type exactCase struct {
	m      kernels.Matrix
	w      []int32 // rows x cols
	x      []float32
	xi     []int32 // tokens x cols
	rows   int
	cols   int
	encStr string
}

func newExactCase(rng *rand.Rand, enc kernels.Encoding, rows, cols, tokens int) (exactCase, error) {
	c := exactCase{rows: rows, cols: cols, w: make([]int32, rows*cols), xi: make([]int32, tokens*cols), encStr: enc.String()}
	lo, hi, edge := int32(-20), int32(20), int32(0)
	switch enc {
	case kernels.Q8_0:
		lo, hi, edge = -127, 127, 127
	case kernels.Q4_0:
		lo, hi, edge = -7, 7, -8
	}
	for i := range c.w {
		c.w[i] = lo + rng.Int32N(hi-lo+1)
		if edge != 0 && i%kernels.BlockSize == 0 {
			c.w[i] = edge
		}
	}
	c.x = make([]float32, len(c.xi))
	for i := range c.xi {
		c.xi[i] = -126 + rng.Int32N(253)
		if i%kernels.BlockSize == 5 {
			c.xi[i] = 127
		}
		c.x[i] = float32(c.xi[i])
	}
	rb := enc.RowBytes(cols)
	data := make([]byte, rows*rb)
	row := make([]float32, cols)
	for r := range rows {
		for j := range row {
			row[j] = float32(c.w[r*cols+j])
		}
		if err := kernels.EncodeRow(enc, data[r*rb:(r+1)*rb], row); err != nil {
			return exactCase{}, err
		}
	}
	m, err := kernels.NewMatrix(data, rows, cols, enc)
	c.m = m
	return c, err
}

// check compares token t's product with the integer answer.
func (c exactCase) check(got []float32, t int, what string) error {
	for r := range c.rows {
		var want int64
		for j := range c.cols {
			want += int64(c.w[r*c.cols+j]) * int64(c.xi[t*c.cols+j])
		}
		if got[r] != float32(want) {
			return fmt.Errorf("%s %s %dx%d: token %d row %d = %v, want %d", what, c.encStr, c.rows, c.cols, t, r, got[r], want)
		}
	}
	return nil
}
