//go:build amd64 && !purego

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestQ4VNNIMatchesAVX2 holds the AVX512-VNNI Q4_0 kernels (on YMM, and on ZMM
// where the CPU has AVX512-BW) to the AVX2 one bit for bit (same integer sums, the
// same float steps in every lane): one and two rows at a time, rows
// with and without lone blocks after their groups of eight, and extreme values
// (weights 0 and 15, x at ±127) where an int16 step could saturate if the
// arithmetic were not exact. The AVX2 kernel is the one checked against the
// reference everywhere else when this CPU has VNNI.
func TestQ4VNNIMatchesAVX2(t *testing.T) {
	if !hasAVX512VNNI() {
		t.Skip("no AVX512-VNNI on this CPU")
	}
	impls := []*impl{&vnniImpl}
	if hasAVX512BW() {
		impls = append(impls, &zmmImpl)
	}
	rng := rand.New(rand.NewPCG(74, 75))
	for _, shape := range [][2]int{{1, 256}, {2, 256}, {3, 512}, {8, 768}, {7, 96}, {5, 288}, {16, 1408}, {9, 32}, {6, 2048}, {4, 5632}} {
		rows, cols := shape[0], shape[1]
		for trial := range 4 {
			m := randomMatrix(rng, rows, cols, Q4_0)
			x := randomVector(rng, cols)
			if trial >= 2 { // extremes: weights -1 and 0.875 quantize to nibbles 0 and 15, x to ±127
				w := make([]float32, rows*cols)
				for i := range w {
					w[i] = []float32{-1, 0.875}[rng.IntN(2)]
					if i%BlockSize == 0 {
						w[i] = -1 // sets each block's scale to 1/8
					}
					if i < cols {
						x[i] = float32(1 - 2*rng.IntN(2))
					}
				}
				data := make([]byte, rows*Q4_0.RowBytes(cols))
				if err := EncodeRow(Q4_0, data, w); err != nil { // the rows lie back to back: one long row
					t.Fatal(err)
				}
				var err error
				if m, err = NewMatrix(data, rows, cols, Q4_0); err != nil {
					t.Fatal(err)
				}
			}
			want := make([]float32, rows)
			avx2Impl.matVecQ4(want, m.Data, prepared(&avx2Impl, x, Q4_0).xq[actQ8_0])
			for _, k := range impls {
				got := make([]float32, rows)
				k.matVecQ4(got, m.Data, prepared(k, x, Q4_0).xq[actQ8_0])
				for r := range rows {
					if math.Float32bits(got[r]) != math.Float32bits(want[r]) {
						t.Fatalf("%s, %dx%d trial %d: row %d = %v, AVX2 %v", k.name, rows, cols, trial, r, got[r], want[r])
					}
				}
			}
		}
	}
}
