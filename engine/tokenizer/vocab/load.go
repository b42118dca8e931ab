package vocab

import (
	"errors"
	"fmt"
	"math"

	"github.com/inferpi/inferpi/engine/gguf"
)

// Load builds the vocabulary of a GGUF file from its tokenizer.ggml.* keys (and
// general.name), as llama_vocab::impl::load reads them. Errors name the file
// and the key.
func Load(f *gguf.File) (*Vocab, error) {
	s, err := readSpec(f)
	if err != nil {
		return nil, err
	}
	v, err := New(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	return v, nil
}

// readSpec reads the keys New takes. Optional keys may be absent, but a key of
// the wrong type is an error, as llama.cpp's loader refuses it.
func readSpec(f *gguf.File) (Spec, error) {
	s := Spec{BOS: -1, EOS: -1, EOT: -1, EOM: -1, UNK: -1,
		FIMPre: -1, FIMSuf: -1, FIMMid: -1, FIMPad: -1, FIMRep: -1, FIMSep: -1}
	var err error
	optional := func(e error) error {
		if errors.Is(e, gguf.ErrNotFound) {
			return nil
		}
		return e
	}
	if s.Model, err = f.GetString("tokenizer.ggml.model"); err != nil {
		return s, err
	}
	if s.Pre, err = f.GetString("tokenizer.ggml.pre"); optional(err) != nil {
		return s, err
	}
	if s.Name, err = f.GetString("general.name"); optional(err) != nil {
		return s, err
	}
	if s.Tokens, err = f.GetStrings("tokenizer.ggml.tokens"); err != nil {
		return s, err
	}
	if s.Scores, err = f.GetFloat32s("tokenizer.ggml.scores"); optional(err) != nil {
		return s, err
	}
	if s.Types, err = f.GetInt32s("tokenizer.ggml.token_type"); optional(err) != nil {
		return s, err
	}
	if s.Model == "gpt2" {
		if s.Merges, err = f.GetStrings("tokenizer.ggml.merges"); err != nil {
			return s, err
		}
	}
	for _, b := range []struct {
		key string
		dst **bool
	}{
		{"tokenizer.ggml.add_bos_token", &s.AddBOS},
		{"tokenizer.ggml.add_eos_token", &s.AddEOS},
		{"tokenizer.ggml.add_space_prefix", &s.AddSpacePrefix},
	} {
		v, err := f.GetBool(b.key)
		if optional(err) != nil {
			return s, err
		}
		if err == nil {
			*b.dst = &v
		}
	}
	// An id is -1 when absent; a value too large for the vocabulary stays out
	// of it, and New ignores it.
	id := func(key string) (int, error) {
		u, err := f.GetUint("tokenizer.ggml." + key)
		if err != nil {
			return -1, optional(err)
		}
		return int(min(u, math.MaxInt32+1)), nil
	}
	for _, k := range []struct {
		key string
		dst *int
	}{
		{"bos_token_id", &s.BOS}, {"eos_token_id", &s.EOS}, {"eot_token_id", &s.EOT}, {"eom_token_id", &s.EOM},
		{"unknown_token_id", &s.UNK},
		{"fim_pre_token_id", &s.FIMPre}, {"fim_suf_token_id", &s.FIMSuf}, {"fim_mid_token_id", &s.FIMMid},
		{"fim_pad_token_id", &s.FIMPad}, {"fim_rep_token_id", &s.FIMRep}, {"fim_sep_token_id", &s.FIMSep},
		// The deprecated names, which llama.cpp reads after the new ones: a valid
		// id there wins.
		{"prefix_token_id", &s.FIMPre}, {"suffix_token_id", &s.FIMSuf}, {"middle_token_id", &s.FIMMid},
	} {
		v, err := id(k.key)
		if err != nil {
			return s, err
		}
		if v >= 0 && v < len(s.Tokens) || *k.dst < 0 {
			*k.dst = v
		}
	}
	return s, nil
}
