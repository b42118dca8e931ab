// Package hf converts a Hugging Face model directory (config.json, safetensors
// weights, tokenizer files) into a GGUF file as llama.cpp's converter
// (convert_hf_to_gguf.py) writes it, or into llama2.c's model.bin and
// tokenizer.bin.
//
// Open reads the configuration, the tokenizer and the safetensors headers and
// checks that they belong together; the weights are read tensor by tensor
// while writing, so memory is bounded by one tensor.
//
// Architectures: LlamaForCausalLM (Llama 2 and 3.x, TinyLlama, SmolLM),
// Qwen2ForCausalLM, Qwen3ForCausalLM. The GGUF metadata (architecture values,
// vocabulary, special tokens, chat template) and tensors are llama.cpp's, so a
// converted file can be checked against llama.cpp and used there too.
package hf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Model is an opened Hugging Face directory, checked and ready to write.
type Model struct {
	Dir     string
	Config  *Config
	Vocab   *Vocab
	Tensors []*Tensor // in the order the GGUF file holds them
	// Warnings are things a user should know about the conversion (a rope
	// scaling left out, a special token out of range).
	Warnings []string

	arch    *arch
	closers []io.Closer
}

// Open reads a model directory: config.json, the tokenizer files and the
// headers of the safetensors files. Errors name the file (and tensor) at fault.
func Open(dir string) (*Model, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a directory (a Hugging Face model is a directory with config.json)", dir)
	}
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such file: a Hugging Face model directory has config.json", path)
	}
	if err != nil {
		return nil, err
	}
	c, err := parseConfig(data, path)
	if err != nil {
		return nil, err
	}
	m := &Model{Dir: dir, Config: c, arch: architectures[c.Architecture]}
	for _, step := range []func() error{m.loadVocab, m.ropeScaling, m.openWeights} {
		if err := step(); err != nil {
			m.Close()
			return nil, err
		}
	}
	return m, nil
}

// Close closes the weight files.
func (m *Model) Close() error {
	var first error
	for _, c := range m.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	m.closers = nil
	return first
}

// Arch is the GGUF architecture name ("llama", "qwen2", "qwen3").
func (m *Model) Arch() string { return m.arch.gguf }

// Params is the number of weights the converted file holds.
func (m *Model) Params() int64 {
	var n int64
	for _, t := range m.Tensors {
		n += t.Elements()
	}
	return n
}

// Name is the model's name for general.name: the directory's name, or for a
// Hugging Face cache snapshot (models--ORG--NAME/snapshots/HASH) NAME.
func (m *Model) Name() string {
	abs, err := filepath.Abs(m.Dir)
	if err != nil {
		abs = m.Dir
	}
	base := filepath.Base(abs)
	if parent := filepath.Dir(abs); filepath.Base(parent) == "snapshots" {
		repo := filepath.Base(filepath.Dir(parent))
		if i := strings.LastIndex(repo, "--"); strings.HasPrefix(repo, "models--") && i >= 0 {
			return repo[i+2:]
		}
	}
	return base
}

// sizeLabel is gguf-py's size_label for a dense model: the parameter count
// with two significant digits and K, M, B or T.
func sizeLabel(n int64) string {
	x, suffix := float64(n)*1e-3, "K"
	switch {
	case n > 1e12:
		x, suffix = float64(n)*1e-12, "T"
	case n > 1e9:
		x, suffix = float64(n)*1e-9, "B"
	case n > 1e6:
		x, suffix = float64(n)*1e-6, "M"
	}
	digits := len(strings.TrimLeft(fmt.Sprintf("%.0f", x), "0"))
	return fmt.Sprintf("%.*f%s", max(2-digits, 0), x, suffix)
}
