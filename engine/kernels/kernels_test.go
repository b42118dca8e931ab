package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// The SIMD kernels against the pure-Go reference, two ways:
//   - exact: integer-valued data whose every product and partial sum float32 holds
//     exactly, so any order of additions gives the same bits and the SIMD result must
//     equal the reference bit for bit (an index off by one cannot hide);
//   - close: realistic data (Gaussian weights, large values, fp16 subnormals), where
//     SIMD and reference add in different orders; both must be within a reordering
//     tolerance of the float64 sum of the very same products.

func simdUnderTest(t testing.TB) *impl {
	s, ok := simdImpl()
	if !ok {
		t.Skip("no SIMD kernels for this CPU or architecture")
	}
	return s
}

// testCase is a matrix and a vector to multiply.
type testCase struct {
	name string
	m    Matrix
	x    []float32
}

// run computes m·x with k's kernels on every row (making x ready as MatVec does).
func (c testCase) run(k *impl) []float32 {
	out := make([]float32, c.m.Rows)
	matVecRows(prepared(k, c.x, c.m.Enc), out, c.m, 0, c.m.Rows)
	return out
}

// prepared is x made ready for enc with k's kernels, as MatVec makes it, in
// storage of its own.
func prepared(k *impl, x []float32, enc Encoding) *Input {
	in := new(Input)
	in.prepare(k, x, []Encoding{enc}, new([actKinds]q8Vector))
	return in
}

// exact returns the float64 sum of the products the kernels multiply (the stored
// weights times x, or times x as the reference quantizes it for block encodings,
// exactDots) and the sum of their magnitudes, which scales the reordering tolerance.
func (c testCase) exact() (sum, mag []float64) {
	return exactDots(c.m, prepared(&reference, c.x, c.m.Enc))
}

// withOffset copies data to an odd address and x to a slice not 32-byte aligned, so
// that unaligned loads are exercised.
func withOffset(c testCase) testCase {
	data := make([]byte, len(c.m.Data)+1)[1:]
	copy(data, c.m.Data)
	x := make([]float32, len(c.x)+1)[1:]
	copy(x, c.x)
	c.m.Data, c.x = data, x
	return c
}

func mustMatrix(t testing.TB, data []byte, rows, cols int, enc Encoding) Matrix {
	m, err := NewMatrix(data, rows, cols, enc)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// intCase has weights and x that are small integers (times a power of two for the
// block scales), chosen so that float32 sums are exact for the given size.
func intCase(t testing.TB, rng *rand.Rand, enc Encoding, rows, cols int) testCase {
	rb := enc.RowBytes(cols)
	data := make([]byte, rows*rb)
	x := make([]float32, cols)
	switch enc {
	case F32, F16:
		for i := 0; i < rows*cols; i++ {
			w := float32(rng.IntN(129) - 64)
			if enc == F32 {
				binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(w))
			} else {
				binary.LittleEndian.PutUint16(data[2*i:], F32ToF16(w))
			}
		}
		for j := range x {
			x[j] = float32(rng.IntN(33) - 16)
		}
	case Q8_0, Q4_0:
		// x blocks reach ±127 so that their Q8_0 scale is exactly 1 and q = x.
		for j := range x {
			x[j] = float32(rng.IntN(255) - 127)
		}
		for b := 0; b < cols/BlockSize; b++ {
			x[b*BlockSize+rng.IntN(BlockSize)] = float32(127 - 254*rng.IntN(2))
		}
		bb := blockBytes(enc)
		scales := []float32{1, 2}
		if enc == Q4_0 {
			scales = []float32{0.5, 1, 2, 4}
		}
		for off := 0; off < len(data); off += bb {
			binary.LittleEndian.PutUint16(data[off:], F32ToF16(scales[rng.IntN(len(scales))]))
			for j := off + 2; j < off+bb; j++ {
				data[j] = byte(rng.IntN(256)) // every int8 (-128 too) and every nibble pair
			}
		}
	case BF16:
		for i := 0; i < rows*cols; i++ {
			binary.LittleEndian.PutUint16(data[2*i:], F32ToBF16(float32(rng.IntN(129)-64)))
		}
		for j := range x {
			x[j] = float32(rng.IntN(33) - 16)
		}
	default:
		intBlocks(rng, enc, data)
		small := 8
		if enc.BlockWeights() == superBlock {
			small = 2 // K-quant sums over 256 weights with scales up to 63
		}
		x = intX(rng, cols, small)
	}
	return testCase{fmt.Sprintf("int %v %dx%d", enc, rows, cols), mustMatrix(t, data, rows, cols, enc), x}
}

// Shapes: 1 row; columns around every SIMD width (4, 8, 16, 32) for float
// encodings, odd ones included; whole blocks for the quantized ones, up to 25
// blocks or 17 super-blocks (blockSums' lanes taking 1 to 4 blocks each).
var (
	floatCols = []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 172, 255, 256, 257, 768, 1000}
	blockCols = []int{32, 64, 96, 128, 160, 224, 256, 288, 416, 512, 800}
	superCols = []int{256, 512, 768, 1792, 2048, 2304, 4352}
	testRows  = []int{1, 2, 3, 5, 8}
)

func colsFor(enc Encoding) []int {
	switch enc.BlockWeights() {
	case 1:
		return floatCols
	case BlockSize:
		return blockCols
	}
	return superCols
}

func TestMatVecExact(t *testing.T) {
	simd := simdUnderTest(t)
	rng := rand.New(rand.NewPCG(10, 11))
	for _, enc := range Encodings {
		for _, cols := range colsFor(enc) {
			for _, rows := range testRows {
				c := intCase(t, rng, enc, rows, cols)
				if rows == 3 {
					c = withOffset(c)
				}
				want := c.run(&reference)
				got := c.run(simd)
				sum, _ := c.exact()
				for i := range want {
					if float64(want[i]) != sum[i] {
						t.Fatalf("%s: reference row %d = %v, exact %v: the test data is not exact", c.name, i, want[i], sum[i])
					}
					if got[i] != want[i] {
						t.Fatalf("%s: %s row %d = %v, reference %v", c.name, simd.name, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestMatVecExactSubnormalF16 uses fp16 subnormal weights (m * 2^-24): they must
// widen exactly, not flush to zero.
func TestMatVecExactSubnormalF16(t *testing.T) {
	simd := simdUnderTest(t)
	rng := rand.New(rand.NewPCG(12, 13))
	for _, cols := range []int{1, 7, 8, 33, 64, 999} {
		rows := 3
		data := make([]byte, rows*cols*2)
		for i := 0; i < rows*cols; i++ {
			h := uint16(1 + rng.IntN(0x3ff))
			if rng.IntN(2) == 0 {
				h |= 0x8000
			}
			binary.LittleEndian.PutUint16(data[2*i:], h)
		}
		x := make([]float32, cols)
		for j := range x {
			x[j] = float32(rng.IntN(33) - 16)
		}
		c := testCase{fmt.Sprintf("subnormal fp16 %dx%d", rows, cols), mustMatrix(t, data, rows, cols, F16), x}
		want, got := c.run(&reference), c.run(simd)
		sum, _ := c.exact()
		for i := range want {
			if float64(want[i]) != sum[i] || got[i] != want[i] || want[i] == 0 {
				t.Fatalf("%s row %d: %s %v, reference %v, exact %v", c.name, i, simd.name, got[i], want[i], sum[i])
			}
		}
	}
}

// gaussCase encodes N(0, scale²) weights and x = N(0, xscale²); for the block
// encodings kept in the file's layout (no SIMD kernels yet), random quants under
// block scales that give weights of about ±scale, which reach every quant and
// scale pattern rather than those a quantizer fits.
func gaussCase(t testing.TB, rng *rand.Rand, enc Encoding, rows, cols int, scale, xscale float64) testCase {
	rb := enc.RowBytes(cols)
	data := make([]byte, rows*rb)
	row := make([]float32, cols)
	if enc.Quantized() && !regrouped(enc) {
		fillBlocks(rng, enc, data, randomScales(rng, enc, scale))
	} else {
		for i := 0; i < rows; i++ {
			for j := range row {
				row[j] = float32(max(-65504, min(65504, rng.NormFloat64()*scale))) // within fp16's range
			}
			if err := EncodeRow(enc, data[i*rb:(i+1)*rb], row); err != nil {
				t.Fatal(err)
			}
		}
	}
	x := make([]float32, cols)
	for j := range x {
		x[j] = float32(rng.NormFloat64() * xscale)
	}
	return testCase{fmt.Sprintf("gauss %v %dx%d w~%g x~%g", enc, rows, cols, scale, xscale), mustMatrix(t, data, rows, cols, enc), x}
}

// reorderTol bounds the difference between two float32 sums of n products taken in
// different orders, relative to the sum of the products' magnitudes: a few units of
// float32 rounding (2^-24) times √n, the growth of random rounding errors, plus one
// subnormal quantum (2^-149) per operation for results that small. A lost or
// doubled product is of the order of mag/n, far above this for the sizes tested.
func reorderTol(n int, mag float64) float64 {
	return 8*0x1p-24*math.Sqrt(float64(n))*mag + 2*float64(n)*0x1p-149
}

func checkClose(t *testing.T, c testCase, k *impl) {
	t.Helper()
	if err := closeToExact(c, k); err != nil {
		t.Fatal(err)
	}
}

// closeToExact compares k and the reference with the float64 sum of the products.
func closeToExact(c testCase, k *impl) error {
	want, got := c.run(&reference), c.run(k)
	sum, mag := c.exact()
	n := c.m.Cols
	for i := range want {
		tol := reorderTol(n, mag[i])
		if math.IsNaN(float64(got[i])) || math.IsInf(float64(got[i]), 0) {
			return fmt.Errorf("%s: %s row %d = %v", c.name, k.name, i, got[i])
		}
		if e := math.Abs(float64(want[i]) - sum[i]); e > tol {
			return fmt.Errorf("%s: reference row %d = %v, exact %v: error %g > %g", c.name, i, want[i], sum[i], e, tol)
		}
		if e := math.Abs(float64(got[i]) - sum[i]); e > tol {
			return fmt.Errorf("%s: %s row %d = %v, exact %v (reference %v): error %g > %g", c.name, k.name, i, got[i], sum[i], want[i], e, tol)
		}
	}
	return nil
}

// TestToleranceCatchesALostProduct makes sure the tolerance is tight enough to fail a
// kernel that skips one column (the last, as a broken tail loop would).
func TestToleranceCatchesALostProduct(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 23))
	broken := reference
	broken.name = "broken"
	broken.matVecF16 = func(out []float32, w []byte, x []float32) {
		n := len(x)
		for i := range out {
			out[i] = dotRef(x[:n-1], f16Row(w[i*2*n:(i+1)*2*n])) // column n-1 lost
		}
	}
	for _, cols := range []int{9, 100, 4096} {
		lost := 0
		for trial := 0; trial < 20; trial++ {
			if closeToExact(gaussCase(t, rng, F16, 8, cols, 0.05, 1), &broken) != nil {
				lost++
			}
		}
		if lost < 19 {
			t.Errorf("%d columns: a lost product went unnoticed in %d of 20 matrices", cols, 20-lost)
		}
	}
}

func f16Row(b []byte) []float32 {
	r := make([]float32, len(b)/2)
	decodeRow(F16, b, r)
	return r
}

func TestMatVecClose(t *testing.T) {
	simd := simdUnderTest(t)
	rng := rand.New(rand.NewPCG(20, 21))
	for _, enc := range Encodings {
		for _, cols := range append(colsFor(enc), 2048, 4096) {
			for _, rows := range []int{1, 3, 8} {
				checkClose(t, gaussCase(t, rng, enc, rows, cols, 0.05, 1), simd)
			}
		}
		cols := colsFor(enc)[len(colsFor(enc))-1]
		// Large values: weights near fp16's limit (or the block scales' limit) and big activations.
		big := 30000.0
		if enc.Quantized() {
			big = 5e4 // Q4_0's scale, amax/8, must stay within fp16's range
		}
		checkClose(t, withOffset(gaussCase(t, rng, enc, 4, cols, big, 1000)), simd)
		// Tiny weights: fp16 subnormals, and quantized blocks with subnormal scales.
		checkClose(t, gaussCase(t, rng, enc, 4, cols, 1e-6, 1), simd)
		// Mixed magnitudes in x (activations before a norm).
		c := gaussCase(t, rng, enc, 4, cols, 0.1, 1)
		for j := range c.x {
			c.x[j] *= float32(math.Pow(10, float64(rng.IntN(7)-3)))
		}
		checkClose(t, c, simd)
	}
}

// TestMatVecSplitMatchesSerial: rows are independent, so splitting them across
// cores must give exactly the serial result, whatever the chunking.
func TestMatVecSplitMatchesSerial(t *testing.T) {
	rng := rand.New(rand.NewPCG(30, 31))
	for _, workers := range []int{1, 2, 3, 4} {
		p := NewPool(workers)
		for _, enc := range Encodings {
			// 1000 rows: not a multiple of any chunk size; big enough to be split.
			c := gaussCase(t, rng, enc, 1000, 512, 0.05, 1)
			if c.m.Bytes() < parallelMinBytes {
				t.Fatalf("%s: %d bytes is below the split threshold", c.name, c.m.Bytes())
			}
			want := c.run(kern)
			got := make([]float32, c.m.Rows+1)
			got[c.m.Rows] = 42 // MatVec must not write past Rows
			p.MatVec(got, c.m, c.x)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%d workers, %s: row %d = %v, serial %v", workers, c.name, i, got[i], want[i])
				}
			}
			if got[c.m.Rows] != 42 {
				t.Fatalf("%d workers, %s: wrote past the last row", workers, c.name)
			}
		}
		p.Close()
	}
}

// TestRowsAloneMatchPairs: a row's result must not depend on which rows are
// computed with it (the AVX2 Q4_0 kernel takes rows of whole 8-block groups two at
// a time, and a split may start a range on an odd row or leave one row over), or
// batched prefill would not give MatVec's bits. Every row alone, and every range
// starting at every row, against the whole matrix in one call.
func TestRowsAloneMatchPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(32, 33))
	for _, enc := range Encodings {
		for _, cols := range []int{256, 768, 288, 96, 1408, 2304} { // whole groups, a tail, only a tail
			if enc.CheckCols(cols) != nil {
				continue
			}
			c := gaussCase(t, rng, enc, 7, cols, 0.05, 1)
			in := prepared(kern, c.x, enc)
			want := make([]float32, c.m.Rows)
			matVecRows(in, want, c.m, 0, c.m.Rows)
			for lo := range c.m.Rows {
				for _, hi := range []int{lo + 1, c.m.Rows} {
					got := make([]float32, c.m.Rows)
					matVecRows(in, got, c.m, lo, hi)
					for i := lo; i < hi; i++ {
						if got[i] != want[i] {
							t.Fatalf("%s: rows [%d, %d): row %d = %v, in one call %v", c.name, lo, hi, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestMatVecFixtureShapes runs the exported MatVec (default pool, kernels in use)
// against the reference on the shapes of the fixture models and of a 286M nanochat.
func TestMatVecFixtureShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(32, 33))
	shapes := [][2]int{{64, 64}, {32, 64}, {172, 64}, {64, 172}, {768, 768}, {3072, 768}, {768, 3072}}
	for _, enc := range Encodings {
		for _, s := range shapes {
			if enc.CheckCols(s[1]) != nil {
				continue
			}
			c := gaussCase(t, rng, enc, s[0], s[1], 0.05, 1)
			got := make([]float32, s[0])
			MatVec(got, c.m, c.x)
			want := c.run(&reference)
			sum, mag := c.exact()
			for i := range got {
				if e := math.Abs(float64(got[i]) - sum[i]); e > reorderTol(s[1], mag[i]) {
					t.Fatalf("%s: row %d = %v, reference %v, exact %v", c.name, i, got[i], want[i], sum[i])
				}
			}
		}
	}
}

func TestMatVecPanicsOnShapeMismatch(t *testing.T) {
	m := mustMatrix(t, make([]byte, 2*32*2), 2, 32, F16)
	for _, c := range []struct {
		out, x int
	}{{2, 31}, {1, 32}, {2, 33}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("out %d, x %d: no panic", c.out, c.x)
				}
			}()
			MatVec(make([]float32, c.out), m, make([]float32, c.x))
		}()
	}
}

func TestImplementationChosen(t *testing.T) {
	s, ok := simdImpl()
	if ok && Implementation() != s.name && Implementation() != "go" {
		t.Errorf("Implementation() = %q, SIMD kernels %q available", Implementation(), s.name)
	}
	UseReference(true)
	if Implementation() != "go" {
		t.Errorf("UseReference(true): Implementation() = %q", Implementation())
	}
	UseReference(false)
	if ok && Implementation() != s.name {
		t.Errorf("UseReference(false): Implementation() = %q, want %q", Implementation(), s.name)
	}
	t.Logf("kernels: %s", Implementation())
}

// TestQuantizeXMatchesReference: the SIMD quantizers of x must give the reference's
// bytes exactly (same scale, same rounding), ties and edge cases included.
func TestQuantizeXMatchesReference(t *testing.T) {
	simd := simdUnderTest(t)
	rng := rand.New(rand.NewPCG(50, 51))
	var blocks [][]float32
	// Ties: amax 127 makes id exactly 1, so k+0.5 must round to the even neighbour,
	// and values just beside a half to the nearer one.
	ties := []float32{127, -127, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 126.5, -126.5, 0.49999997, -0.49999997,
		1.4999999, -1.4999999, 0, -0, 3.5000002, 63.5, -63.5, 100.5}
	tb := make([]float32, BlockSize)
	copy(tb, ties)
	blocks = append(blocks, tb)
	blocks = append(blocks, make([]float32, BlockSize)) // all zeros: d = 0, id = 0
	// Every half k+0.5 up to 126.5 and the floats either side of it, both signs,
	// in blocks whose first value 127 makes id exactly 1.
	var sweep []float32
	for k := range 127 {
		h := float32(k) + 0.5
		for _, v := range []float32{h, math.Nextafter32(h, 0), math.Nextafter32(h, 200)} {
			sweep = append(sweep, v, -v)
		}
	}
	for len(sweep) > 0 {
		b := make([]float32, BlockSize)
		b[0] = 127
		sweep = sweep[copy(b[1:], sweep):]
		blocks = append(blocks, b)
	}
	for _, scale := range []float64{1, 1e-3, 1e-30, 1e-40, 1e4, 1e30} {
		for r := 0; r < 20; r++ {
			b := make([]float32, BlockSize)
			for j := range b {
				b[j] = float32(rng.NormFloat64() * scale)
			}
			blocks = append(blocks, b)
		}
	}
	var x []float32
	for _, b := range blocks {
		x = append(x, b...)
	}
	for _, n := range []int{BlockSize, 2 * BlockSize, len(x)} {
		var want, got q8Vector
		reference.quantize(actQ8_0, &want, x[:n])
		simd.quantize(actQ8_0, &got, x[:n])
		for b := range want.d {
			if math.Float32bits(got.d[b]) != math.Float32bits(want.d[b]) || got.s8[b] != want.s8[b] {
				t.Fatalf("block %d: %s d=%v s8=%v, reference d=%v s8=%v", b, simd.name, got.d[b], got.s8[b], want.d[b], want.s8[b])
			}
		}
		for i := range want.q {
			if got.q[i] != want.q[i] {
				t.Fatalf("x[%d] = %v (block scale %v): %s q=%d, reference %d", i, x[i], want.d[i/BlockSize], simd.name, got.q[i], want.q[i])
			}
		}
	}
	// The reference itself on the ties block: halves to even (VCVTPS2DQ's rounding
	// in llama.cpp's AVX2 quantize_row_q8_0).
	var v q8Vector
	reference.quantize(actQ8_0, &v, tb)
	wantQ := []int8{127, -127, 0, 0, 2, -2, 2, -2, 126, -126, 0, 0, 1, -1, 0, 0, 4, 64, -64, 100}
	for j, w := range wantQ {
		if v.q[j] != w {
			t.Errorf("round-half-even(%v) = %d, want %d", tb[j], v.q[j], w)
		}
	}
}

// implFuncs lists k's function fields and whether each is nil.
func implFuncs(k *impl) []struct {
	name string
	nil  bool
} {
	v := reflect.ValueOf(k).Elem()
	var fs []struct {
		name string
		nil  bool
	}
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Func {
			fs = append(fs, struct {
				name string
				nil  bool
			}{v.Type().Field(i).Name, f.IsNil()})
		}
	}
	return fs
}
