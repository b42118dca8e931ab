package kernels

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine/quantize"
)

// The expected blocks below are worked out by hand from llama.cpp's reference
// quantizers (ggml-quants.c quantize_row_q8_0_ref / quantize_row_q4_0_ref), choosing
// values where a different rounding rule would give a different byte. EncodeRow
// writes them with package quantize, which has its own tests against llama.cpp's
// files; these check that EncodeRow hands each encoding to the right quantizer.

// encodeBlocks is EncodeRow into a new row.
func encodeBlocks(t *testing.T, enc Encoding, x []float32) []byte {
	t.Helper()
	row := make([]byte, enc.RowBytes(len(x)))
	if err := EncodeRow(enc, row, x); err != nil {
		t.Fatal(err)
	}
	return row
}

func TestQuantizeQ8_0RoundsHalfAwayFromZero(t *testing.T) {
	x := make([]float32, BlockSize)
	// amax = 127, so d = 1 and q = roundf(x).
	copy(x, []float32{127, -62.5, 0.5, 1.5, -0.5, 2.5, -2.5, 0.49999997, -127, 3.2, -3.7})
	want := []int8{127, -63, 1, 2, -1, 3, -3, 0, -127, 3, -4}
	dst := encodeBlocks(t, Q8_0, x)
	if d := binary.LittleEndian.Uint16(dst); d != 0x3c00 {
		t.Fatalf("scale %#04x, want 0x3c00 (1.0)", d)
	}
	for j, w := range want {
		if got := int8(dst[2+j]); got != w {
			t.Errorf("x=%v: q=%d, want %d", x[j], got, w)
		}
	}
	for j := len(want); j < BlockSize; j++ {
		if dst[2+j] != 0 {
			t.Errorf("zero input %d quantized to %d", j, int8(dst[2+j]))
		}
	}
}

func TestQuantizeQ8_0Scale(t *testing.T) {
	// amax = 1: d = 1/127 is stored rounded to fp16, but the values use 1/d unrounded
	// (which is exactly 127 in float32).
	x := make([]float32, BlockSize)
	x[0], x[1], x[2] = 1, -0.5, 0.25
	dst := encodeBlocks(t, Q8_0, x)
	if got, want := binary.LittleEndian.Uint16(dst), F32ToF16(float32(1)/127); got != want {
		t.Errorf("scale %#04x, want %#04x", got, want)
	}
	// 0.5*127 = 63.5 -> 64 (away from zero); 0.25*127 = 31.75 -> 32.
	if q := []int8{int8(dst[2]), int8(dst[3]), int8(dst[4])}; q[0] != 127 || q[1] != -64 || q[2] != 32 {
		t.Errorf("q = %v, want [127 -64 32]", q)
	}
}

// TestQuantizeZeroAndTinyBlocks: blocks of zeros, and blocks so small that
// llama.cpp's 1/d overflows to infinity, encode as llama.cpp's reference encodes
// them on x86-64 (where the GGUF fixtures were made). Q4_0's d = m/-8 is -0 for a
// block of zeros (fp16 0x8000), its 1/d taken as 0, so every weight is level 8
// (nibbles 0x88). For 1e-38 (d = -1.25e-39, fp16 -0) and -3e-40 (d = +3.75e-41,
// fp16 +0), 1/d is an infinity: x·(1/d) is NaN for the zeros and an infinity for
// the value, which x86's float-to-integer conversion turns into 0x80000000, low
// byte 0, so every nibble is 0. Q8_0's fp16 scale is +0 for all three and every q
// is 0, by roundf for the zeros and by the same conversion for the tiny values.
// Every such block decodes to zeros.
func TestQuantizeZeroAndTinyBlocks(t *testing.T) {
	const q4zeros, q4tiny = "0080" + "88888888888888888888888888888888", "0080" + "00000000000000000000000000000000"
	for _, c := range []struct {
		v        float32
		q8, q4_0 string
	}{
		{0, "0000" + strings.Repeat("00", BlockSize), q4zeros},
		{1e-38, "0000" + strings.Repeat("00", BlockSize), q4tiny},
		{-3e-40, "0000" + strings.Repeat("00", BlockSize), "0000" + q4tiny[4:]},
	} {
		x := make([]float32, BlockSize)
		x[5] = c.v
		for enc, want := range map[Encoding]string{Q8_0: c.q8, Q4_0: c.q4_0} {
			row := encodeBlocks(t, enc, x)
			if got := hex.EncodeToString(row); got != want {
				t.Errorf("%v block of %v encoded as %s, want %s", enc, c.v, got, want)
			}
			back := make([]float32, BlockSize)
			decodeRow(enc, row, back)
			if slices.ContainsFunc(back, func(v float32) bool { return v != 0 }) {
				t.Errorf("%v block of %v decodes to %v", enc, c.v, back)
			}
		}
	}
}

func TestQuantizeQ4_0(t *testing.T) {
	x := make([]float32, BlockSize)
	// The value of largest magnitude is -8, so d = -8/-8 = 1 and q = min(15, trunc(x + 8.5)).
	copy(x, []float32{-8, 7, 8, 0.49, 0.5, -0.5, -7.5, 3.9})
	x[16], x[17] = 6.5, -1.2
	wantLo := []byte{0, 15, 15, 8, 9, 8, 1, 12}
	dst := encodeBlocks(t, Q4_0, x)
	if d := binary.LittleEndian.Uint16(dst); d != 0x3c00 {
		t.Fatalf("scale %#04x, want 0x3c00", d)
	}
	for j, w := range wantLo {
		if got := dst[2+j] & 0x0f; got != w {
			t.Errorf("x[%d]=%v: nibble %d, want %d", j, x[j], got, w)
		}
	}
	// Elements 16.. go to the high nibbles of bytes 0..: 6.5 -> trunc(15.0) = 15, -1.2 -> 7, 0 -> 8.
	if hi := []byte{dst[2] >> 4, dst[3] >> 4, dst[4] >> 4}; hi[0] != 15 || hi[1] != 7 || hi[2] != 8 {
		t.Errorf("high nibbles %v, want [15 7 8]", hi)
	}
}

func TestQuantizeQ4_0SignOfScale(t *testing.T) {
	// Ties in magnitude: the first one sets the sign of d (llama.cpp's strict '<').
	x := make([]float32, BlockSize)
	x[0], x[1] = 8, -8
	dst := encodeBlocks(t, Q4_0, x)
	if d := binary.LittleEndian.Uint16(dst); d != 0xbc00 { // -1
		t.Fatalf("scale %#04x, want 0xbc00 (-1)", d)
	}
	// 8 -> q 0 -> (0-8)*-1 = 8 exactly; -8 -> trunc(16.5) clamps to 15 -> (15-8)*-1 = -7.
	got := make([]float32, BlockSize)
	decodeRow(Q4_0, dst, got)
	if got[0] != 8 || got[1] != -7 || got[2] != 0 {
		t.Errorf("decoded %v, want [8 -7 0 ...]", got[:3])
	}
}

// Dequantized values lie within one step of the input: half a step for Q8_0 (plain
// rounding), a whole step for Q4_0 (its clamp at 15 costs up to one step on the side
// opposite the largest value).
func TestQuantizeRoundTripBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, enc := range []Encoding{Q8_0, Q4_0} {
		for trial := 0; trial < 200; trial++ {
			x := make([]float32, 4*BlockSize)
			scale := float32(math.Pow(10, rng.Float64()*8-4))
			for i := range x {
				x[i] = float32(rng.NormFloat64()) * scale
			}
			row := make([]byte, enc.RowBytes(len(x)))
			if err := EncodeRow(enc, row, x); err != nil {
				t.Fatal(err)
			}
			back := make([]float32, len(x))
			decodeRow(enc, row, back)
			for b := 0; b < len(x)/BlockSize; b++ {
				d := abs32(F16ToF32(binary.LittleEndian.Uint16(row[b*blockBytes(enc):])))
				var amax float32
				for _, v := range x[b*BlockSize : (b+1)*BlockSize] {
					amax = max(amax, abs32(v))
				}
				step, steps := d, float32(8)
				if enc == Q8_0 {
					step, steps = d/2, 127
				}
				// The fp16 scale itself is off by up to 2^-11 relative (half its 2^-24
				// quantum when subnormal), over up to 127 or 8 steps.
				limit := step + amax/1024 + steps*0x1p-25
				for j := b * BlockSize; j < (b+1)*BlockSize; j++ {
					if e := abs32(back[j] - x[j]); e > limit {
						t.Fatalf("%v: x=%g decoded %g, error %g > %g", enc, x[j], back[j], e, limit)
					}
				}
			}
		}
	}
}

func TestEncodeRowF16AndF32(t *testing.T) {
	x := []float32{1, -2.5, 65504, 1e-7, 0}
	row := make([]byte, F16.RowBytes(len(x)))
	if err := EncodeRow(F16, row, x); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, len(x))
	decodeRow(F16, row, got)
	for i, v := range x {
		if want := F16ToF32(F32ToF16(v)); got[i] != want {
			t.Errorf("fp16 %v decoded %v, want %v", v, got[i], want)
		}
	}
	row = make([]byte, F32.RowBytes(len(x)))
	if err := EncodeRow(F32, row, x); err != nil {
		t.Fatal(err)
	}
	decodeRow(F32, row, got)
	for i, v := range x {
		if got[i] != v {
			t.Errorf("fp32 %v decoded %v", v, got[i])
		}
	}
}

func TestEncodeRowErrors(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	block := func(v ...float32) []float32 { x := make([]float32, BlockSize); copy(x, v); return x }
	at := func(n, col int, v float32) []float32 { x := make([]float32, n); x[col] = v; return x }
	cases := []struct {
		name string
		enc  Encoding
		x    []float32
		dst  int // bytes; -1 means the right size
		want string
	}{
		{"nan", F32, []float32{1, nan}, -1, "column 1 is not finite"},
		{"inf", Q8_0, block(0, 0, inf), -1, "column 2 is not finite"},
		{"fp16 overflow", F16, []float32{1, 70000}, -1, "beyond fp16's range"},
		{"q8 scale overflow", Q8_0, block(1e10), -1, "scale beyond fp16's range"},
		{"q4 scale overflow", Q4_0, block(-1e6), -1, "scale beyond fp16's range"},
		{"partial block", Q4_0, make([]float32, 40), 0, "multiples of 32"},
		{"no columns", F16, nil, 0, "row of 0 columns"},
		{"short dst", F16, []float32{1, 2}, 3, "needs 4 bytes, have 3"},
		{"unknown encoding", Encoding(200), []float32{1}, 4, "unknown weight encoding"},
		{"bf16 overflow", BF16, []float32{1, 3.4e38}, -1, "beyond bf16's range"},
		{"q4_k scale overflow", Q4_K, at(512, 258, 5e8), -1,
			"q4_k row: block at column 256 has a scale beyond fp16's range (its largest weight is 5e+08)"},
		{"q4_1 min overflow", Q4_1, append(block(1), block(2, -70000)...), -1, "q4_1 row: block at column 32 has a scale beyond"},
		{"q6_k input too large", Q6_K, at(256, 255, 1e9), -1, "q6_k row: block at column 0 has a scale beyond"},
		{"q5_0 not finite", Q5_0, block(0, nan), -1, "q5_0 row: value NaN at column 1 is not finite"},
		{"q6_k partial block", Q6_K, make([]float32, 96), 0, "multiples of 256"},
	}
	for _, c := range cases {
		n := c.dst
		if n < 0 {
			n = c.enc.RowBytes(len(c.x))
		}
		err := EncodeRow(c.enc, make([]byte, n), c.x)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestParseEncoding(t *testing.T) {
	for _, e := range Encodings {
		got, err := ParseEncoding(e.String())
		if err != nil || got != e {
			t.Errorf("ParseEncoding(%q) = %v, %v", e.String(), got, err)
		}
	}
	if e, err := ParseEncoding("F16"); err != nil || e != F16 {
		t.Errorf("ParseEncoding(F16) = %v, %v", e, err)
	}
	if e, err := ParseEncoding("Q4_K"); err != nil || e != Q4_K {
		t.Errorf("ParseEncoding(Q4_K) = %v, %v", e, err)
	}
	if _, err := ParseEncoding("q2_k"); err == nil || !strings.Contains(err.Error(), `"q2_k"`) {
		t.Errorf("ParseEncoding(q2_k) error %v", err)
	}
}

func TestNewMatrixErrors(t *testing.T) {
	cases := []struct {
		rows, cols int
		enc        Encoding
		data       int
		want       string
	}{
		{2, 48, Q8_0, 2 * 48, "multiples of 32, have 48"},
		{2, 64, Q8_0, 100, "needs 136 bytes, have 100"},
		{2, 64, Q4_0, 72, ""},
		{0, 64, F16, 0, "0 rows"},
		{3, -1, F32, 0, "-1 columns"},
		{math.MaxInt / 8, 1024, F32, 0, "too large"},
		{1, 32, Encoding(99), 34, "unknown weight encoding"},
		{1, 32, Q4_K, 144, "multiples of 256, have 32"},
		{2, 512, Q6_K, 2*2*210 - 1, "needs 840 bytes, have 839"},
	}
	for _, c := range cases {
		_, err := NewMatrix(make([]byte, c.data), c.rows, c.cols, c.enc)
		if c.want == "" {
			if err != nil {
				t.Errorf("%dx%d %v: %v", c.rows, c.cols, c.enc, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%dx%d %v: error %v, want one containing %q", c.rows, c.cols, c.enc, err, c.want)
		}
	}
}

// TestMatrixRow: a matrix's rows read back as the file's rows, whether their
// blocks were regrouped into the kernels' layout (the first 8 of 11) or not.
func TestMatrixRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, enc := range Encodings {
		const rows = 3
		cols := 11 * max(BlockSize, enc.BlockWeights())
		x := make([]float32, rows*cols)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		rb := enc.RowBytes(cols)
		data := make([]byte, rows*rb)
		for r := 0; r < rows; r++ {
			if err := EncodeRow(enc, data[r*rb:(r+1)*rb], x[r*cols:(r+1)*cols]); err != nil {
				t.Fatal(err)
			}
		}
		file := bytes.Clone(data)
		m, err := NewMatrix(data, rows, cols, enc)
		if err != nil {
			t.Fatal(err)
		}
		if regrouped(enc) && bytes.Equal(file, data) {
			t.Fatalf("%v: NewMatrix left the rows in the file's layout", enc)
		}
		got := make([]float32, cols)
		m.Row(2, got)
		want := make([]float32, cols)
		DecodeRow(enc, file[2*rb:3*rb], want)
		for j := range got {
			if got[j] != want[j] || abs32(got[j]-x[2*cols+j]) > 0.5 {
				t.Fatalf("%v: row 2 col %d = %v, want %v (input %v)", enc, j, got[j], want[j], x[2*cols+j])
			}
		}
	}
}

// TestMatrixRowFileLayout: the block encodings that keep the file's layout
// (layout.go) are left as they are by NewMatrix, and their rows read back as
// DecodeRow reads the file's.
func TestMatrixRowFileLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, enc := range []Encoding{Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K} {
		const rows = 3
		cols := 9 * enc.BlockWeights()
		rb := enc.RowBytes(cols)
		data := make([]byte, rows*rb)
		fillBlocks(rng, enc, data, randomScales(rng, enc, 1))
		file := bytes.Clone(data)
		m := mustMatrix(t, data, rows, cols, enc)
		if !bytes.Equal(file, data) {
			t.Fatalf("%v: NewMatrix rearranged the rows", enc)
		}
		got, want := make([]float32, cols), make([]float32, cols)
		for r := range rows {
			m.Row(r, got)
			DecodeRow(enc, file[r*rb:(r+1)*rb], want)
			if !slices.Equal(got, want) {
				t.Fatalf("%v: row %d differs from the file's", enc, r)
			}
		}
	}
}

// TestEncodeRowIsQuantizeRow: every block encoding is package quantize's rows,
// byte for byte (llama-quantize's), on weights of several magnitudes.
func TestEncodeRowIsQuantizeRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := make([]float32, 3*superBlock)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * math.Pow(10, float64(i/superBlock)-2))
	}
	for _, enc := range Encodings {
		got := encodeBlocks(t, enc, x)
		want := make([]byte, len(got))
		if err := quantize.Row(enc.info().gguf, want, x); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%v: EncodeRow differs from quantize.Row", enc)
		}
	}
}

// TestStoredAs: the narrow-width rule of InferPi's model files.
func TestStoredAs(t *testing.T) {
	for _, c := range []struct {
		enc, narrow Encoding
		cols        int
		want        Encoding
	}{
		{Q4_K, F16, 512, Q4_K}, {Q4_K, F16, 192, Q5_0}, {Q5_K, F16, 192, Q5_1}, {Q6_K, F16, 64, Q8_0},
		{Q4_K, F16, 172, F16}, {Q6_K, F32, 80, F32}, {Q8_0, F16, 24, F16}, {Q4_0, F32, 12, F32},
		{Q5_1, F16, 96, Q5_1}, {Q4_1, F16, 100, F16}, {BF16, F16, 7, BF16}, {F32, F16, 3, F32},
	} {
		if got := c.enc.StoredAs(c.cols, c.narrow); got != c.want {
			t.Errorf("%v.StoredAs(%d, %v) = %v, want %v", c.enc, c.cols, c.narrow, got, c.want)
		}
	}
}
