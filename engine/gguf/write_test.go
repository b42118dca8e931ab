package gguf_test

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine/gguf"
)

// everyValue is one key of each value type, arrays included (empty ones too).
var everyValue = []gguf.KV{
	{Key: "u8", Value: uint8(200)},
	{Key: "i8", Value: int8(-100)},
	{Key: "u16", Value: uint16(60000)},
	{Key: "i16", Value: int16(-30000)},
	{Key: "u32", Value: uint32(4000000000)},
	{Key: "i32", Value: int32(-2000000000)},
	{Key: "f32", Value: float32(1e-5)},
	{Key: "bool", Value: true},
	{Key: "str", Value: "héllo\x00\xff"},
	{Key: "u64", Value: uint64(1 << 63)},
	{Key: "i64", Value: int64(-1 << 62)},
	{Key: "f64", Value: math.Pi},
	{Key: "a.u8", Value: []uint8{1, 2, 255}},
	{Key: "a.i8", Value: []int8{-1, 0, 127}},
	{Key: "a.u16", Value: []uint16{1, 65535}},
	{Key: "a.i16", Value: []int16{-32768}},
	{Key: "a.u32", Value: []uint32{7, 8, 9}},
	{Key: "a.i32", Value: []int32{-7, 1 << 30}},
	{Key: "a.f32", Value: []float32{0.5, -0.25, float32(math.Inf(1))}},
	{Key: "a.bool", Value: []bool{true, false, true}},
	{Key: "a.str", Value: []string{"", "a", "bc"}},
	{Key: "a.u64", Value: []uint64{1 << 40}},
	{Key: "a.i64", Value: []int64{-1 << 40, 3}},
	{Key: "a.f64", Value: []float64{1e300}},
	{Key: "a.empty", Value: []string{}},
	{Key: "a.empty32", Value: []int32{}},
}

// smallFile is a valid file with every value type and tensors of several types
// and shapes (a 1-D F32, a 2-D Q4_0, a scalar I32, a 3-D Q6_K).
func smallFile(t testing.TB, extra ...gguf.KV) []byte {
	var buf bytes.Buffer
	w := gguf.NewWriter(&buf)
	for _, kv := range append(slices.Clone(everyValue), extra...) {
		if err := w.AddKV(kv.Key, kv.Value); err != nil {
			t.Fatal(err)
		}
	}
	tensors := []struct {
		name string
		typ  gguf.Type
		dims []int64
	}{
		{"norm", gguf.F32, []int64{5}},
		{"matrix", gguf.Q4_0, []int64{64, 3}},
		{"scalar", gguf.I32, nil},
		{"cube", gguf.Q6_K, []int64{256, 1, 2}},
	}
	for _, ten := range tensors {
		if err := w.AddTensor(ten.name, ten.typ, ten.dims); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	for i, n := range []int{5 * 4, 2 * 18 * 3, 4, 2 * 210} {
		if err := w.WriteTensorData(bytes.Repeat([]byte{byte(i + 1)}, n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestEveryValueType(t *testing.T) {
	data := smallFile(t)
	f, err := gguf.Parse(data, "small.gguf")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.KVs, everyValue) {
		t.Errorf("read back\n%#v\nwant\n%#v", f.KVs, everyValue)
	}
	for i, want := range []struct {
		name  string
		dims  []int64
		bytes int64
		rows  int64
	}{
		{"norm", []int64{5}, 20, 1},
		{"matrix", []int64{64, 3}, 108, 3},
		{"scalar", []int64{}, 4, 1},
		{"cube", []int64{256, 1, 2}, 420, 2},
	} {
		ten := &f.Tensors[i]
		if ten.Name != want.name || !reflect.DeepEqual(ten.Dims, want.dims) || ten.Bytes != want.bytes || ten.Rows() != want.rows {
			t.Errorf("tensor %d: %+v (%d rows), want %+v", i, *ten, ten.Rows(), want)
		}
		b, err := f.Data(data, ten)
		if err != nil || !bytes.Equal(b, bytes.Repeat([]byte{byte(i + 1)}, int(want.bytes))) {
			t.Errorf("%s: data %v, %v", ten.Name, b, err)
		}
		if ten.Offset%32 != 0 {
			t.Errorf("%s: offset %d", ten.Name, ten.Offset)
		}
	}
	// Data is a view into the buffer, not a copy.
	b, _ := f.Data(data, &f.Tensors[0])
	if &b[0] != &data[f.Tensors[0].Offset] {
		t.Error("Data copied the tensor")
	}
	if _, err := f.Data(data[:f.Tensors[3].Offset+10], &f.Tensors[3]); err == nil || !strings.Contains(err.Error(), "small.gguf: tensor cube:") {
		t.Errorf("Data past the buffer: %v", err)
	}
}

// TestAlignmentKey writes a file with general.alignment 64 and checks that the
// writer and the reader both use it.
func TestAlignmentKey(t *testing.T) {
	data := smallFile(t, gguf.KV{Key: gguf.AlignmentKey, Value: uint32(64)})
	f, err := gguf.Parse(data, "aligned.gguf")
	if err != nil {
		t.Fatal(err)
	}
	if f.Alignment != 64 || f.DataOffset%64 != 0 || len(data)%64 != 0 {
		t.Errorf("alignment %d, data at %d, %d bytes", f.Alignment, f.DataOffset, len(data))
	}
	for _, ten := range f.Tensors {
		if ten.Offset%64 != 0 {
			t.Errorf("%s at %d", ten.Name, ten.Offset)
		}
	}
	if f.Tensors[1].Offset-f.Tensors[0].Offset != 64 {
		t.Errorf("the 20-byte tensor takes %d bytes with padding, want 64", f.Tensors[1].Offset-f.Tensors[0].Offset)
	}
}

func TestWriterErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		do   func(w *gguf.Writer) error
		want string
	}{
		{"empty key", func(w *gguf.Writer) error { return w.AddKV("", uint8(1)) }, "key must not be empty"},
		{"duplicate key", func(w *gguf.Writer) error { w.AddKV("a", uint8(1)); return w.AddKV("a", "x") }, "key a: added twice"},
		{"unsupported value", func(w *gguf.Writer) error { return w.AddKV("a", 3) }, "key a: a GGUF value cannot be a int"},
		{"nested array", func(w *gguf.Writer) error { return w.AddKV("a", [][]int32{{1}}) }, "cannot be a [][]int32"},
		{"alignment type", func(w *gguf.Writer) error { return w.AddKV(gguf.AlignmentKey, uint64(32)) }, "general.alignment: 32 of type u64, want a u32 power of two"},
		{"alignment value", func(w *gguf.Writer) error { return w.AddKV(gguf.AlignmentKey, uint32(48)) }, "want a u32 power of two"},
		{"duplicate tensor", func(w *gguf.Writer) error {
			w.AddTensor("t", gguf.F32, []int64{1})
			return w.AddTensor("t", gguf.F32, []int64{1})
		}, "tensor t: added twice"},
		{"long name", func(w *gguf.Writer) error { return w.AddTensor(strings.Repeat("n", 64), gguf.F32, []int64{1}) }, "longer than ggml's limit of 63"},
		{"unknown type", func(w *gguf.Writer) error { return w.AddTensor("t", gguf.Type(31), []int64{32}) }, "tensor t: unknown tensor type 31"},
		{"partial block", func(w *gguf.Writer) error { return w.AddTensor("t", gguf.Q4_K, []int64{255}) }, "rows of 255 weights are not a multiple of the Q4_K block size 256"},
		{"five dims", func(w *gguf.Writer) error { return w.AddTensor("t", gguf.F32, []int64{1, 1, 1, 1, 1}) }, "5 dimensions, at most 4"},
		{"zero rows", func(w *gguf.Writer) error { return w.AddTensor("t", gguf.F32, []int64{4, 0}) }, "dimension 1 is 0"},
		{"kv after header", func(w *gguf.Writer) error { w.WriteHeader(); return w.AddKV("a", true) }, "key a: added after WriteHeader"},
		{"tensor after header", func(w *gguf.Writer) error { w.WriteHeader(); return w.AddTensor("t", gguf.F32, []int64{1}) }, "added after WriteHeader"},
		{"header twice", func(w *gguf.Writer) error { w.WriteHeader(); return w.WriteHeader() }, "WriteHeader called twice"},
		{"data before header", func(w *gguf.Writer) error { return w.WriteTensorData(nil) }, "before WriteHeader"},
		{"wrong size", func(w *gguf.Writer) error {
			w.AddTensor("t", gguf.Q8_0, []int64{32, 2})
			w.WriteHeader()
			return w.WriteTensorData(make([]byte, 64))
		}, "tensor t: 64 bytes of data, want 68"},
		{"too much data", func(w *gguf.Writer) error { w.WriteHeader(); return w.WriteTensorData(nil) }, "all 0 tensors are written"},
		{"missing data", func(w *gguf.Writer) error {
			w.AddTensor("t", gguf.F32, []int64{1})
			w.AddTensor("u", gguf.F32, []int64{1})
			w.WriteHeader()
			w.WriteTensorData(make([]byte, 4))
			return w.Close()
		}, "tensor u: data not written (1 of 2 tensors written)"},
	} {
		err := c.do(gguf.NewWriter(&bytes.Buffer{}))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriterKeepsTheFirstError(t *testing.T) {
	w := gguf.NewWriter(&failingWriter{n: 10})
	w.AddTensor("t", gguf.F32, []int64{1})
	if err := w.WriteHeader(); err == nil || err.Error() != "disk full" {
		t.Fatalf("WriteHeader: %v", err)
	}
	if err := w.WriteTensorData(make([]byte, 4)); err == nil || err.Error() != "disk full" {
		t.Errorf("WriteTensorData after a failed write: %v", err)
	}
	if err := w.Close(); err == nil || err.Error() != "disk full" {
		t.Errorf("Close after a failed write: %v", err)
	}
}

// TestMetadataOnlyFile checks that Close alone writes a file without tensors,
// ending right after its pairs.
func TestMetadataOnlyFile(t *testing.T) {
	var buf bytes.Buffer
	w := gguf.NewWriter(&buf)
	w.AddKV("general.architecture", "llama")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "GGUF\x03\x00\x00\x00" + "\x00\x00\x00\x00\x00\x00\x00\x00" + "\x01\x00\x00\x00\x00\x00\x00\x00" +
		"\x14\x00\x00\x00\x00\x00\x00\x00general.architecture" + "\x08\x00\x00\x00" + "\x05\x00\x00\x00\x00\x00\x00\x00llama"
	if buf.String() != want {
		t.Errorf("got %q\nwant %q", buf.String(), want)
	}
}
