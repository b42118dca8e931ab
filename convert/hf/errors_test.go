package hf

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rewriteHeader rewrites the JSON header of a safetensors file, keeping its data.
func rewriteHeader(t *testing.T, path string, edit func(map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	var h map[string]any
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	edit(h)
	nh, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(nh)))
	out = append(append(out, nh...), b[8+n:]...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// editJSON rewrites a JSON file of the directory.
func editJSON(t *testing.T, path string, edit func(map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	edit(v)
	if b, err = json.Marshal(v); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// badDirs are broken copies of the fixtures, each with the words its error
// must hold: the file at fault and, where there is one, the tensor.
var badDirs = []struct {
	name, fixture string
	spoil         func(t *testing.T, dir string)
	want          []string
}{
	{"missing config", "qwen2-bpe-fp16", func(t *testing.T, dir string) {
		os.Remove(filepath.Join(dir, "config.json"))
	}, []string{"config.json: no such file"}},
	{"unsupported architecture", "qwen2-bpe-fp16", func(t *testing.T, dir string) {
		editJSON(t, filepath.Join(dir, "config.json"), func(c map[string]any) { c["architectures"] = []string{"GPT2LMHeadModel"} })
	}, []string{"config.json: architecture GPT2LMHeadModel is not supported", "LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM"}},
	{"a shard missing", "llama-tied-sharded-f32", func(t *testing.T, dir string) {
		os.Remove(filepath.Join(dir, "model-00002-of-00002.safetensors"))
	}, []string{"model-00002-of-00002.safetensors: no such file", "model.safetensors.index.json places tensors in it", "model.layers.1.input_layernorm.weight"}},
	{"no weights", "qwen2-bpe-fp16", func(t *testing.T, dir string) {
		os.Remove(filepath.Join(dir, "model.safetensors"))
	}, []string{"no model.safetensors or model.safetensors.index.json"}},
	{"shape against config", "qwen2-bpe-fp16", func(t *testing.T, dir string) {
		editJSON(t, filepath.Join(dir, "config.json"), func(c map[string]any) { c["intermediate_size"] = 128 })
	}, []string{"model.safetensors: tensor model.layers.0.mlp.down_proj.weight has shape [96 256], config.json implies [96 128]"}},
	{"truncated header", "qwen3-bf16", func(t *testing.T, dir string) {
		path := filepath.Join(dir, "model.safetensors")
		b, _ := os.ReadFile(path)
		os.WriteFile(path, b[:100], 0o644)
	}, []string{"model.safetensors: header length", "runs past the end of the file"}},
	{"header length past the file", "qwen3-bf16", func(t *testing.T, dir string) {
		path := filepath.Join(dir, "model.safetensors")
		b, _ := os.ReadFile(path)
		binary.LittleEndian.PutUint64(b, uint64(len(b)))
		os.WriteFile(path, b, 0o644)
	}, []string{"model.safetensors: header length", "runs past the end of the file"}},
	{"truncated data", "qwen3-bf16", func(t *testing.T, dir string) {
		path := filepath.Join(dir, "model.safetensors")
		b, _ := os.ReadFile(path)
		os.WriteFile(path, b[:len(b)-10], 0o644)
	}, []string{"model.safetensors: tensor model.norm.weight: data_offsets", "outside the data section"}},
	{"unknown dtype", "qwen3-bf16", func(t *testing.T, dir string) {
		rewriteHeader(t, filepath.Join(dir, "model.safetensors"), func(h map[string]any) {
			h["model.norm.weight"].(map[string]any)["dtype"] = "BF17"
		})
	}, []string{"model.safetensors: tensor model.norm.weight: unknown dtype \"BF17\""}},
	{"F64", "qwen3-bf16", func(t *testing.T, dir string) {
		rewriteHeader(t, filepath.Join(dir, "model.safetensors"), func(h map[string]any) {
			e := h["model.norm.weight"].(map[string]any)
			e["dtype"], e["shape"] = "F64", []int{24}
		})
	}, []string{"model.safetensors: tensor model.norm.weight is F64: only BF16, F16 and F32"}},
	{"integer tensor", "qwen3-bf16", func(t *testing.T, dir string) {
		rewriteHeader(t, filepath.Join(dir, "model.safetensors"), func(h map[string]any) {
			e := h["model.norm.weight"].(map[string]any)
			e["dtype"] = "I16"
		})
	}, []string{"model.safetensors: tensor model.norm.weight is I16"}},
	{"unknown tensor", "qwen3-bf16", func(t *testing.T, dir string) {
		rewriteHeader(t, filepath.Join(dir, "model.safetensors"), func(h map[string]any) {
			h["model.layers.3.mlp.up_proj.weight"] = h["model.norm.weight"]
			delete(h, "model.norm.weight")
		})
	}, []string{"model.safetensors: tensor model.layers.3.mlp.up_proj.weight is not part of a Qwen3ForCausalLM model"}},
	{"missing tensor", "qwen3-bf16", func(t *testing.T, dir string) {
		rewriteHeader(t, filepath.Join(dir, "model.safetensors"), func(h map[string]any) { delete(h, "model.layers.2.mlp.up_proj.weight") })
	}, []string{"model.safetensors: no tensor model.layers.2.mlp.up_proj.weight, which a 3-layer Qwen3ForCausalLM has"}},
	{"untied without lm_head", "qwen2-bpe-fp16", func(t *testing.T, dir string) {
		rewriteHeader(t, filepath.Join(dir, "model.safetensors"), func(h map[string]any) { delete(h, "lm_head.weight") })
	}, []string{"no tensor lm_head.weight"}},
	{"tensor in the wrong shard", "llama-tied-sharded-f32", func(t *testing.T, dir string) {
		editJSON(t, filepath.Join(dir, "model.safetensors.index.json"), func(x map[string]any) {
			x["weight_map"].(map[string]any)["model.norm.weight"] = "model-00001-of-00002.safetensors"
		})
	}, []string{"model-00002-of-00002.safetensors: tensor model.norm.weight is here, but model.safetensors.index.json places it in model-00001-of-00002.safetensors"}},
	{"a shard short of a tensor", "llama-tied-sharded-f32", func(t *testing.T, dir string) {
		rewriteHeader(t, filepath.Join(dir, "model-00002-of-00002.safetensors"), func(h map[string]any) { delete(h, "model.norm.weight") })
	}, []string{"model-00002-of-00002.safetensors: tensor model.norm.weight, which model.safetensors.index.json places there, is missing"}},
	{"no tokenizer", "qwen2-bpe-fp16", func(t *testing.T, dir string) {
		os.Remove(filepath.Join(dir, "tokenizer.json"))
	}, []string{"no tokenizer.json or tokenizer.model"}},
	{"unknown pre-tokenizer", "qwen2-bpe-fp16", func(t *testing.T, dir string) {
		editJSON(t, filepath.Join(dir, "tokenizer.json"), func(x map[string]any) {
			x["pre_tokenizer"].(map[string]any)["pretokenizers"].([]any)[0].(map[string]any)["pattern"] = map[string]any{"Regex": `\w+`}
		})
	}, []string{"tokenizer.json: pre_tokenizer: the splitting expression", `\\w+`}},
	{"tokenizer larger than the model", "qwen2-bpe-fp16", func(t *testing.T, dir string) {
		editJSON(t, filepath.Join(dir, "config.json"), func(c map[string]any) { c["vocab_size"] = 958 })
	}, []string{"tokenizer.json: added token \"<|im_end|>\" has id 958, beyond config.json's vocab_size 958"}},
	{"broken tokenizer.model", "llama-tied-sharded-f32", func(t *testing.T, dir string) {
		os.WriteFile(filepath.Join(dir, "tokenizer.model"), []byte("not a model"), 0o644)
	}, []string{"tokenizer.model: not a SentencePiece model"}},
}

func TestBadDirectories(t *testing.T) {
	for _, c := range badDirs {
		dir := copyFixture(t, c.fixture)
		c.spoil(t, dir)
		m, err := Open(dir)
		if err == nil {
			m.Close()
			t.Errorf("%s: opened", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\nwant %q in it", c.name, err, w)
			}
		}
	}
}
