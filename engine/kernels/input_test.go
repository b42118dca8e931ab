package kernels

import (
	"math/rand/v2"
	"testing"
)

// TestInputRowsMatchMatVec: rows of products from one prepared Input, in any
// ranges, are MatVec's bits, for every encoding and for matrices of different
// heights sharing the input (as q, k and v do).
func TestInputRowsMatchMatVec(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	const cols = 128
	for _, enc := range Encodings {
		x := randomVector(r, cols)
		in := NewInput(x, enc)
		for _, rows := range []int{1, 7, 64, 300} {
			m := randomMatrix(r, rows, cols, enc)
			want := make([]float32, rows)
			MatVec(want, m, x)
			got := make([]float32, rows)
			for lo := 0; lo < rows; {
				hi := min(rows, lo+1+r.IntN(40))
				in.Rows(got, m, lo, hi)
				lo = hi
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%v, %d rows: row %d = %v, MatVec %v", enc, rows, i, got[i], want[i])
				}
			}
		}
		in.Release()
	}
}

func TestInputRowsPanicsOnAnotherEncoding(t *testing.T) {
	in := NewInput(make([]float32, 32), Q8_0)
	defer in.Release()
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a Q4_0 matrix with an input prepared for Q8_0")
		}
	}()
	m := Matrix{Rows: 1, Cols: 32, Enc: Q4_0, Data: make([]byte, Q4_0.RowBytes(32))}
	in.Rows(make([]float32, 1), m, 0, 1)
}
