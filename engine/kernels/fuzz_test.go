package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// FuzzParseEncoding: any string either names an encoding, which prints back as a
// name that parses to the same encoding, or gives an error; never a panic.
func FuzzParseEncoding(f *testing.F) {
	for _, s := range []string{"fp32", "F16", "q8_0", "q4_0", "q4_1", "", "fp16\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEncoding(s)
		if err != nil {
			return
		}
		if back, err := ParseEncoding(e.String()); err != nil || back != e {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, e, e.String(), back, err)
		}
	})
}

// FuzzNewMatrix feeds arbitrary bytes and shapes, as a damaged model file would:
// NewMatrix must refuse what does not fit, and what it accepts must multiply without
// a panic, the kernels in use agreeing with the reference wherever the weights are
// finite numbers.
func FuzzNewMatrix(f *testing.F) {
	seed := func(enc Encoding, rows, cols int) []byte {
		rng := rand.New(rand.NewPCG(uint64(rows), uint64(cols)))
		return randomMatrix(rng, rows, cols, enc).Data
	}
	f.Add(seed(F32, 3, 5), 3, 5, uint8(F32), uint64(1))
	f.Add(seed(F16, 2, 33), 2, 33, uint8(F16), uint64(2))
	f.Add(seed(Q8_0, 4, 64), 4, 64, uint8(Q8_0), uint64(3))
	f.Add(seed(Q4_0, 5, 96), 5, 96, uint8(Q4_0), uint64(4))
	f.Add(seed(BF16, 2, 7), 2, 7, uint8(BF16), uint64(7))
	f.Add(seed(Q4_1, 3, 64), 3, 64, uint8(Q4_1), uint64(8))
	f.Add(seed(Q5_0, 2, 96), 2, 96, uint8(Q5_0), uint64(9))
	f.Add(seed(Q5_1, 1, 32), 1, 32, uint8(Q5_1), uint64(10))
	f.Add(seed(Q4_K, 2, 256), 2, 256, uint8(Q4_K), uint64(11))
	f.Add(seed(Q5_K, 1, 512), 1, 512, uint8(Q5_K), uint64(12))
	f.Add(seed(Q6_K, 3, 256), 3, 256, uint8(Q6_K), uint64(13))
	f.Add(make([]byte, 34), 1, 32, uint8(Q8_0), uint64(5))
	f.Add([]byte{0xff, 0x7c, 0x80}, 1, 1, uint8(F16), uint64(6))
	f.Fuzz(func(t *testing.T, data []byte, rows, cols int, enc uint8, xseed uint64) {
		m, err := NewMatrix(data, rows, cols, Encoding(enc))
		if err != nil {
			return
		}
		if m.Rows*m.Cols > 1<<16 {
			return // keep each input fast; the shape checks above have run
		}
		rng := rand.New(rand.NewPCG(xseed, 7))
		x := randomVector(rng, cols)
		out := make([]float32, rows)
		MatVec(out, m, x)
		m.Row(rows-1, make([]float32, cols))

		c := testCase{"fuzz", m, x}
		ref := c.run(&reference)
		sum, mag := c.exact()
		for i := range out {
			if math.IsNaN(sum[i]) || math.IsInf(sum[i], 0) || math.IsInf(mag[i], 0) || mag[i] > math.MaxFloat32/2 {
				continue // infinities or NaNs in the weights: any result will do
			}
			tol := reorderTol(cols, mag[i])
			if e := math.Abs(float64(out[i]) - sum[i]); e > tol {
				t.Fatalf("%v %dx%d row %d: %v, exact %v, reference %v", m.Enc, rows, cols, i, out[i], sum[i], ref[i])
			}
		}
	})
}

// FuzzEncodeRow: any float32 values either encode, and then decode to within the
// encoding's precision, or give an error.
func FuzzEncodeRow(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 192}, uint8(F16))
	f.Add(make([]byte, 4*BlockSize), uint8(Q8_0))
	f.Add(make([]byte, 4*BlockSize), uint8(Q4_0))
	f.Add([]byte{0, 0, 128, 127}, uint8(F32))
	f.Add([]byte{0, 0, 128, 63, 1, 0, 128, 63, 0, 0, 128, 127}, uint8(BF16))
	f.Add(make([]byte, 4*256), uint8(Q4_K))
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 192, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 128, 190}, uint8(Q4_1))
	f.Fuzz(func(t *testing.T, raw []byte, enc uint8) {
		e := Encoding(enc)
		x := make([]float32, len(raw)/4)
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		if e.CheckCols(len(x)) != nil {
			if EncodeRow(e, nil, x) == nil {
				t.Fatalf("%v row of %d values accepted", e, len(x))
			}
			return
		}
		row := make([]byte, e.RowBytes(len(x)))
		if err := EncodeRow(e, row, x); err != nil {
			return
		}
		back := make([]float32, len(x))
		decodeRow(e, row, back)
		n := max(e.BlockWeights(), BlockSize)
		for b := 0; b < len(x); b += n {
			blk := x[b:min(b+n, len(x))]
			amax := float64(absMax(blk))
			var limit float64
			switch e {
			case F32:
				limit = 0
			case F16:
				limit = amax/1024 + 0x1p-25 // half an fp16 ulp, relative or subnormal
			case BF16:
				limit = amax/256 + 0x1p-134 // half a bf16 ulp, relative or subnormal
			case Q8_0:
				limit = amax/254 + amax/1024 + 127*0x1p-25
			case Q4_0:
				limit = amax/8 + amax/1024 + 8*0x1p-25
			case Q5_0:
				limit = amax/16 + amax/1024 + 16*0x1p-25
			default:
				// The types with mins and the K-quants' fitted scales: within the
				// block's range, widened by that range (as quantize's FuzzRow).
				limit = 2*amax + amax/64 + 0x1p-20
			}
			for j := range blk {
				if d := math.Abs(float64(back[b+j]) - float64(blk[j])); d > limit {
					t.Fatalf("%v: %v decoded as %v (block max %v)", e, blk[j], back[b+j], amax)
				}
			}
		}
	})
}
