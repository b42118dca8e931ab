package kernels

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// TestMatMulThen checks MatMulThen (with a RowAdder) and MatMulPairThen against MatMul followed by
// the step over all rows: the same products, every row stepped once, after its
// rows are final, in chunks that start at multiples of thenAlign. The step is a
// SwiGLU (pair) or a residual add (single), as the engines use them; row counts
// that are not multiples of the SIMD widths check that the split does not change
// which elements take the reference path. The pair's second matrix is in another
// encoding for 1413 rows (a Q4_K_M file may hold a gate in Q4_K and an up
// projection in Q6_K).
func TestMatMulThen(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const cols = 256
	for e, enc := range Encodings {
		for _, rows := range []int{5, 1000, 1413} {
			enc1 := enc
			if rows == 1413 {
				enc1 = Encodings[(e+4)%len(Encodings)]
			}
			for _, n := range []int{1, 3} {
				for _, workers := range []int{1, 2, 3} {
					pool := NewPool(workers)
					m0 := randomMatrix(r, rows, cols, enc)
					m1 := randomMatrix(r, rows, cols, enc1)
					x := randomVector(r, n*cols)
					resid := randomVector(r, n*rows)

					want0, want1 := make([]float32, n*rows), make([]float32, n*rows)
					pool.MatMul(want0, m0, x, n)
					pool.MatMul(want1, m1, x, n)
					wantAdd := slices.Clone(resid)
					Axpy(wantAdd, 1, want0)
					for tok := range n {
						SwiGLU(want0[tok*rows:(tok+1)*rows], want1[tok*rows:(tok+1)*rows])
					}

					var mu sync.Mutex
					var chunks [][2]int
					record := func(lo, hi int, out []float32, want []float32) {
						mu.Lock()
						defer mu.Unlock()
						chunks = append(chunks, [2]int{lo, hi})
						for tok := range n { // the rows are final when the step runs
							if !slices.Equal(out[tok*rows+lo:tok*rows+hi], want[tok*rows+lo:tok*rows+hi]) {
								t.Errorf("%v rows=%d n=%d workers=%d: rows [%d,%d) of token %d not final at the step", enc, rows, n, workers, lo, hi, tok)
							}
						}
					}
					check := func(name string) {
						t.Helper()
						slices.SortFunc(chunks, func(a, b [2]int) int { return a[0] - b[0] })
						at := 0
						for _, c := range chunks {
							if c[0] != at || c[1] <= c[0] || (c[1] != rows && c[1]%thenAlign != 0) {
								t.Fatalf("%s %v rows=%d n=%d workers=%d: chunks %v do not tile [0,%d) at multiples of %d", name, enc, rows, n, workers, chunks, rows, thenAlign)
							}
							at = c[1]
						}
						if at != rows {
							t.Fatalf("%s %v rows=%d n=%d workers=%d: chunks %v do not cover [0,%d)", name, enc, rows, n, workers, chunks, rows)
						}
						chunks = nil
					}

					// One matrix, then the residual add.
					out, got := make([]float32, n*rows), slices.Clone(resid)
					plain0 := make([]float32, n*rows)
					pool.MatMul(plain0, m0, x, n)
					var add RowAdder
					add.Set(got, out, n)
					pool.matMulThen([]Matrix{m0}, [][]float32{out}, x, n, func(lo, hi int) {
						record(lo, hi, out, plain0)
						add.Step(lo, hi)
					})
					check("MatMulThen")
					if !slices.Equal(got, wantAdd) {
						t.Fatalf("%v rows=%d n=%d workers=%d: MatMulThen's residual differs from MatMul and Axpy", enc, rows, n, workers)
					}

					// Two matrices, then SwiGLU.
					h, g := make([]float32, n*rows), make([]float32, n*rows)
					pool.matMulThen([]Matrix{m0, m1}, [][]float32{h, g}, x, n, func(lo, hi int) {
						record(lo, hi, g, want1)
						for tok := range n {
							SwiGLU(h[tok*rows+lo:tok*rows+hi], g[tok*rows+lo:tok*rows+hi])
						}
					})
					check("MatMulPairThen")
					if !slices.Equal(h, want0) {
						t.Fatalf("%v rows=%d n=%d workers=%d: MatMulPairThen with SwiGLU differs from two MatMuls and SwiGLU", enc, rows, n, workers)
					}
					pool.Close()
				}
			}
		}
	}
}

func TestMatMulPairThenPanicsOnShapeMismatch(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for matrices of different shapes")
		}
	}()
	a := Matrix{Rows: 2, Cols: 32, Enc: F32, Data: make([]byte, 2*32*4)}
	b := Matrix{Rows: 1, Cols: 32, Enc: F32, Data: make([]byte, 32*4)}
	MatMulPairThen(make([]float32, 2), make([]float32, 2), a, b, make([]float32, 32), 1, func(lo, hi int) {})
}
