package hf

import (
	"encoding/json"
	"fmt"
	"strings"
)

// tokenizerJSON is what the converter reads of a Hugging Face tokenizer.json.
type tokenizerJSON struct {
	AddedTokens  []addedToken   `json:"added_tokens"`
	PreTokenizer map[string]any `json:"pre_tokenizer"`
	Decoder      map[string]any `json:"decoder"`
	Model        struct {
		Type         string          `json:"type"`
		Vocab        json.RawMessage `json:"vocab"`
		Merges       json.RawMessage `json:"merges"`
		ByteFallback bool            `json:"byte_fallback"`
		IgnoreMerges bool            `json:"ignore_merges"`
	} `json:"model"`

	vocab  map[string]int // Model.Vocab of a BPE model
	merges []string       // "left right", as llama.cpp's converter writes them
}

// addedToken is an entry of added_tokens (tokenizer.json) or of
// added_tokens_decoder (tokenizer_config.json).
type addedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	Special    bool   `json:"special"`
	Normalized bool   `json:"normalized"`
}

// parseTokenizerJSON reads a tokenizer.json (name labels errors): its added
// tokens, and the vocabulary and merges of a BPE model (SentencePiece- and
// GPT-2-style vocabularies are both BPE there; other models are refused only
// when the vocabulary is to come from this file, see isBPE).
func parseTokenizerJSON(data []byte, name string) (*tokenizerJSON, error) {
	t := &tokenizerJSON{}
	if err := json.Unmarshal(data, t); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	for _, a := range t.AddedTokens {
		if a.ID < 0 || a.ID >= maxVocab {
			return nil, fmt.Errorf("%s: added token %q has id %d", name, a.Content, a.ID)
		}
	}
	if t.Model.Type != "BPE" {
		return t, nil
	}
	if err := json.Unmarshal(t.Model.Vocab, &t.vocab); err != nil || len(t.vocab) == 0 {
		return nil, fmt.Errorf("%s: model.vocab is not a map of tokens to ids", name)
	}
	ids := make(map[int]string, len(t.vocab))
	for tok, id := range t.vocab {
		if id < 0 || id >= maxVocab {
			return nil, fmt.Errorf("%s: token %q has id %d", name, tok, id)
		}
		if other, dup := ids[id]; dup {
			return nil, fmt.Errorf("%s: tokens %q and %q share id %d", name, other, tok, id)
		}
		ids[id] = tok
	}
	merges, err := parseMerges(t.Model.Merges)
	if err != nil {
		return nil, fmt.Errorf("%s: model.merges: %v", name, err)
	}
	t.merges = merges
	return t, nil
}

// parseMerges reads merges in either of tokenizer.json's formats: "left right"
// strings, or [left, right] pairs (transformers 4.45 and later), whose spaces
// llama.cpp's converter writes as U+0120 to keep the pair apart
// (gguf-py vocab.py SpecialVocab._try_load_from_tokenizer_json).
func parseMerges(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	merges := make([]string, len(items))
	for i, it := range items {
		var s string
		if json.Unmarshal(it, &s) == nil {
			merges[i] = s
			continue
		}
		var pair []string
		if err := json.Unmarshal(it, &pair); err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("entry %d is %s, want \"left right\" or [left, right]", i, it)
		}
		esc := strings.NewReplacer(" ", "\u0120")
		merges[i] = esc.Replace(pair[0]) + " " + esc.Replace(pair[1])
	}
	return merges, nil
}

// isBPE checks that the vocabulary can come from this file.
func (t *tokenizerJSON) isBPE(name string) error {
	if t.Model.Type != "BPE" {
		return fmt.Errorf("%s: a %q tokenizer model; InferPi converts BPE tokenizers (or a SentencePiece tokenizer.model)", name, t.Model.Type)
	}
	return nil
}

// decoderType is decoder.type ("ByteLevel", "Sequence", ...).
func (t *tokenizerJSON) decoderType() string {
	s, _ := t.Decoder["type"].(string)
	return s
}
