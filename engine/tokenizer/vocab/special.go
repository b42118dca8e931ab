package vocab

import (
	"fmt"
	"slices"
	"strings"
)

// Special tokens as llama.cpp finds and uses them (llama-vocab.cpp:
// llama_vocab::impl::load and tokenizer_st_partition).

// setSpecialIDs sets the special ids and flags: llama.cpp's defaults for the
// model and pre-tokenizer, then the file's keys.
func (v *Vocab) setSpecialIDs(s Spec, fim *[6]int) {
	n := len(v.tokens)
	if v.spm {
		v.bos, v.eos, v.unk = 1, 2, 0
		v.addSpacePrefix, v.addBOS = true, true
	} else {
		v.bos, v.eos = 11, 11
		if v.pre.noBOS {
			v.bos = -1
		}
		v.addBOS = v.pre.addBOS
	}
	// llama.cpp does not check its defaults against the vocabulary; one outside
	// it is no token here.
	for _, p := range []*int{&v.bos, &v.eos, &v.unk} {
		if *p >= n {
			*p = -1
		}
	}
	set := func(dst *int, id int) {
		if id >= 0 && id < n {
			*dst = id
		}
	}
	set(&v.bos, s.BOS)
	set(&v.eos, s.EOS)
	set(&v.eot, s.EOT)
	set(&v.eom, s.EOM)
	set(&v.unk, s.UNK)
	*fim = [6]int{-1, -1, -1, -1, -1, -1}
	for i, id := range [6]int{s.FIMPre, s.FIMSuf, s.FIMMid, s.FIMPad, s.FIMRep, s.FIMSep} {
		set(&fim[i], id)
	}
	if s.AddSpacePrefix != nil {
		v.addSpacePrefix = *s.AddSpacePrefix
	}
	if s.AddBOS != nil {
		v.addBOS = *s.AddBOS
	}
	if s.AddEOS != nil {
		v.addEOS = *s.AddEOS
	}
}

// The token texts llama.cpp looks for when the file does not name the token.
var (
	eotTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>",
		"<\uff5cend\u2581of\u2581sentence\uff5c>"} // DeepSeek's <｜end▁of▁sentence｜>
	eomTexts    = []string{"<|eom_id|>"}
	fimPreTexts = []string{"<|fim_prefix|>", "<fim-prefix>", "<\uff5cfim\u2581begin\uff5c>", "<PRE>"}
	fimSufTexts = []string{"<|fim_suffix|>", "<fim-suffix>", "<\uff5cfim\u2581hole\uff5c>", "<SUF>"}
	fimMidTexts = []string{"<|fim_middle|>", "<fim-middle>", "<\uff5cfim\u2581end\uff5c>", "<MID>"}
	fimPadTexts = []string{"<|fim_pad|>", "<fim-pad>", "<PAD>"}
	fimRepTexts = []string{"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>"}
	fimSepTexts = []string{"<|file_sep|>"}
	// Every token with one of these texts ends generation.
	eogTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>"}
)

// detectSpecialTokens finds EOT, EOM and the FIM tokens by their text where the
// file does not give them, and builds the end-of-generation set. A token found
// by its text becomes CONTROL, as llama.cpp overrides its type.
//
// When several tokens have texts of one list (Qwen's <|im_end|> and
// <|endoftext|> for EOT), llama.cpp takes the first its hash map yields, an order
// that depends on the C++ library; this takes the lowest id.
func (v *Vocab) detectSpecialTokens(fim *[6]int) {
	for _, k := range []struct {
		id    *int
		texts []string
	}{
		{&v.eot, eotTexts}, {&v.eom, eomTexts},
		{&fim[0], fimPreTexts}, {&fim[1], fimSufTexts}, {&fim[2], fimMidTexts},
		{&fim[3], fimPadTexts}, {&fim[4], fimRepTexts}, {&fim[5], fimSepTexts},
	} {
		if *k.id >= 0 {
			continue
		}
		for _, text := range k.texts {
			if id, ok := v.ids[text]; ok && (*k.id < 0 || int(id) < *k.id) {
				*k.id = int(id)
			}
		}
		if *k.id >= 0 {
			v.makeControl(*k.id)
		}
	}
	var eog []int
	for _, id := range fim[3:] {
		if id >= 0 {
			eog = append(eog, id)
		}
	}
	for _, text := range eogTexts {
		if id, ok := v.ids[text]; ok {
			eog = append(eog, int(id))
			v.makeControl(int(id))
		}
	}
	for _, id := range []int{v.eos, v.eot, v.eom} {
		if id >= 0 {
			eog = append(eog, id)
		}
	}
	slices.Sort(eog)
	v.eog = slices.Compact(eog)
}

// makeControl makes id CONTROL unless it already is (llama.cpp replaces the
// whole attribute).
func (v *Vocab) makeControl(id int) {
	if v.attrs[id]&attrControl == 0 {
		v.attrs[id] = attrControl
	}
}

// setSpecials lists the tokens tokenizer_st_partition looks for in text: every
// CONTROL, USER_DEFINED and UNKNOWN token, longest text first. llama.cpp sorts
// them with std::sort, which leaves tokens of equal length in an unspecified
// order; here they keep the order of their ids. The order matters only where
// two special tokens of the same length overlap in a text.
func (v *Vocab) setSpecials() {
	for id, a := range v.attrs {
		if a&(attrControl|attrUserDefined|attrUnknown) != 0 {
			v.specials = append(v.specials, int32(id))
		}
	}
	slices.SortStableFunc(v.specials, func(a, b int32) int { return len(v.tokens[b]) - len(v.tokens[a]) })
}

// setStripRules gives some models' special tokens the stripping rules
// llama.cpp sets by name at the end of load: jina-v2's <mask> takes the spaces
// before it, Phi-3's special tokens (but <unk>, <s> and <|endoftext|>) and </s>
// the spaces after them. llama.cpp cannot load such a model without those tokens.
func (v *Vocab) setStripRules(s Spec) error {
	find := func(text string) (int32, error) {
		id, ok := v.ids[text]
		if !ok {
			return 0, fmt.Errorf("tokenizer.ggml.tokens has no %q, which llama.cpp requires for this model", text)
		}
		return id, nil
	}
	switch {
	case containsAny(s.Pre, "jina-v2-de", "jina-v2-es", "jina-v2-code"):
		id, err := find("<mask>")
		if err != nil {
			return err
		}
		v.attrs[id] |= attrLStrip
	case containsAny(asciiLower(s.Name), "phi-3", "phi3"):
		for _, id := range v.specials {
			v.attrs[id] |= attrRStrip
		}
		id, err := find("</s>")
		if err != nil {
			return err
		}
		v.attrs[id] |= attrRStrip
		for _, text := range []string{"<unk>", "<s>", "<|endoftext|>"} {
			id, err := find(text)
			if err != nil {
				return err
			}
			v.attrs[id] &^= attrRStrip
		}
	}
	return nil
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// asciiLower lower-cases A-Z only, as std::tolower in the C locale.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// A fragment of the text to tokenize: a special token (id >= 0) or the text
// text[start:end] (id -1).
type fragment struct {
	id         int32
	start, end int
}

// partition cuts text into special tokens and the text between them, as
// tokenizer_st_partition does: for each special token, longest first, every
// occurrence in the text fragments left so far, left to right, becomes that
// token. CONTROL and UNKNOWN tokens take part only with parseSpecial;
// USER_DEFINED tokens always do. Matching is on bytes.
// The fragments are left in e.frags.
func (v *Vocab) partition(e *encoder, text string, parseSpecial bool) {
	frags, spare := e.frags[:0], e.spare
	if text != "" {
		frags = append(frags, fragment{id: -1, start: 0, end: len(text)})
	}
	for _, sid := range v.specials {
		a := v.attrs[sid]
		if !parseSpecial && a&(attrControl|attrUnknown) != 0 {
			continue
		}
		tok := v.tokens[sid]
		out := spare[:0]
		for _, f := range frags {
			if f.id >= 0 {
				out = append(out, f)
				continue
			}
			start, end := f.start, f.end
			for {
				i := strings.Index(text[start:end], tok)
				if i < 0 {
					break
				}
				left := start + i
				if a&attrLStrip != 0 {
					for left > start && isCSpace(text[left-1]) {
						left--
					}
				}
				if left > start {
					out = append(out, fragment{id: -1, start: start, end: left})
				}
				out = append(out, fragment{id: sid})
				start += i + len(tok)
				if a&attrRStrip != 0 {
					for start < end && isCSpace(text[start]) {
						start++
					}
				}
			}
			if start < end {
				out = append(out, fragment{id: -1, start: start, end: end})
			}
		}
		frags, spare = out, frags
	}
	e.frags, e.spare = frags, spare
}

// isCSpace is C's isspace in the C locale.
func isCSpace(c byte) bool { return c == ' ' || '\t' <= c && c <= '\r' }
