package main

import (
	"encoding/binary"
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
	"github.com/inferpi/inferpi/engine/gpt"
	"github.com/inferpi/inferpi/engine/modeldir"
	"github.com/inferpi/inferpi/engine/tokenizer/bpe"
)

// openModel loads the model that run, chat and inspect name: a model directory,
// a .gguf file (modeldir.Open), or, as llama2.c's run takes it, a model.bin file
// of any name with its tokenizer.bin beside it (a GGUF file of another name
// too). When loading fails, the error says what the file is and what to do
// where the engine's own words cannot (explain).
func openModel(path string, o modeldir.Overrides) (engine.Model, error) {
	m, err := openPath(path, o)
	if err != nil {
		return nil, explain(path, o, err)
	}
	return m, nil
}

func openPath(path string, o modeldir.Overrides) (engine.Model, error) {
	st, err := os.Stat(path)
	if err != nil || st.IsDir() || modeldir.IsGGUF(path) {
		return modeldir.Open(path, o)
	}
	dir, name := filepath.Dir(path), filepath.Base(path)
	if string(head(path, 4)) == gguf.Magic {
		f := engine.Files{ModelName: name}
		if f.Model, err = os.ReadFile(path); err != nil {
			return nil, err
		}
		if err := o.Apply(&f); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		m, err := all.Load(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return m, nil
	}
	if _, err := all.Detect(head(path, engine.HeadSize)); err != nil {
		return modeldir.Open(path, o) // not a model file: says what a model is
	}
	m, err := modeldir.Load(asModelBin{os.DirFS(dir), name}, ".", o)
	if err != nil {
		// Name the file as the user gave it rather than "." and model.bin.
		msg := strings.TrimPrefix(err.Error(), ".: ")
		msg = strings.TrimPrefix(msg, modeldir.ModelFile+": ")
		return nil, fmt.Errorf("%s: %s", path, msg)
	}
	return m, nil
}

// asModelBin is a directory in which the file name stands in for model.bin.
type asModelBin struct {
	fs.FS
	name string
}

func (a asModelBin) Open(name string) (fs.File, error) {
	if name == modeldir.ModelFile {
		name = a.name
	}
	return a.FS.Open(name)
}

// explain rewords a loading error where the file is one InferPi knows but
// cannot use, or where a flag is to blame; other errors are kept.
func explain(path string, o modeldir.Overrides, err error) error {
	if o.Template != "" {
		// The flag's template stands in for inferpi.json's: an unknown one is
		// the flag's fault, whether or not an inferpi.json exists.
		q := fmt.Sprintf("template %q", o.Template)
		if _, rest, ok := strings.Cut(err.Error(), q); ok {
			return fmt.Errorf("--template %q%s", o.Template, rest)
		}
	}
	modelPath, tokPath := path, ""
	if st, serr := os.Stat(path); serr == nil && st.IsDir() {
		modelPath, tokPath = filepath.Join(path, modeldir.ModelFile), filepath.Join(path, modeldir.TokenizerFile)
	} else if !modeldir.IsGGUF(path) {
		tokPath = filepath.Join(filepath.Dir(path), modeldir.TokenizerFile)
	}
	if p := unreadable(modelPath); p != nil {
		return p
	}
	if tokPath == "" || !strings.Contains(err.Error(), modeldir.TokenizerFile) {
		return err
	}
	tok := head(tokPath, 4)
	switch isGPT := string(head(modelPath, 4)) == gpt.Magic; {
	case !isGPT && string(tok) == bpe.FileMagic:
		return fmt.Errorf("%s is a GPT (nanochat) tokenizer, and %s a Llama model: put the tokenizer.bin that came with the model beside it", tokPath, filepath.Base(modelPath))
	case isGPT && len(tok) == 4 && string(tok) != bpe.FileMagic:
		return fmt.Errorf("%s is not a GPT (nanochat) tokenizer (llama2.c's, or not a tokenizer at all), and %s is a GPT model: put the tokenizer.bin that came with the model beside it ('inferpi convert nanochat' writes both)", tokPath, filepath.Base(modelPath))
	}
	return err
}

// unreadable names a model file that no engine reads and says what to do: an
// empty file, or a llama2.c export of a version run.c does not read. It is nil
// for any other file.
func unreadable(path string) error {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return nil
	}
	h := head(path, 8)
	switch {
	case st.Size() == 0:
		return fmt.Errorf("%s is empty (0 bytes): copy the model again, or write one with 'inferpi convert' ('inferpi convert --help' lists what it reads)", path)
	case len(h) == 8 && binary.LittleEndian.Uint32(h) == llama2cMagic:
		v := binary.LittleEndian.Uint32(h[4:])
		return fmt.Errorf("%s is a llama2.c export of version %d (export.py --version %d), which InferPi does not read: export it again with --version 0 (run.c's format), or convert the Hugging Face model with 'inferpi convert hf'", path, v, v)
	}
	return nil
}

// llama2cMagic starts the files of llama2.c's export.py versions 1 and 2: "ak42"
// as a little-endian uint32, then the version as an int32 (export.py:
// version1_export, version2_export). run.c reads neither: its format is
// version 0, which has no magic.
const llama2cMagic = 0x616b3432

// head is the first n bytes of a file (fewer when it is shorter or unreadable).
func head(path string, n int) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, n)
	k, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return b[:k]
}

// engineNames lists the engines, for "no engine recognises this file".
func engineNames() string {
	names := make([]string, len(all.Engines))
	for i, e := range all.Engines {
		names[i] = e.Name()
	}
	return strings.Join(names, ", ")
}
