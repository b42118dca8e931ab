package llama

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/kernels"
)

// loadFixture loads a GGUF fixture variant (gguf_oracle_test.go).
func loadFixture(t testing.TB, model, variant string) *Model {
	t.Helper()
	data, o := ggufFixture(t, model, variant)
	m, err := Load(engine.Files{Model: data, ModelName: o.File})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGGUFBatchedPrefillMatchesOneByOne: every architecture's extra steps (biases,
// q/k norms, NeoX rotation, rope_freqs) give a token in a batch exactly the bits
// it gets alone, in files that mix tensor types (Q4_K_M: Q4_K and Q6_K matrices).
func TestGGUFBatchedPrefillMatchesOneByOne(t *testing.T) {
	for _, model := range ggufFixtureModels {
		m := loadFixture(t, model, "Q4_K_M")
		seq := make([]int, 40)
		for i := range seq {
			seq[i] = (i*37 + 11) % m.cfg.VocabSize
		}
		want := stepLogits(m, seq)
		for _, batch := range []int{3, 16, prefillBatch} {
			for pos, got := range batchedLogits(m, seq, batch) {
				if !slices.Equal(got, want[pos]) {
					t.Errorf("%s: batches of %d, position %d: %g from the logits fed one by one", model, batch, pos, maxAbsDiff(got, want[pos]))
				}
			}
		}
	}
}

// rewrite writes f's KVs and tensors with edit applied to each tensor (name,
// type, dims and data may change; returning false drops it), kv deciding which
// KVs stay (and with which value), and the KVs add after them.
func rewrite(t testing.TB, f *gguf.File, data []byte, kv func(k gguf.KV) (gguf.KV, bool), edit func(name string, typ *gguf.Type, dims *[]int64, b *[]byte) bool, add ...gguf.KV) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gguf.NewWriter(&buf)
	for _, p := range f.KVs {
		if kv != nil {
			var ok bool
			if p, ok = kv(p); !ok {
				continue
			}
		}
		if err := w.AddKV(p.Key, p.Value); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range add {
		if err := w.AddKV(p.Key, p.Value); err != nil {
			t.Fatal(err)
		}
	}
	var datas [][]byte
	for i := range f.Tensors {
		ten := f.Tensors[i]
		b, err := f.Data(data, &ten)
		if err != nil {
			t.Fatal(err)
		}
		b = slices.Clone(b)
		typ, dims := ten.Type, slices.Clone(ten.Dims)
		if edit != nil && !edit(ten.Name, &typ, &dims, &b) {
			continue
		}
		if err := w.AddTensor(ten.Name, typ, dims); err != nil {
			t.Fatal(err)
		}
		datas = append(datas, b)
	}
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	for _, b := range datas {
		if err := w.WriteTensorData(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGGUFBadFiles: each broken file gives one error that names the file and
// the problem.
func TestGGUFBadFiles(t *testing.T) {
	data, _ := ggufFixture(t, "qwen2-bpe", "Q8_0")
	f, err := gguf.Parse(slices.Clone(data), "x.gguf")
	if err != nil {
		t.Fatal(err)
	}
	setKV := func(key string, v any) func(gguf.KV) (gguf.KV, bool) {
		return func(p gguf.KV) (gguf.KV, bool) {
			if p.Key == key {
				if v == nil {
					return p, false
				}
				p.Value = v
			}
			return p, true
		}
	}
	cases := []struct {
		name, want string
		file       []byte
	}{
		{"truncated", "x.gguf: ", data[:len(data)/2]},
		{"unknown architecture", `x.gguf: architecture "gemma3" is not supported; supported: llama, qwen2, qwen3`,
			rewrite(t, f, data, setKV("general.architecture", "gemma3"), nil)},
		{"missing tensor", "x.gguf: tensor blk.0.ffn_up.weight is missing",
			rewrite(t, f, data, nil, func(name string, _ *gguf.Type, _ *[]int64, _ *[]byte) bool { return name != "blk.0.ffn_up.weight" })},
		{"missing bias", "x.gguf: tensor blk.0.attn_k.bias is missing",
			rewrite(t, f, data, nil, func(name string, _ *gguf.Type, _ *[]int64, _ *[]byte) bool { return name != "blk.0.attn_k.bias" })},
		{"wrong shape", "x.gguf: tensor blk.0.attn_k.weight has shape [256 64], want [256 128]",
			rewrite(t, f, data, nil, func(name string, _ *gguf.Type, dims *[]int64, b *[]byte) bool {
				if name == "blk.0.attn_k.weight" {
					(*dims)[1] = 64
					*b = (*b)[:len(*b)/2]
				}
				return true
			})},
		{"unsupported type", "x.gguf: tensor blk.0.ffn_down.weight: type 23 (IQ4_XS) is not supported; supported: F32, F16, Q8_0, Q4_0, BF16, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K",
			rewrite(t, f, data, nil, func(name string, typ *gguf.Type, dims *[]int64, b *[]byte) bool {
				if name == "blk.0.ffn_down.weight" {
					*typ = gguf.Type(23)
					n, _ := typ.RowBytes((*dims)[0])
					*b = make([]byte, n*(*dims)[1])
				}
				return true
			})},
		{"absurd layer count", "x.gguf: key qwen2.block_count is 4294967295, want 1..16777216",
			rewrite(t, f, data, setKV("qwen2.block_count", uint32(math.MaxUint32)), nil)},
		{"layers the file does not hold", "x.gguf: tensor blk.1.attn_norm.weight is missing",
			rewrite(t, f, data, setKV("qwen2.block_count", uint32(2)), nil)},
		{"heads that do not divide", "x.gguf: 3 key/value heads do not divide 4 query heads",
			rewrite(t, f, data, setKV("qwen2.attention.head_count_kv", uint32(3)), nil)},
		{"missing epsilon", "x.gguf: key qwen2.attention.layer_norm_rms_epsilon",
			rewrite(t, f, data, setKV("qwen2.attention.layer_norm_rms_epsilon", nil), nil)},
		{"merge of unknown tokens", "x.gguf: tokenizer.ggml.merges[3]",
			rewrite(t, f, data, func(p gguf.KV) (gguf.KV, bool) {
				if p.Key == "tokenizer.ggml.merges" {
					m := slices.Clone(p.Value.([]string))
					m[3] = "nosuchtoken anothermissing"
					p.Value = m
				}
				return p, true
			}, nil)},
	}
	for _, c := range cases {
		_, err := Load(engine.Files{Model: c.file, ModelName: "x.gguf"})
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to start with %q", c.name, err, c.want)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
		// The check of the header alone gives the same error (the firmware's
		// menu lists the file as not loadable with it).
		if h, perr := gguf.Read(bytes.NewReader(c.file), int64(len(c.file)), "x.gguf"); perr == nil {
			if _, cerr := CheckGGUF(h); fmt.Sprint(cerr) != fmt.Sprint(err) {
				t.Errorf("%s: CheckGGUF says %v, loading %v", c.name, cerr, err)
			}
		} else if perr.Error() != err.Error() {
			t.Errorf("%s: reading the header says %v, loading %v", c.name, perr, err)
		}
	}
}

// TestCheckGGUF: every fixture file passes the check of its header, read through
// an io.ReaderAt that refuses to read past the header region, and the KV cache
// it reports is what a session of the loaded model allocates.
func TestCheckGGUF(t *testing.T) {
	for _, model := range ggufFixtureModels {
		for _, variant := range []string{"F32", "Q4_K_M", "pure-Q5_1"} {
			data, o := ggufFixture(t, model, variant)
			m, err := Load(engine.Files{Model: data, ModelName: o.File})
			if err != nil {
				t.Fatal(err)
			}
			r := &headerOnly{data: data, end: int64(m.gguf.file.DataOffset)}
			f, err := gguf.Read(r, int64(len(data)), o.File)
			if err != nil {
				t.Fatal(err)
			}
			n, err := CheckGGUF(f)
			if err != nil {
				t.Errorf("%s: %v", o.File, err)
			}
			s, err := m.newSession(engine.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := runStateBytes(s.r); n != got || s.r.cache.Encoding() != kernels.F16 {
				t.Errorf("%s: CheckGGUF says a session takes %d bytes, one has %d (KV cache %v)", o.File, n, got, s.r.cache.Encoding())
			}
		}
	}
	data, o := trainedFixture(t, "Q8_0")
	f, err := gguf.Parse(data, o.File)
	if err != nil {
		t.Fatal(err)
	}
	// llama.cpp's conversion says 128 positions: 4 layers x 128 x 96 x 2 (K, V) x 2 bytes.
	if n, err := CheckGGUF(f); err != nil || n-4*128*96*2*2 != sessionBytesOf(Config{Dim: 192, HiddenDim: 512, NHeads: 6, NKVHeads: 3, VocabSize: 1024, SeqLen: 128}, kernels.F16) {
		t.Errorf("%s: %d bytes for a session, %v", o.File, n, err)
	}
}

// runStateBytes adds up the buffers of r once its cache is full.
func runStateBytes(r *RunState) int64 {
	n := int64(0)
	for _, b := range [][]float32{r.x, r.xb, r.xb2, r.hb, r.hb2, r.q, r.k, r.v, r.logits, r.rope.freq, r.rope.cos, r.rope.sin} {
		n += 4 * int64(len(b))
	}
	r.cache.Reserve(r.cache.Capacity())
	return n + r.cache.Bytes() + r.cache.ScratchBytes()
}

// headerOnly is a file whose reads starting past end (the header region) fail:
// the tensor data is not read, but for the part of a read-ahead window that
// overlaps it.
type headerOnly struct {
	data []byte
	end  int64
}

func (h *headerOnly) ReadAt(p []byte, off int64) (int, error) {
	if off >= h.end {
		return 0, fmt.Errorf("read of %d bytes at %d: past the header region (%d bytes)", len(p), off, h.end)
	}
	n := copy(p, h.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// FuzzLoadGGUF: any bytes after a GGUF header load or give an error; nothing
// panics. Seeded with a real file and broken variants of it.
func FuzzLoadGGUF(f *testing.F) {
	data, _ := ggufFixture(f, "qwen3-bpe", "Q4_0")
	f.Add(data)
	f.Add(data[:1000])
	b := slices.Clone(data)
	binary.LittleEndian.PutUint64(b[8:], 1<<40)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		if !IsGGUF(b) {
			return // llama2.c files: FuzzParseModel
		}
		m, err := Load(engine.Files{Model: b, ModelName: "fuzz.gguf"})
		if h, perr := gguf.Parse(slices.Clone(b), "fuzz.gguf"); perr == nil {
			// The header's check and loading agree.
			if _, cerr := CheckGGUF(h); fmt.Sprint(cerr) != fmt.Sprint(err) {
				t.Fatalf("CheckGGUF: %v; Load: %v", cerr, err)
			}
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.gguf: ") {
				t.Fatalf("error without the file's name: %v", err)
			}
			return
		}
		s, err := m.newSession(engine.Options{MaxTokens: 2})
		if err != nil {
			return
		}
		if _, err := s.FeedTokens([]int{0}); err != nil {
			t.Fatal(fmt.Sprint(err))
		}
	})
}
