package nanochat

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/inferpi/inferpi/convert/pickle"
	"github.com/inferpi/inferpi/convert/torchzip"
	"github.com/inferpi/inferpi/engine/gpt"
	"github.com/inferpi/inferpi/engine/kernels"
)

// Result describes a finished conversion.
type Result struct {
	Files  Files
	Header *gpt.Header
	// Patched lists the defaults filled in for an older checkpoint, as nanochat's
	// checkpoint_manager does ("window_pattern=L", "resid_lambdas=1", "x0_lambdas=0").
	Patched    []string
	ModelBytes int64
}

// orig is the prefix torch.compile puts on every key; nanochat's build_model strips it.
const orig = "_orig_mod."

// ExportDir converts the checkpoint opts selects into outDir/model.bin and
// outDir/tokenizer.bin. Each file is written beside its final name and renamed
// into place only when complete.
func ExportDir(opts Options, outDir string) (*Result, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	files, err := Locate(opts)
	if err != nil {
		return nil, err
	}
	modelPath := filepath.Join(outDir, "model.bin")
	tokPath := filepath.Join(outDir, "tokenizer.bin")
	mf, err := os.Create(modelPath + ".tmp")
	if err != nil {
		return nil, err
	}
	defer os.Remove(mf.Name())
	defer mf.Close()
	tf, err := os.Create(tokPath + ".tmp")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tf.Name())
	defer tf.Close()
	res, err := Export(files, opts.DType, mf, tf)
	if err != nil {
		return nil, err
	}
	for _, f := range []*os.File{mf, tf} {
		if err := f.Close(); err != nil {
			return nil, err
		}
	}
	if err := os.Rename(mf.Name(), modelPath); err != nil {
		return nil, err
	}
	if err := os.Rename(tf.Name(), tokPath); err != nil {
		return nil, err
	}
	return res, nil
}

// Export converts the given input files, writing model.bin to model and
// tokenizer.bin to tok. dtype is "fp16" (the default when empty), "fp32", or
// any other encoding the GPT format holds: "bf16", or a GGUF block encoding,
// "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k", "q5_k", "q6_k" (matrices and
// embeddings in blocks; rows that are not a whole number of blocks by the
// narrow-width rule, see engine/gpt). Tensors are read and written one at a time.
func Export(files Files, dtype string, model, tok io.Writer) (*Result, error) {
	enc, err := parseDType(dtype)
	if err != nil {
		return nil, err
	}
	res := &Result{Files: files}

	metaData, err := os.ReadFile(files.Meta)
	if err != nil {
		return nil, err
	}
	cfg, patched, err := parseMeta(metaData)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", files.Meta, err)
	}
	res.Patched = patched
	h, err := cfg.header(enc)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", files.Meta, err)
	}
	res.Header = h

	tokData, err := os.ReadFile(files.Tokenizer)
	if err != nil {
		return nil, err
	}
	tokenizer, err := parseTokenizer(tokData)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", files.Tokenizer, err)
	}
	if tokenizer.VocabSize() != cfg.VocabSize {
		return nil, fmt.Errorf("%s has %d tokens but %s says vocab_size %d: they do not belong together",
			files.Tokenizer, tokenizer.VocabSize(), files.Meta, cfg.VocabSize)
	}

	f, err := os.Open(files.Model)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	ckpt, err := torchzip.Open(f, st.Size(), files.Model)
	if err != nil {
		return nil, err
	}
	tensors, patched, err := stateDict(ckpt, h, files.Model)
	if err != nil {
		return nil, err
	}
	res.Patched = append(res.Patched, patched...)

	n, err := writeModel(model, h, tensors, files.Model)
	if err != nil {
		return nil, err
	}
	res.ModelBytes = n
	tb, err := tokenizer.MarshalBinary()
	if err != nil {
		return nil, err
	}
	if _, err := tok.Write(tb); err != nil {
		return nil, err
	}
	return res, nil
}

// source yields one tensor's values as float32, in checkpoint shape.
type source struct {
	shape []int
	read  func() ([]float32, error)
}

// stateDict matches the checkpoint's keys (without "_orig_mod.") against the
// tensors nanochat's GPT has, like load_state_dict(strict=True), after filling
// checkpoint_manager's defaults for resid_lambdas and x0_lambdas.
func stateDict(ckpt *torchzip.Checkpoint, h *gpt.Header, file string) (map[string]source, []string, error) {
	got := map[string]source{}
	for _, t := range ckpt.Tensors {
		name := strings.TrimPrefix(t.Name, orig)
		if _, dup := got[name]; dup {
			return nil, nil, fmt.Errorf("%s: key %s appears with and without the %q prefix", file, pickle.Quote(name), orig)
		}
		if !t.DType.IsFloat() {
			return nil, nil, fmt.Errorf("%s: %s is %s, want a floating-point tensor", file, pickle.Quote(t.Name), t.DType)
		}
		got[name] = source{shape: t.Shape, read: t.Float32s}
	}
	var patched []string
	for _, d := range []struct {
		name  string
		value float32
	}{{"resid_lambdas", 1}, {"x0_lambdas", 0}} {
		if _, ok := got[d.name]; !ok {
			v := make([]float32, h.NLayer)
			for i := range v {
				v[i] = d.value
			}
			got[d.name] = source{shape: []int{h.NLayer}, read: func() ([]float32, error) { return v, nil }}
			patched = append(patched, fmt.Sprintf("%s=%g", d.name, d.value))
		}
	}

	// The checkpoint's shapes: the model.bin layout minus the dropped padding rows.
	want := map[string][]int{}
	specs, _, err := h.Layout()
	if err != nil {
		return nil, nil, err
	}
	for _, s := range specs {
		shape := []int{s.Rows, s.Cols}
		switch {
		case s.Rows == 1 && strings.HasSuffix(s.Name, "_lambdas"), s.Name == "smear_lambda", s.Name == "backout_lambda":
			shape = []int{s.Cols}
		case s.Rows == h.VocabSize && (s.Name == "transformer.wte.weight" || s.Name == "lm_head.weight" || strings.HasPrefix(s.Name, "value_embeds.")):
			shape = []int{h.PaddedVocab, s.Cols}
		}
		want[s.Name] = shape
	}
	var problems []string
	for name, shape := range want {
		src, ok := got[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("missing %s", name))
		} else if fmt.Sprint(src.shape) != fmt.Sprint(shape) {
			problems = append(problems, fmt.Sprintf("%s has shape %v, the model_config implies %v", name, src.shape, shape))
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			problems = append(problems, fmt.Sprintf("unexpected key %s", pickle.Quote(name)))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		if len(problems) > 8 {
			problems = append(problems[:8], fmt.Sprintf("and %d more", len(problems)-8))
		}
		return nil, nil, fmt.Errorf("%s does not match its meta file's model_config: %s", file, strings.Join(problems, "; "))
	}
	return got, patched, nil
}

// writeModel writes the header and every tensor of h's layout, returning the size.
// A value the encoding cannot hold (beyond fp16's range, not finite) is refused
// with the tensor, row and column.
func writeModel(w io.Writer, h *gpt.Header, tensors map[string]source, file string) (int64, error) {
	var readErr error
	n, err := gpt.WriteModel(w, h, func(s gpt.TensorSpec) ([]float32, error) {
		v, err := tensors[s.Name].read()
		if err == nil && len(v) < s.Rows*s.Cols {
			err = fmt.Errorf("%s: %s holds %d values, want %d", file, s.Name, len(v), s.Rows*s.Cols)
		}
		if err != nil {
			readErr = err
			return nil, err
		}
		return v[:s.Rows*s.Cols], nil // drops the padding rows of the vocabulary tables
	})
	if err != nil && err != readErr {
		return 0, fmt.Errorf("%s: %v (--dtype fp32 stores every value as it is)", file, err)
	}
	return n, err
}

// parseDType reads --dtype: the names kernels.ParseEncoding gives the encodings
// the GPT format holds, plus torch's "float16" and "float32" spellings; empty
// means fp16.
func parseDType(dtype string) (gpt.Encoding, error) {
	switch strings.ToLower(dtype) {
	case "":
		return gpt.EncF16, nil
	case "float16":
		dtype = "fp16"
	case "float32":
		dtype = "fp32"
	}
	if k, err := kernels.ParseEncoding(dtype); err == nil {
		if e, err := gpt.EncodingOf(k); err == nil {
			return e, nil
		}
	}
	return 0, fmt.Errorf("--dtype %q: want fp16, fp32, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k or q6_k", dtype)
}
