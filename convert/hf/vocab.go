package hf

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/inferpi/inferpi/convert/sentencepiece"
)

// GGUF token types (gguf-py constants.py TokenType; SentencePiece's numbers).
const (
	typeNormal      = 1
	typeUnknown     = 2
	typeControl     = 3
	typeUserDefined = 4
	typeUnused      = 5
	typeByte        = 6
)

// Vocab is the tokenizer of the converted model, as llama.cpp's converter
// writes it to a GGUF file.
type Vocab struct {
	Model  string    // tokenizer.ggml.model: "llama" (SentencePiece) or "gpt2" (byte-level BPE)
	Pre    string    // tokenizer.ggml.pre
	Tokens []string  // one per id, config.json's vocab_size of them
	Scores []float32 // SentencePiece only
	Types  []int32
	Merges []string // byte-level BPE only
	From   string   // the file the tokens come from

	special *specials
	extra   []KV                 // keys llama.cpp's LlamaModel adds after the vocabulary
	spm     *sentencepiece.Model // the tokenizer.model it was made from, if any
}

// BOS and EOS return the special ids, or -1.
func (v *Vocab) BOS() int { return v.specialID("bos") }
func (v *Vocab) EOS() int { return v.specialID("eos") }

// ChatTemplate is the model's chat template (tokenizer.chat_template), or "".
func (v *Vocab) ChatTemplate() string {
	for _, kv := range v.special.chat {
		if kv.Key == "tokenizer.chat_template" {
			return kv.Value.(string)
		}
	}
	return ""
}

func (v *Vocab) specialID(typ string) int {
	if id, ok := v.special.id(typ); ok {
		return id
	}
	return -1
}

// tokenizerFiles are the tokenizer files of a directory, read.
type tokenizerFiles struct {
	spm     *sentencepiece.Model
	spmPath string
	json    *tokenizerJSON
	path    string // tokenizer.json's
	config  *tokenizerConfig
	jinja   []byte         // chat_template.jinja
	added   map[string]int // added_tokens.json
	gen     map[string]any // generation_config.json
}

// readTokenizerFiles reads whichever of the tokenizer files exist.
func readTokenizerFiles(dir string) (*tokenizerFiles, error) {
	tf := &tokenizerFiles{}
	read := func(name string) ([]byte, string, error) {
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, path, nil
		}
		return b, path, err
	}
	b, path, err := read("tokenizer.model")
	if err != nil {
		return nil, err
	}
	if b != nil {
		if tf.spm, err = sentencepiece.Parse(b, path); err != nil {
			return nil, err
		}
		tf.spmPath = path
	}
	if b, tf.path, err = read("tokenizer.json"); err != nil {
		return nil, err
	}
	if b != nil {
		if tf.json, err = parseTokenizerJSON(b, tf.path); err != nil {
			return nil, err
		}
	}
	if b, path, err = read("tokenizer_config.json"); err != nil {
		return nil, err
	}
	if b != nil {
		if tf.config, err = parseTokenizerConfig(b, path); err != nil {
			return nil, err
		}
	}
	if tf.jinja, _, err = read("chat_template.jinja"); err != nil {
		return nil, err
	}
	if b, path, err = read("added_tokens.json"); err != nil {
		return nil, err
	}
	if b != nil {
		if err := json.Unmarshal(b, &tf.added); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
	}
	if b, path, err = read("generation_config.json"); err != nil {
		return nil, err
	}
	if b != nil {
		if err := json.Unmarshal(b, &tf.gen); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
	}
	return tf, nil
}

// loadVocab builds the vocabulary the way convert_hf_to_gguf.py chooses it:
// tokenizer.model when there is one (_set_vocab_sentencepiece); for Llama
// otherwise a SentencePiece-style tokenizer.json (byte fallback; its
// _set_vocab_llama_hf, with scores from the merges) or else a byte-level BPE
// (_set_vocab_gpt2), which Qwen always uses without tokenizer.model.
func (m *Model) loadVocab() error {
	tf, err := readTokenizerFiles(m.Dir)
	if err != nil {
		return err
	}
	c := m.Config
	var v *Vocab
	switch {
	case tf.spm != nil:
		v, err = spmVocab(tf, c.VocabSize)
	case tf.json == nil:
		return fmt.Errorf("%s: no tokenizer.json or tokenizer.model", m.Dir)
	case m.arch.llama && tf.json.Model.ByteFallback && tf.json.decoderType() == "Sequence":
		v, err = llamaHFVocab(tf, c.VocabSize)
	default:
		v, err = bpeVocab(tf, c.VocabSize)
	}
	if err != nil {
		return err
	}
	nVocab := 0
	if v.Model == "llama" {
		nVocab = len(v.Tokens)
	}
	v.special = loadSpecials(tf.json, tf.config, c.raw, nVocab)
	if _, ok := v.special.id("eos"); !ok {
		v.special.eosFromGeneration(tf.gen, len(v.Tokens))
	}
	m.Warnings = append(m.Warnings, v.special.warns...)
	if v.special.chat, err = chatTemplate(tf.config, tf.jinja); err != nil {
		return fmt.Errorf("%s: %v", filepath.Join(m.Dir, "tokenizer_config.json"), err)
	}
	m.Vocab = v
	if m.arch.llama {
		// LlamaModel.set_vocab: the space prefix setting, and no BOS for the
		// 49152-token vocabularies (SmolLM, Granite) unless told otherwise.
		if add, ok := tf.config.flag("add_prefix_space"); ok {
			v.extra = append(v.extra, KV{"tokenizer.ggml.add_space_prefix", add})
		}
		if c.VocabSize == 49152 && !v.special.hasAdd("bos") {
			v.extra = append(v.extra, KV{"tokenizer.ggml.add_bos_token", false})
		}
	}
	return nil
}

// spmVocab is _create_vocab_sentencepiece: the pieces of tokenizer.model with
// their scores and types (user-defined pieces count as normal), then
// added_tokens.json and tokenizer_config.json's added_tokens_decoder written
// over them (special ones as CONTROL, the others as USER_DEFINED, score -1000),
// padded to vocab_size with [PADn] tokens.
func spmVocab(tf *tokenizerFiles, vocabSize int) (*Vocab, error) {
	sp := tf.spm
	if len(sp.Pieces) > vocabSize {
		return nil, fmt.Errorf("%s has %d pieces, more than config.json's vocab_size %d", tf.spmPath, len(sp.Pieces), vocabSize)
	}
	v := &Vocab{Model: "llama", Pre: "default", From: tf.spmPath, spm: sp}
	v.pad(vocabSize, -10000)
	for id, p := range sp.Pieces {
		t := int32(typeNormal)
		switch p.Type {
		case sentencepiece.Unknown, sentencepiece.Control, sentencepiece.Unused, sentencepiece.Byte:
			t = int32(p.Type)
		}
		v.Tokens[id], v.Scores[id], v.Types[id] = p.Text, p.Score, t
	}
	for text, id := range tf.added {
		if id >= 0 && id < vocabSize {
			v.Tokens[id], v.Scores[id], v.Types[id] = text, -1000, typeUserDefined
		}
	}
	if err := v.applyAddedTokensDecoder(tf.config); err != nil {
		return nil, err
	}
	return v, nil
}

// applyAddedTokensDecoder writes tokenizer_config.json's added tokens over the
// vocabulary, as _create_vocab_sentencepiece does.
func (v *Vocab) applyAddedTokensDecoder(tc *tokenizerConfig) error {
	if tc == nil {
		return nil
	}
	for key, a := range tc.AddedTokensDecoder {
		id, err := strconv.Atoi(key)
		if err != nil || id < 0 || id >= len(v.Tokens) {
			return fmt.Errorf("tokenizer_config.json: added token %q has id %q, outside the vocabulary of %d", a.Content, key, len(v.Tokens))
		}
		text := a.Content
		if a.Special || looksSpecial(text) {
			v.Types[id] = typeControl
		} else {
			text = strings.ReplaceAll(text, "▁", " ")
			v.Types[id] = typeUserDefined
		}
		v.Tokens[id] = text
		if v.Scores != nil {
			v.Scores[id] = -1000
		}
	}
	return nil
}

// pad sizes the vocabulary to n entries of [PADi] tokens of type UNUSED, each
// with score (SentencePiece vocabularies) where scores are kept.
func (v *Vocab) pad(n int, score float32) {
	v.Tokens = make([]string, n)
	v.Types = make([]int32, n)
	if v.Model == "llama" {
		v.Scores = make([]float32, n)
	}
	for i := range v.Tokens {
		v.Tokens[i] = fmt.Sprintf("[PAD%d]", i)
		v.Types[i] = typeUnused
		if v.Scores != nil {
			v.Scores[i] = score
		}
	}
}

var byteToken = regexp.MustCompile(`^<0x[0-9A-Fa-f]{2}>$`)

// llamaHFVocab is a SentencePiece-style BPE tokenizer.json (byte fallback, a
// Sequence decoder) without tokenizer.model, as in _set_vocab_llama_hf
// (gguf-py LlamaHfVocab): the vocabulary by id, <0xXX> tokens as BYTE, the
// special tokens as CONTROL, added tokens after the base vocabulary. llama.cpp
// gives every token the score -1000, which leaves its SentencePiece tokenizer
// merging in an arbitrary order; here a token made by a merge scores minus the
// rank of the first merge that makes it, so that merges happen in the order
// of the merge list, as Hugging Face's BPE does them.
func llamaHFVocab(tf *tokenizerFiles, vocabSize int) (*Vocab, error) {
	tj := tf.json
	v := &Vocab{Model: "llama", Pre: "default", From: tf.path}
	if err := tj.isBPE(tf.path); err != nil {
		return nil, err
	}
	if err := checkIDs(tj, vocabSize, tf.path); err != nil {
		return nil, err
	}
	v.pad(vocabSize, -1000)
	rank := map[string]int{}
	for i, m := range tj.merges {
		l, r, ok := strings.Cut(m, " ")
		if !ok {
			return nil, fmt.Errorf("%s: merge %d (%q) is not two tokens", tf.path, i, m)
		}
		if _, seen := rank[l+r]; !seen {
			rank[l+r] = i
		}
	}
	special := specialIDs(tj, tf.config)
	for text, id := range tj.vocab {
		v.Tokens[id] = text
		switch {
		case byteToken.MatchString(text):
			v.Types[id], v.Scores[id] = typeByte, 0
		case special[id]:
			v.Types[id], v.Scores[id] = typeControl, -1000
		default:
			v.Types[id], v.Scores[id] = typeNormal, -float32(len(tj.merges))
			if r, ok := rank[text]; ok {
				v.Scores[id] = -float32(r)
			}
		}
	}
	for _, a := range tj.AddedTokens {
		if _, inVocab := tj.vocab[a.Content]; inVocab {
			continue
		}
		v.Tokens[a.ID], v.Scores[a.ID] = a.Content, -1000
		v.Types[a.ID] = typeUserDefined
		if special[a.ID] {
			v.Types[a.ID] = typeControl
		}
	}
	return v, nil
}

// specialIDs are the ids of the tokenizer's special tokens (transformers'
// all_special_ids): those tokenizer_config.json names as bos, eos, unk, sep,
// pad, cls, mask or additional special tokens.
func specialIDs(tj *tokenizerJSON, tc *tokenizerConfig) map[int]bool {
	ids := map[int]bool{}
	find := func(content string) {
		if id, ok := tj.vocab[content]; ok {
			ids[id] = true
		}
		for _, a := range tj.AddedTokens {
			if a.Content == content {
				ids[a.ID] = true
			}
		}
	}
	for _, t := range specialTypes {
		if s, ok := tc.token(t.typ + "_token"); ok {
			find(s)
		}
	}
	if tc != nil {
		var extra []any
		if json.Unmarshal(tc.raw["additional_special_tokens"], &extra) == nil {
			for _, e := range extra {
				switch x := e.(type) {
				case string:
					find(x)
				case map[string]any:
					if s, ok := x["content"].(string); ok {
						find(s)
					}
				}
			}
		}
	}
	return ids
}

// checkIDs checks that every token id of tokenizer.json fits the model's
// vocabulary (the assertion of get_vocab_base).
func checkIDs(tj *tokenizerJSON, vocabSize int, path string) error {
	for text, id := range tj.vocab {
		if id >= vocabSize {
			return fmt.Errorf("%s: token %q has id %d, beyond config.json's vocab_size %d", path, text, id, vocabSize)
		}
	}
	for _, a := range tj.AddedTokens {
		if a.ID >= vocabSize {
			return fmt.Errorf("%s: added token %q has id %d, beyond config.json's vocab_size %d", path, a.Content, a.ID, vocabSize)
		}
	}
	return nil
}

// bpeVocab is a byte-level BPE tokenizer.json (GPT-2, Llama 3, Qwen, SmolLM),
// as _set_vocab_gpt2 and get_vocab_base write it: the vocabulary and added
// tokens by id (tokenizer.json's, and those only tokenizer_config.json lists),
// added tokens CONTROL when special (or looking special) and USER_DEFINED
// otherwise, ids without a token [PADi] of type UNUSED; the merges;
// the pre-tokenizer named by its regular expressions.
func bpeVocab(tf *tokenizerFiles, vocabSize int) (*Vocab, error) {
	tj := tf.json
	if err := tj.isBPE(tf.path); err != nil {
		return nil, err
	}
	if d := tj.decoderType(); d != "ByteLevel" {
		return nil, fmt.Errorf("%s: a BPE tokenizer with a %q decoder: InferPi converts byte-level BPE (GPT-2 style) or SentencePiece-style (byte fallback) tokenizers", tf.path, d)
	}
	pre, err := preTokenizer(tj.PreTokenizer)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", tf.path, err)
	}
	if err := checkIDs(tj, vocabSize, tf.path); err != nil {
		return nil, err
	}
	v := &Vocab{Model: "gpt2", Pre: pre, Merges: tj.merges, From: tf.path}
	v.pad(vocabSize, 0)
	for text, id := range tj.vocab {
		v.Tokens[id], v.Types[id] = text, typeNormal
	}
	added := append([]addedToken(nil), tj.AddedTokens...)
	// transformers also adds the tokens only tokenizer_config.json lists.
	if tf.config != nil {
		for key, a := range tf.config.AddedTokensDecoder {
			id, err := strconv.Atoi(key)
			if err != nil || id < 0 || id >= vocabSize {
				return nil, fmt.Errorf("tokenizer_config.json: added token %q has id %q, outside the vocabulary of %d", a.Content, key, vocabSize)
			}
			if a.ID = id; v.Types[id] == typeUnused {
				added = append(added, a)
			}
		}
	}
	for _, a := range added {
		text := a.Content
		if a.Special || looksSpecial(text) {
			v.Types[a.ID] = typeControl
		} else {
			text = strings.ReplaceAll(text, "▁", " ")
			v.Types[a.ID] = typeUserDefined
		}
		v.Tokens[a.ID] = text
	}
	return v, nil
}
