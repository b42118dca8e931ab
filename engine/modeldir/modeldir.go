// Package modeldir reads a model directory and loads the model with the engine
// that recognises it. A model directory holds:
//
//	model.bin       the weights (format detected from its first bytes)
//	tokenizer.bin   the vocabulary
//	inferpi.json    optional settings, e.g. {"template": "alpaca"}
//
// or, instead of model.bin and tokenizer.bin, one GGUF file (*.gguf: weights and
// vocabulary in one). A GGUF file also loads on its own, without a directory.
//
// It reads through io/fs, so the hosted CLI (os.DirFS) and the firmware (its FAT32
// file system) share it.
package modeldir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/all"
	"github.com/inferpi/inferpi/internal/hugepage"
)

// File names inside a model directory.
const (
	ModelFile     = "model.bin"
	TokenizerFile = "tokenizer.bin"
	SettingsFile  = "inferpi.json"
)

// Overrides change settings that inferpi.json would give (command-line flags).
type Overrides struct {
	Template string // chat template name; "" keeps the directory's choice
}

// GGUFExt is the extension of GGUF files (compared without regard to case).
const GGUFExt = ".gguf"

// IsGGUF reports whether a file name has GGUF's extension.
func IsGGUF(name string) bool {
	return len(name) > len(GGUFExt) && strings.EqualFold(name[len(name)-len(GGUFExt):], GGUFExt)
}

// Read reads the files of the model directory dir inside fsys. A missing
// tokenizer.bin or inferpi.json is left nil; a directory with neither model.bin
// nor a single .gguf file is an error.
func Read(fsys fs.FS, dir string) (engine.Files, error) {
	var f engine.Files
	name, err := weightsFile(fsys, dir)
	if err != nil {
		return f, err
	}
	if name != ModelFile {
		f.ModelName = name
	}
	if f.Model, err = fs.ReadFile(fsys, path.Join(dir, name)); err != nil {
		return f, fmt.Errorf("%s: %w", dir, err)
	}
	for _, o := range []struct {
		name string
		dst  *[]byte
	}{{TokenizerFile, &f.Tokenizer}, {SettingsFile, &f.Settings}} {
		b, err := fs.ReadFile(fsys, path.Join(dir, o.name))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return f, fmt.Errorf("%s: %w", dir, err)
		}
		*o.dst = b
	}
	return f, nil
}

// weightsFile names the file in dir that holds the weights: model.bin, or the one
// .gguf file when there is no model.bin.
func weightsFile(fsys fs.FS, dir string) (string, error) {
	if _, err := fs.Stat(fsys, path.Join(dir, ModelFile)); err == nil {
		return ModelFile, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s: %w", dir, err)
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s: %w", dir, err)
	}
	var ggufs []string
	for _, e := range entries {
		if !e.IsDir() && IsGGUF(e.Name()) {
			ggufs = append(ggufs, e.Name())
		}
	}
	switch len(ggufs) {
	case 0:
		return "", fmt.Errorf("%s: no %s here (a model directory holds model.bin and tokenizer.bin, or one .gguf file)", dir, ModelFile)
	case 1:
		return ggufs[0], nil
	}
	return "", fmt.Errorf("%s: %d .gguf files here (%s): give the file to load", dir, len(ggufs), strings.Join(ggufs, ", "))
}

// Apply merges the overrides into the files' settings (inferpi.json), keeping any
// other keys it has.
func (o Overrides) Apply(f *engine.Files) error {
	if o.Template == "" {
		return nil
	}
	settings := map[string]any{}
	if len(f.Settings) > 0 {
		if err := json.Unmarshal(f.Settings, &settings); err != nil {
			return fmt.Errorf("%s: %v", SettingsFile, err)
		}
	}
	settings["template"] = o.Template
	b, err := json.Marshal(settings)
	if err != nil {
		return err
	}
	f.Settings = b
	return nil
}

// Load reads dir inside fsys and loads its model with the engine that recognises
// model.bin. Errors start with dir.
func Load(fsys fs.FS, dir string, o Overrides) (engine.Model, error) {
	return load(fsys, dir, o, nil)
}

// load is Load, with read (when not nil) seeing the files before the engine does.
func load(fsys fs.FS, dir string, o Overrides, read func(*engine.Files)) (engine.Model, error) {
	f, err := Read(fsys, dir)
	if err != nil {
		return nil, err
	}
	if read != nil {
		read(&f)
	}
	if err := o.Apply(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	m, err := all.Load(f)
	if errors.Is(err, all.ErrNoEngine) {
		return nil, fmt.Errorf("%s: %w (engines: %s)", dir, err, engineNames())
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return m, nil
}

// Open loads the model directory, or the GGUF file, at a path of the host's file
// system, with the weights in huge pages where the host allows (hugepage.Advise:
// every token reads them all, and small pages cost a page-table walk every 4 KiB).
func Open(dir string, o Overrides) (engine.Model, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		if IsGGUF(dir) {
			return openFile(dir, o)
		}
		return nil, fmt.Errorf("%s: not a directory or a .gguf file (give the model directory, which holds model.bin and tokenizer.bin, or a GGUF file)", dir)
	}
	m, err := load(os.DirFS(dir), ".", o, func(f *engine.Files) { hugepage.Advise(f.Model) })
	if err != nil {
		// Name the directory as the user gave it rather than ".".
		msg := err.Error()
		if strings.HasPrefix(msg, ".: ") {
			msg = dir + ": " + msg[3:]
		}
		return nil, errors.New(msg)
	}
	return m, nil
}

// openFile loads a GGUF file on its own; its errors start with path.
func openFile(path string, o Overrides) (engine.Model, error) {
	f := engine.Files{ModelName: path}
	var err error
	if f.Model, err = os.ReadFile(path); err != nil {
		return nil, err
	}
	hugepage.Advise(f.Model)
	if err := o.Apply(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m, err := all.Load(f)
	if errors.Is(err, all.ErrNoEngine) {
		return nil, fmt.Errorf("%s: not a model any engine recognises (engines: %s)", path, engineNames())
	}
	return m, err
}

func engineNames() string {
	names := make([]string, len(all.Engines))
	for i, e := range all.Engines {
		names[i] = e.Name()
	}
	return strings.Join(names, ", ")
}
