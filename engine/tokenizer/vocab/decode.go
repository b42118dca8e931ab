package vocab

import (
	"fmt"
	"math"
)

// Token texts back to bytes (llama-vocab.cpp: llama_vocab::impl::token_to_piece,
// detokenize, and the piece cache load builds).

// maxTokenBytes bounds one token's text and piece; real vocabularies stay far
// below (their longest tokens are runs of a few hundred spaces or dashes).
const maxTokenBytes = 1 << 16

// setPieces computes every token's piece as llama_token_to_piece(id,
// special=true) gives it, which llama.cpp caches at load: the text of CONTROL,
// UNKNOWN and USER_DEFINED tokens; for NORMAL tokens, SentencePiece's text with
// U+2581 as a space, or byte-level BPE's text read back from GPT-2's byte
// alphabet; the byte of a SentencePiece BYTE token; nothing for the other types.
func (v *Vocab) setPieces() error {
	v.pieceEnd = make([]uint32, len(v.tokens))
	// A NORMAL byte-level token with code points outside the alphabet has a
	// piece that repeats its whole text for each of them; the budget keeps a
	// malformed vocabulary from growing without bound.
	budget := 1 << 20
	for _, t := range v.tokens {
		budget += 2 * len(t)
	}
	budget = min(budget, math.MaxUint32) // pieceEnd is uint32
	var buf []byte
	for id, text := range v.tokens {
		if len(text) > maxTokenBytes {
			return fmt.Errorf("tokenizer.ggml.tokens: token %d is %d bytes long (at most %d)", id, len(text), maxTokenBytes)
		}
		a := v.attrs[id]
		switch {
		case a&(attrUnknown|attrControl|attrUserDefined) != 0:
			buf = append(buf, text...)
		case a&attrNormal != 0 && v.spm:
			buf = appendUnescaped(buf, text)
		case a&attrNormal != 0:
			if n := len(buf) + decodedLen(text); n > budget || n-len(buf) > maxTokenBytes {
				return fmt.Errorf("tokenizer.ggml.tokens: token %d %q is not in GPT-2's byte alphabet and its piece would be %d bytes", id, text, n-len(buf))
			}
			buf = appendDecoded(buf, text)
		case a&attrByte != 0 && v.spm:
			b, _ := byteTokenValue(text)
			buf = append(buf, b)
		}
		v.pieceEnd[id] = uint32(len(buf))
	}
	v.pieces = buf
	return nil
}

// appendUnescaped appends text with every U+2581 as a space.
func appendUnescaped(buf []byte, text string) []byte {
	for i := 0; i < len(text); i++ {
		if i+len(spaceMarker) <= len(text) && text[i:i+len(spaceMarker)] == spaceMarker {
			buf = append(buf, ' ')
			i += len(spaceMarker) - 1
			continue
		}
		buf = append(buf, text[i])
	}
	return buf
}

// appendDecoded appends the bytes a byte-level token's text spells
// (llama_decode_text). A code point outside the alphabet (or invalid UTF-8,
// read as U+FFFD) becomes "[UNK_BYTE_0x" + its UTF-8 in hex + the whole text +
// "]", as llama.cpp writes it.
func appendDecoded(buf []byte, text string) []byte {
	for i := 0; i < len(text); {
		r, n := decodeRune(text, i)
		i += n
		if r < rune(len(symbolByte)) && symbolByte[r] >= 0 {
			buf = append(buf, byte(symbolByte[r]))
			continue
		}
		buf = append(buf, "[UNK_BYTE_0x"...)
		for _, c := range appendRune(nil, r) {
			buf = append(buf, hexDigits[c>>4], hexDigits[c&15])
		}
		buf = append(buf, text...)
		buf = append(buf, ']')
	}
	return buf
}

const hexDigits = "0123456789abcdef"

// decodedLen is len(appendDecoded(nil, text)).
func decodedLen(text string) int {
	n := 0
	for i := 0; i < len(text); {
		r, w := decodeRune(text, i)
		i += w
		if r < rune(len(symbolByte)) && symbolByte[r] >= 0 {
			n++
		} else {
			n += len("[UNK_BYTE_0x]") + 2*len(appendRune(nil, r)) + len(text)
		}
	}
	return n
}

// Piece returns the bytes of token id (llama_token_to_piece): special says
// whether CONTROL and UNKNOWN tokens give their text; without it they give
// nothing. A byte-level piece can be part of a UTF-8 sequence only. An id
// outside the vocabulary gives nothing. The slice must not be modified.
func (v *Vocab) Piece(id int, special bool) []byte {
	if id < 0 || id >= len(v.tokens) {
		return nil
	}
	if !special && v.attrs[id]&(attrUnknown|attrControl) != 0 {
		return nil
	}
	start := uint32(0)
	if id > 0 {
		start = v.pieceEnd[id-1]
	}
	return v.pieces[start:v.pieceEnd[id]:v.pieceEnd[id]]
}

// Detokenize returns the text of ids as llama_detokenize gives it:
//
//   - removeSpecial drops a leading BOS and a trailing EOS where the vocabulary
//     adds them (AddBOS, AddEOS);
//   - unparseSpecial is Piece's special: CONTROL and UNKNOWN tokens give their
//     text, else nothing;
//   - with SentencePiece's space prefix, the first piece loses one leading space
//     (unless a BOS was dropped before it);
//   - byte-level vocabularies of most pre-tokenizers then remove the space before
//     ? ! . , and some spaces around apostrophes (clean_up_tokenization_spaces).
//
// The result is raw bytes, not necessarily valid UTF-8.
func (v *Vocab) Detokenize(ids []int, removeSpecial, unparseSpecial bool) []byte {
	removeSpace := v.addSpacePrefix
	if removeSpecial && v.addBOS && len(ids) > 0 && ids[0] == v.bos {
		removeSpace = false
		ids = ids[1:]
	}
	if removeSpecial && v.addEOS && len(ids) > 0 && ids[len(ids)-1] == v.eos {
		ids = ids[:len(ids)-1]
	}
	var out []byte
	for _, id := range ids {
		p := v.Piece(id, unparseSpecial)
		if removeSpace && len(p) > 0 && p[0] == ' ' {
			p = p[1:]
		}
		removeSpace = false
		out = append(out, p...)
	}
	if v.pre.cleanSpaces {
		out, _ = cleanSpaces(out, nil)
	}
	return out
}

// cleanSpaces is llama.cpp's clean_spaces step of detokenize, three passes over
// the text in place, kept as they are written (the second pass, for instance,
// leaves a NUL where it removed a space, which the next comparison then sees).
// Every pass only removes spaces. When pos is not nil it holds an index per
// byte and moves with it, so that pos[:len(result)] says where each remaining
// byte was.
func cleanSpaces(text []byte, pos []int) ([]byte, []int) {
	keep := func(total, i int) {
		text[total] = text[i]
		if pos != nil {
			pos[total] = pos[i]
		}
	}
	// " ?", " !", " .", " ," lose the space.
	n := len(text)
	total := min(n, 1)
	for i := 1; i < n; i++ {
		if x := text[i]; text[i-1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',') {
			total--
		}
		keep(total, i)
		total++
	}
	// " ' " loses both spaces.
	n, total = total, min(total, 1)
	for i := 1; i < n; i++ {
		x := text[i]
		if x == '\'' && i+1 < n && text[i-1] == ' ' && text[i+1] == ' ' {
			total--
			keep(total, i)
			total++
			i++
			text[i] = 0
			continue
		}
		keep(total, i)
		total++
	}
	// " 's", " 'm", " 're", " 've" lose the space (" 't", " 'd", " 'll" keep it).
	n, total = total, min(total, 1)
	for i := 1; i < n; i++ {
		if text[i-1] == ' ' && text[i] == '\'' && i+1 < n {
			switch x1 := text[i+1]; {
			case x1 == 't' || x1 == 'd':
			case x1 == 's' || x1 == 'm':
				total--
			case i+2 < n:
				if x2 := text[i+2]; x1 == 'r' && x2 == 'e' || x1 == 'v' && x2 == 'e' {
					total--
				}
			}
		}
		keep(total, i)
		total++
	}
	if pos != nil {
		pos = pos[:total]
	}
	return text[:total], pos
}
