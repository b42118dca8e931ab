package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/inferpi/inferpi/convert/nanochat"
)

func init() {
	registerConverter("nanochat", converter{
		summary: "nanochat checkpoint (base dir) to a GPT model directory (--base-dir DIR --output-dir OUT)",
		run:     convertNanochat,
	})
}

const convertNanochatUsage = `usage: inferpi convert nanochat --base-dir DIR [--source base|sft] [--model-tag TAG] [--step N] [--dtype DTYPE] --output-dir OUT

Converts a nanochat checkpoint into OUT/model.bin and OUT/tokenizer.bin for the
GPT engine, without Python or torch. DIR is nanochat's base directory: it holds
tokenizer/tokenizer.pkl and base_checkpoints/<tag>/ (--source base) or
chatsft_checkpoints/<tag>/ (--source sft) with model_<step>.pt and
meta_<step>.json. Without --model-tag the largest model is taken, without --step
the latest step, as nanochat's own loader does. DTYPE is the encoding of the
matrices and embeddings: fp16 (the default) half precision; fp32 every weight
exact; bf16 bfloat16; q8_0, q4_0, q4_1, q5_0 and q5_1 GGUF's blocks of 32
weights (8.5, 4.5, 5, 5.5 and 6 bits per weight), q4_k, q5_k and q6_k its
super-blocks of 256 (4.5, 5.5 and 6.5625 bits), rounded as llama.cpp's
llama-quantize rounds them. A tensor whose rows are not a whole number of
blocks takes, with q4_k, q5_k and q6_k, q5_0, q5_1 and q8_0 (llama-quantize's
fallback) when its rows are a whole number of 32 weights (n_embd 192, say), and
otherwise fp16: the smear and value-embedding gates, with rows of 24 and 12
weights, are fp16 in every block encoding. The per-layer lambdas are fp32 in
every encoding. 'inferpi convert model' re-encodes an exported model.
`

func convertNanochat(args []string, stdout, stderr io.Writer) error {
	fset := newFlags("convert nanochat", convertNanochatUsage, stdout)
	base := fset.String("base-dir", "", "nanochat's base directory (required)")
	source := fset.String("source", "base", "checkpoints to read: base, sft (or rl)")
	tag := fset.String("model-tag", "", "model tag, e.g. d20 (default: the largest)")
	step := fset.Int("step", -1, "training step (default: the latest)")
	dtype := fset.String("dtype", "fp16", "weight encoding: "+dtypeNames)
	out := fset.String("output-dir", "", "directory to write model.bin and tokenizer.bin to (required)")
	pos, err := parseArgs(fset, args, stderr)
	if err != nil {
		return err
	}
	switch {
	case *base == "" || *out == "":
		return argsError(fset.Name(), stderr, "--base-dir DIR and --output-dir OUT are required", convertNanochatUsage)
	case len(pos) != 0:
		return argsError(fset.Name(), stderr, fmt.Sprintf("takes no arguments besides its flags, got %q", pos), convertNanochatUsage)
	}
	res, err := nanochat.ExportDir(nanochat.Options{
		BaseDir: *base, Source: *source, ModelTag: *tag, Step: *step, DType: *dtype,
	}, *out)
	if err != nil {
		return err
	}
	h := res.Header
	fmt.Fprintf(stderr, "read %s (tag %s, step %d) and %s\n", res.Files.Model, res.Files.Tag, res.Files.Step, res.Files.Tokenizer)
	if len(res.Patched) > 0 {
		fmt.Fprintf(stderr, "older checkpoint: filled nanochat's defaults %s\n", strings.Join(res.Patched, ", "))
	}
	fmt.Fprintf(stderr, "wrote %s: %d bytes (%v), %d layers, %d wide, %d heads (%d kv), vocab %d, context %d\n",
		filepath.Join(*out, "model.bin"), res.ModelBytes, h.MatrixEnc, h.NLayer, h.NEmbd, h.NHead, h.NKVHead, h.VocabSize, h.SeqLen)
	fmt.Fprintf(stderr, "wrote %s\n", filepath.Join(*out, "tokenizer.bin"))
	return nil
}
