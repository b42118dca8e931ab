package vocab

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine/gguf"
)

// fileBytes writes a vocabulary-only GGUF file with the given pairs.
func fileBytes(t testing.TB, kvs ...any) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gguf.NewWriter(&buf)
	for i := 0; i < len(kvs); i += 2 {
		if err := w.AddKV(kvs[i].(string), kvs[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeFile writes a vocabulary-only GGUF file and parses it.
func writeFile(t testing.TB, kvs ...any) *gguf.File {
	t.Helper()
	f, err := gguf.Parse(fileBytes(t, kvs...), "vocab.gguf")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func byteSymbols(extra ...string) []string {
	var toks []string
	for b := 0; b < 256; b++ {
		toks = append(toks, string(byteRune[b]))
	}
	return append(toks, extra...)
}

func TestLoadErrors(t *testing.T) {
	toks := byteSymbols("ab", "<|endoftext|>")
	cases := []struct {
		name string
		kvs  []any
		want string
	}{
		{"no model", []any{"tokenizer.ggml.tokens", toks}, "vocab.gguf: key tokenizer.ggml.model: not found"},
		{"model type", []any{"tokenizer.ggml.model", uint32(2)}, "vocab.gguf: key tokenizer.ggml.model: type"},
		{"no tokens", []any{"tokenizer.ggml.model", "llama"}, "vocab.gguf: key tokenizer.ggml.tokens: not found"},
		{"pre type", []any{"tokenizer.ggml.model", "gpt2", "tokenizer.ggml.pre", true, "tokenizer.ggml.tokens", toks}, "vocab.gguf: key tokenizer.ggml.pre: type"},
		{"no merges", []any{"tokenizer.ggml.model", "gpt2", "tokenizer.ggml.tokens", toks}, "vocab.gguf: key tokenizer.ggml.merges: not found"},
		{"scores type", []any{"tokenizer.ggml.model", "llama", "tokenizer.ggml.tokens", toks, "tokenizer.ggml.scores", []float64{1}}, "vocab.gguf: key tokenizer.ggml.scores: type"},
		{"bool type", []any{"tokenizer.ggml.model", "llama", "tokenizer.ggml.tokens", toks, "tokenizer.ggml.add_bos_token", uint8(1)}, "vocab.gguf: key tokenizer.ggml.add_bos_token: type"},
		{"negative id", []any{"tokenizer.ggml.model", "llama", "tokenizer.ggml.tokens", toks, "tokenizer.ggml.bos_token_id", int32(-1)}, "vocab.gguf: key tokenizer.ggml.bos_token_id: -1 is negative"},
		{"bad merge", []any{"tokenizer.ggml.model", "gpt2", "tokenizer.ggml.tokens", toks, "tokenizer.ggml.merges", []string{"a b", "b a"}}, `vocab.gguf: tokenizer.ggml.merges[1] "b a": the merged "ba" is not a token`},
		{"types length", []any{"tokenizer.ggml.model", "llama", "tokenizer.ggml.tokens", toks, "tokenizer.ggml.token_type", []int32{1}}, "vocab.gguf: tokenizer.ggml.token_type has 1 values for 258 tokens"},
		{"unknown pre", []any{"tokenizer.ggml.model", "gpt2", "tokenizer.ggml.pre", "tekken", "tokenizer.ggml.tokens", toks, "tokenizer.ggml.merges", []string{}}, `vocab.gguf: unknown pre-tokenizer "tekken"`},
	}
	for _, c := range cases {
		_, err := Load(writeFile(t, c.kvs...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// Special ids from the file: uint32 4294967295 (llama.cpp's "none" from some
// converters) is out of range and ignored; the deprecated FIM names win when
// valid; a merges key in a SentencePiece file is not read.
func TestLoadSpecialIDs(t *testing.T) {
	toks := byteSymbols("ab", "<|endoftext|>", "<fim-pad>", "<PAD>")
	f := writeFile(t,
		"general.name", "test",
		"tokenizer.ggml.model", "gpt2",
		"tokenizer.ggml.pre", "qwen2",
		"tokenizer.ggml.tokens", toks,
		"tokenizer.ggml.merges", []string{"a b"},
		"tokenizer.ggml.bos_token_id", uint32(4294967295),
		"tokenizer.ggml.eos_token_id", uint32(257),
		"tokenizer.ggml.padding_token_id", uint32(257),
		"tokenizer.ggml.fim_pre_token_id", uint32(1),
		"tokenizer.ggml.prefix_token_id", uint32(9999),
		"tokenizer.ggml.fim_pad_token_id", uint32(259),
		"tokenizer.ggml.add_bos_token", true,
	)
	v, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	// BOS keeps gpt2's default 11; fim_pad 259 (<PAD>) is EOG, and no text
	// search picks <fim-pad> 258.
	if v.BOS() != 11 || v.EOS() != 257 || !v.AddBOS() || !slices.Equal(v.EOG(), []int{257, 259}) {
		t.Errorf("BOS %d EOS %d add BOS %v EOG %v", v.BOS(), v.EOS(), v.AddBOS(), v.EOG())
	}
	if got := v.Encode("ab", true, false); !slices.Equal(got, []int{11, 256}) {
		t.Errorf("Encode = %v", got)
	}
	s, err := readSpec(f)
	if err != nil {
		t.Fatal(err)
	}
	if s.FIMPre != 1 || s.FIMSuf != -1 || s.BOS < len(toks) {
		t.Errorf("FIM pre %d, FIM suf %d, BOS %d", s.FIMPre, s.FIMSuf, s.BOS)
	}
	f = writeFile(t, "tokenizer.ggml.model", "gpt2", "tokenizer.ggml.tokens", toks, "tokenizer.ggml.merges", []string{},
		"tokenizer.ggml.fim_pre_token_id", uint32(9999), "tokenizer.ggml.prefix_token_id", uint32(3))
	if s, err := readSpec(f); err != nil || s.FIMPre != 3 {
		t.Errorf("deprecated FIM pre: %d %v", s.FIMPre, err)
	}
	f = writeFile(t, "tokenizer.ggml.model", "llama", "tokenizer.ggml.tokens", toks, "tokenizer.ggml.merges", uint8(0))
	if _, err := Load(f); err != nil {
		t.Errorf("SentencePiece with a merges key: %v", err)
	}
}

// FuzzLoad: any GGUF header either loads or gives an error naming the file; a
// vocabulary that loads encodes and decodes.
func FuzzLoad(f *testing.F) {
	toks := byteSymbols("ab", "<|endoftext|>", "<think>")
	f.Add(fileBytes(f, "tokenizer.ggml.model", "gpt2", "tokenizer.ggml.pre", "llama-bpe", "tokenizer.ggml.tokens", toks,
		"tokenizer.ggml.merges", []string{"a b"}, "tokenizer.ggml.token_type", append(make([]int32, 257), 3, 4),
		"tokenizer.ggml.eos_token_id", uint32(257)))
	f.Add(fileBytes(f, "tokenizer.ggml.model", "llama", "tokenizer.ggml.tokens", []string{"<unk>", "<s>", "</s>", "<0x41>", "\u2581", "a"},
		"tokenizer.ggml.scores", []float32{0, 0, 0, 0, -1, -2}, "tokenizer.ggml.token_type", []int32{2, 3, 3, 6, 1, 1},
		"tokenizer.ggml.add_eos_token", true))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := gguf.Parse(data, "vocab.gguf")
		if err != nil {
			return
		}
		v, err := Load(file)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "vocab.gguf: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for fl := 0; fl < 4; fl++ {
			ids := v.Encode("ab a<think>A<s>\xff b", fl&1 != 0, fl&2 != 0)
			for _, id := range ids {
				if id < 0 || id >= v.Size() {
					t.Fatalf("id %d outside the vocabulary of %d", id, v.Size())
				}
			}
			checkStream(t, v, ids)
		}
	})
}
