package modeldir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/all"
	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/llama"
)

// Check reads the headers of the model at a path of the host's file system (a
// model directory, a GGUF file, or a model.bin with its tokenizer.bin beside
// it) and checks them as loading will, without reading the weights: the
// model's memory footprint, known before anyone waits for a load. Its errors
// start with path; Open's words for the same problem may be more helpful.
func Check(path string) (engine.Footprint, error) {
	fp, err := check(path)
	if err != nil {
		return engine.Footprint{}, fmt.Errorf("%s: %w", path, err)
	}
	return fp, nil
}

func check(path string) (engine.Footprint, error) {
	st, err := os.Stat(path)
	if err != nil {
		return engine.Footprint{}, err
	}
	dir, weights := path, ""
	if st.IsDir() {
		if weights, err = weightsFile(os.DirFS(dir), "."); err != nil {
			return engine.Footprint{}, err
		}
	} else {
		dir, weights = filepath.Dir(path), filepath.Base(path)
	}
	var files engine.Files
	f, err := os.Open(filepath.Join(dir, weights))
	if err != nil {
		return engine.Footprint{}, err
	}
	defer f.Close()
	fst, err := f.Stat()
	if err != nil {
		return engine.Footprint{}, err
	}
	size := fst.Size()
	files.Model = make([]byte, min(size, engine.CheckHeadSize))
	if _, err := io.ReadFull(f, files.Model); err != nil {
		return engine.Footprint{}, err
	}
	if llama.IsGGUF(files.Model) {
		g, err := gguf.Read(f, size, weights)
		if err != nil {
			return engine.Footprint{}, err
		}
		var settings []byte // a GGUF file given alone has none (Open)
		if st.IsDir() {
			if settings, err = readOptional(filepath.Join(dir, SettingsFile)); err != nil {
				return engine.Footprint{}, err
			}
		}
		return llama.GGUFFootprint(g, settings)
	}
	e, err := all.Detect(files.Model)
	if err != nil {
		return engine.Footprint{}, err
	}
	checker, ok := e.(engine.Checker)
	if !ok {
		return engine.Footprint{}, fmt.Errorf("the %s engine cannot check a model before loading it", e.Name())
	}
	if files.Tokenizer, err = readOptional(filepath.Join(dir, TokenizerFile)); err != nil {
		return engine.Footprint{}, err
	}
	if files.Settings, err = readOptional(filepath.Join(dir, SettingsFile)); err != nil {
		return engine.Footprint{}, err
	}
	return checker.Check(files, size)
}

// readOptional reads a file beside the weights, nil when it is absent.
func readOptional(name string) ([]byte, error) {
	b, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}
