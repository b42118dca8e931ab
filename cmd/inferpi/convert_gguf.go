package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/all"
	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/llama"
	"github.com/inferpi/inferpi/engine/modeldir"
	"github.com/inferpi/inferpi/engine/quantize"
)

// isGGUFFile reports whether path is a file that starts with GGUF's magic.
func isGGUFFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(gguf.Magic))
	_, err = io.ReadFull(f, head)
	return err == nil && string(head) == gguf.Magic
}

// quantizeGGUF writes to out the GGUF file llama-quantize makes of the GGUF file
// in for target (its name for it, or fp32 and fp16), with --pure when pure is
// set: `inferpi convert model` with a GGUF input.
func quantizeGGUF(in, out, target string, pure bool, stderr io.Writer) error {
	ft, err := parseTarget(target)
	if err != nil {
		return err
	}
	if isDir(out) {
		return fmt.Errorf("%s: a directory: give the GGUF file to write", out)
	}
	if same(in, out) {
		return fmt.Errorf("%s: OUT is IN: write the quantized model elsewhere", out)
	}
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	src, err := gguf.Parse(data, in)
	if err != nil {
		return err
	}
	if err := writeAtomic(out, func(w io.Writer) error {
		return quantize.File(w, src, data, ft, quantize.Options{Pure: pure})
	}); err != nil {
		return err
	}
	st, err := os.Stat(out)
	if err != nil {
		return err
	}
	how := "llama-quantize's rules"
	if pure {
		how = "--pure"
	}
	fmt.Fprintf(stderr, "wrote %s: %d bytes (%v, %s) from %d bytes\n", out, st.Size(), ft, how, len(data))
	return nil
}

// parseTarget reads a GGUF file type by llama-quantize's name for it, or
// InferPi's names for the float ones (fp32, fp16).
func parseTarget(target string) (quantize.FileType, error) {
	switch strings.ToLower(target) {
	case "fp32":
		target = "F32"
	case "fp16":
		target = "F16"
	}
	return quantize.ParseFileType(target)
}

// llamaToGGUF writes the Llama (llama2.c) model in (a model directory or its
// model.bin) to out as a GGUF file of type target (llama.WriteGGUF): `inferpi
// convert model` with an OUT named *.gguf.
func llamaToGGUF(in, out, target string, stderr io.Writer) error {
	ft, err := parseTarget(target)
	if err != nil {
		return err
	}
	dir, modelFile := in, filepath.Join(in, modeldir.ModelFile)
	if !isDir(in) {
		dir, modelFile = filepath.Dir(in), in
	}
	var files engine.Files
	if files.Model, err = os.ReadFile(modelFile); err != nil {
		return err
	}
	e, err := all.Detect(files.Model[:min(len(files.Model), engine.HeadSize)])
	if err != nil {
		return fmt.Errorf("%s: %v", modelFile, err)
	}
	if e.Name() != (llama.Engine{}).Name() {
		return fmt.Errorf("%s: a %s model: GGUF files are written from Llama (llama2.c) models", modelFile, e.Name())
	}
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{modeldir.TokenizerFile, &files.Tokenizer}, {modeldir.SettingsFile, &files.Settings}} {
		b, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		*f.dst = b
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	files.ModelName = filepath.Base(abs)
	if err := writeAtomic(out, func(w io.Writer) error { return llama.WriteGGUF(w, files, ft) }); err != nil {
		return fmt.Errorf("%s: %w", modelFile, err)
	}
	st, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s: %d bytes (GGUF %v, llama-quantize's rules) from %d bytes, Llama model %s\n", out, st.Size(), ft, len(files.Model), files.ModelName)
	return nil
}
