package gguf

import (
	"bytes"
	"os"
	"runtime"
	"testing"
)

// fuzzSeeds are small GGUF files: hand-made ones, and llama.cpp's metadata with
// tiny tensors.
func fuzzSeeds(t testing.TB) [][]byte {
	every := baseFile()
	every.kvs = append(every.kvs,
		pair("u8", uint8(1)), pair("i8", int8(-1)), pair("u16", uint16(2)), pair("i16", int16(-2)),
		pair("i32", int32(-3)), pair("f32", float32(0.5)), pair("b", true), pair("u64", uint64(4)),
		pair("i64", int64(-4)), pair("f64", 0.25), pair("a.u16", []uint16{1, 2}), pair("a.f64", []float64{1}),
		pair("a.b", []bool{true, false}), pair("a.i32", []int32{-1}), pair(AlignmentKey, uint32(32)))
	every.tensors = append(every.tensors, rawTensor{"k", []int64{256, 1, 1, 1}, uint32(Q4_K), 192})
	every.data = 192 + 144
	seeds := [][]byte{baseFile().bytes(), every.bytes()}

	// A real header with the tensor data left out, and the same metadata with
	// 32-weight tensors in place of the real ones.
	data, err := os.ReadFile("../../testdata/gguf/models/llama-spm/llama-spm.Q4_K_M.gguf")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(data, "llama-spm.Q4_K_M.gguf")
	if err != nil {
		t.Fatal(err)
	}
	seeds = append(seeds, data[:f.DataOffset])
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, kv := range f.KVs {
		w.AddKV(kv.Key, kv.Value)
	}
	for _, ten := range f.Tensors[:4] {
		w.AddTensor(ten.Name, ten.Type, []int64{int64(ten.Type.BlockSize())})
	}
	w.WriteHeader()
	for _, ten := range f.Tensors[:4] {
		w.WriteTensorData(make([]byte, ten.Type.BlockBytes()))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return append(seeds, buf.Bytes())
}

func TestFuzzSeeds(t *testing.T) {
	// The seeds must be what they claim, or the fuzzer starts blind.
	for i, seed := range fuzzSeeds(t) {
		_, err := Parse(seed, "seed")
		if (err == nil) != (i != 2) {
			t.Errorf("seed %d: %v", i, err)
		}
	}
}

// FuzzParse parses fuzzed files. Whatever the bytes: no panic; Parse allocates
// no more than a small multiple of the input; Read agrees with Parse; and a file
// Parse accepts writes back through the Writer into a file that reads back to the
// same thing (written again, the same bytes).
func FuzzParse(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pf, perr := parseCountingAllocs(t, data)

		// Read must agree, through its windows and through windows of a few bytes
		// (values straddling them).
		window := int64(1 + len(data)%23)
		for _, src := range []*source{
			newReaderSource(bytes.NewReader(data), int64(len(data)), "fuzz.gguf", windowSize),
			newReaderSource(bytes.NewReader(data), int64(len(data)), "fuzz.gguf", window),
		} {
			rf, rerr := read(src, "fuzz.gguf")
			switch {
			case (perr == nil) != (rerr == nil) || perr != nil && perr.Error() != rerr.Error():
				t.Fatalf("Parse: %v; Read (%d-byte window): %v", perr, len(src.buf), rerr)
			case perr == nil && !bytes.Equal(writeBack(t, pf, data), writeBack(t, rf, data)):
				t.Fatalf("Parse and Read (%d-byte window) read different files", len(src.buf))
			}
		}
		if perr != nil {
			return
		}

		first := writeBack(t, pf, data)
		again, err := Parse(first, "again.gguf")
		if err != nil {
			t.Fatalf("the file written back does not parse: %v", err)
		}
		if second := writeBack(t, again, first); !bytes.Equal(first, second) {
			t.Fatalf("written back twice, the files differ (%d and %d bytes)", len(first), len(second))
		}
	})
}

// parseCountingAllocs is Parse that fails t if it allocates more than 16 times
// the input (plus a little): a file's claims must never cost more than its bytes.
func parseCountingAllocs(t *testing.T, data []byte) (*File, error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f, err := Parse(data, "fuzz.gguf")
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16*uint64(len(data))+64<<10 {
		t.Fatalf("Parse allocated %d bytes for %d bytes of input", alloc, len(data))
	}
	return f, err
}

// TestAllocationBound parses the files that cost the most memory per byte:
// thousands of the smallest pairs, of the smallest tensor infos, of empty strings.
func TestAllocationBound(t *testing.T) {
	pairs, tensors, strs := baseFile(), baseFile(), baseFile()
	for i := range 5000 {
		name := string([]byte{byte('a' + i%26), byte('a' + i/26%26), byte('a' + i/676)})
		pairs.kvs = append(pairs.kvs, pair(name, uint8(1)))
		tensors.tensors = append(tensors.tensors, rawTensor{name, []int64{0}, uint32(F32), 128})
	}
	strs.kvs = append(strs.kvs, pair("empty", make([]string, 20000)))
	for _, r := range []*rawFile{pairs, tensors, strs} {
		data := r.bytes()
		if _, err := parseCountingAllocs(t, data); err != nil {
			t.Fatal(err)
		}
	}
}

// writeBack writes f through a Writer, the tensor data from data.
func writeBack(t *testing.T, f *File, data []byte) []byte {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, kv := range f.KVs {
		if err := w.AddKV(kv.Key, kv.Value); err != nil {
			t.Fatalf("the Writer refuses a pair Parse accepted: %v", err)
		}
	}
	for _, ten := range f.Tensors {
		if err := w.AddTensor(ten.Name, ten.Type, ten.Dims); err != nil {
			t.Fatalf("the Writer refuses a tensor Parse accepted: %v", err)
		}
	}
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	for i := range f.Tensors {
		b, err := f.Data(data, &f.Tensors[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteTensorData(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
