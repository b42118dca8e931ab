package hf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/quantize"
	"github.com/inferpi/inferpi/internal/testfile"
)

// writeGGUF converts a fixture directory and parses the result.
func writeGGUF(t *testing.T, dir string, ft quantize.FileType) (*gguf.File, []byte) {
	t.Helper()
	m := openFixture(t, dir)
	var buf bytes.Buffer
	if err := m.WriteGGUF(&buf, GGUFOptions{FileType: ft}); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(buf.Bytes(), "out.gguf")
	if err != nil {
		t.Fatal(err)
	}
	return f, buf.Bytes()
}

// The GGUF files written for the fixtures in f32 are llama.cpp's: every
// metadata pair (but general.name) in the same order with the same value and
// type, every tensor with the same name, type, shape and bytes.
func TestGGUFLikeLlamaCpp(t *testing.T) {
	for _, fixture := range fixtures {
		f, data := writeGGUF(t, copyFixture(t, fixture), quantize.FileF32)
		var kvs []KV
		for _, kv := range f.KVs {
			kvs = append(kvs, KV{kv.Key, kv.Value})
		}
		checkMetadata(t, fixture, kvs)
		s := readSummary(t, fixture)
		if len(f.Tensors) != len(s.Tensors) {
			t.Fatalf("%s: %d tensors, llama.cpp's %d", fixture, len(f.Tensors), len(s.Tensors))
		}
		for i := range f.Tensors {
			got, want := &f.Tensors[i], s.Tensors[i]
			b, err := f.Data(data, got)
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != want.Name || got.Type.String() != want.Type || fmt.Sprint(got.Dims) != fmt.Sprint(want.Ne) || testfile.SHA256(b) != want.SHA256 {
				t.Errorf("%s: tensor %d is %s %v %v, llama.cpp's %s %s %v", fixture, i, got.Name, got.Type, got.Dims, want.Name, want.Type, want.Ne)
			}
		}
	}
}

// From 16-bit checkpoints, f16 and bf16 lose nothing: every matrix is in the
// 16-bit type, every vector float32, and widened back each tensor is
// llama.cpp's float32 tensor.
func TestGGUF16BitLossless(t *testing.T) {
	for _, c := range []struct {
		fixture string
		ft      quantize.FileType
		matrix  gguf.Type
	}{
		{"qwen2-bpe-fp16", quantize.FileF16, gguf.F16},
		{"qwen3-bf16", quantize.FileBF16, gguf.BF16},
		{"llama-spm-bf16", quantize.FileBF16, gguf.BF16},
	} {
		f, data := writeGGUF(t, copyFixture(t, c.fixture), c.ft)
		if ft, _ := f.GetUint("general.file_type"); ft != uint64(c.ft) {
			t.Errorf("%s: general.file_type %d, want %d", c.fixture, ft, c.ft)
		}
		s := readSummary(t, c.fixture)
		for i := range f.Tensors {
			x := &f.Tensors[i]
			want := gguf.F32
			if len(x.Dims) == 2 {
				want = c.matrix
			}
			if x.Type != want {
				t.Errorf("%s: %s is %v, want %v", c.fixture, x.Name, x.Type, want)
				continue
			}
			b, _ := f.Data(data, x)
			if want != gguf.F32 {
				b = widen16(b, want)
			}
			if testfile.SHA256(b) != s.Tensors[i].SHA256 {
				t.Errorf("%s: %s widened differs from llama.cpp's float32 tensor", c.fixture, x.Name)
			}
		}
	}
}

// widen16 turns F16 or BF16 data into float32 data.
func widen16(b []byte, t gguf.Type) []byte {
	out := make([]byte, 0, 2*len(b))
	for i := 0; i < len(b); i += 2 {
		h := binary.LittleEndian.Uint16(b[i:])
		f := kernels.BF16ToF32(h)
		if t == gguf.F16 {
			f = kernels.F16ToF32(h)
		}
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(f))
	}
	return out
}

// q4_k_m on the fixtures, whose rows are mostly 32 or 96 wide, not whole
// Q4_K blocks: those matrices fall back as llama-quantize's rules say (Q4_K to
// Q5_0, Q6_K to Q8_0), the 256-wide ones (ffn_down's) keep the K-quants, and
// the file parses.
func TestGGUFQ4KMFallbacks(t *testing.T) {
	for _, fixture := range fixtures {
		f, _ := writeGGUF(t, copyFixture(t, fixture), quantize.FileQ4_K_M)
		fallbacks := 0
		for _, x := range f.Tensors {
			switch {
			case len(x.Dims) == 1:
				if x.Type != gguf.F32 {
					t.Errorf("%s: %s is %v", fixture, x.Name, x.Type)
				}
			case x.Dims[0]%256 == 0:
				if x.Type != gguf.Q4_K && x.Type != gguf.Q6_K {
					t.Errorf("%s: %s (rows of %d) is %v", fixture, x.Name, x.Dims[0], x.Type)
				}
			default:
				fallbacks++
				if x.Type != gguf.Q5_0 && x.Type != gguf.Q8_0 {
					t.Errorf("%s: %s (rows of %d) is %v", fixture, x.Name, x.Dims[0], x.Type)
				}
			}
		}
		if fallbacks == 0 {
			t.Errorf("%s: no fallbacks", fixture)
		}
	}
}
