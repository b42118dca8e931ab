package kernels

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestInputRowsMatchMatVec: rows of products from one prepared Input, in any
// ranges, are MatVec's bits, for every encoding and for matrices of different
// heights sharing the input (as q, k and v do).
func TestInputRowsMatchMatVec(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	const cols = 256
	for _, enc := range Encodings {
		x := randomVector(r, cols)
		in := NewInput(x, enc)
		for _, rows := range []int{1, 7, 64, 300} {
			checkInputRows(t, r, in, randomMatrix(r, rows, cols, enc), x)
		}
		in.Release()
	}
}

// TestInputMixedEncodings: one Input serves matrices of different encodings, of
// every activation kind at once (a Q4_K_M model's q and k in Q4_K and v in Q6_K; a
// fallback file's Q5_0 and Q8_0), each with MatVec's bits; listing an encoding twice
// changes nothing.
func TestInputMixedEncodings(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	const cols = 512
	x := randomVector(r, cols)
	in := NewInput(x, Q4_K, Q6_K, Q4_K, Q5_0, Q8_0, Q4_0, F16, Q4_1, Q5_1, BF16, F32, Q5_K)
	for _, enc := range []Encoding{Q6_K, Q4_K, Q8_0, Q5_0, Q4_0, F16, Q5_1, Q4_1, BF16, F32, Q5_K} {
		checkInputRows(t, r, in, randomMatrix(r, 37, cols, enc), x)
	}
	in.Release()
}

// checkInputRows compares in.Rows over random ranges of m with MatVec.
func checkInputRows(t *testing.T, r *rand.Rand, in *Input, m Matrix, x []float32) {
	t.Helper()
	want := make([]float32, m.Rows)
	MatVec(want, m, x)
	got := make([]float32, m.Rows)
	for lo := 0; lo < m.Rows; {
		hi := min(m.Rows, lo+1+r.IntN(40))
		in.Rows(got, m, lo, hi)
		lo = hi
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%v, %d rows: row %d = %v, MatVec %v", m.Enc, m.Rows, i, got[i], want[i])
		}
	}
}

func TestInputRowsPanicsOnAnotherEncoding(t *testing.T) {
	in := NewInput(make([]float32, 256), Q8_0, Q4_K)
	defer in.Release()
	for _, enc := range []Encoding{Q4_0, Q6_K, F32} {
		func() {
			defer func() {
				if e := recover(); e == nil || !strings.Contains(e.(string), "prepared for [q8_0 q4_k]") {
					t.Errorf("%v matrix with an input prepared for Q8_0 and Q4_K: %v", enc, e)
				}
			}()
			m := Matrix{Rows: 1, Cols: 256, Enc: enc, Data: make([]byte, enc.RowBytes(256))}
			in.Rows(make([]float32, 1), m, 0, 1)
		}()
	}
}

func TestPrepareChecksWidth(t *testing.T) {
	defer func() {
		if e := recover(); e == nil || !strings.Contains(e.(string), "q5_k needs columns in multiples of 256, have 96") {
			t.Errorf("an input of 96 values for Q5_K: %v", e)
		}
	}()
	NewInput(make([]float32, 96), Q8_0, Q5_K)
}
