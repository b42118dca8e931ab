package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The SIMD kernels of the bit-defined block encodings and the quantizers of x
// against the reference on edge data: every kind of fp16 scale (NaN, infinities,
// subnormals, signed zeros, the largest), quants at their extremes, blocks of x
// that are zero, tiny or huge, and shapes with lone blocks and short rows.

// edgeHalves are fp16 fields worth meeting: ±0, the smallest and largest
// subnormals, the smallest normal, 1, the largest finite values, ±Inf and NaNs.
var edgeHalves = []uint16{0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x3c00, 0xbc00, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00, 0xfe01}

// edgeRows fills rows of enc whose blocks take turns: random bytes, random quants
// under edge fields, every byte 0xff (Q6_K's scales -128) under edge fields, and
// zeros.
func edgeRows(rng *rand.Rand, enc Encoding, rows, cols int) Matrix {
	data := make([]byte, rows*enc.RowBytes(cols))
	bb := blockBytes(enc)
	for b := 0; b < len(data)/bb; b++ {
		blk := data[b*bb : (b+1)*bb]
		switch rng.IntN(4) {
		case 0:
			for i := range blk {
				blk[i] = byte(rng.Uint32())
			}
			continue
		case 1:
			for i := range blk {
				blk[i] = byte(rng.Uint32())
			}
		case 2:
			for i := range blk {
				blk[i] = 0xff
			}
			if enc == Q6_K {
				for s := range 16 {
					blk[192+s] = 0x80
				}
			}
		case 3:
			continue
		}
		for _, at := range scaleFields(enc) {
			binary.LittleEndian.PutUint16(blk[at:], edgeHalves[rng.IntN(len(edgeHalves))])
		}
	}
	m, err := NewMatrix(data, rows, cols, enc)
	if err != nil {
		panic(err)
	}
	return m
}

// edgeX is x whose blocks of 32 are random of random magnitude, zero, tiny (below
// tinyBlock, or where Q8_K's iscale overflows), huge (up to 3e38: Q8_0's fp16
// scale overflows), or at ±127 with every value. x is finite, as the quantizers
// require.
func edgeX(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for b := 0; b < n; b += BlockSize {
		blk := x[b : b+BlockSize]
		switch rng.IntN(6) {
		case 0, 1:
			scale := math.Pow(10, float64(rng.IntN(12)-6))
			for j := range blk {
				blk[j] = float32(rng.NormFloat64() * scale)
			}
		case 2: // zeros
		case 3:
			blk[rng.IntN(BlockSize)] = []float32{1e-38, -1e-39, 1e-45}[rng.IntN(3)]
		case 4:
			for j := range blk {
				blk[j] = float32(max(-3e38, min(3e38, rng.NormFloat64()*1e38)))
			}
			blk[rng.IntN(BlockSize)] = 3e38
		case 5:
			for j := range blk {
				blk[j] = float32(rng.IntN(255) - 127)
			}
		}
	}
	return x
}

// sameFloat reports whether a and b have the same bits, or are both NaN (the
// payload of a NaN depends on which operand an instruction takes it from).
func sameFloat(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

// edgeCols are colsFor's shapes and, for the K-quants, every count of
// super-blocks a group can end with (5, 6 and 12: a group and four).
func edgeCols(enc Encoding) []int {
	if enc.BlockWeights() == superBlock {
		return append(colsFor(enc), 1280, 1536, 3072)
	}
	return colsFor(enc)
}

func TestBlockKernelsEdges(t *testing.T) {
	simd := simdUnderTest(t)
	rng := rand.New(rand.NewPCG(80, 81))
	for _, enc := range newBlockEncodings {
		for _, cols := range edgeCols(enc) {
			for _, rows := range []int{1, 2, 3, 5, 8} {
				for trial := range 3 {
					m := edgeRows(rng, enc, rows, cols)
					c := testCase{fmt.Sprintf("edge %v %dx%d #%d", enc, rows, cols, trial), m, edgeX(rng, cols)}
					if trial == 2 {
						c = withOffset(c)
					}
					want, got := c.run(&reference), c.run(simd)
					for i := range want {
						if !sameFloat(got[i], want[i]) {
							t.Fatalf("%s: %s row %d = %v (%#08x), reference %v (%#08x)", c.name, simd.name, i,
								got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
						}
					}
				}
			}
		}
	}
}

// TestActivationEdgesMatchReference: every quantizer of x on edgeX, and on blocks
// whose largest magnitude comes twice with either sign (Q8_K takes the first),
// sits at either end, or is a tie of the rounding.
func TestActivationEdgesMatchReference(t *testing.T) {
	simd := simdUnderTest(t)
	rng := rand.New(rand.NewPCG(82, 83))
	for trial := range 20 {
		x := edgeX(rng, 16*superBlock)
		for b := 0; b < len(x); b += superBlock {
			blk := x[b : b+superBlock]
			switch trial % 4 {
			case 1: // the largest magnitude twice, the signs random
				i, j := rng.IntN(superBlock), rng.IntN(superBlock)
				v := float32(rng.NormFloat64() * 1e3)
				blk[i], blk[j] = v, -v
			case 2: // the largest at one end
				blk[[]int{0, superBlock - 1}[rng.IntN(2)]] = float32(1e6 * (1 - 2*float64(rng.IntN(2))))
			case 3: // halves: with a largest value of ±127, every k+0.5 is a tie
				blk[0] = float32(127 - 254*rng.IntN(2))
				for j := 1; j < superBlock; j++ {
					blk[j] = float32(rng.IntN(253)-126) + 0.5
				}
			}
		}
		for a := actQ8_0; a < actKinds; a++ {
			var want, got q8Vector
			reference.quantize(a, &want, x)
			simd.quantize(a, &got, x)
			if !equalVectors(&want, &got) {
				t.Fatalf("trial %d, kind %d: %s's quantized x differs from the reference's", trial, a, simd.name)
			}
		}
	}
}

// TestMatMulEdges: batches of every encoding on edge data (as TestBlockKernelsEdges,
// and for the float encodings floatEdgeRows), with odd row counts and enough
// tokens for the batch kernels (four at a time) and a remainder: every token has
// the bits MatVec gives it alone, which for the bit-defined block encodings are
// the reference's.
func TestMatMulEdges(t *testing.T) {
	rng := rand.New(rand.NewPCG(84, 85))
	for _, enc := range Encodings {
		cols := edgeCols(enc)
		if !enc.Quantized() {
			cols = []int{8, 24, 40, 96, 264, 776}
		}
		for _, cols := range cols {
			for _, rows := range []int{1, 3, 8, 19} {
				const n = 9
				var m Matrix
				if enc.Quantized() {
					m = edgeRows(rng, enc, rows, cols)
				} else {
					m = floatEdgeRows(rng, enc, rows, cols)
				}
				x := make([]float32, 0, n*cols)
				for range n {
					x = append(x, edgeX(rng, (cols+BlockSize-1)/BlockSize*BlockSize)[:cols]...)
				}
				got := make([]float32, n*rows)
				MatMul(got, m, x, n)
				for tok := range n {
					c := testCase{m: m, x: x[tok*cols : (tok+1)*cols]}
					want := c.run(kern)
					if slices.Contains(newBlockEncodings, enc) {
						want = c.run(&reference)
					}
					for i, w := range want {
						if g := got[tok*rows+i]; !sameFloat(g, w) {
							t.Fatalf("edge %v %dx%d, token %d of %d: row %d = %v (%#08x), MatVec %v (%#08x)",
								enc, rows, cols, tok, n, i, g, math.Float32bits(g), w, math.Float32bits(w))
						}
					}
				}
			}
		}
	}
}

// floatEdgeRows fills rows of a float encoding with weights of every magnitude
// (zeros of either sign, subnormals of fp16 or float32, the largest finite values
// of the encoding, and ordinary ones), so that the products and sums take
// infinities, NaNs and underflow.
func floatEdgeRows(rng *rand.Rand, enc Encoding, rows, cols int) Matrix {
	values := []float32{0, float32(math.Copysign(0, -1)), 0x1p-24, -0x1p-20, 1e-40, -3e-39, 65504, -65504, 1, -1, 0.5}
	if enc != F16 {
		values = append(values, 3e38, -1e38, 1e-45)
	}
	data := make([]byte, rows*enc.RowBytes(cols))
	row := make([]float32, cols)
	for r := range rows {
		for j := range row {
			row[j] = float32(rng.NormFloat64())
			if rng.IntN(3) == 0 {
				row[j] = values[rng.IntN(len(values))]
			}
		}
		if err := EncodeRow(enc, data[r*enc.RowBytes(cols):(r+1)*enc.RowBytes(cols)], row); err != nil {
			panic(err)
		}
	}
	m, err := NewMatrix(data, rows, cols, enc)
	if err != nil {
		panic(err)
	}
	return m
}
