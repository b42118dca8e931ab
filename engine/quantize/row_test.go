package quantize

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine/gguf"
)

var allTypes = []gguf.Type{gguf.F32, gguf.F16, gguf.BF16, gguf.Q8_0, gguf.Q4_0, gguf.Q4_1, gguf.Q5_0, gguf.Q5_1, gguf.Q4_K, gguf.Q5_K, gguf.Q6_K}

func quantizeRow(t *testing.T, typ gguf.Type, x []float32) []byte {
	t.Helper()
	n, err := RowBytes(typ, len(x))
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]byte, n)
	if err := Row(typ, dst, x); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestRowBytes(t *testing.T) {
	want := map[gguf.Type]int{gguf.F32: 1024, gguf.F16: 512, gguf.BF16: 512, gguf.Q8_0: 272, gguf.Q4_0: 144, gguf.Q4_1: 160, gguf.Q5_0: 176,
		gguf.Q5_1: 192, gguf.Q4_K: 144, gguf.Q5_K: 176, gguf.Q6_K: 210}
	for _, typ := range allTypes {
		if n, err := RowBytes(typ, 256); err != nil || n != want[typ] {
			t.Errorf("RowBytes(%v, 256) = %d, %v; want %d", typ, n, err, want[typ])
		}
	}
	for _, c := range []struct {
		typ gguf.Type
		n   int
	}{{gguf.Q4_0, 48}, {gguf.Q4_K, 128}, {gguf.Q6_K, 0}, {gguf.F32, -1}, {gguf.Type(10), 256}, {gguf.Type(99), 32}} {
		if n, err := RowBytes(c.typ, c.n); err == nil {
			t.Errorf("RowBytes(%v, %d) = %d, want an error", c.typ, c.n, n)
		}
	}
}

// Rows of zeros, where llama.cpp's formulas meet their special cases (d = 0 and
// 1/d taken as 0, max == min in make_qkx2_quants, an all-zero group in
// make_qx_quants).
func TestRowOfZeros(t *testing.T) {
	x := make([]float32, 256)
	// Q4_0 stores weight 0 as level 8, Q5_0 as 16 (nibble 0, fifth bit set), the others
	// as 0; Q4_0's and Q5_0's d = max/-8 and max/-16 are -0 (fp16 0x8000), the others +0
	repeat := func(block string, n int) []byte {
		b, _ := hex.DecodeString(strings.Repeat(block, n))
		return b
	}
	want := map[gguf.Type][]byte{
		gguf.Q4_0: repeat("0080"+strings.Repeat("88", 16), 8),
		gguf.Q5_0: repeat("0080ffffffff"+strings.Repeat("00", 16), 8),
	}
	for _, typ := range allTypes {
		got := quantizeRow(t, typ, x)
		w, ok := want[typ]
		if !ok {
			w = make([]byte, len(got))
		}
		if !bytes.Equal(got, w) {
			t.Errorf("%v of zeros = %x, want %x", typ, got, w)
		}
	}
}

// In a block of values so small that 1/d overflows, llama.cpp converts infinities
// and NaNs to integers, which C leaves undefined; on x86-64 (where the fixtures were
// made) every such conversion gives 0x80000000, whose low byte is 0. Row gives that
// result on every architecture.
func TestRowOfTinyValuesConvertsAsX86(t *testing.T) {
	x := make([]float32, 32)
	for i := range x {
		x[i] = float32(i-16) * 1e-40 // subnormal; d ≈ 2e-40 and 1/d = +Inf
	}
	for _, c := range []struct {
		typ  gguf.Type
		want string
	}{
		{gguf.Q8_0, "0000" + strings.Repeat("00", 32)}, // roundf(±Inf or NaN) -> 0
		{gguf.Q4_0, "0000" + strings.Repeat("00", 16)},
		{gguf.Q4_1, "0000" + "0080" + strings.Repeat("00", 16)}, // m = fp16(-1.6e-39) = -0
		{gguf.Q5_0, "0000" + "00000000" + strings.Repeat("00", 16)},
		{gguf.Q5_1, "0000" + "0080" + "00000000" + strings.Repeat("00", 16)},
	} {
		if got := hex.EncodeToString(quantizeRow(t, c.typ, x)); got != c.want {
			t.Errorf("%v of tiny values = %s, want %s", c.typ, got, c.want)
		}
	}
}

// Q4_0 and Q5_0 scale by the value of largest magnitude with its sign, the first
// one when two tie: here 3 (so d = -3/8 and 3 is level 0) rather than -3.
func TestRowLargestMagnitudeFirstOnTies(t *testing.T) {
	x := make([]float32, 32)
	x[5], x[9] = 3, -3
	got := quantizeRow(t, gguf.Q4_0, x)
	if d := fp16ToF32(uint16(got[0]) | uint16(got[1])<<8); d != -0.375 {
		t.Errorf("Q4_0 d = %g, want -0.375", d)
	}
	if q5, q9 := got[2+5]&15, got[2+9]&15; q5 != 0 || q9 != 15 {
		t.Errorf("Q4_0 levels of 3 and -3 = %d, %d; want 0 and 15 (16 clamped)", q5, q9)
	}
}

func randomRow(r *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * scale)
	}
	return x
}

// Quantized rows read back through the layouts as documented come close to the
// input: the relative RMS error of N(0,1) weights stays near what each type is
// known for.
func TestRowReadsBack(t *testing.T) {
	bound := map[gguf.Type]float64{gguf.F32: 0, gguf.F16: 3e-4, gguf.BF16: 2.5e-3, gguf.Q8_0: 7e-3, gguf.Q4_0: 0.11, gguf.Q4_1: 0.1,
		gguf.Q5_0: 0.055, gguf.Q5_1: 0.05, gguf.Q4_K: 0.09, gguf.Q5_K: 0.045, gguf.Q6_K: 0.022}
	x := randomRow(rand.New(rand.NewPCG(5, 6)), 4096, 1)
	for _, typ := range allTypes {
		y := dequantize(typ, quantizeRow(t, typ, x), len(x))
		var se, sx float64
		for i := range x {
			e := float64(x[i] - y[i])
			se += e * e
			sx += float64(x[i]) * float64(x[i])
		}
		if rel := math.Sqrt(se / sx); rel > bound[typ] {
			t.Errorf("%v: relative RMS error %.4f, want at most %.4f", typ, rel, bound[typ])
		}
	}
}

func TestRowRefusesWhatLlamaCppRefuses(t *testing.T) {
	row := func(v float32, at int) []float32 {
		x := make([]float32, 256)
		x[at] = v
		return x
	}
	for _, c := range []struct {
		typ  gguf.Type
		x    []float32
		want string
	}{
		{gguf.Q4_K, row(float32(math.NaN()), 7), "column 7 is NaN"},
		{gguf.F32, row(float32(math.Inf(-1)), 3), "column 3 is -Inf"},
		{gguf.F16, row(65520, 200), "column 200 (65520) is beyond"},
		{gguf.BF16, row(math.MaxFloat32, 1), "column 1 (3.4028235e+38) is beyond"},
		{gguf.Q8_0, row(1e7, 70), "block at column 64 has weights too large"},
		{gguf.Q4_1, row(-1e6, 0), "block at column 0 has weights too large"},
		{gguf.Q6_K, row(1<<29, 255), "column 255 (5.368709e+08) is too large"},
	} {
		dst := make([]byte, 4096)
		n, _ := RowBytes(c.typ, len(c.x))
		err := Row(c.typ, dst[:n], c.x)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Row(%v): error %v, want one with %q", c.typ, err, c.want)
		}
	}
	if err := Row(gguf.F16, make([]byte, 512), row(65504, 0)); err != nil {
		t.Errorf("Row(F16, 65504): %v", err)
	}
	if err := Row(gguf.Q8_0, make([]byte, 271), make([]float32, 256)); err == nil {
		t.Error("Row(Q8_0) into 271 bytes: no error")
	}
	if err := Row(gguf.Q4_K, make([]byte, 144), make([]float32, 255)); err == nil {
		t.Error("Row(Q4_K) of 255 weights: no error")
	}
}

// The bytes of every type for rows of many scales, hashed. The hash was taken on
// amd64, where the quantizers give llama.cpp's bytes on every fixture; the same test
// under GOARCH=arm64 checks that no product was fused into a multiply-add there.
func TestRowSameOnEveryArchitecture(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	h := sha256.New()
	for _, scale := range []float64{1e-30, 1e-6, 0.02, 1, 300, 1e5} {
		x := randomRow(r, 256*256, scale)
		for i := range x {
			switch r.IntN(16) {
			case 0:
				x[i] = 0
			case 1:
				x[i] = float32(math.Round(float64(x[i])))
			case 2:
				x[i] = float32(math.Abs(float64(x[i])))
			}
		}
		for _, typ := range allTypes {
			n, _ := RowBytes(typ, len(x))
			dst := make([]byte, n)
			if err := Row(typ, dst, x); err != nil {
				dst = []byte(err.Error())
			}
			h.Write(dst)
		}
	}
	const want = "9c585a4aad4846e66b6f2b54bb9254326390286aede6651ebf1a2f915e506796"
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("hash of the quantized rows = %s, want %s", got, want)
	}
}
