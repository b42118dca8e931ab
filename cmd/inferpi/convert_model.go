package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/all"
	"github.com/inferpi/inferpi/engine/gpt"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/llama"
	"github.com/inferpi/inferpi/engine/modeldir"
)

func init() {
	registerConverter("model", converter{
		summary: "re-encode an InferPi model.bin of either engine (--dtype fp32|fp16|q8_0|q4_0 IN OUT)",
		run:     convertModel,
	})
}

const convertModelUsage = `usage: inferpi convert model --dtype fp32|fp16|q8_0|q4_0 IN OUT

Re-encodes the weights of a model InferPi already loads (GPT or Llama, told from
model.bin's first bytes). IN and OUT are model directories (OUT/model.bin is
written and tokenizer.bin and inferpi.json are copied beside it) or model.bin
files. q8_0 and q4_0 are GGUF's blocks of 32 weights with an fp16 scale
(8 and 4 bits per weight plus the scale); rows that are not a whole number of
blocks are stored in fp16. A Llama model in fp32 or fp16 is written in llama2.c's
layout, in q8_0 or q4_0 in InferPi's container. Every weight is widened to fp32
and encoded again, so converting never restores precision: re-quantizing an
already quantized model adds the new rounding to the old one (a warning says so),
and the best q4_0 comes from the fp32 or fp16 original.
`

func convertModel(args []string, stdout, stderr io.Writer) error {
	fset := newFlags("convert model", convertModelUsage, stdout)
	dtype := fset.String("dtype", "", "weight encoding to write: fp32, fp16, q8_0 or q4_0 (required)")
	pos, err := parseArgs(fset, args, stderr)
	if err != nil {
		return err
	}
	if *dtype == "" || len(pos) != 2 {
		fmt.Fprint(stderr, convertModelUsage)
		return exitError{2}
	}
	enc, err := parseDType(*dtype)
	if err != nil {
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
		return fmt.Errorf("%s: %v", inFile, err)
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
	switch {
	case from == "q8_0" || from == "q4_0":
		fmt.Fprintf(stderr, "warning: %s holds %s weights: the %v result carries %s's rounding as well as its own (convert from the fp32 or fp16 original when you have it)\n", inFile, from, enc, from)
	case from == "fp16" && enc == kernels.F32:
		fmt.Fprintf(stderr, "note: widening fp16 weights to fp32 doubles the size and keeps fp16's precision\n")
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

// writeFileAtomic writes name beside itself and renames it into place, so a
// failed conversion never leaves half a model.bin.
func writeFileAtomic(name string, data []byte) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, name)
}

// same reports whether two paths name one existing file.
func same(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}
