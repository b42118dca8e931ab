package nanochat

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzParseTokenizer(f *testing.F) {
	for _, dir := range []string{tinyDir, demoDir} {
		b, err := os.ReadFile(filepath.Join(dir, "tokenizer/tokenizer.pkl"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := parseTokenizer(data)
		if err == nil && tok.VocabSize() < 256 {
			t.Fatalf("a tokenizer of %d tokens cannot cover the bytes", tok.VocabSize())
		}
	})
}

func FuzzParseMeta(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(tinyDir, tinyMeta))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"model_config": {"n_layer": 2}}`))
	f.Add([]byte(`{"model_config": {"n_layer": 2000000000}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _, err := parseMeta(data)
		if err != nil {
			return
		}
		if h, err := c.header(0); err == nil {
			if _, _, err := h.Layout(); err != nil {
				t.Fatalf("valid header without a layout: %v", err)
			}
		}
	})
}
