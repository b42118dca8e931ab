package vocab

import (
	"math/rand"
	"strings"
	"testing"
)

const paragraph = `The Raspberry Pi 4 has four Cortex-A72 cores at 1.5 GHz and up to 8 GB of RAM. ` +
	`It's small, cheap and quiet: "a computer for everyone", they said in 2019. Running a language ` +
	`model on it means every byte of the weights is read once per token (memory bandwidth, not ` +
	`arithmetic, sets the speed), so 4-bit weights run about 3.5x faster than 16-bit ones. Café, naïve, ` +
	`Ångström; Привет, мир! 你好，世界！ 🙂👍🏽 — and some code: for i := 0; i < n; i++ { sum += x[i] * y[i] }`

func benchmarkEncode(b *testing.B, path, pre string) {
	s := fileSpec(b, path)
	if pre != "" {
		s.Pre = pre
	}
	v, err := New(s)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(paragraph)))
	b.ReportAllocs()
	for b.Loop() {
		v.Encode(paragraph, true, false)
	}
}

func BenchmarkEncodeSPM(b *testing.B) {
	benchmarkEncode(b, tokDir+"ggml-vocab-llama-spm.gguf", "")
}

func BenchmarkEncodeGPT2(b *testing.B) {
	benchmarkEncode(b, tokDir+"ggml-vocab-gpt-2.gguf", "")
}

func BenchmarkEncodeLlama3(b *testing.B) {
	benchmarkEncode(b, tokDir+"ggml-vocab-gpt-2.gguf", "llama-bpe")
}

func BenchmarkDetokenizeGPT2(b *testing.B) {
	v := loadFile(b, tokDir+"ggml-vocab-gpt-2.gguf")
	ids := v.Encode(paragraph, false, false)
	b.SetBytes(int64(len(paragraph)))
	b.ReportAllocs()
	for b.Loop() {
		d := v.NewDecoder(false, false)
		for _, id := range ids {
			d.Add(id)
		}
		d.Flush()
	}
}

func BenchmarkNewGPT2(b *testing.B) {
	s := fileSpec(b, tokDir+"ggml-vocab-gpt-2.gguf")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(s); err != nil {
			b.Fatal(err)
		}
	}
}

// largeSpec is a byte-level vocabulary of Qwen2's size (151,643 tokens, 151,387
// merges), made of random merges of earlier tokens.
func largeSpec() Spec {
	rng := rand.New(rand.NewSource(1))
	var toks []string
	for b := 0; b < 256; b++ {
		toks = append(toks, string(byteRune[b]))
	}
	seen := map[string]bool{}
	for _, t := range toks {
		seen[t] = true
	}
	var merges []string
	for len(merges) < 151387 {
		// Prefer short tokens so that merged tokens stay word-sized.
		l := toks[rng.Intn(min(len(toks), 256+len(toks)/8))]
		r := toks[rng.Intn(min(len(toks), 256+len(toks)/8))]
		if seen[l+r] || len(l+r) > 24 {
			continue
		}
		seen[l+r] = true
		toks = append(toks, l+r)
		merges = append(merges, l+" "+r)
	}
	s := spec("gpt2", toks...)
	s.Pre, s.Merges = "qwen2", merges
	return s
}

func BenchmarkNewLarge(b *testing.B) {
	s := largeSpec()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeLarge(b *testing.B) {
	v, err := New(largeSpec())
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat(paragraph, 4)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		v.Encode(text, false, false)
	}
}
