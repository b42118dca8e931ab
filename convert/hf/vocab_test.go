package hf

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Without tokenizer.model, llama-spm-bf16's tokenizer.json gives llama.cpp's
// token list and types, and scores that order the merged tokens as
// SentencePiece's scores do (llama.cpp would write -1000 for all of them).
func TestLlamaVocabFromTokenizerJSON(t *testing.T) {
	spm := openFixture(t, copyFixture(t, "llama-spm-bf16")).Vocab
	dir := copyFixture(t, "llama-spm-bf16")
	os.Remove(filepath.Join(dir, "tokenizer.model"))
	m := openFixture(t, dir)
	v := m.Vocab
	if !strings.HasSuffix(v.From, "tokenizer.json") || v.Model != "llama" || v.Pre != "default" {
		t.Fatalf("vocabulary from %s: %s/%s", v.From, v.Model, v.Pre)
	}
	var kvs []KV
	for _, kv := range m.Metadata(0) {
		if kv.Key != "tokenizer.ggml.scores" {
			kvs = append(kvs, kv)
		}
	}
	s := readSummary(t, "llama-spm-bf16")
	for _, kv := range kvs {
		if raw, ok := s.kv[kv.Key]; ok && kv.Key != "general.name" {
			if err := sameValue(kv.Value, raw); err != nil {
				t.Errorf("%s: %v", kv.Key, err)
			}
		}
	}
	// Tokens no merge makes (single characters) share the lowest score.
	lowest := float32(0)
	for id, typ := range v.Types {
		if typ == typeNormal {
			lowest = min(lowest, v.Scores[id])
		}
	}
	var ids []int
	for id, typ := range v.Types {
		if typ == typeNormal && v.Scores[id] > lowest {
			ids = append(ids, id)
		}
	}
	if len(ids) < 29000 {
		t.Fatalf("only %d tokens made by merges", len(ids))
	}
	sort.Slice(ids, func(i, j int) bool { return spm.Scores[ids[i]] > spm.Scores[ids[j]] })
	for i := 1; i < len(ids); i++ {
		a, b := ids[i-1], ids[i]
		if v.Scores[a] < v.Scores[b] && spm.Scores[a] > spm.Scores[b] {
			t.Fatalf("%q scores %v < %q's %v, SentencePiece's %v > %v", v.Tokens[a], v.Scores[a], v.Tokens[b], v.Scores[b], spm.Scores[a], spm.Scores[b])
		}
	}
}

// preTokenizer tells the published byte-level pre-tokenizers apart by their
// rules, and refuses others.
func TestPreTokenizer(t *testing.T) {
	split := func(re string) string {
		b, _ := json.Marshal(re)
		return `{"type":"Split","pattern":{"Regex":` + string(b) + `},"behavior":"Isolated","invert":false}`
	}
	bytes := `{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":false,"use_regex":false}`
	gpt2 := `{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}`
	for _, c := range []struct{ json, want string }{
		{`{"type":"Sequence","pretokenizers":[` + split(qwen2Regex) + `,` + bytes + `]}`, "qwen2"},
		{`{"type":"Sequence","pretokenizers":[` + split(llama3Regex) + `,` + bytes + `]}`, "llama-bpe"},
		{`{"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":true},` + gpt2 + `]}`, "smollm"},
		{gpt2, "gpt-2"},
		{`{"type":"ByteLevel"}`, "gpt-2"},
		{bytes, "error: is not one InferPi knows"},
		{`{"type":"Sequence","pretokenizers":[` + split(`\w+`) + `,` + bytes + `]}`, `error: the splitting expression "\\w+"`},
		{`{"type":"Metaspace","replacement":"▁"}`, `error: a "Metaspace" step`},
		{`{"type":"ByteLevel","add_prefix_space":true}`, "error: add_prefix_space"},
		{`{"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":false},` + gpt2 + `]}`, "error: Digits without individual_digits"},
	} {
		var p map[string]any
		if err := json.Unmarshal([]byte(c.json), &p); err != nil {
			t.Fatal(err)
		}
		got, err := preTokenizer(p)
		if err != nil {
			got = "error: " + err.Error()
		}
		if !strings.HasPrefix(c.want, "error: ") && got != c.want || strings.HasPrefix(c.want, "error: ") && !strings.Contains(got, strings.TrimPrefix(c.want, "error: ")) {
			t.Errorf("%s: %s, want %s", c.json, got, c.want)
		}
	}
}

// Special tokens and templates as gguf-py's SpecialVocab takes them, and what
// the converter adds: a list of templates, chat_template.jinja, the EOS of
// generation_config.json when nothing else names one.
func TestSpecialsAndTemplates(t *testing.T) {
	dir := copyFixture(t, "qwen3-bf16")
	editJSON(t, filepath.Join(dir, "tokenizer_config.json"), func(c map[string]any) {
		c["chat_template"] = []map[string]string{{"name": "default", "template": "D"}, {"name": "tool use", "template": "T"}}
		delete(c, "eos_token")
	})
	editJSON(t, filepath.Join(dir, "config.json"), func(c map[string]any) { c["eos_token_id"] = []int{958, 956} })
	m := openFixture(t, dir)
	got := map[string]any{}
	var order []string
	for _, kv := range m.Metadata(0) {
		if strings.HasPrefix(kv.Key, "tokenizer.") && !strings.HasPrefix(kv.Key, "tokenizer.ggml.t") && kv.Key != "tokenizer.ggml.merges" {
			got[kv.Key] = kv.Value
			order = append(order, kv.Key)
		}
	}
	want := "tokenizer.ggml.model tokenizer.ggml.pre tokenizer.ggml.padding_token_id tokenizer.ggml.bos_token_id tokenizer.ggml.eos_token_id " +
		"tokenizer.chat_template.tool_use tokenizer.chat_templates tokenizer.chat_template"
	if strings.Join(order, " ") != want {
		t.Errorf("keys %v\nwant %s", order, want)
	}
	if got["tokenizer.ggml.eos_token_id"] != uint32(958) || got["tokenizer.chat_template"] != "D" || got["tokenizer.chat_template.tool_use"] != "T" {
		t.Errorf("values %v", got)
	}

	dir = copyFixture(t, "qwen2-bpe-fp16")
	editJSON(t, filepath.Join(dir, "tokenizer_config.json"), func(c map[string]any) { delete(c, "chat_template") })
	os.WriteFile(filepath.Join(dir, "chat_template.jinja"), []byte("{{ J }}"), 0o644)
	for _, kv := range openFixture(t, dir).Metadata(0) {
		if kv.Key == "tokenizer.chat_template" && kv.Value != "{{ J }}" {
			t.Errorf("template %q, want chat_template.jinja's", kv.Value)
		}
	}
}
