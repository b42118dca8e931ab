// Package synth makes random-weight models of realistic shapes, so that speed can
// be measured (`inferpi synth`, `inferpi bench`, `make bench`) without downloading
// anything. The weights mean nothing, but every byte an engine reads per token is
// there, in the same layout and encoding as a real model's: decoding speed depends
// on the shapes and the encoding, not on the values.
//
// Models are deterministic: the same preset and seed give the same weights in every
// encoding (each encoding stores the same float32 values), and the same bytes.
package synth

import (
	"fmt"
	"sort"
	"strings"

	"github.com/inferpi/inferpi/engine/gpt"
	"github.com/inferpi/inferpi/engine/llama"
)

// Preset is one model shape.
type Preset struct {
	Name        string
	Description string
	// Exactly one of GPT and Llama is set. GPT's encodings are filled in by Write.
	GPT   *gpt.Header
	Llama *llama.Config
}

// Engine names the engine that runs the preset ("GPT" or "Llama").
func (p Preset) Engine() string {
	if p.GPT != nil {
		return "GPT"
	}
	return "Llama"
}

// presets, by name. The two big ones are the models the seed InferPi runs on a Pi 4.
var presets = map[string]Preset{
	"gpt-286m": {
		Name: "gpt-286m",
		Description: "nanochat d12 (the seed's GPT2-286M): 12 layers, 768 wide, 6 heads, 6 kv heads, " +
			"vocab 32768, context 2048, windows SSSL, value embeddings",
		GPT: nanochatHeader(12, 2048, 32768, "SSSL"),
	},
	"gpt-tiny": {
		Name:        "gpt-tiny",
		Description: "nanochat d2 at a tenth of the context: 2 layers, 128 wide, 1 head, vocab 1024, context 256 (tests)",
		GPT:         nanochatHeader(2, 256, 1024, "SL"),
	},
	"llama-50m": {
		Name: "llama-50m",
		Description: "Supra-50M-Instruct's shape: 12 layers, 512 wide, hidden 1408, 8 heads, 4 kv heads, " +
			"vocab 32000, context 1024, tied embeddings",
		// SupraLabs/Supra-50M-Instruct's model card (hidden_size 512, intermediate_size
		// 1408, 12 layers, 8 heads, 4 KV heads, vocab 32000, 1024 positions, RoPE theta
		// 10000, tied embeddings), as quoted by theneuralfeed.com and wink.run.
		Llama: &llama.Config{Dim: 512, HiddenDim: 1408, NLayers: 12, NHeads: 8, NKVHeads: 4,
			VocabSize: 32000, SeqLen: 1024, SharedClassifier: true},
	},
	"llama-110m": {
		Name:        "llama-110m",
		Description: "llama2.c's stories110M shape: 12 layers, 768 wide, hidden 2048, 12 heads, vocab 32000, context 1024",
		Llama: &llama.Config{Dim: 768, HiddenDim: 2048, NLayers: 12, NHeads: 12, NKVHeads: 12,
			VocabSize: 32000, SeqLen: 1024, SharedClassifier: true},
	},
	"llama-tiny": {
		Name:        "llama-tiny",
		Description: "2 layers, 64 wide, hidden 192, 4 heads, 2 kv heads, vocab 512, context 128 (tests)",
		Llama: &llama.Config{Dim: 64, HiddenDim: 192, NLayers: 2, NHeads: 4, NKVHeads: 2,
			VocabSize: 512, SeqLen: 128, SharedClassifier: true},
	},
}

// Names lists the presets, sorted.
func Names() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the preset called name.
func Lookup(name string) (Preset, error) {
	p, ok := presets[name]
	if !ok {
		return Preset{}, fmt.Errorf("synth: no preset %q (presets: %s)", name, strings.Join(Names(), ", "))
	}
	return p, nil
}

// nanochat's architecture, as scripts/base_train.py and nanochat/gpt.py build it
// (commit 92d63d4e, the one convert/nanochat follows): model_dim = depth*64 rounded
// up to the 128-wide heads, n_head = n_kv_head = model_dim/128, MLP 4x, value
// embeddings on every other layer ending with the last, backout at depth/2, sliding
// windows of a quarter context rounded up to 128 for S layers and the last layer
// always L, and gpt.py's constants.
func nanochatHeader(depth, seqLen, vocab int, pattern string) *gpt.Header {
	const headDim = 128
	dim := (depth*64 + headDim - 1) / headDim * headDim
	heads := dim / headDim
	short := ((seqLen+3)/4 + 127) / 128 * 128
	h := &gpt.Header{
		NLayer: depth, NEmbd: dim, NHead: heads, NKVHead: heads, HeadDim: headDim,
		MLPHidden: 4 * dim, VocabSize: vocab, PaddedVocab: (vocab + 63) / 64 * 64, SeqLen: seqLen,
		Windows: make([]int, depth), ValueEmbeds: make([]bool, depth),
		VEGateChannels: 12, SmearChannels: 24, BackoutLayer: depth / 2,
		RopeBase: 100000, QKScale: 1.2, VEGateScale: 3, Softcap: 15, NormEps: 0x1p-23,
	}
	for i := range depth {
		h.Windows[i] = short
		if pattern[i%len(pattern)] == 'L' || i == depth-1 {
			h.Windows[i] = seqLen
		}
		h.ValueEmbeds[i] = i%2 == (depth-1)%2
	}
	return h
}

// nanochatSpecials are nanochat's special tokens (tokenizer.py SPECIAL_TOKENS), in
// id order after the mergeable tokens.
var nanochatSpecials = []string{
	"<|bos|>", "<|user_start|>", "<|user_end|>", "<|assistant_start|>", "<|assistant_end|>",
	"<|python_start|>", "<|python_end|>", "<|output_start|>", "<|output_end|>",
}
