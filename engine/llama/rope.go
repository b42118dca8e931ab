package llama

import "math"

// rope holds RoPE's rotations for a batch: freq[j] is the rotation frequency of
// pair j inside a head; cos and sin hold each batch token's rotation
// ([batch][head_size/2]), shared by every head and every layer.
type rope struct {
	freq, cos, sin []float32
	neox           bool // the pairs are a head's halves, not adjacent values
}

// newRope computes c's frequencies, divided by factors (the model's, nil for
// none), for batches of up to batch tokens.
func newRope(c Config, factors []float32, batch int) rope {
	hs := c.HeadSize()
	r := rope{
		freq: make([]float32, hs/2),
		cos:  make([]float32, batch*hs/2),
		sin:  make([]float32, batch*hs/2),
		neox: c.RopeNeox,
	}
	for j := range r.freq {
		// run.c: freq = 1.0f / powf(10000.0f, head_dim / (float)head_size), head_dim = 2j;
		// llama.cpp divides the angle by rope_freqs[j] where a model has them.
		exp := float32(2*j) / float32(hs)
		r.freq[j] = 1 / float32(math.Pow(c.ropeTheta(), float64(exp)))
		if factors != nil {
			r.freq[j] /= factors[j]
		}
	}
	return r
}

// set computes RoPE's cos and sin for batch token t at position pos (run.c:
// val = pos * freq), once for all layers.
func (r *rope) set(t, pos int) {
	half := len(r.freq)
	cos, sin := r.cos[t*half:(t+1)*half], r.sin[t*half:(t+1)*half]
	for j, f := range r.freq {
		val := float64(float32(pos) * f)
		cos[j] = float32(math.Cos(val))
		sin[j] = float32(math.Sin(val))
	}
}

// rotate applies batch token t's RoPE to every head of vec: each pair of a head
// turns by its angle. The pairs are adjacent (2j, 2j+1), run.c's and llama.cpp's
// "normal" mode, or the halves (j, j+head_size/2) with neox.
func (r *rope) rotate(vec []float32, t int) {
	half := len(r.freq)
	cos, sin := r.cos[t*half:(t+1)*half], r.sin[t*half:(t+1)*half]
	step, dist := 2, 1 // pair j of a head at h: vec[h+step*j] and vec[h+step*j+dist]
	if r.neox {
		step, dist = 1, half
	}
	for h := 0; h < len(vec); h += 2 * half {
		for j := range half {
			i := h + step*j
			v0, v1 := vec[i], vec[i+dist]
			fcr, fci := cos[j], sin[j]
			vec[i] = v0*fcr - v1*fci
			vec[i+dist] = v0*fci + v1*fcr
		}
	}
}
