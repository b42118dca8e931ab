package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/inferpi/inferpi/engine/gguf"
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
	switch strings.ToLower(target) { // InferPi's names for the float targets
	case "fp32":
		target = "F32"
	case "fp16":
		target = "F16"
	}
	ft, err := quantize.ParseFileType(target)
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
