package kernels

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// The products of the block encodings after Q4_0, against float64: the kernels'
// float32 arithmetic (ref.go, blockSums) and x's quantization each within a bound
// derived from their operations.

// newBlockEncodings are the encodings whose kernels are defined to the bit by the
// reference (ref.go).
var newBlockEncodings = []Encoding{Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K}

// blockTol bounds a block product's float32 error, relative to the magnitudes of
// its terms (exactDots' mag): a block's value takes at most 4 roundings (d_w·d_x,
// the integer sum to float32, its product, and the min term's sum), each of
// relative size u = 2^-24; a lane adds ceil(blocks/8) values and the lanes go
// through 3 more additions, each rounding relative to a partial sum no larger than
// mag. Results near float32's underflow lose up to a subnormal quantum per
// operation instead.
func blockTol(blocks int, mag float64) float64 {
	const u = 0x1p-24
	ops := float64(4 + (blocks+7)/8 + 3)
	return ops*u*mag*1.001 + 8*float64(blocks)*0x1p-149
}

func TestBlockProductsAgainstExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(70, 71))
	for _, enc := range newBlockEncodings {
		for _, cols := range append(colsFor(enc), 64*enc.BlockWeights()) {
			for _, scale := range []float64{0.05, 1e-6, 2e4} {
				c := gaussCase(t, rng, enc, 4, cols, scale, 1)
				if scale == 2e4 {
					for j := range c.x {
						c.x[j] *= float32(math.Pow(10, float64(rng.IntN(7)-3)))
					}
				}
				got := c.run(&reference)
				sum, mag := c.exact()
				blocks := cols / enc.BlockWeights()
				for i := range got {
					if e, tol := math.Abs(float64(got[i])-sum[i]), blockTol(blocks, mag[i]); e > tol {
						t.Fatalf("%s: row %d = %v, exact %v: error %g > %g", c.name, i, got[i], sum[i], e, tol)
					}
				}
			}
		}
	}
}

// TestBlockToleranceCatchesALostBlock: the bound above fails a reference that drops
// one block (the last, as a broken tail would).
func TestBlockToleranceCatchesALostBlock(t *testing.T) {
	rng := rand.New(rand.NewPCG(72, 73))
	for _, enc := range newBlockEncodings {
		cols := 40 * enc.BlockWeights()
		c := gaussCase(t, rng, enc, 8, cols, 0.05, 1)
		in := prepared(&reference, c.x, enc)
		short := c.m
		short.Cols -= enc.BlockWeights()
		rb, srb := enc.RowBytes(cols), enc.RowBytes(short.Cols)
		short.Data = make([]byte, c.m.Rows*srb)
		for r := range c.m.Rows {
			copy(short.Data[r*srb:], c.m.Data[r*rb:r*rb+srb])
		}
		got := make([]float32, c.m.Rows)
		matVecRows(prepared(&reference, c.x[:short.Cols], enc), got, short, 0, short.Rows)
		caught := 0
		sum, mag := exactDots(c.m, in)
		for i := range got {
			if math.Abs(float64(got[i])-sum[i]) > blockTol(cols/enc.BlockWeights(), mag[i]) {
				caught++
			}
		}
		if caught < 7 {
			t.Errorf("%v: a lost block went unnoticed in %d of 8 rows", enc, 8-caught)
		}
	}
}

// xError bounds |x_j - its quantized value| over each block of enc's activation
// kind (per value of x), u = 2^-24:
//   - Q8_0, Q8_1: q = round(x·id) is within 1/2 (and a float32 rounding of the
//     product) of x·id, id = 127/amax within u; d is amax/127 rounded to float32,
//     then to fp16 (relative 2^-11, or 2^-25 absolute below fp16's normal range),
//     and |q| <= 127: |x - q·d| <= amax·(1/254 + 2^-11 + 4u) + 127·2^-25, which
//     also covers the blocks below tinyBlock (q = 0). A Q8_1 block's s = fp16(d·Σq)
//     differs from Σx by no more than 32 times that.
//   - Q8_K: q within 1/2 of fl(iscale·x), d = fl(1/iscale):
//     |x - q·d| <= amax·(1/254 + 4u); amax where iscale overflows (q = 0).
func xError(enc Encoding, x []float32) []float64 {
	const u = 0x1p-24
	n := BlockSize
	if enc.act() == actQ8K {
		n = superBlock
	}
	e := make([]float64, len(x))
	for b := 0; b < len(x); b += n {
		amax := float64(absMax(x[b : b+n]))
		bound := amax*(1.0/254+0x1p-11+4*u) + 127*0x1p-25
		if enc.act() == actQ8K {
			bound = amax * (1.0/254 + 4*u)
			if amax < 127/math.MaxFloat32 {
				bound = amax
			}
		}
		for j := b; j < b+n; j++ {
			e[j] = bound
		}
	}
	return e
}

// TestBlockProductsAgainstFloatX: the products against the float64 dot product of
// the exact weights with x itself (not quantized): within x's quantization error
// (xError) weighted by the weights' magnitudes, plus blockTol.
func TestBlockProductsAgainstFloatX(t *testing.T) {
	rng := rand.New(rand.NewPCG(74, 75))
	for _, enc := range newBlockEncodings {
		for _, cols := range []int{enc.BlockWeights(), 3 * enc.BlockWeights(), 2304, 4096} {
			c := gaussCase(t, rng, enc, 6, cols, 0.05, 1)
			for j := range c.x { // activations of mixed magnitudes, some blocks tiny
				c.x[j] *= float32(math.Pow(10, float64(rng.IntN(9)-4)))
				if j/BlockSize%7 == 3 {
					c.x[j] *= 1e-37
				}
			}
			got := c.run(&reference)
			xe := xError(enc, c.x)
			_, mag := c.exact()
			rb := enc.RowBytes(cols)
			worst := 0.0
			for i := range got {
				a, b := exactWeights(enc, c.m.Data[i*rb:(i+1)*rb], cols)
				var sum, bound float64
				for j, x := range c.x {
					sum += (a[j] + b[j]) * float64(x)
					bound += (math.Abs(a[j]) + math.Abs(b[j])) * xe[j]
				}
				bound += blockTol(cols/enc.BlockWeights(), mag[i])
				e := math.Abs(float64(got[i]) - sum)
				if e > bound {
					t.Fatalf("%s row %d: %v, float64 with float x %v: error %g > %g", c.name, i, got[i], sum, e, bound)
				}
				worst = max(worst, e/bound)
			}
			t.Logf("%v %d columns: largest error %.2f of the bound", enc, cols, worst)
		}
	}
}

// TestBlockKernelsMatchReferenceBits: the block encodings after Q4_0 have their
// float arithmetic defined to the bit (ref.go), so the kernels in use must give the
// reference's bits on any data, not only within a tolerance.
func TestBlockKernelsMatchReferenceBits(t *testing.T) {
	simd := simdUnderTest(t)
	rng := rand.New(rand.NewPCG(76, 77))
	for _, enc := range newBlockEncodings {
		for _, cols := range colsFor(enc) {
			for _, rows := range []int{1, 3, 8} {
				for _, scale := range []float64{0.05, 1e-6, 2e4} {
					c := gaussCase(t, rng, enc, rows, cols, scale, 1)
					if rows == 3 {
						c = withOffset(c)
					}
					want, got := c.run(&reference), c.run(simd)
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s: %s row %d = %v, reference %v", c.name, simd.name, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestImplsComplete: every kernel set has every kernel (the reference's where it
// has no SIMD one); only prepare and the batch kernels are optional.
func TestImplsComplete(t *testing.T) {
	impls := []*impl{&reference}
	if s, ok := simdImpl(); ok {
		impls = append(impls, s)
	}
	for _, k := range impls {
		for _, f := range implFuncs(k) {
			if f.name != "prepare" && !strings.HasPrefix(f.name, "matMul") && f.nil {
				t.Errorf("%s: %s is not set", k.name, f.name)
			}
		}
	}
}
