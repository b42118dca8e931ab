package main

import (
	"fmt"
	"io"
	"os"

	"github.com/inferpi/inferpi/engine/llama"
)

func init() {
	registerConverter("llama2c", converter{
		summary: "llama2.c model.bin to fp16, bf16 or a GGUF block encoding (--dtype DTYPE IN OUT; --fp16 is --dtype fp16)",
		run:     convertLlama2c,
	})
}

const convertLlama2cUsage = `usage: inferpi convert llama2c --dtype DTYPE IN OUT
       inferpi convert llama2c --fp16 IN OUT

Re-encodes a llama2.c model.bin (the fp32 legacy layout run.c reads, or any
Llama model.bin InferPi writes). IN and OUT are model.bin files, or model
directories: then OUT/model.bin is written and tokenizer.bin (and inferpi.json,
if any) are copied beside it. DTYPE is one of:

  fp16        llama2.c's layout with every float as IEEE binary16 (round to nearest
              even): the same 28-byte header, half the size. --fp16 means this.
  fp32        llama2.c's layout, as run.c reads it (from a container the unused
              freq_cis tables are computed).
  bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k
              InferPi's Llama container (magic IPLM; docs/formats.md has its
              layout): the embedding, matrices and classifier in bfloat16 or in
              GGUF's blocks, rounded as llama.cpp's llama-quantize rounds them
              (q8_0 8.5 bits per weight, q4_0 4.5, q4_1 5, q5_0 5.5, q5_1 6, q4_k
              4.5, q5_k 5.5, q6_k 6.5625); the RMSNorm weights fp32. A matrix whose
              rows are not a whole number of blocks takes, with q4_k, q5_k and
              q6_k, q5_0, q5_1 and q8_0 (llama-quantize's fallback) when its rows
              are a whole number of 32 weights (dim 192, say), and otherwise fp16
              (hidden_dim 172, say).

Converting never restores precision: re-quantizing a quantized file adds the new
rounding to the old one (a warning says so). 'inferpi convert model' does the
same for GPT models too, and quantizes GGUF files.
`

func convertLlama2c(args []string, stdout, stderr io.Writer) error {
	fset := newFlags("convert llama2c", convertLlama2cUsage, stdout)
	dtype := fset.String("dtype", "", "weight encoding to write: "+dtypeNames)
	fp16 := fset.Bool("fp16", false, "the same as --dtype fp16")
	pos, err := parseArgs(fset, args, stderr)
	if err != nil {
		return err
	}
	if *fp16 {
		if *dtype != "" && *dtype != "fp16" {
			fmt.Fprintf(stderr, "inferpi convert llama2c: --fp16 and --dtype %s contradict each other\n", *dtype)
			return exitError{2}
		}
		*dtype = "fp16"
	}
	switch {
	case *dtype == "":
		return argsError(fset.Name(), stderr, "--dtype DTYPE (or --fp16) is required", convertLlama2cUsage)
	case len(pos) != 2:
		return argsError(fset.Name(), stderr, inOut(pos), convertLlama2cUsage)
	}
	enc, err := parseDType(*dtype)
	if err != nil {
		return err
	}
	if isGGUFFile(pos[0]) {
		return fmt.Errorf("%s: a GGUF file, not a llama2.c one: 'inferpi convert model' quantizes GGUF files", pos[0])
	}
	return reencodeModel(pos[0], pos[1], enc, (llama.Engine{}).Name(), stderr)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
