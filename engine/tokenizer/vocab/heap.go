package vocab

// queue is a binary heap: pop returns the item that comes before all others.
type queue[T interface{ before(T) bool }] []T

func (q *queue[T]) push(x T) {
	h := append(*q, x)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h[i].before(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	*q = h
}

func (q *queue[T]) pop() T {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].before(h[m]) {
			m = l
		}
		if r < len(h) && h[r].before(h[m]) {
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

// symbol is a piece of a word while it is merged: n bytes from start (0 once
// merged into the symbol before it), its neighbours in the word (-1: none) and
// its token (-1: not known or none).
type symbol struct {
	start, n, prev, next, id int32
}
