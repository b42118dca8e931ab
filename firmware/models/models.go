// Package models finds the models on a volume for the firmware's menu: each
// .gguf file at the top level is one model, and so is each top-level directory
// holding a model.bin (its engine told by the first bytes, engine/all.Detect)
// or, instead, one .gguf file. Directories holding neither (DCIM, System Volume
// Information, a folder of notes) are not models and are skipped; models that
// cannot work are listed with the reason, so the user learns why a model they
// copied does not appear as loadable.
//
// Discovery reads directory entries, the header of each model.bin with its
// tokenizer.bin and inferpi.json, and the header and tensor table of each GGUF
// file, and checks them as the engine will (engine.Checker, llama.GGUFFootprint),
// without the weights: it must stay fast on a 64 GB stick holding gigabytes of
// models, and a model that cannot load is listed as such before anyone waits
// for its weights to be read. The checks give each model's memory footprint,
// from which Fit plans the context of a chat in the memory there is.
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
	// Footprint is the memory the model and its chats take, from the headers
	// (zero when the model has a Problem).
	Footprint engine.Footprint
	// Plan is the context a chat gets and its memory, once Fit has placed the
	// model in the memory there is.
	Plan engine.Plan
	// SessionBytes is the memory loading needs beyond the weights file, as Fit
	// planned it: a chat at Plan's context and what the engine computes at load.
	SessionBytes int64
	// Problem says why the model cannot be loaded; "" when it looks loadable.
	// Some faults (a weight whose bytes are no number) show only when the
	// engine reads the whole file: loading reports those.
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

// Fit plans the context of a chat with m when memory bytes are free for the
// model and its chat (engine.PlanContext; requested is the context asked for,
// 0 the default), setting Plan and SessionBytes. Its error is PlanContext's:
// a *engine.NoRoomError with the numbers when the model cannot hold even a
// small context. A model with a Problem, or whose engine does not tell its
// footprint (engine.Checker), is left as it is.
func (m *Model) Fit(requested int, memory int64) error {
	if !m.OK() || m.Footprint.Context == 0 {
		return nil
	}
	p, err := engine.PlanContext(m.Footprint, requested, memory)
	if err != nil {
		return err
	}
	m.Plan = p
	m.SessionBytes = p.SessionBytes + m.Footprint.ModelBytes - m.ModelBytes
	return nil
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
			found = append(found, inspectGGUF(fsys, Model{Name: e.Name(), Weights: e.Name()}, nil))
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
	head, err := readHead(fsys, m.Weights, min(st.Size(), engine.CheckHeadSize))
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
	files := engine.Files{Model: head}
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
	if files.Tokenizer, err = readSmall(fsys, path.Join(dir, modeldir.TokenizerFile)); err != nil {
		m.Problem = err.Error()
		return m, true
	}
	if files.Settings, err = readSettings(fsys, dir); err != nil {
		m.Problem = err.Error()
		return m, true
	}
	m.Bytes += int64(len(files.Settings))
	checker, ok := e.(engine.Checker)
	if !ok {
		return m, true // the engine checks its files when it loads them
	}
	if m.Footprint, err = checker.Check(files, m.ModelBytes); err != nil {
		m.Problem = err.Error()
	}
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
		settings, err := readSettings(fsys, dir)
		if err != nil {
			m.Problem = err.Error()
			return m, true
		}
		m = inspectGGUF(fsys, m, settings)
		m.Bytes += int64(len(settings))
		return m, true
	}
	m.Problem = fmt.Sprintf("%d .gguf files (%s): a model directory holds one; put the others at the top level or in directories of their own",
		len(ggufs), strings.Join(ggufs, ", "))
	return m, true
}

// splitName matches the parts of a model split by llama-gguf-split
// (llama.cpp's llama_split_path: PREFIX-00001-of-00003.gguf).
var splitName = regexp.MustCompile(`(?i)-(\d{5})-of-(\d{5})\.gguf$`)

// inspectGGUF reads the header and tensor table of m.Weights and checks them,
// with settings (the inferpi.json beside it, nil for none), as loading will.
func inspectGGUF(fsys fs.FS, m Model, settings []byte) Model {
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
	if m.Footprint, err = llama.GGUFFootprint(f, settings); err != nil {
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

// Companion files are read whole; beyond these sizes a file is no tokenizer
// or settings (a llama2.c vocabulary of 32000 tokens takes 424 KB, nanochat's
// of 65536 about 1 MB).
const (
	maxTokenizer = 64 << 20
	maxSettings  = 1 << 20
)

// readSettings reads dir's inferpi.json, nil without one.
func readSettings(fsys fs.FS, dir string) ([]byte, error) {
	name := path.Join(dir, modeldir.SettingsFile)
	if _, err := fs.Stat(fsys, name); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return readSmall(fsys, name)
}

// readSmall reads a tokenizer.bin or inferpi.json whole; errors name it.
func readSmall(fsys fs.FS, name string) ([]byte, error) {
	base := path.Base(name)
	limit, what := int64(maxTokenizer), "a tokenizer"
	if base == modeldir.SettingsFile {
		limit, what = maxSettings, "a settings file"
	}
	st, err := fs.Stat(fsys, name)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: %v", base, unwrapPath(err))
	case st.IsDir():
		return nil, fmt.Errorf("%s is a directory, not a file", base)
	case st.Size() > limit:
		return nil, fmt.Errorf("%s is %s, more than %s takes (%s)", base, engine.FormatBytes(st.Size()), what, engine.FormatBytes(limit))
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", base, unwrapPath(err))
	}
	return b, nil
}

// readHead reads the first n bytes of a file.
func readHead(fsys fs.FS, name string, n int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, n)
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
