package vocab

// Byte-level BPE as llama.cpp runs it (llama-vocab.cpp: llm_tokenizer_bpe_session).

// encodeBPE appends the tokens of one text fragment: the pre-tokenizer cuts it into
// words, and each word is merged on its own.
func (v *Vocab) encodeBPE(e *encoder, out []int, frag string) []int {
	v.pre.split(e, frag)
	start := 0
	for _, end := range e.ends {
		// The word as llama.cpp passes it on: its code points written in UTF-8
		// again, which replaces invalid bytes by U+FFFD.
		word := e.word[:0]
		for _, r := range e.cps[start:end] {
			word = appendRune(word, r)
		}
		e.word = word
		out = v.bpeWord(e, out, word)
		start = end
	}
	return out
}

// bpeWord appends the tokens of one word. With ignore_merges, a word that is a
// token is that token. Otherwise each byte starts as the token of its symbol in
// GPT-2's byte alphabet, and the adjacent pair of the lowest merge rank, the
// leftmost on ties, merges until no merge applies.
func (v *Vocab) bpeWord(e *encoder, out []int, word []byte) []int {
	if v.pre.ignoreMerges {
		sym := e.symText[:0]
		for _, c := range word {
			sym = appendRune(sym, byteRune[c])
		}
		e.symText = sym
		if id, ok := v.ids[string(sym)]; ok {
			return append(out, int(id))
		}
	}
	syms := e.syms[:0]
	for i, c := range word {
		syms = append(syms, symbol{start: int32(i), n: 1, prev: int32(i) - 1, next: int32(i) + 1, id: v.byteSymbol[c]})
	}
	if len(syms) == 0 {
		return out
	}
	syms[len(syms)-1].next = -1
	e.syms = syms

	q := &e.pairs
	*q = (*q)[:0]
	add := func(l, r int32) {
		if l < 0 || r < 0 || syms[l].id < 0 || syms[r].id < 0 {
			return
		}
		m, ok := v.merges[uint64(syms[l].id)<<32|uint64(syms[r].id)]
		if !ok {
			return
		}
		q.push(pair{key: bpeKey(m.rank, l), left: l, right: r, size: syms[l].n + syms[r].n, id: m.id})
	}
	for i := int32(1); i < int32(len(syms)); i++ {
		add(i-1, i)
	}
	mergeAll(syms, q, add)

	for _, s := range syms {
		switch {
		case s.n == 0:
		case s.id >= 0:
			out = append(out, int(s.id))
		default:
			// A byte whose symbol is no token (a merged symbol always is one).
			for _, id := range v.byteBytes[word[s.start]] {
				if id >= 0 {
					out = append(out, int(id))
				}
			}
		}
	}
	return out
}
