package synth

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/llama"
	"github.com/inferpi/inferpi/engine/quantize"
)

// The Llama presets as GGUF files, so that llama.cpp can run the very weights
// InferPi runs (bench --llama-bench). The tensors, their names and the metadata are
// those of llama.cpp's "llama" architecture (as its converters write them, and as
// the GGUF fixtures in testdata/gguf hold them); llama2.c's layout already pairs
// RoPE's dimensions as llama.cpp's normal mode does, so the matrices go in as they
// are, unpermuted.

// GGUFName is the file WriteGGUF writes for a preset and a file type:
// "llama-50m.Q4_K_M.gguf".
func GGUFName(p Preset, ft quantize.FileType) string { return p.Name + "." + ft.String() + ".gguf" }

// ggufTensor is one tensor of the GGUF file: where its values come from in the
// llama2.c layout (the tensor and, for per-layer tensors, the layer's rows).
type ggufTensor struct {
	name       string
	dims       []int64
	from       string // llama2.c's tensor
	first, end int    // the rows of it
}

// ggufTensors lists the GGUF tensors of config c, in the order of llama2.c's
// tensors and by layer within each, so that each llama2.c tensor is made once.
func ggufTensors(c llama.Config) []ggufTensor {
	d, h, kv := int64(c.Dim), int64(c.HiddenDim), int64(c.KVDim())
	perLayer := map[string]struct {
		name string
		dims []int64
	}{
		"rms_att": {"attn_norm.weight", []int64{d}},
		"wq":      {"attn_q.weight", []int64{d, d}},
		"wk":      {"attn_k.weight", []int64{d, kv}},
		"wv":      {"attn_v.weight", []int64{d, kv}},
		"wo":      {"attn_output.weight", []int64{d, d}},
		"rms_ffn": {"ffn_norm.weight", []int64{d}},
		"w1":      {"ffn_gate.weight", []int64{d, h}},
		"w2":      {"ffn_down.weight", []int64{h, d}},
		"w3":      {"ffn_up.weight", []int64{d, h}},
	}
	var ts []ggufTensor
	for _, t := range c.Tensors() {
		switch t.Name {
		case "token_embedding":
			ts = append(ts, ggufTensor{"token_embd.weight", []int64{d, int64(c.VocabSize)}, t.Name, 0, c.VocabSize})
		case "rms_final":
			ts = append(ts, ggufTensor{"output_norm.weight", []int64{d}, t.Name, 0, 1})
		case "classifier":
			ts = append(ts, ggufTensor{"output.weight", []int64{d, int64(c.VocabSize)}, t.Name, 0, c.VocabSize})
		default:
			pl, ok := perLayer[t.Name]
			if !ok {
				continue // the freq_cis tables: computed from the metadata
			}
			rows := 1
			if len(pl.dims) == 2 {
				rows = int(pl.dims[1])
			}
			for l := range c.NLayers {
				ts = append(ts, ggufTensor{fmt.Sprintf("blk.%d.%s", l, pl.name), pl.dims, t.Name, l * rows, (l + 1) * rows})
			}
		}
	}
	return ts
}

// WriteGGUF writes the Llama preset p to path as a GGUF file of file type ft: the
// same float32 weights as Write makes from seed, each matrix in the type
// llama-quantize gives it for ft (engine/quantize: its rules and its row
// quantizers, so each tensor's bytes are the ones llama-quantize would write from
// the F32 file; the tensors are in llama2.c's order, not llama-quantize's), the
// norms in F32, and the vocabulary of Write's tokenizer.bin as a SentencePiece
// ("llama") vocabulary.
func WriteGGUF(path string, p Preset, ft quantize.FileType, seed uint64) (Result, error) {
	if p.Llama == nil {
		return Result{}, fmt.Errorf("synth: %s is a %s preset: GGUF files are written for the Llama presets", p.Name, p.Engine())
	}
	c := *p.Llama
	ts := ggufTensors(c)
	qts := make([]quantize.Tensor, len(ts))
	for i, t := range ts {
		qts[i] = quantize.Tensor{Name: t.name, Type: gguf.F32, Dims: t.dims}
	}
	types, err := quantize.Types(ft, quantize.Model{Arch: "llama", Layers: c.NLayers, Heads: c.NHeads, HeadsKV: c.NKVHeads}, qts, quantize.Options{})
	if err != nil {
		return Result{}, fmt.Errorf("synth: %s as %v: %w", p.Name, ft, err)
	}

	var res Result
	err = writeFile(path, func(bw *bufio.Writer) (int64, error) {
		w := gguf.NewWriter(bw)
		for _, kv := range ggufMetadata(p, ft, seed) {
			if err := w.AddKV(kv.Key, kv.Value); err != nil {
				return 0, err
			}
		}
		for i, t := range ts {
			if err := w.AddTensor(t.name, types[i], t.dims); err != nil {
				return 0, err
			}
		}
		if err := w.WriteHeader(); err != nil {
			return 0, err
		}
		// llama2.c's tensors hold every layer: each is made once, for its layers
		// one after another.
		var stacked []float32
		var stackedName string
		byName := map[string]llama.Tensor{}
		for _, t := range c.Tensors() {
			byName[t.Name] = t
		}
		for i, t := range ts {
			src := byName[t.from]
			if stackedName != t.from {
				stacked, stackedName = llamaValues(src, seed), t.from
				res.Params += src.Floats()
			}
			cols := int(t.dims[0])
			rowBytes, err := quantize.RowBytes(types[i], cols)
			if err != nil {
				return 0, err
			}
			data := make([]byte, (t.end-t.first)*rowBytes)
			for r := t.first; r < t.end; r++ {
				dst := data[(r-t.first)*rowBytes : (r-t.first+1)*rowBytes]
				if err := quantize.Row(types[i], dst, stacked[r*cols:(r+1)*cols]); err != nil {
					return 0, fmt.Errorf("%s row %d: %w", t.name, r-t.first, err)
				}
			}
			if err := w.WriteTensorData(data); err != nil {
				return 0, err
			}
		}
		return 0, w.Close()
	}, &res.ModelBytes)
	return res, err
}

// ggufMetadata is the file's metadata, in the order llama.cpp's converters write it.
func ggufMetadata(p Preset, ft quantize.FileType, seed uint64) []gguf.KV {
	c := *p.Llama
	pieces, scores := llamaPieces(c.VocabSize, seed)
	tokens := make([]string, len(pieces))
	types := make([]int32, len(pieces))
	for i, s := range pieces {
		// SentencePiece's tokens spell a space "▁" (U+2581); llama2.c's tokenizer.bin
		// spells BOS and EOS with newlines around them.
		switch {
		case i == 0:
			tokens[i], types[i] = s, 2 // unknown
		case i <= 2:
			tokens[i], types[i] = strings.TrimSpace(s), 3 // control
		case i < 3+256:
			tokens[i], types[i] = s, 6 // byte
		default:
			tokens[i], types[i] = strings.ReplaceAll(s, " ", "\u2581"), 1 // normal
		}
	}
	kvs := []gguf.KV{
		{Key: "general.architecture", Value: "llama"},
		{Key: "general.type", Value: "model"},
		{Key: "general.name", Value: fmt.Sprintf("InferPi synth %s (seed %d)", p.Name, seed)},
		{Key: "llama.block_count", Value: uint32(c.NLayers)},
		{Key: "llama.context_length", Value: uint32(c.SeqLen)},
		{Key: "llama.embedding_length", Value: uint32(c.Dim)},
		{Key: "llama.feed_forward_length", Value: uint32(c.HiddenDim)},
		{Key: "llama.attention.head_count", Value: uint32(c.NHeads)},
		{Key: "llama.attention.head_count_kv", Value: uint32(c.NKVHeads)},
		{Key: "llama.rope.freq_base", Value: float32(10000)},
		{Key: "llama.attention.layer_norm_rms_epsilon", Value: float32(1e-5)},
		{Key: "llama.vocab_size", Value: uint32(c.VocabSize)},
		{Key: "llama.rope.dimension_count", Value: uint32(c.HeadSize())},
		{Key: "tokenizer.ggml.model", Value: "llama"},
		{Key: "tokenizer.ggml.pre", Value: "default"},
		{Key: "tokenizer.ggml.tokens", Value: tokens},
		{Key: "tokenizer.ggml.scores", Value: scores},
		{Key: "tokenizer.ggml.token_type", Value: types},
		{Key: "tokenizer.ggml.bos_token_id", Value: uint32(1)},
		{Key: "tokenizer.ggml.eos_token_id", Value: uint32(2)},
		{Key: "tokenizer.ggml.unknown_token_id", Value: uint32(0)},
		{Key: "tokenizer.ggml.add_bos_token", Value: true},
		{Key: "tokenizer.ggml.add_eos_token", Value: false},
	}
	if base, _ := ft.Base(); base.BlockSize() > 1 {
		kvs = append(kvs, gguf.KV{Key: "general.quantization_version", Value: uint32(2)})
	}
	return append(kvs, gguf.KV{Key: "general.file_type", Value: uint32(ft)})
}
