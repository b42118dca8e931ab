package vocab

// SentencePiece as llama.cpp runs it (llama-vocab.cpp: llm_tokenizer_spm_session).

// spaceMarker is U+2581, which stands for a space in SentencePiece tokens.
const spaceMarker = "\u2581"

// encodeSPM appends the tokens of one text fragment. With prefix (add_space_prefix,
// and the fragment starts the text or follows a special token) one space goes
// first; then every space becomes U+2581. The text is cut into UTF-8 sequences
// by their lead bytes alone, and of all adjacent symbols whose texts together
// form a token (of any type), the pair whose token scores highest merges, the
// leftmost on ties, until no pair forms a token. A symbol that is no token is
// spelled in byte tokens.
func (v *Vocab) encodeSPM(e *encoder, out []int, frag string, prefix bool) []int {
	b := e.text[:0]
	if prefix {
		b = append(b, spaceMarker...)
	}
	for i := 0; i < len(frag); i++ {
		if frag[i] == ' ' {
			b = append(b, spaceMarker...)
		} else {
			b = append(b, frag[i])
		}
	}
	e.text = b

	syms := e.syms[:0]
	for off := 0; off < len(b); {
		n := min(utf8Len(b[off]), len(b)-off)
		i := int32(len(syms))
		syms = append(syms, symbol{start: int32(off), n: int32(n), prev: i - 1, next: i + 1, id: -1})
		off += n
	}
	syms[len(syms)-1].next = -1
	e.syms = syms

	q := &e.pairs
	*q = (*q)[:0]
	add := func(l, r int32) {
		if l < 0 || r < 0 {
			return
		}
		start, end := syms[l].start, syms[r].start+syms[r].n
		id, ok := v.ids[string(b[start:end])]
		if !ok {
			return
		}
		q.push(pair{key: spmKey(v.scores[id], l), left: l, right: r, size: end - start, id: id})
	}
	for i := int32(1); i < int32(len(syms)); i++ {
		add(i-1, i)
	}
	mergeAll(syms, q, add)

	for i := int32(0); i >= 0; i = syms[i].next {
		s := syms[i]
		text := b[s.start : s.start+s.n]
		if s.id < 0 {
			if id, ok := v.ids[string(text)]; ok {
				s.id = id
			}
		}
		if s.id >= 0 {
			out = append(out, int(s.id))
			continue
		}
		for _, c := range text {
			out = v.appendByte(out, c)
		}
	}
	return out
}

// appendByte appends the byte token of c (llama_vocab::byte_to_token). Where
// the vocabulary has none, llama.cpp throws and llama_tokenize fails; this
// appends UNK, or nothing without one.
func (v *Vocab) appendByte(out []int, c byte) []int {
	if id := v.byteToken[c]; id >= 0 {
		return append(out, int(id))
	}
	if v.unk >= 0 {
		return append(out, v.unk)
	}
	return out
}
