package llama2c

import "strings"

// Encode turns text into token ids as run.c's encode(t, text, bos, eos) does:
//
//  1. BOS first if bos is set.
//  2. If text is not empty, the one-space token (SentencePiece's dummy prefix; run.c
//     adds it even when text starts with a space).
//  3. Text is cut into UTF-8 characters: a byte, then the continuation bytes
//     (10xxxxxx) after it, at most 4 bytes. A stray continuation byte joins the group
//     before it. Each group found in the vocabulary becomes that token, otherwise one
//     byte token per byte (id = byte + 3).
//  4. Merge: of all adjacent pairs whose concatenation is a token, replace the one
//     with the highest score (leftmost on ties); repeat until no pair merges.
//  5. EOS last if eos is set.
//
// Like run.c (which reads a C string), text ends at its first NUL byte.
func (t *Tokenizer) Encode(text string, bos, eos bool) []int {
	if i := strings.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	ids := make([]int, 0, len(text)+3)
	if bos {
		ids = append(ids, BOS)
	}
	if text != "" && t.space >= 0 {
		ids = append(ids, t.space)
	}
	for i := 0; i < len(text); {
		j := i + 1
		for j < len(text) && j-i < 4 && isContinuation(text[j]) {
			j++
		}
		if id, ok := t.ids[text[i:j]]; ok {
			ids = append(ids, id)
		} else {
			for k := i; k < j; k++ {
				ids = append(ids, t.byteID(text[k]))
			}
		}
		i = j
	}
	ids = t.merge(ids)
	if eos {
		ids = append(ids, EOS)
	}
	return ids
}

// byteID is the byte token of b. A vocabulary too small to hold all 256 byte
// tokens (run.c would read past its arrays) gets <unk> (id 0) instead.
func (t *Tokenizer) byteID(b byte) int {
	if id := int(b) + byteBase; id < len(t.pieces) {
		return id
	}
	return 0
}

func isContinuation(b byte) bool { return b&0xC0 == 0x80 }

// merge applies run.c's greedy best-score pair merging. As in run.c every pair
// takes part, BOS and the dummy prefix included, and a token must score above
// -1e10 (run.c's starting best score) to be chosen.
func (t *Tokenizer) merge(ids []int) []int {
	var buf []byte
	for {
		best, bestID, bestScore := -1, -1, float32(-1e10)
		for i := 0; i+1 < len(ids); i++ {
			buf = append(append(buf[:0], t.pieces[ids[i]]...), t.pieces[ids[i+1]]...)
			if id, ok := t.ids[string(buf)]; ok && t.scores[id] > bestScore {
				best, bestID, bestScore = i, id, t.scores[id]
			}
		}
		if best < 0 {
			return ids
		}
		ids[best] = bestID
		ids = append(ids[:best+1], ids[best+2:]...)
	}
}
