package kernels

import (
	"math/rand/v2"
	"testing"
)

func TestMatMulGroupMatchesSeparateCalls(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, enc := range Encodings {
		for _, n := range []int{1, 3} {
			for _, pool := range []*Pool{NewPool(1), NewPool(3)} {
				const cols = 256
				rows := []int{512, 64, 200}
				ms := make([]Matrix, len(rows))
				for g, rr := range rows {
					w := make([]float32, rr*cols)
					for i := range w {
						w[i] = r.Float32()*2 - 1
					}
					ms[g] = encodeMatrix(t, enc, w, rr, cols)
				}
				x := make([]float32, n*cols)
				for i := range x {
					x[i] = r.Float32()*2 - 1
				}
				outs := make([][]float32, len(rows))
				for g, rr := range rows {
					outs[g] = make([]float32, n*rr)
				}
				pool.MatMulGroup(outs, ms, x, n)
				for g, m := range ms {
					want := make([]float32, n*m.Rows)
					pool.MatMul(want, m, x, n)
					for i := range want {
						if outs[g][i] != want[i] {
							t.Fatalf("%v n=%d workers=%d: matrix %d element %d = %g, MatMul gives %g", enc, n, pool.Workers(), g, i, outs[g][i], want[i])
						}
					}
				}
				pool.Close()
			}
		}
	}
}

// encodeMatrix stores w (rows x cols) in enc.
func encodeMatrix(t *testing.T, enc Encoding, w []float32, rows, cols int) Matrix {
	t.Helper()
	rb := enc.RowBytes(cols)
	data := make([]byte, rows*rb)
	for i := range rows {
		if err := EncodeRow(enc, data[i*rb:(i+1)*rb], w[i*cols:(i+1)*cols]); err != nil {
			t.Fatal(err)
		}
	}
	m, err := NewMatrix(data, rows, cols, enc)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
