package gguf_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/internal/testfile"
)

// rewrite writes f again through a Writer: the pairs kvs, then f's tensors in
// table order with their data from data (the whole file). tensorData, when not
// nil, gives each tensor's type and data instead (nil data: the file's).
func rewrite(t *testing.T, f *gguf.File, data []byte, kvs []gguf.KV, tensorData func(*gguf.Tensor) (gguf.Type, []byte)) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gguf.NewWriter(&buf)
	for _, kv := range kvs {
		if err := w.AddKV(kv.Key, kv.Value); err != nil {
			t.Fatal(err)
		}
	}
	blobs := make([][]byte, len(f.Tensors))
	for i := range f.Tensors {
		ten := &f.Tensors[i]
		typ, b := ten.Type, []byte(nil)
		if tensorData != nil {
			typ, b = tensorData(ten)
		}
		if b == nil {
			var err error
			if b, err = f.Data(data, ten); err != nil {
				t.Fatal(err)
			}
		}
		blobs[i] = b
		if err := w.AddTensor(ten.Name, typ, ten.Dims); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	for _, b := range blobs {
		if err := w.WriteTensorData(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRoundTrip writes every fixture back from what Parse found in it: llama.cpp's
// files (gguf-py's F32 masters, llama-quantize's variants, the llama2.c
// converter's files, gguf-py's vocab-only files) come out byte for byte.
func TestRoundTrip(t *testing.T) {
	var paths []string
	for _, pattern := range []string{"models/*/*.gguf", "trained/*.gguf", "tokenizer/*.gguf"} {
		p, _ := filepath.Glob(filepath.Join(fixtures, pattern))
		paths = append(paths, p...)
	}
	if len(paths) != 4*11+2+2 {
		t.Fatalf("%d GGUF fixtures, want 48", len(paths))
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := gguf.Parse(data, filepath.Base(path))
		if err != nil {
			t.Fatal(err)
		}
		if got := rewrite(t, f, data, f.KVs, nil); !bytes.Equal(got, data) {
			t.Errorf("%s: written back as %d bytes, differing from the %d of the file at byte %d",
				path, len(got), len(data), firstDifference(got, data))
		}
	}
}

func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestRelabelledVocabs makes the three re-labelled GPT-2 vocabularies the way the
// fixtures describe them (tokenizer.ggml.pre changed, nothing else) and checks
// them against llama.cpp's metadata and the sizes the README lists.
func TestRelabelledVocabs(t *testing.T) {
	path := filepath.Join(fixtures, "tokenizer", "ggml-vocab-gpt-2.gguf")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(data, "ggml-vocab-gpt-2.gguf")
	if err != nil {
		t.Fatal(err)
	}
	for pre, size := range map[string]int{"llama-bpe": 1766811, "qwen2": 1766807, "smollm": 1766808} {
		kvs := slices.Clone(f.KVs)
		for i := range kvs {
			if kvs[i].Key == "tokenizer.ggml.pre" {
				kvs[i].Value = pre
			}
		}
		b := rewrite(t, f, data, kvs, nil)
		if len(b) != size {
			t.Errorf("pre %s: %d bytes, the README says %d", pre, len(b), size)
		}
		g, err := gguf.Parse(b, pre)
		if err != nil {
			t.Fatal(err)
		}
		var o struct {
			NVocab   int               `json:"n_vocab"`
			Metadata map[string]string `json:"metadata"`
		}
		testfile.JSON(t, filepath.Join(fixtures, "tokenizer", "ggml-vocab-gpt-2-pre-"+pre+".llama-cpp.json"), &o)
		checkVocab(t, g, o.NVocab, o.Metadata, map[string]int{"tokenizer.ggml.tokens": 50257, "tokenizer.ggml.token_type": 50257, "tokenizer.ggml.merges": 50000})
	}
}

// TestWriteF16AndBF16 writes each model's F16 and BF16 variants from its F32
// master as llama-quantize does (2-D tensors rounded to nearest even, tensors in
// llama-quantize's order, general.quantization_version and general.file_type
// appended) and checks them against llama.cpp's oracle: the very same bytes.
func TestWriteF16AndBF16(t *testing.T) {
	all := oracles(t)
	for _, model := range []string{"llama-spm", "llama3-bpe", "qwen2-bpe", "qwen3-bpe"} {
		dir := filepath.Join(fixtures, "models", model)
		master, masterData := parseBoth(t, filepath.Join(dir, model+".F32.gguf"))
		quantized, _ := parseBoth(t, filepath.Join(dir, model+".Q8_0.gguf")) // llama-quantize's tensor order
		table := readShapeTable(t, filepath.Join(dir, "README.md"))
		for _, c := range []struct {
			variant  string
			typ      gguf.Type
			fileType uint32
			round    func(float32) uint16
		}{
			{"F16", gguf.F16, 1, kernels.F32ToF16},
			{"BF16", gguf.BF16, 32, bf16},
		} {
			var kvs []gguf.KV
			for _, kv := range master.KVs {
				if kv.Key != gguf.FileTypeKey {
					kvs = append(kvs, kv)
				}
			}
			kvs = append(kvs, gguf.KV{Key: "general.quantization_version", Value: uint32(2)}, gguf.KV{Key: gguf.FileTypeKey, Value: c.fileType})
			ordered := &gguf.File{Name: master.Name, KVs: master.KVs}
			for _, q := range quantized.Tensors {
				ten, ok := master.Tensor(q.Name)
				if !ok {
					t.Fatalf("%s: no %s in the F32 master", model, q.Name)
				}
				ordered.Tensors = append(ordered.Tensors, *ten)
			}
			b := rewrite(t, ordered, masterData, kvs, func(ten *gguf.Tensor) (gguf.Type, []byte) {
				if len(ten.Dims) < 2 {
					return ten.Type, nil
				}
				src, _ := master.Data(masterData, ten)
				out := make([]byte, len(src)/2)
				for i := range len(src) / 4 {
					binary.LittleEndian.PutUint16(out[2*i:], c.round(math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))))
				}
				return c.typ, out
			})
			file := model + "." + c.variant + ".gguf"
			f, err := gguf.Parse(b, file)
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstOracle(t, f, b, all[file], &table, c.variant)
		}
	}
}

// bf16 rounds f to bfloat16, nearest even, as ggml's GGML_FP32_TO_BF16 does.
func bf16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 64 // a quiet NaN
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}
