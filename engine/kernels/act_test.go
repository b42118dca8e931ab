package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The activation quantizers against values worked out by hand from llama.cpp's
// x86 quantize_row_q8_0 / quantize_row_q8_1 (AVX2 branch, ggml-cpu-quants.c) and
// quantize_row_q8_K_ref (ggml-quants.c).

func TestQuantizeQ8_0Activations(t *testing.T) {
	x := make([]float32, 4*BlockSize)
	// Block 0: amax 1, so d = fp16(1/127) = 0x2008 = 0.00787353515625 (1/127 lies
	// 8.06 fp16 steps of 2^-17 above 2^-7), id = 127: 0.5 -> 63.5 -> 64 (even),
	// -0.25 -> -31.75 -> -32, 2.5/127 -> 2.5 -> 2 (even), 3.5/127 -> 3.5 -> 4.
	copy(x, []float32{1, 0.5, -0.25, 2.5 / 127, 3.5 / 127, -1})
	// Block 1: all zeros. Block 2: below tinyBlock (llama.cpp's fp16 scale is 0 too).
	x[2*BlockSize+3] = 1e-38
	// Block 3: amax 3e38, beyond fp16's range once divided by 127: d = +Inf, as
	// llama.cpp stores it; q as for any block (-1.5e38 -> -63.5 -> -64).
	x[3*BlockSize], x[3*BlockSize+1] = 3e38, -1.5e38
	var v q8Vector
	reference.quantize(actQ8_0, &v, x)
	if v.d[0] != 0.00787353515625 || v.d[1] != 0 || v.d[2] != 0 || !math.IsInf(float64(v.d[3]), 1) {
		t.Errorf("scales %v, want [0.00787353515625 0 0 +Inf]", v.d)
	}
	if q := v.q[3*BlockSize:]; q[0] != 127 || q[1] != -64 {
		t.Errorf("block 3: q %v, want [127 -64 0 ...]", q[:2])
	}
	wantQ := []int8{127, 64, -32, 2, 4, -127}
	for j, w := range wantQ {
		if v.q[j] != w {
			t.Errorf("x=%v: q=%d, want %d", x[j], v.q[j], w)
		}
	}
	if v.s8[0] != 8*(127+64-32+2+4-127) {
		t.Errorf("s8 = %v", v.s8[0])
	}
	for j := len(wantQ); j < 3*BlockSize; j++ {
		if v.q[j] != 0 {
			t.Errorf("q[%d] = %d, want 0", j, v.q[j])
		}
	}
}

func TestQuantizeQ8_1Activations(t *testing.T) {
	x := make([]float32, 2*BlockSize)
	// q = 127, 64, 32 (as Q8_0's); s = fp16(d·Σq) with d = float32(1/127) unrounded:
	// 223/127 = 1.75590..., fp16 in [1, 2) steps by 2^-10: 1798·2^-10 = 1.755859375.
	copy(x, []float32{1, 0.5, 0.25})
	// Block 1: amax 127 (d = 1), Σq = -3001: fp16 above 2048 steps by 2, and the
	// tie goes to -3000 (1500·2, even).
	for j := range 23 {
		x[BlockSize+j] = -125
	}
	x[BlockSize+23] = -126
	x[BlockSize+24] = -127
	x[BlockSize+25] = 127
	var v q8Vector
	reference.quantize(actQ8_1, &v, x)
	if v.d[0] != 0.00787353515625 || v.s[0] != 1.755859375 {
		t.Errorf("block 0: d %v s %v, want 0.00787353515625 1.755859375", v.d[0], v.s[0])
	}
	if v.d[1] != 1 || v.s[1] != -3000 {
		t.Errorf("block 1: d %v s %v, want 1 -3000", v.d[1], v.s[1])
	}
	if v.q[0] != 127 || v.q[1] != 64 || v.q[2] != 32 {
		t.Errorf("q %v", v.q[:3])
	}
}

func TestQuantizeQ8KActivations(t *testing.T) {
	x := make([]float32, 3*superBlock)
	// Block 0: the first value of largest magnitude is -2 (not the later 2), so
	// iscale = -127/-2 = 63.5 and d = 1/63.5; 1 -> 63.5 -> 64 (even), -1 -> -64,
	// 0.5 -> 31.75 -> 32, 1.5 -> 95.25 -> 95, 1/127 -> 0.5 -> 0 (even).
	copy(x, []float32{1, 0.5, 1.5, -2, -1, 1.0 / 127})
	x[20] = 2
	// Block 1: all zeros. Block 2: |max| = 1e-38 < 127/MaxFloat32, so iscale is
	// infinite: q = 0 and d = 1/-Inf = -0.
	x[2*superBlock+7] = 1e-38
	var v q8Vector
	reference.quantize(actQ8K, &v, x)
	if v.d[0] != float32(1)/63.5 || v.d[1] != 0 || math.Float32bits(v.d[2]) != 0x80000000 {
		t.Errorf("scales %v, want [1/63.5 0 -0]", v.d)
	}
	wantQ := map[int]int8{0: 64, 1: 32, 2: 95, 3: -127, 4: -64, 5: 0, 20: 127}
	for j := range x {
		if w := wantQ[j]; v.q[j] != w {
			t.Errorf("x[%d]=%v: q=%d, want %d", j, x[j], v.q[j], w)
		}
	}
	if v.bsums[0] != 64+32+95-127-64 || v.bsums[1] != 127 || v.bsums[2] != 0 {
		t.Errorf("bsums %v", v.bsums[:3])
	}
}

// TestActivationKindsMatchReference: the quantizers of the kernels in use give the
// reference's bytes for every kind (ties, zeros, tiny and huge blocks included).
func TestActivationKindsMatchReference(t *testing.T) {
	simd := simdUnderTest(t)
	rng := rand.New(rand.NewPCG(52, 53))
	x := make([]float32, 64*superBlock)
	for b := 0; b < len(x); b += superBlock {
		scale := math.Pow(10, float64(rng.IntN(78)-40)) // up to 1e37: finite x
		for j := b; j < b+superBlock; j++ {
			x[j] = float32(rng.NormFloat64() * scale)
		}
		if b%(3*superBlock) == 0 {
			clear(x[b : b+BlockSize])
		}
	}
	for a := actQ8_0; a < actKinds; a++ {
		var want, got q8Vector
		reference.quantize(a, &want, x)
		simd.quantize(a, &got, x)
		if !equalVectors(&want, &got) {
			t.Errorf("kind %d: %s's quantized x differs from the reference's", a, simd.name)
		}
	}
}

func equalVectors(a, b *q8Vector) bool {
	sameBits := func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }
	return slices.Equal(a.q, b.q) && slices.Equal(a.bsums, b.bsums) && slices.EqualFunc(a.d, b.d, sameBits) &&
		slices.EqualFunc(a.s, b.s, sameBits) && slices.EqualFunc(a.s8, b.s8, sameBits)
}

// TestNearestInt: halves to even, as VCVTPS2DQ and FCVTNS round, for every half
// up to 2^21 and its neighbours.
func TestNearestInt(t *testing.T) {
	for k := -1 << 21; k < 1<<21; k += 1 + k&0xff {
		h := float32(k) + 0.5
		for _, v := range []float32{h, math.Nextafter32(h, -1e9), math.Nextafter32(h, 1e9), float32(k)} {
			if got, want := nearestInt(v), int32(math.RoundToEven(float64(v))); got != want {
				t.Fatalf("nearestInt(%v) = %d, want %d", v, got, want)
			}
		}
	}
}
