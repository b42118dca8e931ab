package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestToF16Kernel holds the SIMD rounding into an fp16 cache to F32ToF16's bits
// (round to nearest, ties to even) for every fp16 value, the midpoints between
// neighbours (ties both ways), subnormals, overflow and random floats, tails
// included. NaN only has to stay NaN: the hardware keeps payload bits F32ToF16 drops.
func TestToF16Kernel(t *testing.T) {
	simd := simdUnderTest(t)
	rng := rand.New(rand.NewPCG(62, 63))
	var src []float32
	for h := range 1 << 16 {
		f := F16ToF32(uint16(h))
		src = append(src, f)
		if next := F16ToF32(uint16(h + 1)); h&0x7fff < 0x7bff && f == f && next == next {
			src = append(src, float32((float64(f)+float64(next))/2)) // the tie
		}
	}
	for range 100_000 {
		src = append(src, float32(rng.NormFloat64()*math.Exp2(float64(rng.IntN(60)-40))))
	}
	src = append(src, 65519.99, 65520, -65520, 1e10, float32(math.Inf(-1)), 0x1p-25, 0x1p-26, 3e-8)
	for _, n := range []int{len(src), 1, 3, 4, 5, 7, 9} {
		got, want := make([]uint16, n+1), make([]uint16, n+1)
		got[n], want[n] = 0xabcd, 0xabcd
		simd.toF16(got[:n], src[:n])
		reference.toF16(want[:n], src[:n])
		for i := range n + 1 {
			if got[i] != want[i] && !(isNaN16(got[i]) && isNaN16(want[i])) {
				t.Fatalf("n=%d: toF16(%v) = %#04x, want %#04x", n, src[i], got[i], want[i])
			}
		}
	}
}

func isNaN16(h uint16) bool { return h&0x7c00 == 0x7c00 && h&0x3ff != 0 }

// TestAttendF16Kernels holds the SIMD scores and weighted sums over an fp16 cache
// close to the reference (only the order of the additions differs: the widening
// is exact), over head sizes with and without the kernels' tails and key counts
// around their blocks of four.
func TestAttendF16Kernels(t *testing.T) {
	simd := simdUnderTest(t)
	rng := rand.New(rand.NewPCG(64, 65))
	for _, hd := range []int{4, 8, 12, 16, 32, 64, 72, 96, 128, 6} {
		for _, n := range []int{1, 3, 4, 5, 8, 37, 300} {
			q := randVec(rng, hd, 1)
			keys, values := make([]uint16, n*hd), make([]uint16, n*hd)
			toF16Ref(keys, randVec(rng, n*hd, 1))
			toF16Ref(values, randVec(rng, n*hd, 1))
			got, want := make([]float32, n+1), make([]float32, n+1)
			simd.scoresF16(got[:n], keys, q, values)
			reference.scoresF16(want[:n], keys, q, values)
			for j := range n + 1 {
				if math.Abs(float64(got[j]-want[j])) > 1e-4*math.Sqrt(float64(hd)) {
					t.Fatalf("hd=%d n=%d: score %d = %v, want %v", hd, n, j, got[j], want[j])
				}
			}
			w := randVec(rng, n, 1)
			mixGot, mixWant := make([]float32, hd+1), make([]float32, hd+1)
			mixGot[hd], mixWant[hd] = 7, 7
			simd.mixF16(mixGot[:hd], values, w)
			reference.mixF16(mixWant[:hd], values, w)
			for i := range hd + 1 {
				if math.Abs(float64(mixGot[i]-mixWant[i])) > 1e-4*math.Sqrt(float64(n)) {
					t.Fatalf("hd=%d n=%d: mix %d = %v, want %v", hd, n, i, mixGot[i], mixWant[i])
				}
			}
		}
	}
}

// TestKV checks the cache's bookkeeping: stores land where asked and read back
// (exactly in fp32, rounded as F32ToF16 in fp16), slices are views, and the sizes.
func TestKV(t *testing.T) {
	for _, enc := range []Encoding{F32, F16} {
		c := NewKV(10, enc)
		if c.Len() != 10 || c.Encoding() != enc || KVBytes(10, enc) != int64(10*map[Encoding]int{F32: 4, F16: 2}[enc]) {
			t.Fatalf("%v: len %d, encoding %v, bytes %d", enc, c.Len(), c.Encoding(), KVBytes(10, enc))
		}
		v := []float32{1.1, -2.5, 3e-6, 70000}
		c.Slice(4, 10).Store(2, v)
		got := make([]float32, 4)
		c.Load(6, got)
		for i := range v {
			want := v[i]
			if enc == F16 {
				want = F16ToF32(F32ToF16(v[i]))
			}
			if got[i] != want {
				t.Fatalf("%v: value %d = %v, want %v", enc, i, got[i], want)
			}
		}
		c.Load(0, got)
		if got[0] != 0 || got[3] != 0 {
			t.Fatalf("%v: store wrote outside its stretch: %v", enc, got)
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("NewKV(q8_0) did not panic")
		}
	}()
	NewKV(1, Q8_0)
}

// TestAttend2MatchesAttend: two query heads over one key/value head give each
// head exactly Attend's bits, scores and output, with the reference kernels and
// this machine's, fp16 (the paired kernels) and fp32, over head sizes with and
// without the kernels' tails and key counts around their blocks of four.
func TestAttend2MatchesAttend(t *testing.T) {
	rng := rand.New(rand.NewPCG(66, 67))
	defer func(k *impl) { kern = k }(kern)
	for _, ref := range []bool{true, false} {
		UseReference(ref)
		for _, enc := range []Encoding{F16, F32} {
			for _, hd := range []int{64, 128, 32, 40, 8, 12, 6} {
				for _, n := range []int{1, 3, 4, 7, 161} {
					keys, values := NewKV(n*hd, enc), NewKV(n*hd, enc)
					keys.Store(0, randVec(rng, n*hd, 1))
					values.Store(0, randVec(rng, n*hd, 1))
					q0, q1 := randVec(rng, hd, 1), randVec(rng, hd, 1)
					scale := float32(1 / math.Sqrt(float64(hd)))
					var want, got [2][]float32
					var wantS, gotS [2][]float32
					for h := range 2 {
						want[h], got[h] = make([]float32, hd), make([]float32, hd)
						wantS[h], gotS[h] = make([]float32, n), make([]float32, n)
					}
					Attend(want[0], q0, keys, values, wantS[0], scale)
					Attend(want[1], q1, keys, values, wantS[1], scale)
					Attend2(got[0], got[1], q0, q1, keys, values, gotS[0], gotS[1], scale)
					for h := range 2 {
						for i := range want[h] {
							if math.Float32bits(got[h][i]) != math.Float32bits(want[h][i]) {
								t.Fatalf("reference %v, %v, hd=%d n=%d: head %d out[%d] = %v, alone %v", ref, enc, hd, n, h, i, got[h][i], want[h][i])
							}
						}
						for j := range wantS[h] {
							if math.Float32bits(gotS[h][j]) != math.Float32bits(wantS[h][j]) {
								t.Fatalf("reference %v, %v, hd=%d n=%d: head %d score %d = %v, alone %v", ref, enc, hd, n, h, j, gotS[h][j], wantS[h][j])
							}
						}
					}
				}
			}
		}
	}
}
