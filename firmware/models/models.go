// Package models finds the models on a volume for the firmware's menu: each
// .gguf file at the top level is one model, and so is each top-level directory
// holding a model.bin (its engine told by the first bytes, engine/all.Detect)
// or, instead, one .gguf file. Directories holding neither (DCIM, System Volume
// Information, a folder of notes) are not models and are skipped; models that
// cannot work are listed with the reason, so the user learns why a model they
// copied does not appear as loadable.
//
// Discovery reads only directory entries, the first engine.HeadSize bytes of
// each model.bin, and the header and tensor table of each GGUF file, which it
// checks as the engine will (llama.CheckGGUF): it must stay fast on a 64 GB
// stick holding gigabytes of models, and a GGUF file that cannot load is listed
// as such before anyone waits for its weights to be read.
package models

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/all"
	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/llama"
	"github.com/inferpi/inferpi/engine/modeldir"
)

// Model is one model found on a volume.
type Model struct {
	// Name is the top-level directory, or the .gguf file at the top level.
	Name string
	// Weights is the path of the file holding the weights: "dir/model.bin",
	// "dir/x.gguf" or "x.gguf".
	Weights string
	Engine  string // engine name ("GPT", "Llama"); "" when Problem says none fits
	// Arch and Types describe a GGUF file: its general.architecture ("qwen2")
	// and tensor types ("Q4_K_M"); both "" for a model.bin.
	Arch, Types string
	// Bytes is what loading reads: the weights, tokenizer.bin and inferpi.json.
	Bytes int64
	// ModelBytes is the size of the weights file alone: the memory it takes.
	ModelBytes int64
	// SessionBytes is the memory a chat with a GGUF model takes beyond the
	// file (its KV cache and activations); 0 where the engine does not say.
	SessionBytes int64
	// Problem says why the model cannot be loaded; "" when it looks loadable.
	// Some faults (a truncated model.bin) show only when the engine reads the
	// whole file: loading reports those.
	Problem string
}

// OK reports whether the model can be offered for loading.
func (m Model) OK() bool { return m.Problem == "" }

// IsGGUF reports whether the model's weights are a GGUF file.
func (m Model) IsGGUF() bool { return modeldir.IsGGUF(m.Weights) }

// Kind describes the model for the menu: the architecture and tensor types of
// a GGUF file ("qwen2 Q4_K_M"), else the engine's name.
func (m Model) Kind() string {
	if m.Arch != "" {
		return strings.TrimSpace(m.Arch + " " + m.Types)
	}
	return m.Engine
}

// Discover lists the models at the top of fsys, sorted by name. Its error is
// for a root directory that cannot be read at all; problems with one model land
// in that Model's Problem.
func Discover(fsys fs.FS) ([]Model, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("reading the volume's top directory: %w", err)
	}
	var found []Model
	for _, e := range entries {
		// Hidden entries: .Trashes, .Spotlight-V100, and the "._x.gguf" files
		// macOS writes beside each file it copies to a FAT volume.
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		switch {
		case e.IsDir():
			if m, isModel := inspectDir(fsys, e.Name()); isModel {
				found = append(found, m)
			}
		case modeldir.IsGGUF(e.Name()):
			found = append(found, inspectGGUF(fsys, Model{Name: e.Name(), Weights: e.Name()}))
		}
	}
	return found, nil
}

// inspectDir looks at one directory; isModel is false when it holds neither a
// model.bin nor a .gguf file.
func inspectDir(fsys fs.FS, dir string) (m Model, isModel bool) {
	m = Model{Name: dir, Weights: path.Join(dir, modeldir.ModelFile)}
	st, err := fs.Stat(fsys, m.Weights)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ggufDir(fsys, dir)
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
	head, err := readHead(fsys, m.Weights)
	if err != nil {
		m.Problem = fmt.Sprintf("%s: %v", modeldir.ModelFile, unwrapPath(err))
		return m, true
	}
	e, err := all.Detect(head)
	if errors.Is(err, all.ErrNoEngine) {
		m.Problem = fmt.Sprintf("%s: no engine recognises this file (engines: %s)", modeldir.ModelFile, engineNames())
		return m, true
	}
	if err != nil {
		m.Problem = err.Error()
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
	m.Bytes += settingsBytes(fsys, dir)
	return m, true
}

// ggufDir looks at a directory without model.bin: it is a model if it holds
// .gguf files, one of them.
func ggufDir(fsys fs.FS, dir string) (Model, bool) {
	m := Model{Name: dir}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return m, false // not a directory we can tell a model in
	}
	var ggufs []string
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") && modeldir.IsGGUF(e.Name()) {
			ggufs = append(ggufs, e.Name())
		}
	}
	switch len(ggufs) {
	case 0:
		return m, false
	case 1:
		m.Weights = path.Join(dir, ggufs[0])
		m = inspectGGUF(fsys, m)
		m.Bytes += settingsBytes(fsys, dir)
		return m, true
	}
	m.Problem = fmt.Sprintf("%d .gguf files (%s): a model directory holds one; put the others at the top level or in directories of their own",
		len(ggufs), strings.Join(ggufs, ", "))
	return m, true
}

// splitName matches the parts of a model split by llama-gguf-split
// (llama.cpp's llama_split_path: PREFIX-00001-of-00003.gguf).
var splitName = regexp.MustCompile(`(?i)-(\d{5})-of-(\d{5})\.gguf$`)

// inspectGGUF reads the header and tensor table of m.Weights and checks them
// as loading will.
func inspectGGUF(fsys fs.FS, m Model) Model {
	file := path.Base(m.Weights)
	// The problem names the file where the menu shows its directory.
	problem := func(format string, args ...any) Model {
		msg := fmt.Sprintf(format, args...)
		if m.Name != m.Weights {
			msg = file + ": " + msg
		}
		m.Problem = msg
		return m
	}
	st, err := fs.Stat(fsys, m.Weights)
	if err != nil {
		return problem("%v", unwrapPath(err))
	}
	m.ModelBytes, m.Bytes = st.Size(), st.Size()
	if s := splitName.FindStringSubmatch(file); s != nil && strings.TrimLeft(s[2], "0") != "1" {
		return problem("%s", splitProblem(s[1], s[2]))
	}
	f, err := readGGUF(fsys, m.Weights, st.Size())
	if err != nil {
		return problem("%s", strings.TrimPrefix(err.Error(), file+": "))
	}
	m.Engine = llama.Engine{}.Name()
	m.Arch, _ = f.GetString("general.architecture")
	m.Types = f.FileType()
	if n, err := f.GetUint("split.count"); err == nil && n > 1 {
		return problem("%s", splitProblem("", fmt.Sprint(n)))
	}
	if m.SessionBytes, err = llama.CheckGGUF(f); err != nil {
		return problem("%s", strings.TrimPrefix(err.Error(), file+": "))
	}
	return m
}

// splitProblem is the reason a part of a split GGUF model is not loadable.
func splitProblem(part, parts string) string {
	what := "one part of a model split in " + strings.TrimLeft(parts, "0") + " files"
	if part != "" {
		what = fmt.Sprintf("part %s of a model split in %s files", strings.TrimLeft(part, "0"), strings.TrimLeft(parts, "0"))
	}
	return what + ": InferPi loads a model from one file, and a FAT32 file holds at most 4 GiB (merge the parts with llama-gguf-split --merge if the model is smaller)"
}

// readGGUF reads a GGUF file's header region through the file system.
func readGGUF(fsys fs.FS, name string, size int64) (*gguf.File, error) {
	fl, err := fsys.Open(name)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer fl.Close()
	r, ok := fl.(io.ReaderAt)
	if !ok {
		return nil, errors.New("the file system cannot read parts of this file")
	}
	return gguf.Read(r, size, path.Base(name))
}

// settingsBytes is the size of dir's inferpi.json, 0 without one.
func settingsBytes(fsys fs.FS, dir string) int64 {
	if st, err := fs.Stat(fsys, path.Join(dir, modeldir.SettingsFile)); err == nil && !st.IsDir() {
		return st.Size()
	}
	return 0
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
