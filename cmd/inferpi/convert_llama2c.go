package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/inferpi/inferpi/engine/llama"
	"github.com/inferpi/inferpi/engine/modeldir"
)

func init() {
	registerConverter("llama2c", converter{
		summary: "llama2.c fp32 model.bin to InferPi's fp16 llama2.c layout (--fp16 IN OUT)",
		run:     convertLlama2c,
	})
}

const convertLlama2cUsage = `usage: inferpi convert llama2c --fp16 IN OUT

Converts an fp32 llama2.c model.bin (the legacy layout run.c reads) into InferPi's
fp16 format: the same 28-byte header, then every float of the fp32 layout as IEEE
binary16 (round to nearest even), half the size. IN and OUT are model.bin files,
or model directories: then OUT/model.bin is written and tokenizer.bin (and
inferpi.json, if any) are copied beside it.
`

func convertLlama2c(args []string, stdout, stderr io.Writer) error {
	fset := newFlags("convert llama2c", convertLlama2cUsage, stdout)
	fp16 := fset.Bool("fp16", false, "convert the weights to fp16 (the only target so far; required)")
	pos, err := parseArgs(fset, args, stderr)
	if err != nil {
		return err
	}
	if !*fp16 || len(pos) != 2 {
		fmt.Fprint(stderr, convertLlama2cUsage)
		return exitError{2}
	}
	in, out := pos[0], pos[1]
	inDir := isDir(in)
	inFile := in
	if inDir {
		inFile = filepath.Join(in, modeldir.ModelFile)
	}
	src, err := os.ReadFile(inFile)
	if err != nil {
		return err
	}
	dst, err := llama.ConvertFP16(src)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	outFile := out
	if inDir {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		outFile = filepath.Join(out, modeldir.ModelFile)
		for _, name := range []string{modeldir.TokenizerFile, modeldir.SettingsFile} {
			b, err := os.ReadFile(filepath.Join(in, name))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
				return err
			}
		}
	} else if isDir(out) {
		outFile = filepath.Join(out, modeldir.ModelFile)
	}
	if err := os.WriteFile(outFile, dst, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s: %d bytes (fp16) from %d bytes (fp32)\n", outFile, len(dst), len(src))
	return nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
