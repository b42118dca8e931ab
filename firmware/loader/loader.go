// Package loader reads a model from the firmware's volume into memory and loads
// it with its engine: the weights file (model.bin, or a GGUF file) into one
// large buffer from an Allocator (on the firmware: a virtually contiguous kernel
// buffer outside the Go heap, metal/sys.AllocBuffer), tokenizer.bin and
// inferpi.json onto the Go heap, each read with a progress bar and its totals.
// A model that cannot fit is refused before anything is read, with the numbers.
//
// It is portable: the host tests run it on FAT32 disk images with a fake
// allocator that can refuse.
package loader

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/all"
	"github.com/inferpi/inferpi/engine/modeldir"
	"github.com/inferpi/inferpi/firmware/models"
)

// Allocator hands out the memory that holds a model's weights.
type Allocator interface {
	// Available is how many bytes Alloc could return right now.
	Available() int64
	// Alloc returns a zeroed buffer of size bytes.
	Alloc(size int) ([]byte, error)
	// Free returns a buffer from Alloc.
	Free(buf []byte) error
}

// DefaultReserve is the memory Load leaves free beyond the weights and what
// the model's chat takes at the context the menu planned
// (models.Model.SessionBytes): the Go heap grows into the same free pages for
// the vocabulary and the firmware's own working memory. It is the least of the
// margin the menu's plan keeps (engine.Margin), so a model the menu offers
// passes this check.
const DefaultReserve = 64 * MB

// Loader loads models from one volume.
type Loader struct {
	FS    fs.FS
	Alloc Allocator
	Out   io.Writer // progress and totals
	// Reserve is kept free beyond the weights (see DefaultReserve); 0 keeps nothing.
	Reserve int64
	// Now is the clock for the speeds shown; nil means time.Now.
	Now func() time.Time
}

// Loaded is a model in memory. Release returns its memory.
type Loaded struct {
	Name  string // the model's name in the menu
	Model engine.Model
	// ModelBytes is the size of the buffer holding the weights file.
	ModelBytes int64
	buf        []byte
	alloc      Allocator
}

// Release frees the model's buffer. The model and every session of it must not
// be used afterwards.
func (l *Loaded) Release() error {
	if l == nil || l.buf == nil {
		return nil
	}
	buf := l.buf
	l.buf, l.Model = nil, nil
	if err := l.alloc.Free(buf); err != nil {
		return fmt.Errorf("%s: freeing the model's memory: %w", l.Name, err)
	}
	return nil
}

// NoRoomError is the refusal of a model that does not fit in memory.
type NoRoomError struct {
	Name    string
	File    string // the weights file's name
	Need    int64  // its size
	Session int64  // what a chat takes beyond it, where known
	Free    int64  // what the allocator had
	Reserve int64  // kept for the Go heap
}

func (e *NoRoomError) Error() string {
	room := max(e.Free-e.Reserve, 0)
	need := fmt.Sprintf("%s needs %s", e.File, Size(e.Need))
	if e.Session > 0 {
		need = fmt.Sprintf("%s and its chat %s more", need, Size(e.Session))
	}
	return fmt.Sprintf("%s does not fit in memory: %s, %s is free for models (%s free, %s kept for the chat's working memory)",
		e.Name, need, Size(room), Size(e.Free), Size(e.Reserve))
}

// Load reads model m, as models.Discover found it, and loads it with the
// engine that recognises its weights. Errors start with m.Name and name the
// file.
func (l *Loader) Load(m models.Model) (*Loaded, error) {
	now := l.Now
	if now == nil {
		now = time.Now
	}
	name := path.Base(m.Weights)
	size, err := fileSize(l.FS, m.Weights)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Name, err)
	}
	if size < engine.HeadSize {
		return nil, fmt.Errorf("%s: %s is %d bytes, too short to be a model", m.Name, name, size)
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("%s: %s is %s, more than this machine can address", m.Name, name, Size(size))
	}
	if free := l.Alloc.Available(); size+m.SessionBytes > free-l.Reserve {
		return nil, &NoRoomError{Name: m.Name, File: name, Need: size, Session: m.SessionBytes, Free: free, Reserve: l.Reserve}
	}
	buf, err := l.Alloc.Alloc(int(size))
	if err != nil {
		return nil, fmt.Errorf("%s: memory for %s (%s): %w", m.Name, name, Size(size), err)
	}
	loaded := &Loaded{Name: m.Name, ModelBytes: size, buf: buf, alloc: l.Alloc}
	fail := func(err error) (*Loaded, error) {
		loaded.Release()
		if m.Name == m.Weights && strings.HasPrefix(err.Error(), name+": ") {
			return nil, err // a GGUF file at the top, which the engine's error names
		}
		return nil, fmt.Errorf("%s: %w", m.Name, err)
	}
	files := engine.Files{Model: buf[:size]}
	if err := readWithProgress(l.FS, m.Weights, files.Model, l.Out, now); err != nil {
		return fail(err)
	}
	dir := path.Dir(m.Weights) // "." for a GGUF file at the top: no tokenizer or settings beside it
	if m.IsGGUF() {
		files.ModelName = name
	} else if files.Tokenizer, err = readSmall(l.FS, path.Join(dir, modeldir.TokenizerFile), l.Out, now); err != nil {
		return fail(err)
	}
	if dir != "." {
		if files.Settings, err = readSmall(l.FS, path.Join(dir, modeldir.SettingsFile), nil, now); err != nil {
			return fail(err)
		}
	}
	loaded.Model, err = all.Load(files)
	if err != nil {
		return fail(err)
	}
	return loaded, nil
}

// fileSize stats a regular file; errors name it.
func fileSize(fsys fs.FS, name string) (int64, error) {
	st, err := fs.Stat(fsys, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("%s: missing", path.Base(name))
		}
		return 0, fmt.Errorf("%s: %w", path.Base(name), unwrapPath(err))
	}
	if st.IsDir() {
		return 0, fmt.Errorf("%s is a directory, not a file", path.Base(name))
	}
	return st.Size(), nil
}

// readSmall reads an optional file onto the Go heap (nil when absent), with a
// progress bar when out is not nil.
func readSmall(fsys fs.FS, name string, out io.Writer, now func() time.Time) ([]byte, error) {
	if _, err := fs.Stat(fsys, name); errors.Is(err, fs.ErrNotExist) {
		return nil, nil // the engine says whether it needs the file
	}
	size, err := fileSize(fsys, name)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, size)
	if err := readWithProgress(fsys, name, buf, out, now); err != nil {
		return nil, err
	}
	return buf, nil
}

// intoReader is the fast path of storage/fat32.FS: large device reads straight
// into the destination.
type intoReader interface {
	ReadFileInto(name string, dst []byte, progress func(done, total int64)) (int, error)
}

// readWithProgress fills dst (exactly the file's size) with the file's bytes.
func readWithProgress(fsys fs.FS, name string, dst []byte, out io.Writer, now func() time.Time) error {
	var bar *progressBar
	progress := func(done, total int64) {}
	if out != nil {
		bar = newProgressBar(out, path.Base(name), now)
		progress = bar.update
		progress(0, int64(len(dst))) // the bar shows at once, before the first large read
	}
	var n int
	var err error
	if fast, ok := fsys.(intoReader); ok {
		n, err = fast.ReadFileInto(name, dst, progress)
	} else {
		n, err = readChunks(fsys, name, dst, progress)
	}
	if err != nil {
		if bar != nil {
			fmt.Fprintln(out)
		}
		return fmt.Errorf("%s: %w", path.Base(name), unwrapPath(err))
	}
	if n != len(dst) {
		if bar != nil {
			fmt.Fprintln(out)
		}
		return fmt.Errorf("%s: read %d bytes, expected %d (the file changed while loading?)", path.Base(name), n, len(dst))
	}
	if bar != nil {
		bar.finish(int64(n))
	}
	return nil
}

// readChunks reads through plain io/fs in 1 MiB pieces, reporting progress.
func readChunks(fsys fs.FS, name string, dst []byte, progress func(done, total int64)) (int, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	for n < len(dst) {
		m, err := io.ReadFull(f, dst[n:min(n+MB, len(dst))])
		n += m
		progress(int64(n), int64(len(dst)))
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
	}
	if len(dst) == 0 {
		progress(0, 0)
	}
	return n, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
