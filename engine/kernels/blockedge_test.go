package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The SIMD block kernels and quantizers against the reference on edge data: every
// kind of fp16 scale (NaN, infinities, subnormals, signed zeros, the largest), the
// largest quants and sub-block scales, and blocks of x that take the quantizers'
// rare paths.

// edgeF16 are fp16 fields that exercise every class of value.
var edgeF16 = []uint16{0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x3c00, 0xbc00, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00, 0xfe01}

// sameOrBothNaN reports whether a and b have the same bits or are both NaN (which
// NaN comes out is not defined: it depends on the order of a SIMD kernel's operands).
func sameOrBothNaN(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

// TestBlockKernelsEdgeScales: rows of the bit-defined block encodings whose fp16
// fields are edge values (one row per field value, the other rows random edges),
// quants and scales random or all ones, against x of mixed magnitudes: the kernels
// in use give the reference's bits, or NaN where it does.
func TestBlockKernelsEdgeScales(t *testing.T) {
	simd := simdUnderTest(t)
	rng := rand.New(rand.NewPCG(78, 79))
	for _, enc := range newBlockEncodings {
		for _, blocks := range []int{1, 3, 8, 11, 19} {
			cols := blocks * enc.BlockWeights()
			if enc.BlockWeights() == BlockSize {
				cols *= 2 // the groups of 8 and the lone blocks after them
			}
			rows := len(edgeF16)
			bb, rb := blockBytes(enc), enc.RowBytes(cols)
			data := make([]byte, rows*rb)
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			for r := range rows {
				for off := r * rb; off < (r+1)*rb; off += bb {
					blk := data[off : off+bb]
					if rng.IntN(4) == 0 {
						for j := range blk {
							blk[j] = 0xff // the largest quants, 6-bit scales 63, Q6_K scales -1
						}
					}
					for f, at := range scaleFields(enc) {
						h := edgeF16[rng.IntN(len(edgeF16))]
						if f == 0 && rng.IntN(2) == 0 {
							h = edgeF16[r] // each row has many blocks of one edge value
						}
						binary.LittleEndian.PutUint16(blk[at:], h)
					}
				}
			}
			x := make([]float32, cols)
			for j := range x {
				x[j] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(9)-4)))
			}
			c := testCase{fmt.Sprintf("edge %v %dx%d", enc, rows, cols), mustMatrix(t, data, rows, cols, enc), x}
			want, got := c.run(&reference), c.run(simd)
			for i := range want {
				if !sameOrBothNaN(got[i], want[i]) {
					t.Fatalf("%s: %s row %d = %v (%#08x), reference %v (%#08x)", c.name, simd.name, i,
						got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
				}
			}
		}
	}
}

// TestBlocks32ExtremeSums: rows of Q4_1, Q5_0 and Q5_1 blocks whose quants are all
// their smallest or all their largest, against x of ±1 throughout (quants ±127), in
// groups of eight and lone blocks: the block sums at their largest magnitudes (the
// SIMD kernels' int16 lanes at their bounds; Q5_1's q - 16 with 16·Σq added back)
// give the reference's bits.
func TestBlocks32ExtremeSums(t *testing.T) {
	simd := simdUnderTest(t)
	const cols = 19 * BlockSize // two groups of eight, three lone blocks
	for _, enc := range []Encoding{Q4_1, Q5_0, Q5_1} {
		bb, rb := blockBytes(enc), enc.RowBytes(cols)
		data := make([]byte, 2*rb)
		for off := 0; off < len(data); off += bb {
			blk := data[off : off+bb]
			if off >= rb {
				for j := range blk {
					blk[j] = 0xff
				}
			}
			for _, at := range scaleFields(enc) {
				binary.LittleEndian.PutUint16(blk[at:], 0x3c00) // 1
			}
		}
		m := mustMatrix(t, data, 2, cols, enc)
		for _, sign := range []float32{1, -1} {
			x := make([]float32, cols)
			for j := range x {
				x[j] = sign
			}
			c := testCase{fmt.Sprintf("%v, x all %v", enc, sign), m, x}
			want, got := c.run(&reference), c.run(simd)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Errorf("%s: %s row %d = %v, reference %v", c.name, simd.name, i, got[i], want[i])
				}
			}
		}
	}
}

// TestActivationEdgeBlocks: the quantizers of the kernels in use give the
// reference's bytes on blocks of every kind's size (32, 256) that take their rare
// paths: zeros and negative zeros, the largest magnitude reached with both signs in
// either order (Q8_K takes the first), magnitudes so small that 127/max overflows
// or so large that the fp16 scale does, subnormals, and halves to round to even.
func TestActivationEdgeBlocks(t *testing.T) {
	simd := simdUnderTest(t)
	rng := rand.New(rand.NewPCG(80, 81))
	for _, n := range []int{BlockSize, superBlock} {
		var x []float32
		block := func(fill func(b []float32)) {
			b := make([]float32, n)
			fill(b)
			x = append(x, b...)
		}
		block(func(b []float32) {})
		block(func(b []float32) {
			for j := range b {
				b[j] = float32(math.Copysign(0, -1))
			}
		})
		for _, a := range []float32{1, 127, 1e-38, 1e-45, 3e-37, 3.4e38, 1e10} {
			for _, negFirst := range []bool{false, true} {
				block(func(b []float32) {
					for j := range b {
						b[j] = a * float32(rng.Float64()*2-1)
					}
					i, k := rng.IntN(n/2), n/2+rng.IntN(n/2)
					b[i], b[k] = a, -a
					if negFirst {
						b[i], b[k] = -a, a
					}
				})
				block(func(b []float32) { // only the negative one
					for j := range b {
						b[j] = a * float32(rng.Float64()*2-1)
					}
					b[rng.IntN(n)] = -a
				})
			}
		}
		block(func(b []float32) { // halves: max 127 makes the Q8_0 and Q8_K scales ±1
			b[0] = 127
			for j := 1; j < n; j++ {
				b[j] = float32(rng.IntN(253)-126) + 0.5
			}
		})
		block(func(b []float32) { // subnormals
			for j := range b {
				b[j] = math.Float32frombits(uint32(rng.IntN(0x7fffff)) | uint32(rng.IntN(2))<<31)
			}
		})
		for a := actQ8_0; a < actKinds; a++ {
			if a == actQ8K && n != superBlock {
				continue
			}
			var want, got q8Vector
			reference.quantize(a, &want, x)
			simd.quantize(a, &got, x)
			if !equalVectors(&want, &got) {
				for b := range want.d {
					if !sameOrBothNaN(want.d[b], got.d[b]) {
						t.Errorf("kind %d, blocks of %d: block %d: %s d = %v, reference %v", a, n, b, simd.name, got.d[b], want.d[b])
					}
				}
				t.Errorf("kind %d, blocks of %d: %s's quantized x differs from the reference's", a, n, simd.name)
			}
		}
	}
}
