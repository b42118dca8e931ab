package hf

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/inferpi/inferpi/convert/safetensors"
)

// The weight files of a Hugging Face directory: one model.safetensors, or the
// shards model.safetensors.index.json names.
const (
	singleFile = "model.safetensors"
	indexFile  = "model.safetensors.index.json"
)

// Tensor is one tensor of the converted model.
type Tensor struct {
	Name   string  // the GGUF name
	Dims   []int64 // ggml's ne: Dims[0] is the row length
	Source string  // "FILE: NAME" in the Hugging Face directory, or what computed it

	file   *safetensors.File
	src    *safetensors.Tensor
	heads  int       // > 0: q or k rows permuted per head (spec.heads)
	values []float32 // a tensor the converter computes (rope_freqs)
}

// Elements is the number of values.
func (t *Tensor) Elements() int64 {
	n := int64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Read reads values start ... start+len(dst)-1 of the tensor, in GGUF order
// (rows permuted where llama.cpp permutes them), as float32.
func (t *Tensor) Read(start int64, dst []float32) error {
	if t.values != nil {
		copy(dst, t.values[start:])
		return nil
	}
	if t.heads == 0 {
		return t.file.ReadFloat32s(t.src, start, dst)
	}
	// Rows of the source: shape[0] of them (a bias has rows of one value).
	rows := t.src.Shape[0]
	cols := t.src.Elements() / rows
	for len(dst) > 0 {
		r, c := start/cols, start%cols
		n := min(cols-c, int64(len(dst)))
		if err := t.file.ReadFloat32s(t.src, permutedRow(r, rows/int64(t.heads))*cols+c, dst[:n]); err != nil {
			return err
		}
		dst, start = dst[n:], start+n
	}
	return nil
}

// permutedRow is the Hugging Face row that row r of a permuted q or k holds,
// for heads of d rows: within a head, row 2i is the source's row i and row 2i+1
// its row d/2+i, so the two halves rotate_half pairs become adjacent pairs
// (convert_hf_to_gguf.py LlamaModel.permute: reshape(n_head, 2, d/2, ...)
// .swapaxes(1, 2)).
func permutedRow(r, d int64) int64 {
	head, j := r/d, r%d
	return head*d + (j%2)*(d/2) + j/2
}

// openWeights opens the safetensors files and matches their tensors with what
// the configuration implies: every tensor must be known and of the right shape
// and type, every required one present. Tensors are listed in llama.cpp's
// converter order: file by file, by name within a file.
func (m *Model) openWeights() error {
	files, placed, err := m.weightFiles()
	if err != nil {
		return err
	}
	specs := m.arch.specs(m.Config)
	found := map[string]bool{}
	for _, name := range files {
		path := filepath.Join(m.Dir, name)
		f, err := os.Open(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && placed != nil {
				return fmt.Errorf("%s: no such file, but %s places tensors in it (%s)", path, indexFile, someTensorIn(placed, name))
			}
			return err
		}
		m.closers = append(m.closers, f)
		st, err := f.Stat()
		if err != nil {
			return err
		}
		sf, err := safetensors.Open(f, st.Size(), path)
		if err != nil {
			return err
		}
		for _, x := range sf.Tensors {
			if found[x.Name] {
				return fmt.Errorf("%s: tensor %s is in more than one file", path, x.Name)
			}
			found[x.Name] = true
			if placed != nil && placed[x.Name] != name {
				if placed[x.Name] == "" {
					return fmt.Errorf("%s: tensor %s is not in %s's weight_map", path, x.Name, indexFile)
				}
				return fmt.Errorf("%s: tensor %s is here, but %s places it in %s", path, x.Name, indexFile, placed[x.Name])
			}
			// Buffers llama.cpp's converter skips too (prepare_tensors).
			if strings.HasSuffix(x.Name, ".rotary_emb.inv_freq") {
				continue
			}
			s, ok := specs[x.Name]
			if !ok {
				return fmt.Errorf("%s: tensor %s is not part of a %s model (%d layers, config.json)", path, x.Name, m.Config.Architecture, m.Config.Layers)
			}
			if !x.DType.Readable() {
				return fmt.Errorf("%s: tensor %s is %s: only BF16, F16 and F32 weights can be converted", path, x.Name, x.DType)
			}
			if fmt.Sprint(x.Shape) != fmt.Sprint(s.shape) {
				return fmt.Errorf("%s: tensor %s has shape %v, config.json implies %v", path, x.Name, x.Shape, s.shape)
			}
			dims := make([]int64, len(s.shape))
			for i, d := range s.shape {
				dims[len(dims)-1-i] = d
			}
			m.Tensors = append(m.Tensors, &Tensor{
				Name: s.gguf, Dims: dims, Source: path + ": " + x.Name,
				file: sf, src: x, heads: s.heads,
			})
		}
	}
	var absent []string
	for name := range placed {
		if !found[name] {
			absent = append(absent, name)
		}
	}
	if len(absent) > 0 {
		sort.Strings(absent)
		return fmt.Errorf("%s: tensor %s, which %s places there, is missing", filepath.Join(m.Dir, placed[absent[0]]), absent[0], indexFile)
	}
	var missing []string
	for _, s := range specs {
		if !s.optional && !found[s.hf] {
			missing = append(missing, s.hf)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		where := filepath.Join(m.Dir, files[0])
		if len(files) > 1 {
			where = filepath.Join(m.Dir, indexFile)
		}
		more := ""
		if len(missing) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(missing)-1)
		}
		why := fmt.Sprintf("which a %d-layer %s has (config.json)", m.Config.Layers, m.Config.Architecture)
		if missing[0] == "lm_head.weight" {
			why = "the output layer: config.json says tie_word_embeddings is false"
		}
		return fmt.Errorf("%s: no tensor %s%s, %s", where, missing[0], more, why)
	}
	return nil
}

// weightFiles returns the safetensors files to read, and with an index the
// file each tensor is in.
func (m *Model) weightFiles() ([]string, map[string]string, error) {
	index := filepath.Join(m.Dir, indexFile)
	data, err := os.ReadFile(index)
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(m.Dir, singleFile)); err != nil {
			return nil, nil, fmt.Errorf("%s: no %s or %s: the weights must be in safetensors files (a pytorch_model.bin checkpoint can be saved as safetensors with transformers' save_pretrained)", m.Dir, singleFile, indexFile)
		}
		return []string{singleFile}, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, nil, fmt.Errorf("%s: %v", index, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, nil, fmt.Errorf("%s: no weight_map", index)
	}
	seen := map[string]bool{}
	var files []string
	for tensor, file := range idx.WeightMap {
		if file == "" || file != filepath.Base(file) || !strings.HasSuffix(file, ".safetensors") {
			return nil, nil, fmt.Errorf("%s: tensor %s is placed in %q, want a .safetensors file of the directory", index, tensor, file)
		}
		if !seen[file] {
			seen[file] = true
			files = append(files, file)
		}
	}
	sort.Strings(files)
	return files, idx.WeightMap, nil
}

// someTensorIn names a tensor the index places in file.
func someTensorIn(placed map[string]string, file string) string {
	var names []string
	for t, f := range placed {
		if f == file {
			names = append(names, t)
		}
	}
	sort.Strings(names)
	if len(names) == 1 {
		return names[0]
	}
	return fmt.Sprintf("%s and %d more", names[0], len(names)-1)
}
