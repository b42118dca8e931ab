package vocab

import "sync"

// encoder holds one Encode call's working memory, reused through a pool.
type encoder struct {
	frags, spare    []fragment
	text            []byte // SentencePiece: the fragment with spaces escaped
	cps             []rune
	cls             []uint8
	ends, spareEnds []int
	word, symText   []byte
	syms            []symbol
	pairs           pairs
}

var encoders = sync.Pool{New: func() any { return new(encoder) }}

// Encode returns the tokens of text as llama_tokenize gives them. addSpecial puts
// BOS first and EOS last where the vocabulary asks for them (AddBOS, AddEOS).
// parseSpecial lets CONTROL tokens written in the text (such as "<|im_start|>")
// be those tokens; without it they are plain text. USER_DEFINED tokens are
// recognised either way.
func (v *Vocab) Encode(text string, addSpecial, parseSpecial bool) []int {
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	v.partition(e, text, parseSpecial)
	var out []int
	if addSpecial && v.addBOS {
		out = append(out, v.bos)
	}
	// SentencePiece puts a space before the first text and before text that
	// follows a special token (add_space_prefix).
	afterSpecial := true
	for _, f := range e.frags {
		switch {
		case f.id >= 0:
			out = append(out, int(f.id))
			afterSpecial = true
		case v.spm:
			out = v.encodeSPM(e, out, text[f.start:f.end], v.addSpacePrefix && afterSpecial)
			afterSpecial = false
		default:
			out = v.encodeBPE(e, out, text[f.start:f.end])
		}
	}
	if addSpecial && v.addEOS {
		out = append(out, v.eos)
	}
	return out
}
