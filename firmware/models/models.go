// Package models finds the models on a volume for the firmware's menu: each
// top-level directory holding a model.bin is one model, its engine told by the
// first bytes of model.bin (engine/all.Detect). Directories without model.bin
// (DCIM, System Volume Information, a folder of notes) are not models and are
// skipped; model directories that cannot work are listed with the reason, so the
// user learns why a model they copied does not appear as loadable.
//
// Discovery reads only directory entries and the first engine.HeadSize bytes of
// each model.bin: it must stay fast on a 64 GB stick holding gigabytes of models.
package models

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/all"
	"github.com/inferpi/inferpi/engine/modeldir"
)

// Model is one model directory found on a volume.
type Model struct {
	Dir    string // top-level directory name
	Engine string // engine name ("GPT", "Llama"); "" when Problem says none fits
	// Bytes is what loading reads: model.bin, tokenizer.bin and inferpi.json.
	Bytes int64
	// ModelBytes is the size of model.bin alone: the memory the weights take.
	ModelBytes int64
	// Problem says why the directory cannot be loaded; "" when it looks loadable.
	// Some faults (a truncated model.bin) show only when the engine reads the
	// whole file: loading reports those.
	Problem string
}

// OK reports whether the model can be offered for loading.
func (m Model) OK() bool { return m.Problem == "" }

// Discover lists the model directories at the top of fsys, sorted by name. Its
// error is for a root directory that cannot be read at all; problems with one
// directory land in that Model's Problem.
func Discover(fsys fs.FS) ([]Model, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("reading the volume's top directory: %w", err)
	}
	var found []Model
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") { // .Trashes, .Spotlight-V100
			continue
		}
		m, isModel := inspect(fsys, e.Name())
		if isModel {
			found = append(found, m)
		}
	}
	return found, nil
}

// inspect looks at one directory; isModel is false when it holds no model.bin.
func inspect(fsys fs.FS, dir string) (m Model, isModel bool) {
	m.Dir = dir
	st, err := fs.Stat(fsys, path.Join(dir, modeldir.ModelFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return m, false
	case err != nil:
		m.Problem = fmt.Sprintf("%s: %v", modeldir.ModelFile, unwrapPath(err))
		return m, true
	case st.IsDir():
		m.Problem = modeldir.ModelFile + " is a directory, not a file"
		return m, true
	}
	m.ModelBytes = st.Size()
	m.Bytes = st.Size()
	if st.Size() < engine.HeadSize {
		m.Problem = fmt.Sprintf("%s is %d bytes, too short to be a model", modeldir.ModelFile, st.Size())
		return m, true
	}
	head, err := readHead(fsys, path.Join(dir, modeldir.ModelFile))
	if err != nil {
		m.Problem = fmt.Sprintf("%s: %v", modeldir.ModelFile, unwrapPath(err))
		return m, true
	}
	e, err := all.Detect(head)
	if err != nil {
		m.Problem = fmt.Sprintf("%s: no engine recognises this file (engines: %s)", modeldir.ModelFile, engineNames())
		return m, true
	}
	m.Engine = e.Name()
	st, err = fs.Stat(fsys, path.Join(dir, modeldir.TokenizerFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		m.Problem = "no " + modeldir.TokenizerFile + " beside model.bin (copy the model's tokenizer.bin into the directory)"
		return m, true
	case err != nil:
		m.Problem = fmt.Sprintf("%s: %v", modeldir.TokenizerFile, unwrapPath(err))
		return m, true
	case st.IsDir():
		m.Problem = modeldir.TokenizerFile + " is a directory, not a file"
		return m, true
	}
	m.Bytes += st.Size()
	if st, err := fs.Stat(fsys, path.Join(dir, modeldir.SettingsFile)); err == nil && !st.IsDir() {
		m.Bytes += st.Size()
	}
	return m, true
}

// readHead reads the first engine.HeadSize bytes of a file.
func readHead(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, engine.HeadSize)
	if _, err := io.ReadFull(f, head); err != nil {
		return nil, err
	}
	return head, nil
}

// unwrapPath drops the "open dir/model.bin:" prefix of an fs.PathError: the
// caller names the file already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func engineNames() string {
	names := make([]string, len(all.Engines))
	for i, e := range all.Engines {
		names[i] = e.Name()
	}
	return strings.Join(names, ", ")
}
