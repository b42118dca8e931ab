package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

var vecLens = []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 128, 129, 1000, 4099}

func randVec(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n+1)[1:] // not 32-byte aligned
	for i := range v {
		v[i] = float32(rng.NormFloat64() * scale)
	}
	return v
}

func TestDot(t *testing.T) {
	simd := simdUnderTest(t)
	rng := rand.New(rand.NewPCG(40, 41))
	for _, n := range vecLens {
		// Exact: small integers.
		a, b := make([]float32, n), make([]float32, n)
		for i := range a {
			a[i], b[i] = float32(rng.IntN(65)-32), float32(rng.IntN(65)-32)
		}
		if got, want := simd.dot(a, b), dotRef(a, b); got != want {
			t.Fatalf("n=%d integers: %s %v, reference %v", n, simd.name, got, want)
		}
		// Close: Gaussian.
		a, b = randVec(rng, n, 1), randVec(rng, n, 3)
		var exact, mag float64
		for i := range a {
			exact += float64(a[i]) * float64(b[i])
			mag += math.Abs(float64(a[i]) * float64(b[i]))
		}
		for _, k := range []*impl{&reference, simd} {
			if got := k.dot(a, b); math.Abs(float64(got)-exact) > reorderTol(n, mag) {
				t.Fatalf("n=%d: %s %v, exact %v", n, k.name, got, exact)
			}
		}
	}
	if Dot(nil, nil) != 0 {
		t.Error("Dot of empty vectors is not 0")
	}
}

func TestAxpy(t *testing.T) {
	simd := simdUnderTest(t)
	rng := rand.New(rand.NewPCG(42, 43))
	for _, n := range vecLens {
		x, y := randVec(rng, n, 1), randVec(rng, n, 1)
		a := float32(rng.NormFloat64())
		want := append([]float32(nil), y...)
		axpyRef(want, a, x)
		got := append(make([]float32, 0, n+1), y...)
		got = append(got, 7) // past the end: must stay untouched
		simd.axpy(got[:n], a, x)
		for i := 0; i < n; i++ {
			// One rounding (FMA) against two: within one unit in the last place of the result.
			exact := float64(y[i]) + float64(a)*float64(x[i])
			tol := 0x1p-23*math.Abs(exact) + 0x1p-24*math.Abs(float64(a)*float64(x[i]))
			if math.Abs(float64(got[i])-exact) > tol || math.Abs(float64(want[i])-exact) > tol {
				t.Fatalf("n=%d i=%d: %s %v, reference %v, exact %v", n, i, simd.name, got[i], want[i], exact)
			}
		}
		if got[n] != 7 {
			t.Fatalf("n=%d: %s wrote past the end", n, simd.name)
		}
	}
}

func TestRMSNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(44, 45))
	for _, n := range []int{1, 7, 64, 768} {
		x := randVec(rng, n, 5)
		w := randVec(rng, n, 1)
		var ss float64
		for _, v := range x {
			ss += float64(v) * float64(v)
		}
		inv := 1 / math.Sqrt(ss/float64(n)+1e-5)
		out := make([]float32, n)
		RMSNorm(out, x, w, 1e-5)
		for i := range x {
			want := float64(w[i]) * float64(x[i]) * inv
			if math.Abs(float64(out[i])-want) > 1e-5*(math.Abs(want)+1e-3) {
				t.Fatalf("n=%d i=%d: %v, want %v", n, i, out[i], want)
			}
		}
		RMSNorm(x, x, nil, 1e-5) // in place, no weight
		for i, v := range x {
			want := float64(out[i]) / float64(w[i])
			if math.Abs(float64(v)-want) > 1e-5*(math.Abs(want)+1e-3) {
				t.Fatalf("n=%d i=%d in place: %v, want %v", n, i, v, want)
			}
		}
	}
	// All zeros: eps keeps it finite.
	z := make([]float32, 8)
	RMSNorm(z, z, nil, 1e-5)
	for _, v := range z {
		if v != 0 {
			t.Fatalf("zero vector normalised to %v", z)
		}
	}
}

// TestSoftmax checks Softmax, with the reference kernels and this machine's,
// against float64.
func TestSoftmax(t *testing.T) {
	rng := rand.New(rand.NewPCG(46, 47))
	defer func(k *impl) { kern = k }(kern)
	for _, ref := range []bool{true, false} {
		UseReference(ref)
		testSoftmax(t, rng)
	}
	Softmax(nil) // no panic
}

func testSoftmax(t *testing.T, rng *rand.Rand) {
	for _, n := range []int{1, 2, 5, 7, 8, 9, 31, 128, 1000} {
		for _, scale := range []float64{1, 30, 1e4} { // large logits must not overflow
			x := randVec(rng, n, scale)
			mx := math.Inf(-1)
			for _, v := range x {
				mx = math.Max(mx, float64(v))
			}
			var sum float64
			for _, v := range x {
				sum += math.Exp(float64(v) - mx)
			}
			want := make([]float64, n)
			for i, v := range x {
				want[i] = math.Exp(float64(v)-mx) / sum
			}
			Softmax(x)
			var total float64
			for i, v := range x {
				if math.IsNaN(float64(v)) || math.Abs(float64(v)-want[i]) > 1e-6*want[i]+1e-12 {
					t.Fatalf("n=%d scale=%g i=%d: %v, want %v", n, scale, i, v, want[i])
				}
				total += float64(v)
			}
			if math.Abs(total-1) > 1e-5 {
				t.Fatalf("n=%d scale=%g: sum %v", n, scale, total)
			}
		}
	}
}

// TestScaledSoftmaxMatchesScalingFirst checks, with the reference kernels and
// this machine's, that scaledSoftmax(x, s) gives the bits of run.c's way: scale every
// value, take the maximum with run.c's loop, then the exponentials and the division.
// Signed zeros (the SIMD maximum may pick the other one) and NaNs (the SIMD maximum
// gives NaN, run.c's loop skips them after the first value) included.
func TestScaledSoftmaxMatchesScalingFirst(t *testing.T) {
	rng := rand.New(rand.NewPCG(60, 61))
	defer func(k *impl) { kern = k }(kern)
	nan := float32(math.NaN())
	for _, ref := range []bool{true, false} {
		UseReference(ref)
		for _, n := range []int{1, 2, 7, 8, 9, 33, 161, 1000} {
			for _, s := range []float32{1, 0.125, float32(1 / math.Sqrt(48)), 3.7} {
				for _, special := range [][]float32{nil, {0, float32(math.Copysign(0, -1))}, {nan}, {float32(math.Copysign(0, -1)), 0, nan}} {
					x := randVec(rng, n, 5)
					for i, v := range special {
						x[rng.IntN(n)] = v
						if i == 0 && rng.IntN(2) == 0 {
							x[0] = v
						}
					}
					want := slices.Clone(x)
					for i := range want {
						want[i] *= s
					}
					m := want[0]
					for _, v := range want[1:] {
						if v > m {
							m = v
						}
					}
					kern.divide(want, kern.softmaxExp(want, 1, m))
					got := slices.Clone(x)
					scaledSoftmax(got, s)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
							t.Fatalf("reference %v, n=%d, s=%v, specials %v: element %d = %v, scaling first gives %v", ref, n, s, special, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestSoftmaxExpKernel holds the SIMD exponentials of Softmax to 2 ulp of Exp32's,
// exactly 0 where Exp32 gives 0 (below -87.33654) and not where it does not, and
// their sum to the float64 sum.
func TestSoftmaxExpKernel(t *testing.T) {
	simd := simdUnderTest(t)
	rng := rand.New(rand.NewPCG(58, 59))
	edge := []float32{0, -1e-30, -0.5, -10, -87, -87.33, -87.3365, -87.33654, -87.3366, -87.4, -88, -100, -1e30}
	for _, n := range []int{1, 3, 4, 8, 13, 16, 100} {
		x := make([]float32, n)
		for i := range x {
			x[i] = edge[rng.IntN(len(edge))] * []float32{1, float32(1 + 1e-3*rng.Float64())}[rng.IntN(2)]
		}
		const m = 0 // x - m is x: the edge values stay exact
		got, want := slices.Clone(x), slices.Clone(x)
		gotSum := simd.softmaxExp(got, 1, m)
		reference.softmaxExp(want, 1, m)
		var sum float64
		for i := range x {
			ulp := math.Nextafter32(want[i], 1) - want[i]
			if (want[i] == 0) != (got[i] == 0) || math.Abs(float64(got[i]-want[i])) > 2*float64(ulp) {
				t.Fatalf("n=%d: e^%v = %v, Exp32 %v", n, x[i], got[i], want[i])
			}
			sum += float64(want[i])
		}
		if math.Abs(float64(gotSum)-sum) > 1e-6*sum {
			t.Fatalf("n=%d: sum %v, want %v", n, gotSum, sum)
		}
	}
}

// TestDivideKernel holds the SIMD division of Softmax's normalisation to the
// reference's bits (IEEE division rounds the same in every lane), tails and edge
// values (zeros, subnormals, infinities, NaN) included.
func TestDivideKernel(t *testing.T) {
	simd := simdUnderTest(t)
	rng := rand.New(rand.NewPCG(60, 61))
	edge := []float32{0, float32(math.Copysign(0, -1)), 1e-45, 1.2e-38, 1, 3, 1e30, float32(math.Inf(1)), float32(math.NaN())}
	for _, n := range []int{0, 1, 3, 4, 7, 8, 9, 16, 100, 161} {
		for _, d := range []float32{1, 3, 7.3e-3, 1e-40, 6e37, float32(math.Inf(1)), 0} {
			x := make([]float32, n)
			for i := range x {
				if rng.IntN(4) == 0 {
					x[i] = edge[rng.IntN(len(edge))]
				} else {
					x[i] = float32(rng.NormFloat64())
				}
			}
			got, want := slices.Clone(x), slices.Clone(x)
			simd.divide(got, d)
			reference.divide(want, d)
			for i := range x {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
					t.Fatalf("n=%d: %v / %v = %v, want %v", n, x[i], d, got[i], want[i])
				}
			}
		}
	}
}

// TestAttend checks one head of attention over a head-major KV cache, fp32 and
// fp16, with the reference kernels and this machine's, against a float64
// computation over the values the cache holds: several head sizes (tails of the
// vector loops) and lengths (one position; more than a block of rows).
func TestAttend(t *testing.T) {
	rng := rand.New(rand.NewPCG(48, 49))
	defer func(k *impl) { kern = k }(kern)
	for _, ref := range []bool{true, false} {
		UseReference(ref)
		for _, enc := range []Encoding{F32, F16} {
			for _, shape := range [][2]int{{64, 37}, {128, 1}, {128, 300}, {16, 5}, {6, 9}, {72, 7}, {8, 4}, {24, 3}, {136, 6}} {
				hd, n := shape[0], shape[1]
				q := randVec(rng, hd, 1)
				keys, values := NewKV(n*hd+1, enc).Slice(1, n*hd+1), NewKV(n*hd, enc) // one unaligned
				keys.Store(0, randVec(rng, n*hd, 1))
				values.Store(0, randVec(rng, n*hd, 1))
				k, v := make([]float32, n*hd), make([]float32, n*hd)
				keys.Load(0, k)
				values.Load(0, v)
				scale := float32(1 / math.Sqrt(float64(hd)))
				out := randVec(rng, hd+1, 1) // Attend overwrites out[:hd] and nothing more
				last := out[hd]
				scores := make([]float32, n)
				Attend(out, q, keys, values, scores, scale)

				w := make([]float64, n)
				var sum float64
				for p := range w {
					var s float64
					for i := 0; i < hd; i++ {
						s += float64(q[i]) * float64(k[p*hd+i])
					}
					w[p] = math.Exp(s * float64(scale))
					sum += w[p]
				}
				for p := range w {
					if d := math.Abs(float64(scores[p]) - w[p]/sum); d > 1e-6 {
						t.Fatalf("reference %v, %v, %dx%d: scores[%d] = %v, want %v", ref, enc, n, hd, p, scores[p], w[p]/sum)
					}
				}
				for i := 0; i < hd; i++ {
					var want float64
					for p := range w {
						want += w[p] / sum * float64(v[p*hd+i])
					}
					if math.Abs(float64(out[i])-want) > 1e-5 {
						t.Fatalf("reference %v, %v, %dx%d: out[%d] = %v, want %v", ref, enc, n, hd, i, out[i], want)
					}
				}
				if out[hd] != last {
					t.Fatalf("reference %v, %v, %dx%d: Attend wrote past the head", ref, enc, n, hd)
				}
			}
		}
	}
}

// TestExp32 checks Exp32, the float32 exponential against float64's over the range a
// softmax feeds it (and beyond), to within 2 ulp.
func TestExp32(t *testing.T) {
	rng := rand.New(rand.NewPCG(50, 51))
	check := func(x float32) {
		got, want := Exp32(x), math.Exp(float64(x))
		if want < 0x1p-126 {
			if got > 0x1p-126 {
				t.Fatalf("Exp32(%v) = %v, want about %v", x, got, want)
			}
			return
		}
		if want > math.MaxFloat32 {
			if !math.IsInf(float64(got), 1) {
				t.Fatalf("Exp32(%v) = %v, want +Inf", x, got)
			}
			return
		}
		ulp := math.Nextafter32(float32(want), float32(math.Inf(1))) - float32(want)
		if d := math.Abs(float64(got) - want); d > 2*float64(ulp) {
			t.Fatalf("Exp32(%v) = %v, want %v (%.1f ulp off)", x, got, want, d/float64(ulp))
		}
	}
	for range 1_000_000 {
		check(float32(rng.Float64()*-100 + 1))
	}
	for _, x := range []float32{0, -0.0, 1e-8, -1e-8, 0.34657, -0.34657, 0.5, -0.5, -1, -87.3, -87.34, -88, -100, 88.7, 88.8, float32(math.Inf(-1))} {
		check(x)
	}
	if v := Exp32(float32(math.NaN())); v == v {
		t.Fatalf("Exp32(NaN) = %v", v)
	}
	if Exp32(0) != 1 {
		t.Fatalf("Exp32(0) = %v", Exp32(0))
	}
}

// TestTanh32 checks Tanh32 against math.Tanh to within 2 ulp (and exactly at 0,
// ±Inf and NaN).
func TestTanh32(t *testing.T) {
	rng := rand.New(rand.NewPCG(52, 53))
	check := func(x float32) {
		got, want := Tanh32(x), float32(math.Tanh(float64(x)))
		ulp := math.Nextafter32(float32(math.Abs(float64(want))), float32(math.Inf(1))) - float32(math.Abs(float64(want)))
		if d := math.Abs(float64(got) - float64(want)); d > 2*float64(ulp) {
			t.Fatalf("Tanh32(%v) = %v, want %v (%.1f ulp off)", x, got, want, d/float64(ulp))
		}
	}
	for range 1_000_000 {
		check(float32(rng.NormFloat64() * 3))
		check(float32(rng.NormFloat64() * 0.05))
	}
	for _, x := range []float32{0.0625, -0.0625, 0.06249, 9.01, 9.02, -9.02, 20, 1e-30, -1e-30} {
		check(x)
	}
	if Tanh32(0) != 0 || Tanh32(float32(math.Inf(1))) != 1 || Tanh32(float32(math.Inf(-1))) != -1 {
		t.Fatalf("Tanh32(0, +Inf, -Inf) = %v, %v, %v", Tanh32(0), Tanh32(float32(math.Inf(1))), Tanh32(float32(math.Inf(-1))))
	}
	if v := Tanh32(float32(math.NaN())); v == v {
		t.Fatalf("Tanh32(NaN) = %v", v)
	}
}

// TestSoftcap checks Softcap, with the reference kernels and this machine's, against
// c·tanh(x/c) in float64 to within 4 ulp: lengths around the vector widths, values
// from tiny to far past the cap, and ±Inf and NaN.
func TestSoftcap(t *testing.T) {
	rng := rand.New(rand.NewPCG(54, 55))
	defer func(k *impl) { kern = k }(kern)
	special := []float32{0, 1e-30, -1e-30, 0.9, -0.9, 15, -15, 135.15, 200, -1e6,
		float32(math.Inf(1)), float32(math.Inf(-1))}
	for _, ref := range []bool{true, false} {
		UseReference(ref)
		for _, c := range []float32{15, 30, 1} {
			for _, n := range []int{1, 7, 8, 9, 31, 1000} {
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(rng.NormFloat64()) * c * []float32{0.01, 0.5, 2}[i%3]
				}
				copy(x, special[:min(n, len(special))])
				got := slices.Clone(x)
				Softcap(got, c)
				for i, v := range x {
					want := float32(float64(c) * math.Tanh(float64(v)/float64(c)))
					ulp := math.Nextafter32(float32(math.Abs(float64(want))), float32(math.Inf(1))) - float32(math.Abs(float64(want)))
					if d := math.Abs(float64(got[i]) - float64(want)); !(d <= 4*float64(ulp)) {
						t.Fatalf("reference %v, c=%v, n=%d: Softcap(%v) = %v, want %v", ref, c, n, v, got[i], want)
					}
				}
			}
			nan := []float32{1, 2, 3, 4, 5, 6, 7, float32(math.NaN()), 9}
			Softcap(nan, c)
			if v := nan[7]; v == v {
				t.Fatalf("reference %v: Softcap(NaN) = %v", ref, v)
			}
		}
	}
}

// TestSwiGLU checks SwiGLU, with the reference kernels and this machine's, against
// silu(h)·g in float64 to within 4 ulp (or 1e-30 for results that underflow):
// lengths around the vector widths, h from tiny to far past where e^-h overflows.
func TestSwiGLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(56, 57))
	defer func(k *impl) { kern = k }(kern)
	special := []float32{0, 1e-30, -1e-30, 1, -1, 20, -20, 87, -87, 88.5, -88.5, 89, -89, 100, -100, 1e6, -1e6}
	for _, ref := range []bool{true, false} {
		UseReference(ref)
		for _, n := range []int{1, 7, 8, 9, 31, 1408} {
			h := make([]float32, n)
			g := make([]float32, n+1)
			for i := range h {
				h[i] = float32(rng.NormFloat64()) * []float32{0.1, 3, 30}[i%3]
				g[i] = float32(rng.NormFloat64())
			}
			copy(h, special[:min(n, len(special))])
			got := slices.Clone(h)
			SwiGLU(got, g)
			for i, a := range h {
				want := float64(a) / (1 + math.Exp(-float64(a))) * float64(g[i])
				w32 := float32(math.Abs(want))
				ulp := float64(math.Nextafter32(w32, float32(math.Inf(1))) - w32)
				if d := math.Abs(float64(got[i]) - want); !(d <= 4*ulp || d <= 1e-30) {
					t.Fatalf("reference %v, n=%d: SwiGLU(%v, %v) = %v, want %v", ref, n, a, g[i], got[i], want)
				}
			}
		}
		nan := []float32{1, 2, 3, 4, 5, 6, 7, float32(math.NaN()), 9}
		SwiGLU(nan, []float32{1, 1, 1, 1, 1, 1, 1, 1, 1})
		if v := nan[7]; v == v {
			t.Fatalf("reference %v: SwiGLU(NaN) = %v", ref, v)
		}
	}
}

// TestScaleKernel holds the SIMD Scale to the reference's bits (two IEEE
// multiplications in every lane), with and without weights, in place and not,
// around the vector widths and over special values.
func TestScaleKernel(t *testing.T) {
	simd := simdUnderTest(t)
	rng := rand.New(rand.NewPCG(62, 63))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	special := []float32{0, float32(math.Copysign(0, -1)), nan, inf, -inf, 1e-45, -1e-40, 3e38, -3e38, 1, -1}
	pick := func(n int) []float32 {
		v := randVec(rng, n, 3)
		for i := range v {
			if rng.IntN(4) == 0 {
				v[i] = special[rng.IntN(len(special))]
			}
		}
		return v
	}
	same := func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b) }
	for _, n := range []int{1, 3, 4, 7, 8, 9, 16, 31, 100, 512, 768} {
		for _, s := range []float32{1, 0.37, 1e20, -2.5} {
			for _, weighted := range []bool{false, true} {
				for _, inPlace := range []bool{false, true} {
					x := pick(n)
					var w []float32
					if weighted {
						w = pick(n)
					}
					want := make([]float32, n)
					reference.scale(want, x, w, s)
					got := make([]float32, n)
					if inPlace {
						got = slices.Clone(x)
						simd.scale(got, got, w, s)
					} else {
						simd.scale(got, x, w, s)
					}
					for i := range want {
						if !same(got[i], want[i]) {
							t.Fatalf("n=%d s=%v weighted=%v in place=%v: element %d = %v, reference %v (x %v)", n, s, weighted, inPlace, i, got[i], want[i], x[i])
						}
					}
				}
			}
		}
	}
	Scale(nil, nil, nil, 1) // no panic
}
