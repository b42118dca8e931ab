package vocab

import "math"

// pair is two adjacent symbols of a word that can merge into token id. The
// heap of pairs pops the least key first; both tokenizers make the key the
// merge priority and then the left symbol's index, so that of equal
// priorities the leftmost pair merges first.
type pair struct {
	key                   uint64
	left, right, size, id int32
}

// spmKey orders SentencePiece pairs: the highest score first
// (llm_bigram_spm::comparator).
func spmKey(score float32, left int32) uint64 {
	if score == 0 {
		score = 0 // -0 ties with +0, as floats compare
	}
	b := math.Float32bits(score)
	if b&(1<<31) != 0 {
		b = ^b
	} else {
		b |= 1 << 31
	}
	// b grows with the score; ^b makes the highest score the least key.
	return uint64(^b)<<32 | uint64(uint32(left))
}

// bpeKey orders byte-level pairs: the lowest merge rank first
// (llm_bigram_bpe::comparator).
func bpeKey(rank, left int32) uint64 {
	return uint64(uint32(rank))<<32 | uint64(uint32(left))
}

// pairs is a binary min-heap by key.
type pairs []pair

func (q *pairs) push(x pair) {
	h := append(*q, x)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if h[i].key >= h[p].key {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	*q = h
}

func (q *pairs) pop() pair {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].key < h[m].key {
			m = l
		}
		if r < len(h) && h[r].key < h[m].key {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}

// mergeAll merges pairs, least key first, until none is left: a pair merges if
// neither symbol has merged since it was queued (llama.cpp's test: both are
// still there, with the lengths they had), and then add queues the merged
// symbol's pairs with its new neighbours. Both tokenizers merge this way; they
// differ in which pairs add queues.
func mergeAll(syms []symbol, q *pairs, add func(l, r int32)) {
	for len(*q) > 0 {
		p := q.pop()
		l, r := &syms[p.left], &syms[p.right]
		if l.n == 0 || r.n == 0 || l.n+r.n != p.size {
			continue
		}
		l.n += r.n
		r.n = 0
		l.id = p.id
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = p.left
		}
		add(l.prev, p.left)
		add(p.left, l.next)
	}
}

// symbol is a piece of a word while it is merged: n bytes from start (0 once
// merged into the symbol before it), its neighbours in the word (-1: none) and
// its token (-1: not known or none).
type symbol struct {
	start, n, prev, next, id int32
}
