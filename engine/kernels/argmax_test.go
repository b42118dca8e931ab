package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestArgmaxMatchesRunC holds Argmax to run.c's sample_argmax (argmaxRef) with
// the reference kernels and this machine's: random vectors of every tail length,
// the largest value repeated (the first copy wins), zeros of both signs, infinities,
// and NaNs anywhere (skipped) or first (index 0).
func TestArgmaxMatchesRunC(t *testing.T) {
	rng := rand.New(rand.NewPCG(68, 69))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	defer func(k *impl) { kern = k }(kern)
	for _, ref := range []bool{true, false} {
		UseReference(ref)
		check := func(x []float32) {
			t.Helper()
			if got, want := Argmax(x), argmaxRef(x); got != want {
				t.Fatalf("reference %v, n=%d: Argmax = %d, run.c's loop %d (%v)", ref, len(x), got, want, x[min(len(x), max(got, want))])
			}
		}
		check(nil)
		for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 63, 64, 65, 100, 32000, 50257} {
			for trial := range 12 {
				x := randVec(rng, n, 1)
				switch trial {
				case 1: // the largest value several times
					m := x[Argmax(x)] + 1
					for range 3 {
						x[rng.IntN(n)] = m
					}
				case 2: // all equal
					for i := range x {
						x[i] = 2.5
					}
				case 3: // zeros of both signs, nothing larger
					for i := range x {
						x[i] = -float32(rng.IntN(3))
						if x[i] == 0 && rng.IntN(2) == 0 {
							x[i] = negZero
						}
					}
				case 4: // infinities
					x[rng.IntN(n)], x[rng.IntN(n)] = inf, -inf
				case 5: // NaNs after the first value
					for range 1 + n/10 {
						x[rng.IntN(n)] = nan
					}
					if x[0] != x[0] {
						x[0] = 0
					}
				case 6: // NaN first
					x[0] = nan
				case 7: // only -inf and NaNs
					for i := range x {
						x[i] = -inf
						if i > 0 && rng.IntN(2) == 0 {
							x[i] = nan
						}
					}
				case 8: // the largest value last, in the tail
					x[n-1] = 100
				}
				check(x)
			}
		}
	}
}

// TestArgmaxKernels holds the SIMD passes to the reference: the largest value
// (NaN when there is one) and the first index of a value, or the length.
func TestArgmaxKernels(t *testing.T) {
	simd := simdUnderTest(t)
	rng := rand.New(rand.NewPCG(70, 71))
	for _, n := range []int{1, 3, 4, 8, 9, 16, 31, 32, 33, 100, 1000} {
		for range 20 {
			x := randVec(rng, n, 1)
			if rng.IntN(4) == 0 {
				x[rng.IntN(n)] = float32(math.NaN())
			}
			got, want := simd.maxValue(x), maxValueRef(x)
			if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
				t.Fatalf("n=%d: maxValue %v, want %v", n, got, want)
			}
			v := x[rng.IntN(n)]
			if rng.IntN(3) == 0 {
				v = 42 // absent
			}
			if got, want := simd.find(x, v), findRef(x, v); got != want {
				t.Fatalf("n=%d: find(%v) = %d, want %d", n, v, got, want)
			}
		}
	}
}
