package quantize

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine/gguf"
)

// FuzzRow quantizes arbitrary rows into every type: Row never panics, fails only on
// the inputs it documents, and what it writes reads back finite and within the
// range of the weights of its block.
func FuzzRow(f *testing.F) {
	seed := func(vals ...float32) []byte {
		b := make([]byte, 4*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return b
	}
	f.Add(seed(1, -2, 3.5, 0, 1e-40, -7))
	f.Add(seed(0))
	f.Add(seed(65504, -65504, 1e-8, 3e-5))
	f.Add(seed(float32(math.NaN()), 1))
	f.Add(seed(1e30, -1e30))
	f.Fuzz(func(t *testing.T, data []byte) {
		x := make([]float32, 256)
		for i := range min(len(x), len(data)/4) {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		for k := len(data) / 4; k > 0 && k < len(x); k++ {
			x[k] = x[k%(len(data)/4)] * float32(k) / 7 // fill the rest from the input
		}
		finite, largest := true, float32(0)
		for _, v := range x {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				finite = false
			} else {
				largest = max(largest, abs32(v))
			}
		}
		for _, typ := range allTypes {
			n, _ := RowBytes(typ, len(x))
			dst := make([]byte, n)
			err := Row(typ, dst, x)
			if !finite {
				if err == nil {
					t.Fatalf("%v: no error for a row with a non-finite weight", typ)
				}
				continue
			}
			if err != nil {
				if largest < 1000 {
					t.Fatalf("%v: %v for weights up to %g", typ, err, largest)
				}
				if !strings.Contains(err.Error(), "too large") && !strings.Contains(err.Error(), "beyond") {
					t.Fatalf("%v: unexpected error %v", typ, err)
				}
				continue
			}
			y := dequantize(typ, dst, len(x))
			block := max(typ.BlockSize(), 1)
			for b := 0; b < len(x); b += block {
				lo, hi := float32(0), float32(0)
				for _, v := range x[b : b+block] {
					lo, hi = min(lo, v), max(hi, v)
				}
				// fp16 rounding of the scales: a relative 2^-11, and 2^-24 absolute below 2^-14
				slack := 0.01*(hi-lo) + 1e-6
				for i := b; i < b+block; i++ {
					if math.IsNaN(float64(y[i])) || math.IsInf(float64(y[i]), 0) || y[i] < lo-slack-(hi-lo) || y[i] > hi+slack+(hi-lo) {
						t.Fatalf("%v: weight %d (%g) reads back as %g; its block spans [%g, %g]", typ, i, x[i], y[i], lo, hi)
					}
				}
			}
		}
	})
}

// FuzzTypes gives llama-quantize's rules arbitrary tensor names and shapes: they never
// panic, and every type they choose is the source type or one this package writes.
func FuzzTypes(f *testing.F) {
	f.Add("blk.0.attn_v.weight", int64(256), int64(128), uint8(15), false)
	f.Add("token_embd.weight", int64(896), int64(1000), uint8(7), false)
	f.Add("blk.-3.ffn_down_exps.weight", int64(512), int64(3), uint8(17), true)
	f.Add("blk. 99999999999999.ffn_gate", int64(-1), int64(0), uint8(2), false)
	f.Fuzz(func(t *testing.T, name string, d0, d1 int64, target uint8, pure bool) {
		ts := []Tensor{
			{Name: name, Type: gguf.F32, Dims: []int64{d0, d1}},
			{Name: "output.weight", Type: gguf.F16, Dims: []int64{256, 10}},
			{Name: name + "x", Type: gguf.F32, Dims: []int64{d0}},
		}
		for _, experts := range []int{0, 8} {
			types, err := Types(FileType(target), Model{Arch: "llama", Layers: 4, Experts: experts}, ts, Options{Pure: pure})
			if err != nil {
				continue
			}
			for i, typ := range types {
				if typ != ts[i].Type && typ.BlockSize() == 0 {
					t.Fatalf("%s: type %v", ts[i].Name, typ)
				}
			}
		}
	})
}
