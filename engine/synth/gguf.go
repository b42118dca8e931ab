package synth

import (
	"bufio"
	"fmt"

	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/llama"
	"github.com/inferpi/inferpi/engine/quantize"
)

// The Llama presets as GGUF files, so that llama.cpp can run the very weights
// InferPi runs (bench --llama-bench), written by llama.WriteGGUFModel: llama.cpp's
// "llama" architecture, as its converters write it.

// GGUFName is the file WriteGGUF writes for a preset and a file type:
// "llama-50m.Q4_K_M.gguf".
func GGUFName(p Preset, ft quantize.FileType) string { return p.Name + "." + ft.String() + ".gguf" }

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
	var res Result
	err := writeFile(path, func(bw *bufio.Writer) (int64, error) {
		pieces, scores := llamaPieces(p.Llama.VocabSize, seed)
		m := llama.GGUFModel{
			Config: *p.Llama,
			Name:   fmt.Sprintf("InferPi synth %s (seed %d)", p.Name, seed),
			Pieces: pieces,
			Scores: scores,
			// The keys llama.cpp's Hugging Face converter adds to those of its
			// llama2.c converter.
			Metadata: []gguf.KV{
				{Key: "general.type", Value: "model"},
				{Key: "llama.rope.freq_base", Value: float32(10000)},
				{Key: "llama.vocab_size", Value: uint32(p.Llama.VocabSize)},
				{Key: "tokenizer.ggml.pre", Value: "default"},
				{Key: "tokenizer.ggml.add_bos_token", Value: true},
				{Key: "tokenizer.ggml.add_eos_token", Value: false},
			},
			Values: func(t llama.Tensor) ([]float32, error) {
				res.Params += t.Floats()
				return llamaValues(t, seed), nil
			},
		}
		return 0, llama.WriteGGUFModel(bw, m, ft)
	}, &res.ModelBytes)
	if err != nil {
		return Result{}, fmt.Errorf("synth: %s as %v: %w", p.Name, ft, err)
	}
	return res, nil
}
