package kernels

import "fmt"

// Attend computes one attention head for one query over a stretch of its KV cache
// kept head-major: keys and values hold len(scores) positions of len(q) values
// each, one position after the other (the layout both engines use, so that a head's
// cache is one sequential stream for the prefetchers). It sets scores[j] to the
// softmax over j of scale·dot(q, key j), and out (len(q) values) to Σ scores[j]·value j.
//
// Scores and the weighted sum of the values are one kernel call each (impl.scores,
// impl.mix), not one Dot or Axpy per position: at a few hundred positions of 64 or
// 128 values the calls cost more than the arithmetic. The scores kernel prefetches
// the values while it reads the keys, so the two streams come from memory together.
func Attend(out, q, keys, values, scores []float32, scale float32) {
	n, hd := len(scores), len(q)
	if len(out) < hd || len(keys) < n*hd || len(values) < n*hd {
		panic(fmt.Sprintf("kernels: Attend of %d positions of %d values with %d keys, %d values, %d outputs",
			n, hd, len(keys), len(values), len(out)))
	}
	if n == 0 || hd == 0 {
		clear(out[:hd])
		return
	}
	kern.scores(scores, keys[:n*hd], q, values[:n*hd])
	for j := range scores {
		scores[j] *= scale
	}
	Softmax(scores)
	kern.mix(out[:hd], values[:n*hd], scores)
}

// scoresRef sets out[j] = dot(q, key j) for the len(out) keys in keys.
func scoresRef(out, keys, q, _ []float32) {
	hd := len(q)
	for j := range out {
		out[j] = dotRef(q, keys[j*hd:(j+1)*hd])
	}
}

// mixRef sets out = Σ w[j]·value j over the len(w) values (len(out) each) in values.
func mixRef(out, values, w []float32) {
	hd := len(out)
	clear(out)
	for j, p := range w {
		axpyRef(out, p, values[j*hd:(j+1)*hd])
	}
}
