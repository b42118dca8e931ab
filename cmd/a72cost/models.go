package main

import (
	"fmt"
	"sort"

	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/quantize"
)

// What a decoding step reads per token: every weight matrix once (the token
// embedding is a lookup of one row, not counted; neither is the KV cache), by
// weight type.

// model is a model's shape, and how its matrices are stored.
type model struct {
	name string
	seed string // the seed InferPi's tokens/s on a Pi 4, where it ran there
	// matrices, as GGUF names them with ggml's dims (row length first)
	tensors []quantize.Tensor
	// the file type llama-quantize makes (its rules give each tensor's type), or
	// every matrix in one type
	fileType quantize.FileType
	arch     string
	layers   int
	heads    int
	headsKV  int
}

// llamaShape lists a Llama-architecture model's tensors: dim wide, ffn hidden, kv
// the width of k and v, tied when the output matrix is the token embedding.
func llamaShape(layers, dim, ffn, kv, vocab int, tied bool) []quantize.Tensor {
	t := func(name string, cols, rows int) quantize.Tensor {
		return quantize.Tensor{Name: name, Type: gguf.F32, Dims: []int64{int64(cols), int64(rows)}}
	}
	ts := []quantize.Tensor{t("token_embd.weight", dim, vocab)}
	if !tied {
		ts = append(ts, t("output.weight", dim, vocab))
	}
	for l := range layers {
		p := fmt.Sprintf("blk.%d.", l)
		ts = append(ts, t(p+"attn_q.weight", dim, dim), t(p+"attn_k.weight", dim, kv), t(p+"attn_v.weight", dim, kv),
			t(p+"attn_output.weight", dim, dim), t(p+"ffn_gate.weight", dim, ffn), t(p+"ffn_up.weight", dim, ffn),
			t(p+"ffn_down.weight", ffn, dim))
	}
	return ts
}

// gptShape lists the matrices of nanochat's GPT as the cost model counts them
// (its value embeddings and small gates are lookups or negligible): q, k, v and
// the output projection, the MLP's two matrices (4x wide), and the classifier.
func gptShape(layers, dim, vocab int) []quantize.Tensor {
	t := func(name string, cols, rows int) quantize.Tensor {
		return quantize.Tensor{Name: name, Type: gguf.F32, Dims: []int64{int64(cols), int64(rows)}}
	}
	ts := []quantize.Tensor{t("output.weight", dim, vocab)}
	for l := range layers {
		p := fmt.Sprintf("blk.%d.", l)
		ts = append(ts, t(p+"attn_q.weight", dim, dim), t(p+"attn_k.weight", dim, dim), t(p+"attn_v.weight", dim, dim),
			t(p+"attn_output.weight", dim, dim), t(p+"ffn_up.weight", dim, 4*dim), t(p+"ffn_down.weight", 4*dim, dim))
	}
	return ts
}

// models are the four. Shapes: gpt-286m and llama-50m as engine/synth's
// presets of those names; TinyLlama-1.1B (TinyLlama/TinyLlama-1.1B-Chat-v1.0) and
// Qwen2.5-0.5B (Qwen/Qwen2.5-0.5B-Instruct) from their config.json.
var models = []model{
	{name: "gpt-286m fp16", seed: "7.2", tensors: gptShape(12, 768, 32768), fileType: quantize.FileF16, arch: "gpt2", layers: 12, heads: 6, headsKV: 6},
	{name: "llama-50m fp16", seed: "16.3", tensors: llamaShape(12, 512, 1408, 256, 32000, true), fileType: quantize.FileF16, arch: "llama", layers: 12, heads: 8, headsKV: 4},
	{name: "TinyLlama-1.1B Q4_K_M", tensors: llamaShape(22, 2048, 5632, 256, 32000, false), fileType: quantize.FileQ4_K_M, arch: "llama", layers: 22, heads: 32, headsKV: 4},
	{name: "Qwen2.5-0.5B Q4_K_M", tensors: llamaShape(24, 896, 4864, 128, 151936, true), fileType: quantize.FileQ4_K_M, arch: "qwen2", layers: 24, heads: 14, headsKV: 2},
}

// typeBytes is a model's weight bytes read per token, by type name ("q4_K").
type typeBytes map[string]int64

func (tb typeBytes) total() int64 {
	var n int64
	for _, b := range tb {
		n += b
	}
	return n
}

func (tb typeBytes) names() []string {
	var ns []string
	for n := range tb {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// bytesPerToken applies llama-quantize's type rules (engine/quantize) to the
// model's tensors and sums the bytes of every matrix a token reads: all but the
// token embedding, which is also read whole when it is the output matrix.
func (m model) bytesPerToken() (typeBytes, error) {
	types, err := quantize.Types(m.fileType, quantize.Model{Arch: m.arch, Layers: m.layers, Heads: m.heads, HeadsKV: m.headsKV}, m.tensors, quantize.Options{})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", m.name, err)
	}
	tied := true
	for _, t := range m.tensors {
		if t.Name == "output.weight" {
			tied = false
		}
	}
	tb := typeBytes{}
	for i, t := range m.tensors {
		if t.Name == "token_embd.weight" && !tied {
			continue
		}
		row, ok := types[i].RowBytes(t.Dims[0])
		if !ok {
			return nil, fmt.Errorf("%s: %s: rows of %d in %v", m.name, t.Name, t.Dims[0], types[i])
		}
		tb[types[i].String()] += row * t.Dims[1]
	}
	return tb, nil
}
