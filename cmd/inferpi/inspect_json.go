package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/modeldir"
)

// inspectResult is inspect --json's object: engine.Info's fields under stable
// snake_case keys, and the model's files.
type inspectResult struct {
	Model               string     `json:"model"`
	Engine              string     `json:"engine"`
	Config              string     `json:"config"`
	Params              int64      `json:"params"`
	Encoding            string     `json:"encoding"`
	ContextSize         int        `json:"context_size"`
	VocabSize           int        `json:"vocab_size"`
	Template            string     `json:"template"`
	WeightBytesPerToken int64      `json:"weight_bytes_per_token"`
	Notice              string     `json:"notice"`
	Details             []detail   `json:"details"`
	Files               []fileSize `json:"files"`
}

type detail struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// fileSize is one file of a model; Bytes is -1 for an absent one.
type fileSize struct {
	Name  string `json:"name"`
	Bytes int64  `json:"bytes"`
}

func inspectJSON(w io.Writer, path string, i engine.Info) error {
	r := inspectResult{
		Model: path, Engine: i.Engine, Config: i.Config, Params: i.Params, Encoding: i.Encoding,
		ContextSize: i.ContextSize, VocabSize: i.VocabSize, Template: i.Template,
		WeightBytesPerToken: i.WeightBytesPerToken, Notice: i.Notice,
		Details: []detail{}, Files: []fileSize{},
	}
	for _, kv := range i.Details {
		r.Details = append(r.Details, detail{kv.Key, kv.Value})
	}
	for _, f := range modelFiles(path) {
		if f.Bytes >= 0 {
			r.Files = append(r.Files, f)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// modelFiles are the files a model at path is made of: the file itself, or a
// directory's model.bin, tokenizer.bin, inferpi.json (absent ones too) and
// .gguf files.
func modelFiles(path string) []fileSize {
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		return []fileSize{{filepath.Base(path), st.Size()}}
	}
	names := []string{modeldir.ModelFile, modeldir.TokenizerFile, modeldir.SettingsFile}
	if all, _ := filepath.Glob(filepath.Join(path, "*")); all != nil {
		for _, p := range all {
			if modeldir.IsGGUF(p) {
				names = append(names, filepath.Base(p))
			}
		}
	}
	var files []fileSize
	for _, name := range names {
		f := fileSize{name, -1}
		if st, err := os.Stat(filepath.Join(path, name)); err == nil {
			f.Bytes = st.Size()
		}
		files = append(files, f)
	}
	return files
}
