package hf

import (
	"os"
	"path/filepath"
	"testing"
)

func addFixtureFiles(f *testing.F, name string) {
	for _, fixture := range fixtures {
		if b, err := os.ReadFile(filepath.Join(hfDir, fixture, name)); err == nil {
			f.Add(b)
		}
	}
}

// FuzzParseConfig: a config.json that parses describes a model whose tensor
// shapes can be computed.
func FuzzParseConfig(f *testing.F) {
	addFixtureFiles(f, "config.json")
	f.Add([]byte(`{"architectures":["LlamaForCausalLM"],"hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":3,"vocab_size":4}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseConfig(data, "config.json")
		if err != nil {
			return
		}
		if c.HeadDim <= 0 || c.KVHeads <= 0 || c.Heads%c.KVHeads != 0 || c.Layers > maxLayers {
			t.Fatalf("accepted %+v", c)
		}
		if c.Layers*c.HiddenSize <= 1<<20 {
			architectures[c.Architecture].specs(c)
		}
	})
}

// FuzzParseTokenizerJSON: a tokenizer.json that parses has ids in range, and
// a vocabulary can be built from it (or refused) without a panic.
func FuzzParseTokenizerJSON(f *testing.F) {
	addFixtureFiles(f, "tokenizer.json")
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]],"byte_fallback":true},"decoder":{"type":"Sequence"},"added_tokens":[{"id":3,"content":"<s>","special":true}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tj, err := parseTokenizerJSON(data, "tokenizer.json")
		if err != nil {
			return
		}
		tf := &tokenizerFiles{json: tj, path: "tokenizer.json"}
		for _, build := range []func(*tokenizerFiles, int) (*Vocab, error){llamaHFVocab, bpeVocab} {
			v, err := build(tf, 1024)
			if err == nil && (len(v.Tokens) != 1024 || len(v.Types) != 1024) {
				t.Fatalf("%d tokens, %d types for a vocabulary of 1024", len(v.Tokens), len(v.Types))
			}
		}
	})
}

// FuzzParseTokenizerConfig: special tokens and templates are read from any
// tokenizer_config.json that parses without a panic.
func FuzzParseTokenizerConfig(f *testing.F) {
	addFixtureFiles(f, "tokenizer_config.json")
	f.Add([]byte(`{"chat_template":[{"name":"default","template":"x"},{"name":"t ool","template":"y"}],"bos_token":{"content":"<s>"}}`))
	tj, err := parseTokenizerJSON([]byte(`{"model":{"type":"BPE","vocab":{"<s>":0,"b":1}},"added_tokens":[{"id":0,"content":"<s>","special":true}]}`), "tokenizer.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tc, err := parseTokenizerConfig(data, "tokenizer_config.json")
		if err != nil {
			return
		}
		loadSpecials(tj, tc, nil, 2)
		chatTemplate(tc, nil)
		v := &Vocab{Model: "llama"}
		v.pad(4, 0)
		v.applyAddedTokensDecoder(tc)
	})
}
