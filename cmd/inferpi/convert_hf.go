package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/inferpi/inferpi/convert/hf"
	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/modeldir"
	"github.com/inferpi/inferpi/engine/quantize"
)

func init() {
	registerConverter("hf", converter{
		summary: "Hugging Face model directory to a GGUF file or llama2.c files (DIR OUT [--dtype DTYPE] [--format gguf|llama2c])",
		run:     convertHF,
	})
}

const convertHFUsage = `usage: inferpi convert hf DIR OUT [--dtype DTYPE] [--format gguf|llama2c]

Converts a model downloaded from Hugging Face, without Python. DIR holds
config.json, model.safetensors (or the shards model.safetensors.index.json
names) in bfloat16, float16 or float32, and tokenizer.model and/or
tokenizer.json, with tokenizer_config.json and generation_config.json where the
model has them. Architectures: LlamaForCausalLM (Llama 2 and 3.x, TinyLlama,
SmolLM), Qwen2ForCausalLM (Qwen2, Qwen2.5), Qwen3ForCausalLM.

--format gguf (the default) writes one GGUF file as llama.cpp's converter
writes it: architecture, tokenizer, chat template and special tokens in its
metadata, so llama.cpp loads it too. OUT is the file, or a directory to write
NAME-DTYPE.gguf into. DTYPE is what llama-quantize would make of llama.cpp's
float32 conversion, with llama-quantize's type for each tensor:

  f32, f16, bf16        every matrix in that type (f16 is the default)
  q8_0, q4_0, q4_1,     every matrix in GGUF's blocks of 32 weights
  q5_0, q5_1
  q4_k_m, q5_k_m        K-quants in blocks of 256: Q4_K (Q5_K), with Q6_K for the
                        output and some attn_v and ffn_down layers
  q4_k_s, q5_k_s, q6_k  the other K-quant mixes

Rows too short for a type's blocks fall back as llama-quantize's do (Q4_K to
Q5_0, Q6_K to Q8_0, ...). Norms and biases stay f32.

--format llama2c writes OUT/model.bin and OUT/tokenizer.bin in llama2.c's
layout for InferPi's Llama engine (DTYPE f32 or f16, or in InferPi's container
any other encoding 'inferpi convert model' writes: bf16, q8_0, q4_0, q4_1, q5_0,
q5_1, q4_k, q5_k, q6_k): Llama models only, with a SentencePiece-style
vocabulary, RoPE base 10000 and no biases, as llama2.c's header has room for
nothing else.

The weights are read one tensor at a time. Progress goes to standard error.
OUT is written beside itself and renamed into place when complete, so a failed
conversion leaves nothing at OUT.
`

func convertHF(args []string, stdout, stderr io.Writer) error {
	fset := newFlags("convert hf", convertHFUsage, stdout)
	dtype := fset.String("dtype", "f16", "weight type: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_s, q4_k_m, q5_k_s, q5_k_m, q6_k (llama2c: "+dtypeNames+")")
	format := fset.String("format", "gguf", "what to write: gguf (one .gguf file) or llama2c (model.bin and tokenizer.bin)")
	pos, err := parseArgs(fset, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return argsError(fset.Name(), stderr, inOut(pos), convertHFUsage)
	}
	dir, out := pos[0], pos[1]
	switch *format {
	case "gguf":
		ft, err := quantize.ParseFileType(*dtype)
		if err != nil {
			return fmt.Errorf("--dtype %q: want f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_s, q4_k_m, q5_k_s, q5_k_m or q6_k", *dtype)
		}
		return convertHFToGGUF(dir, out, ft, stderr)
	case "llama2c":
		enc, err := parseDType(*dtype)
		if err != nil {
			return fmt.Errorf("--format llama2c: %v", err)
		}
		return convertHFToLlama2c(dir, out, enc, stderr)
	}
	return fmt.Errorf("--format %q: want gguf or llama2c", *format)
}

// openHF opens a Hugging Face directory and reports what it found.
func openHF(dir string, stderr io.Writer) (*hf.Model, error) {
	m, err := hf.Open(dir)
	if err != nil {
		return nil, err
	}
	c := m.Config
	fmt.Fprintf(stderr, "%s: %s (%s), %d layers, %d wide, %d heads (%d kv) of %d, vocab %d, %s parameters\n",
		dir, c.Architecture, m.Arch(), c.Layers, c.HiddenSize, c.Heads, c.KVHeads, c.HeadDim, c.VocabSize, humanCount(m.Params()))
	v := m.Vocab
	fmt.Fprintf(stderr, "tokenizer: %s (%s, pre-tokenizer %s), %d tokens\n", filepath.Base(v.From), v.Model, v.Pre, len(v.Tokens))
	for _, w := range m.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	return m, nil
}

func convertHFToGGUF(dir, out string, ft quantize.FileType, stderr io.Writer) error {
	m, err := openHF(dir, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	if isDir(out) {
		out = filepath.Join(out, m.Name()+"-"+ft.String()+modeldir.GGUFExt)
	}
	types, err := m.Types(ft)
	if err != nil {
		return err
	}
	summary := map[gguf.Type]int{}
	for _, t := range types {
		summary[t]++
	}
	fmt.Fprintf(stderr, "writing %s: %s (tensors: %s)\n", out, ft, typeSummary(summary))
	width := len(fmt.Sprint(len(m.Tensors)))
	err = writeAtomic(out, func(w io.Writer) error {
		return m.WriteGGUF(w, hf.GGUFOptions{FileType: ft, Progress: func(p hf.Progress) {
			fmt.Fprintf(stderr, "[%*d/%d] %-28s %-6s %-14s %s\n", width, p.Index+1, p.Count, p.Tensor.Name, p.Type,
				fmt.Sprint(p.Tensor.Dims), engine.FormatBytes(p.Bytes))
		}})
	})
	if err != nil {
		return err
	}
	return wrote(out, stderr)
}

func convertHFToLlama2c(dir, out string, enc kernels.Encoding, stderr io.Writer) error {
	m, err := openHF(dir, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	cfg, warnings, err := m.Llama2cConfig()
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	modelPath, tokPath := filepath.Join(out, modeldir.ModelFile), filepath.Join(out, modeldir.TokenizerFile)
	fmt.Fprintf(stderr, "writing %s (%v, %v) and %s\n", modelPath, enc, cfg, tokPath)
	// tokenizer.bin goes into place first, model.bin (which marks a model
	// directory) when both are complete.
	err = writeAtomic(modelPath, func(mw io.Writer) error {
		return writeAtomic(tokPath, func(tw io.Writer) error {
			_, err := m.WriteLlama2c(mw, tw, enc, func(name string, i, n int) {
				fmt.Fprintf(stderr, "[%2d/%d] %s\n", i+1, n, name)
			})
			return err
		})
	})
	if err != nil {
		return err
	}
	if err := wrote(modelPath, stderr); err != nil {
		return err
	}
	if err := wrote(tokPath, stderr); err != nil {
		return err
	}
	if m.Vocab.ChatTemplate() != "" {
		fmt.Fprintf(stderr, "note: InferPi's Llama engine chats in the Alpaca template (or none, see inferpi.json); the model's own chat template is kept only by --format gguf\n")
	}
	return nil
}

// wrote reports a file written: "wrote NAME: SIZE".
func wrote(name string, stderr io.Writer) error {
	st, err := os.Stat(name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s: %s\n", name, engine.FormatBytes(st.Size()))
	return nil
}

// typeSummary lists how many tensors get each type: "Q4_K 168, Q6_K 25, F32 65".
func typeSummary(n map[gguf.Type]int) string {
	var parts []string
	for _, t := range []gguf.Type{gguf.Q4_K, gguf.Q5_K, gguf.Q6_K, gguf.Q8_0, gguf.Q4_0,
		gguf.Q4_1, gguf.Q5_0, gguf.Q5_1, gguf.BF16, gguf.F16, gguf.F32} {
		if n[t] > 0 {
			parts = append(parts, fmt.Sprintf("%v %d", t, n[t]))
		}
	}
	return strings.Join(parts, ", ")
}

// humanCount writes a parameter count as 135M, 1.2B.
func humanCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.0fM", float64(n)/1e6)
	}
	return fmt.Sprintf("%.0fK", float64(n)/1e3)
}
