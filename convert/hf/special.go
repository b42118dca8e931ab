package hf

import (
	"encoding/json"
	"fmt"
	"strings"
)

// tokenizerConfig is tokenizer_config.json: special tokens, whether BOS and
// EOS are added, the chat template, the added tokens' types.
type tokenizerConfig struct {
	raw                map[string]json.RawMessage
	AddedTokensDecoder map[string]addedToken
}

func parseTokenizerConfig(data []byte, name string) (*tokenizerConfig, error) {
	c := &tokenizerConfig{}
	if err := json.Unmarshal(data, &c.raw); err != nil {
		return nil, fmt.Errorf("%s: not a JSON object: %v", name, err)
	}
	if raw, ok := c.raw["added_tokens_decoder"]; ok {
		if err := json.Unmarshal(raw, &c.AddedTokensDecoder); err != nil {
			return nil, fmt.Errorf("%s: added_tokens_decoder: %v", name, err)
		}
	}
	return c, nil
}

// flag returns a boolean setting such as add_bos_token, when it is a bool.
func (c *tokenizerConfig) flag(key string) (bool, bool) {
	var v bool
	if c == nil || json.Unmarshal(c.raw[key], &v) != nil {
		return false, false
	}
	return v, true
}

// token returns the text of a special token setting such as bos_token, given
// as a string or as an object with "content".
func (c *tokenizerConfig) token(key string) (string, bool) {
	if c == nil {
		return "", false
	}
	raw := c.raw[key]
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var o struct{ Content *string }
	if json.Unmarshal(raw, &o) == nil && o.Content != nil {
		return *o.Content, true
	}
	return "", false
}

// namedTemplate is one entry of a chat_template given as a list.
type namedTemplate struct {
	Name     string `json:"name"`
	Template string `json:"template"`
}

// specialTypes are the special tokens llama.cpp's converter looks for, in its
// order (gguf-py vocab.py SpecialVocab), with the GGUF key of each it writes
// (none for cls: gguf-py has no writer for it).
var specialTypes = []struct{ typ, key string }{
	{"bos", "tokenizer.ggml.bos_token_id"},
	{"eos", "tokenizer.ggml.eos_token_id"},
	{"unk", "tokenizer.ggml.unknown_token_id"},
	{"sep", "tokenizer.ggml.seperator_token_id"}, // sic, llama.cpp's spelling
	{"pad", "tokenizer.ggml.padding_token_id"},
	{"cls", ""},
	{"mask", "tokenizer.ggml.mask_token_id"},
}

// specials are the special-token settings of the vocabulary, in the order
// llama.cpp's converter writes them.
type specials struct {
	ids   []KV // tokenizer.ggml.*_token_id, uint32
	adds  []KV // tokenizer.ggml.add_bos_token, add_eos_token
	chat  []KV // tokenizer.chat_template(s)
	warns []string
}

// specialKey is the GGUF key of a special token type, "" for none.
func specialKey(typ string) string {
	for _, t := range specialTypes {
		if t.typ == typ {
			return t.key
		}
	}
	return ""
}

// id returns a special token id that was set.
func (s *specials) id(typ string) (int, bool) {
	for _, kv := range s.ids {
		if kv.Key == specialKey(typ) {
			return int(kv.Value.(uint32)), true
		}
	}
	return 0, false
}

// loadSpecials follows gguf-py's SpecialVocab: a special token named in
// tokenizer_config.json is looked up among tokenizer.json's added tokens; ids
// still unset come from config.json's *_token_id (integers only); the keys
// are written in the order the ids were set. add_bos_token and add_eos_token
// are copied when they are booleans. nVocab > 0 limits the ids (SentencePiece
// vocabularies). tj and tc may be nil.
func loadSpecials(tj *tokenizerJSON, tc *tokenizerConfig, config map[string]json.RawMessage, nVocab int) *specials {
	s := &specials{}
	set := map[string]int{}
	var order []string
	setID := func(typ string, id int) {
		if _, done := set[typ]; done {
			return
		}
		if nVocab > 0 && id >= nVocab {
			s.warns = append(s.warns, fmt.Sprintf("special token %s id %d is outside the vocabulary of %d: left out", typ, id, nVocab))
			return
		}
		set[typ] = id
		order = append(order, typ)
	}
	for _, t := range specialTypes {
		content, ok := tc.token(t.typ + "_token")
		if !ok || tj == nil {
			continue
		}
		for _, a := range tj.AddedTokens {
			if a.Content == content {
				setID(t.typ, a.ID)
				break
			}
		}
	}
	for _, t := range specialTypes {
		if id, ok := tokenID(config, t.typ+"_token_id"); ok {
			setID(t.typ, id)
		}
	}
	for _, typ := range order {
		if key := specialKey(typ); key != "" {
			s.ids = append(s.ids, KV{key, uint32(set[typ])})
		}
	}
	for _, typ := range []string{"bos", "eos"} { // gguf-py writes no other add_*_token
		if v, ok := tc.flag("add_" + typ + "_token"); ok {
			s.adds = append(s.adds, KV{"tokenizer.ggml.add_" + typ + "_token", v})
		}
	}
	return s
}

// chatTemplate turns tokenizer_config.json's chat_template (a string, or a
// list of named templates) into GGUF keys as gguf-py's add_chat_template does:
// tokenizer.chat_template for the default, tokenizer.chat_template.NAME and the
// list tokenizer.chat_templates for the others. A template kept in
// chat_template.jinja (newer transformers) is used when tokenizer_config.json
// has none.
func chatTemplate(tc *tokenizerConfig, jinja []byte) ([]KV, error) {
	raw := json.RawMessage(nil)
	if tc != nil {
		raw = tc.raw["chat_template"]
	}
	if len(raw) == 0 || string(raw) == "null" {
		if len(jinja) > 0 {
			return []KV{{"tokenizer.chat_template", string(jinja)}}, nil
		}
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil, nil
		}
		return []KV{{"tokenizer.chat_template", s}}, nil
	}
	var list []namedTemplate
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("chat_template is neither a string nor a list of {name, template}")
	}
	var kvs []KV
	var names []string
	def := ""
	for _, t := range list {
		name := strings.Map(func(r rune) rune {
			if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return r
			}
			return '_'
		}, t.Name)
		switch {
		case name == "" || t.Template == "":
		case name == "default":
			def = t.Template
		default:
			names = append(names, name)
			kvs = append(kvs, KV{"tokenizer.chat_template." + name, t.Template})
		}
	}
	if len(names) > 0 {
		kvs = append(kvs, KV{"tokenizer.chat_templates", names})
	}
	if def != "" {
		kvs = append(kvs, KV{"tokenizer.chat_template", def})
	}
	return kvs, nil
}

// looksSpecial is convert_hf_to_gguf.py's does_token_look_special: added
// tokens some models do not mark special but that are control tokens.
func looksSpecial(t string) bool {
	switch t {
	case "<pad>", "<mask>", "<2mass>", "[@BOS@]":
		return true
	}
	return strings.HasPrefix(t, "<|") && strings.HasSuffix(t, "|>") ||
		strings.HasPrefix(t, "<｜") && strings.HasSuffix(t, "｜>") ||
		strings.HasPrefix(t, "<unused") && strings.HasSuffix(t, ">")
}

// hasAdd reports whether tokenizer_config.json said whether to add a token.
func (s *specials) hasAdd(typ string) bool {
	for _, kv := range s.adds {
		if kv.Key == "tokenizer.ggml.add_"+typ+"_token" {
			return true
		}
	}
	return false
}

// eosFromGeneration takes the end-of-sequence id from generation_config.json
// (an integer, or the first of a list) when neither tokenizer_config.json nor
// config.json named one.
func (s *specials) eosFromGeneration(gen map[string]any, nVocab int) {
	var id float64
	switch x := gen["eos_token_id"].(type) {
	case float64:
		id = x
	case []any:
		if len(x) == 0 {
			return
		}
		f, ok := x[0].(float64)
		if !ok {
			return
		}
		id = f
	default:
		return
	}
	if id >= 0 && id < float64(nVocab) && id == float64(int(id)) {
		s.ids = append(s.ids, KV{"tokenizer.ggml.eos_token_id", uint32(id)})
	}
}
