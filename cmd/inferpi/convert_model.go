package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/all"
	"github.com/inferpi/inferpi/engine/gpt"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/llama"
	"github.com/inferpi/inferpi/engine/modeldir"
	"github.com/inferpi/inferpi/engine/quantize"
)

func init() {
	registerConverter("model", converter{
		summary: "re-encode a model of either engine, or quantize a GGUF file as llama-quantize (--dtype DTYPE IN OUT)",
		run:     convertModel,
	})
}

const convertModelUsage = `usage: inferpi convert model --dtype DTYPE IN OUT
       inferpi convert model --dtype TARGET [--pure] IN.gguf OUT.gguf
       inferpi convert model --dtype TARGET IN OUT.gguf

Re-encodes the weights of a model InferPi already loads (GPT or Llama, told from
model.bin's first bytes). IN and OUT are model directories (OUT/model.bin is
written and tokenizer.bin and inferpi.json are copied beside it) or model.bin
files. DTYPE is one of:

  fp32, fp16        IEEE binary32 and binary16
  bf16              bfloat16
  q8_0, q4_0        GGUF's blocks of 32 weights with an fp16 scale: 8.5 and 4.5
                    bits per weight
  q4_1, q5_0, q5_1  GGUF's blocks of 32 weights with an fp16 scale (and for q4_1
                    and q5_1 a minimum): 5, 5.5 and 6 bits per weight
  q4_k, q5_k, q6_k  GGUF's super-blocks of 256 weights: 4.5, 5.5 and 6.5625 bits
                    per weight

Blocks are rounded as llama.cpp's llama-quantize rounds them, byte for byte. A
matrix whose rows are not a whole number of blocks is stored otherwise: with
q4_k, q5_k and q6_k in q5_0, q5_1 and q8_0 when its rows are a whole number of
32 weights (llama-quantize's fallback), otherwise in fp16. The RMSNorm weights
and the GPT's lambdas stay fp32. A Llama model in fp32 or fp16 is written in
llama2.c's layout, in any other encoding in InferPi's container. Every weight is
widened to fp32 and encoded again, so converting never restores precision:
re-quantizing an already quantized model adds the new rounding to the old one (a
warning says so), and the best result comes from the fp32 or fp16 original.

When IN is a GGUF file, OUT is the GGUF file llama.cpp's llama-quantize makes of
it without an importance matrix, byte for byte. TARGET is llama-quantize's name
for the result, in any case: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1,
Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K (Q4_K and Q5_K mean Q4_K_M and Q5_K_M, fp32
and fp16 F32 and F16). Its rules choose each tensor's type (output.weight in
Q6_K, with Q4_K_M some attn_v and ffn_down in Q6_K, ...); --pure gives every
quantized tensor the target's type. IN must hold F32, F16 or BF16 tensors: a
quantized file is refused, as llama-quantize refuses it.

When IN is a Llama (llama2.c) model and OUT's name ends in .gguf, OUT is that
model as a GGUF file for llama.cpp and InferPi: llama.cpp's "llama"
architecture, laid out as llama.cpp's llama2.c converter lays it out, with the
model's own context length, the alpaca chat template (unless its inferpi.json
says "none") and general.name the directory's name, each tensor in the type
llama-quantize gives it for TARGET (the same names as above).
`

func convertModel(args []string, stdout, stderr io.Writer) error {
	fset := newFlags("convert model", convertModelUsage, stdout)
	dtype := fset.String("dtype", "", "weight encoding to write (DTYPE above), or for a GGUF file (IN or OUT) llama-quantize's TARGET (required)")
	pure := fset.Bool("pure", false, "GGUF only: every quantized tensor in the target's type, as llama-quantize --pure")
	pos, err := parseArgs(fset, args, stderr)
	if err != nil {
		return err
	}
	switch {
	case *dtype == "":
		return argsError(fset.Name(), stderr, "--dtype is required", convertModelUsage)
	case len(pos) != 2:
		return argsError(fset.Name(), stderr, inOut(pos), convertModelUsage)
	}
	if isGGUFFile(pos[0]) {
		return quantizeGGUF(pos[0], pos[1], *dtype, *pure, stderr)
	}
	if *pure {
		return fmt.Errorf("%s: --pure applies to GGUF files (llama-quantize's rules), not to InferPi's models", pos[0])
	}
	if modeldir.IsGGUF(pos[1]) {
		return llamaToGGUF(pos[0], pos[1], *dtype, stderr)
	}
	enc, err := parseDType(*dtype)
	if err != nil {
		if _, ggufErr := quantize.ParseFileType(*dtype); ggufErr == nil {
			return fmt.Errorf("--dtype %q is a llama-quantize target, for GGUF files; for %s want %s", *dtype, pos[0], dtypeNames)
		}
		return err
	}
	return reencodeModel(pos[0], pos[1], enc, "", stderr)
}

// reencodeModel converts IN (a model directory or model.bin) to enc and writes
// OUT, copying tokenizer.bin and inferpi.json between directories. When only is
// not "", the model must belong to that engine.
func reencodeModel(in, out string, enc kernels.Encoding, only string, stderr io.Writer) error {
	inDir := isDir(in)
	inFile := in
	if inDir {
		inFile = filepath.Join(in, modeldir.ModelFile)
	}
	outFile := out
	if inDir || isDir(out) {
		outFile = filepath.Join(out, modeldir.ModelFile)
	}
	if same(inFile, outFile) {
		return fmt.Errorf("%s: OUT is IN: write the converted model elsewhere, the original is the better source for later conversions", out)
	}
	src, err := os.ReadFile(inFile)
	if err != nil {
		return err
	}
	e, err := all.Detect(src[:min(len(src), engine.HeadSize)])
	if err != nil {
		if p := unreadable(inFile); p != nil {
			return p
		}
		return fmt.Errorf("%s: no engine recognises this file (engines: %s)", inFile, engineNames())
	}
	if only != "" && e.Name() != only {
		return fmt.Errorf("%s: a %s model, not a llama2.c one: use 'inferpi convert model'", inFile, e.Name())
	}
	from, err := encodingOf(e, src)
	if err != nil {
		return fmt.Errorf("%s: %v", inFile, err)
	}
	if from == enc.String() {
		return fmt.Errorf("%s: weights are already %v: nothing to convert", inFile, enc)
	}
	var dst []byte
	if e.Name() == (gpt.Engine{}).Name() {
		dst, err = gpt.Reencode(src, enc)
	} else {
		dst, err = llama.Convert(src, enc)
	}
	if err != nil {
		return fmt.Errorf("%s: %v", inFile, err)
	}
	switch fromEnc, _ := kernels.ParseEncoding(strings.Fields(from)[0]); {
	case fromEnc.Quantized():
		fmt.Fprintf(stderr, "warning: %s holds %s weights: the %v result carries %s's rounding as well as its own (convert from the fp32 or fp16 original when you have it)\n", inFile, from, enc, from)
	case (fromEnc == kernels.F16 || fromEnc == kernels.BF16) && enc == kernels.F32:
		fmt.Fprintf(stderr, "note: widening %v weights to fp32 doubles the size and keeps %v's precision\n", fromEnc, fromEnc)
	}
	if inDir {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		for _, name := range []string{modeldir.TokenizerFile, modeldir.SettingsFile} {
			b, err := os.ReadFile(filepath.Join(in, name))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			if err := writeFileAtomic(filepath.Join(out, name), b); err != nil {
				return err
			}
		}
	}
	if err := writeFileAtomic(outFile, dst); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s: %d bytes (%v) from %d bytes (%s), %s model\n", outFile, len(dst), enc, len(src), from, e.Name())
	return nil
}

// encodingOf names the weight encoding of a model.bin the way Info.Encoding
// does ("fp16", "q8_0", or "q8_0 (embeddings fp16)" for a mixed GPT file).
func encodingOf(e engine.Engine, src []byte) (string, error) {
	if e.Name() == (gpt.Engine{}).Name() {
		h, err := gpt.ParseHeader(src)
		if err != nil {
			return "", err
		}
		if h.EmbedEnc != h.MatrixEnc {
			return fmt.Sprintf("%v (embeddings %v)", h.MatrixEnc, h.EmbedEnc), nil
		}
		return h.MatrixEnc.String(), nil
	}
	_, l, err := llama.ParseModel(src)
	if err != nil {
		return "", err
	}
	return l.Enc.String(), nil
}

// writeFileAtomic writes data to name through writeAtomic.
func writeFileAtomic(name string, data []byte) error {
	return writeAtomic(name, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomic has write fill a temporary file beside name and renames it into
// place when write and the file's close succeed, so a failed conversion never
// leaves half a file; otherwise the temporary file is removed.
func writeAtomic(name string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(name), filepath.Base(name)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}

// same reports whether two paths name one existing file.
func same(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}
