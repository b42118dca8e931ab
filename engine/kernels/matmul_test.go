package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// matMulRef is the definition MatMul is tested against: every token through the
// reference kernels on its own, one MatVec at a time.
func matMulRef(out []float32, m Matrix, x []float32, n int) {
	for t := 0; t < n; t++ {
		c := testCase{m: m, x: x[t*m.Cols : (t+1)*m.Cols]}
		copy(out[t*m.Rows:(t+1)*m.Rows], c.run(&reference))
	}
}

// tokens returns n random activation rows of cols values, with the magnitudes of
// real activations varying between tokens.
func tokens(rng *rand.Rand, n, cols int) []float32 {
	x := make([]float32, n*cols)
	for t := 0; t < n; t++ {
		scale := math.Pow(10, float64(rng.IntN(5)-2))
		for j := 0; j < cols; j++ {
			x[t*cols+j] = float32(rng.NormFloat64() * scale)
		}
	}
	return x
}

// perToken is what MatMul must reproduce bit for bit: MatVec with the kernels in
// use, one token at a time.
func perToken(m Matrix, x []float32, n int) []float32 {
	out := make([]float32, n*m.Rows)
	for t := 0; t < n; t++ {
		c := testCase{m: m, x: x[t*m.Cols : (t+1)*m.Cols]}
		copy(out[t*m.Rows:], c.run(kern))
	}
	return out
}

// checkMatMul runs p.MatMul and compares it with per-token MatVec, exactly, and
// checks that nothing past n*Rows was written.
func checkMatMulExact(t *testing.T, p *Pool, name string, m Matrix, x []float32, n int) {
	t.Helper()
	want := perToken(m, x, n)
	got := make([]float32, n*m.Rows+3)
	for i := range got {
		got[i] = float32(math.NaN())
	}
	sentinel := got[n*m.Rows:]
	for i := range sentinel {
		sentinel[i] = 42
	}
	p.MatMul(got, m, x, n)
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s, %d tokens, %d workers: token %d row %d = %v, MatVec %v",
				name, n, p.Workers(), i/m.Rows, i%m.Rows, got[i], want[i])
		}
	}
	for _, v := range sentinel {
		if v != 42 {
			t.Fatalf("%s, %d tokens: wrote past the last token's row", name, n)
		}
	}
}

// TestMatMulMatchesMatVec: every token's output is exactly MatVec's, whatever the
// encoding, shape, batch size, tile size and number of cores (tiles and chunks cut
// the rows anywhere, and a row's sum must not depend on its neighbours).
func TestMatMulMatchesMatVec(t *testing.T) {
	rng := rand.New(rand.NewPCG(60, 61))
	shapes := func(enc Encoding) [][2]int {
		switch enc.BlockWeights() {
		case BlockSize:
			return [][2]int{{1, 32}, {3, 64}, {37, 96}, {64, 416}, {1000, 128}, {300, 800}}
		case superBlock:
			return [][2]int{{1, 256}, {3, 512}, {37, 768}, {40, 2304}}
		}
		return [][2]int{{1, 1}, {3, 7}, {37, 33}, {64, 172}, {1000, 64}, {300, 257}}
	}
	savedTile := matMulTileBytes
	defer func() { matMulTileBytes = savedTile }()
	for _, workers := range []int{1, 2, 3, 4} {
		p := NewPool(workers)
		for _, tile := range []int{1, 4096, savedTile} {
			matMulTileBytes = tile
			for _, enc := range Encodings {
				for _, s := range shapes(enc) {
					c := gaussCase(t, rng, enc, s[0], s[1], 0.05, 1)
					if workers == 3 {
						c = withOffset(c)
					}
					for _, n := range []int{0, 1, 2, 5, 17} {
						x := tokens(rng, n, s[1])
						checkMatMulExact(t, p, fmt.Sprintf("%s tile %d", c.name, tile), c.m, x, n)
					}
				}
			}
		}
		p.Close()
	}
}

// TestMatMulCloseToReference: the SIMD batch against the pure-Go reference, within
// the reordering tolerance of the float64 sum of the same products, per token. The
// block encodings whose kernels must give the reference's bits are held to that
// (TestBlockKernelsMatchReferenceBits, and TestMatMulMatchesMatVec for batches).
func TestMatMulCloseToReference(t *testing.T) {
	simdUnderTest(t)
	rng := rand.New(rand.NewPCG(64, 65))
	for _, enc := range Encodings {
		if slices.Contains(newBlockEncodings, enc) {
			continue
		}
		for _, s := range [][2]int{{5, 64}, {5, 256}, {768, 768}, {300, 3072}} {
			if enc.CheckCols(s[1]) != nil {
				continue
			}
			const n = 7
			c := gaussCase(t, rng, enc, s[0], s[1], 0.05, 1)
			x := tokens(rng, n, s[1])
			got := make([]float32, n*s[0])
			MatMul(got, c.m, x, n)
			want := make([]float32, n*s[0])
			matMulRef(want, c.m, x, n)
			for tok := 0; tok < n; tok++ {
				tc := testCase{name: c.name, m: c.m, x: x[tok*s[1] : (tok+1)*s[1]]}
				sum, mag := tc.exact()
				for i := range sum {
					g, w := float64(got[tok*s[0]+i]), float64(want[tok*s[0]+i])
					tol := reorderTol(s[1], mag[i])
					if math.Abs(w-sum[i]) > tol || math.Abs(g-sum[i]) > tol {
						t.Fatalf("%s token %d row %d: MatMul %v, reference %v, exact %v (tolerance %g)", c.name, tok, i, g, w, sum[i], tol)
					}
				}
			}
		}
	}
}

// TestMatMulExactData: integer-valued data whose sums float32 holds exactly, so the
// SIMD batch must equal the reference batch bit for bit (an index slip between
// tokens cannot hide in a tolerance).
func TestMatMulExactData(t *testing.T) {
	rng := rand.New(rand.NewPCG(66, 67))
	for _, enc := range Encodings {
		for _, cols := range []int{32, 96, 800, 256, 2304} {
			if enc.CheckCols(cols) != nil {
				continue
			}
			const n, rows = 4, 45
			base := intCase(t, rng, enc, rows, cols)
			x := make([]float32, 0, n*cols)
			for tok := 0; tok < n; tok++ {
				x = append(x, intCase(t, rng, enc, 1, cols).x...)
			}
			got := make([]float32, n*rows)
			MatMul(got, base.m, x, n)
			want := make([]float32, n*rows)
			matMulRef(want, base.m, x, n)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s: token %d row %d = %v, reference %v", base.name, i/rows, i%rows, got[i], want[i])
				}
			}
		}
	}
}

func TestMatMulPanicsOnShapeMismatch(t *testing.T) {
	m := mustMatrix(t, make([]byte, 2*32*2), 2, 32, F16)
	for _, c := range []struct{ out, x, n int }{{4, 63, 2}, {3, 64, 2}, {4, 64, 3}, {4, 64, -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("out %d, x %d, n %d: no panic", c.out, c.x, c.n)
				}
			}()
			MatMul(make([]float32, c.out), m, make([]float32, c.x), c.n)
		}()
	}
}

// BenchmarkPrefill286M: the 286M model's matrix set for a batch of tokens (MatMul)
// against the same tokens one at a time (MatVec, a decoding step each), in the same
// run. tokens/s counts matrix work only; x-decode is how many times faster per token
// the batch is.
func BenchmarkPrefill286M(b *testing.B) {
	const batch = 64
	for _, v := range modelVariants {
		for _, threads := range benchThreads() {
			b.Run(fmt.Sprintf("%v/threads=%d", v, threads), func(b *testing.B) {
				m := getBenchModel(shape286M, v)
				p := NewPool(threads)
				defer p.Close()
				rng := rand.New(rand.NewPCG(5, 5))
				xs := map[int][]float32{768: tokens(rng, batch, 768), 3072: tokens(rng, batch, 3072)}
				out := make([]float32, batch*32768)
				var decode time.Duration
				b.ResetTimer()
				for range b.N {
					b.StopTimer()
					t0 := time.Now()
					for _, mat := range m.mats {
						p.MatVec(out, mat, xs[mat.Cols][:mat.Cols])
					}
					decode += time.Since(t0)
					b.StartTimer()
					for _, mat := range m.mats {
						p.MatMul(out, mat, xs[mat.Cols], batch)
					}
				}
				perToken := b.Elapsed().Seconds() / float64(b.N*batch)
				b.ReportMetric(1/perToken, "tokens/s")
				b.ReportMetric(float64(b.N)/decode.Seconds(), "decode-tokens/s")
				b.ReportMetric(decode.Seconds()/float64(b.N)/perToken, "x-decode")
			})
		}
	}
}

// BenchmarkMatMulTile compares weight tile sizes for a 64-token batch over the
// 286M fp16 and q4_0 matrices (matMulTileBytes; fp16's tiles are four times the
// size named, see tileBytes).
func BenchmarkMatMulTile(b *testing.B) {
	const batch = 64
	saved := matMulTileBytes
	defer func() { matMulTileBytes = saved }()
	for _, enc := range []Encoding{F16, Q4_0} {
		for _, tile := range []int{8 << 10, 16 << 10, 32 << 10, 64 << 10, 128 << 10, 256 << 10} {
			b.Run(fmt.Sprintf("%v/%dKiB", enc, tile>>10), func(b *testing.B) {
				matMulTileBytes = tile
				m := getModel286M(enc)
				rng := rand.New(rand.NewPCG(6, 6))
				x768, x3072 := tokens(rng, batch, 768), tokens(rng, batch, 3072)
				out := make([]float32, batch*32768)
				b.ResetTimer()
				for range b.N {
					for _, mat := range m.mats[:6*4] { // four layers: enough to leave the caches
						x := x768
						if mat.Cols == 3072 {
							x = x3072
						}
						MatMul(out, mat, x, batch)
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "tokens/s")
			})
		}
	}
}

// TestBatchKernels: every batch kernel of the kernels in use against the one-token
// kernel of its encoding, called directly: four tokens of different magnitudes over
// rows of every shape the kernel tests use (lone blocks, short rows, groups that end
// early, short rows in pairs), odd row counts, misaligned weights, outputs stride apart with the gaps
// left alone, and for the block encodings edge data (edgeRows, edgeX). Each token's
// rows have the one-token kernel's bits (or NaN where it gives NaN).
func TestBatchKernels(t *testing.T) {
	simd := simdUnderTest(t)
	rng := rand.New(rand.NewPCG(68, 69))
	for _, enc := range Encodings {
		floats, blocks := simd.batch(enc)
		if floats == nil && blocks == nil {
			t.Logf("%s: no batch kernel for %v", simd.name, enc)
			continue
		}
		cols := edgeCols(enc)
		switch enc.BlockWeights() {
		case superBlock:
			cols = append(cols, 1024) // four super-blocks: the most the two-row paths take
		case 1:
			cols = append(cols, 1544) // three blocks of the float kernels' passes and 8 more
		}
		for _, cols := range cols {
			for trial, rows := range []int{1, 2, 3, 7, 13, 16, 21, 34} {
				c := gaussCase(t, rng, enc, rows, cols, 0.05, 1)
				x := tokens(rng, batchTokens, cols)
				if trial == 1 {
					c = withOffset(c)
				}
				if trial == 3 && enc.Quantized() {
					c.m = edgeRows(rng, enc, rows, cols)
					x = x[:0]
					for range batchTokens {
						x = append(x, edgeX(rng, cols)...)
					}
				}
				var ins [batchTokens]Input
				var store [batchTokens][actKinds]q8Vector
				xs := make([]*q8Vector, batchTokens)
				for tok := range ins {
					ins[tok].prepare(simd, x[tok*cols:(tok+1)*cols], []Encoding{enc}, &store[tok])
					xs[tok] = ins[tok].xq[enc.act()]
				}
				stride := rows + 3
				out := make([]float32, (batchTokens-1)*stride+rows+2)
				for i := range out {
					out[i] = 42
				}
				if floats != nil {
					floats(out, rows, stride, c.m.Data, ins[:])
				} else {
					blocks(out, rows, stride, c.m.Data, xs)
				}
				want := make([]float32, rows)
				for tok := range ins {
					matVecRows(&ins[tok], want, c.m, 0, rows)
					for i, w := range want {
						if g := out[tok*stride+i]; !sameFloat(g, w) {
							t.Fatalf("%s %v %dx%d trial %d: %s batch token %d row %d = %v (%#08x), one token %v (%#08x)",
								simd.name, enc, rows, cols, trial, enc, tok, i, g, math.Float32bits(g), w, math.Float32bits(w))
						}
					}
					for i := tok*stride + rows; i < min(len(out), (tok+1)*stride); i++ {
						if out[i] != 42 {
							t.Fatalf("%s %v %dx%d: the batch kernel wrote %v between token %d's rows and the next's", simd.name, enc, rows, cols, out[i], tok)
						}
					}
				}
			}
		}
	}
}
