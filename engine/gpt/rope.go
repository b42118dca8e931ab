package gpt

import "math"

// rope holds the rotary tables: cos and sin of position*inv_freq[j] for every
// position of the cache and j < head_dim/2.
type rope struct {
	half     int
	cos, sin []float32
}

// newRope computes the tables as gpt.py's _precompute_rotary_embeddings does, in
// float32: inv_freq[j] = 1 / base^(2j/head_dim), angle = float32(t * inv_freq[j]).
func newRope(h *Header) rope {
	half := h.HeadDim / 2
	r := rope{half: half, cos: make([]float32, h.SeqLen*half), sin: make([]float32, h.SeqLen*half)}
	invFreq := make([]float32, half)
	for j := range invFreq {
		exponent := float32(2*j) / float32(h.HeadDim)
		invFreq[j] = float32(1 / float32(math.Pow(float64(h.RopeBase), float64(exponent))))
	}
	for t := range h.SeqLen {
		for j, f := range invFreq {
			angle := float32(t) * f
			r.cos[t*half+j] = float32(math.Cos(float64(angle)))
			r.sin[t*half+j] = float32(math.Sin(float64(angle)))
		}
	}
	return r
}

// rotate applies nanochat's apply_rotary_emb to one head at position pos: the head
// is split in halves (not interleaved pairs), and the rotation is by -angle:
// y1 = x1*cos + x2*sin, y2 = -x1*sin + x2*cos.
func (r rope) rotate(head []float32, pos int) {
	cos, sin := r.cos[pos*r.half:(pos+1)*r.half], r.sin[pos*r.half:(pos+1)*r.half]
	x1, x2 := head[:r.half], head[r.half:2*r.half]
	for j := range x1 {
		a, b := x1[j], x2[j]
		x1[j] = a*cos[j] + b*sin[j]
		x2[j] = -a*sin[j] + b*cos[j]
	}
}
