package llama

import (
	"math"

	"github.com/inferpi/inferpi/engine/kernels"
)

// RunState holds every activation buffer of one session (run.c's RunState),
// allocated once, and the KV cache.
type RunState struct {
	x      []float32 // residual stream [dim]
	xb     []float32 // normalised input / attention output [dim]
	xb2    []float32 // projection output [dim]
	hb     []float32 // feed-forward hidden [hidden_dim]
	hb2    []float32 // feed-forward gate [hidden_dim]
	q      []float32 // query of the current position [dim]
	att    []float32 // attention scores [n_heads][seq_len]
	logits []float32 // [vocab]
	// keyCache and valueCache are [layer][seq_len][kv_dim]. Position pos of layer l
	// starts at (l*seq_len + pos)*kv_dim.
	keyCache, valueCache []float32
	// ropeFreq[j] is the rotation frequency of pair j inside a head; ropeCos/ropeSin
	// hold the current position's rotation, shared by every head.
	ropeFreq, ropeCos, ropeSin []float32
}

func newRunState(c Config) *RunState {
	hs := c.HeadSize()
	r := &RunState{
		x:          make([]float32, c.Dim),
		xb:         make([]float32, c.Dim),
		xb2:        make([]float32, c.Dim),
		hb:         make([]float32, c.HiddenDim),
		hb2:        make([]float32, c.HiddenDim),
		q:          make([]float32, c.Dim),
		att:        make([]float32, c.NHeads*c.SeqLen),
		logits:     make([]float32, c.VocabSize),
		keyCache:   make([]float32, c.NLayers*c.SeqLen*c.KVDim()),
		valueCache: make([]float32, c.NLayers*c.SeqLen*c.KVDim()),
		ropeFreq:   make([]float32, hs/2),
		ropeCos:    make([]float32, hs/2),
		ropeSin:    make([]float32, hs/2),
	}
	for j := range r.ropeFreq {
		// run.c: freq = 1.0f / powf(10000.0f, head_dim / (float)head_size), head_dim = 2j.
		exp := float32(2*j) / float32(hs)
		r.ropeFreq[j] = 1 / float32(math.Pow(10000, float64(exp)))
	}
	return r
}

// rmsEps is run.c's RMSNorm epsilon: w * x / sqrt(mean(x^2) + 1e-5).
const rmsEps = 1e-5

// cacheBytes is the size of a session's KV cache.
func cacheBytes(c Config) int64 {
	return 2 * 4 * int64(c.NLayers) * int64(c.SeqLen) * int64(c.KVDim())
}

// forward runs token through the transformer at position pos (run.c's forward),
// storing its keys and values in the cache. With wantLogits false the classifier
// is skipped (prompt tokens whose logits nobody reads) and nil is returned.
func forward(w *Weights, c Config, r *RunState, token, pos int, wantLogits bool) []float32 {
	hs := c.HeadSize()
	kvDim := c.KVDim()
	kvMul := c.NHeads / c.NKVHeads // query heads per key/value head
	x := r.x
	w.TokenEmbedding.Row(token, x)
	r.setRotation(pos)
	scale := float32(math.Sqrt(float64(hs)))

	for l := 0; l < c.NLayers; l++ {
		// Attention: rmsnorm, then q, k, v (k and v straight into the cache).
		rmsnorm(r.xb, x, w.RMSAtt[l])
		loff := l * c.SeqLen * kvDim
		k := r.keyCache[loff+pos*kvDim : loff+(pos+1)*kvDim]
		v := r.valueCache[loff+pos*kvDim : loff+(pos+1)*kvDim]
		kernels.MatVec(r.q, w.WQ[l], r.xb)
		kernels.MatVec(k, w.WK[l], r.xb)
		kernels.MatVec(v, w.WV[l], r.xb)
		r.rotate(r.q)
		r.rotate(k)

		// Each query head attends over positions 0..pos of its key/value head.
		for h := 0; h < c.NHeads; h++ {
			q := r.q[h*hs : (h+1)*hs]
			att := r.att[h*c.SeqLen : h*c.SeqLen+pos+1]
			kvOff := loff + (h/kvMul)*hs
			for t := range att {
				kt := r.keyCache[kvOff+t*kvDim : kvOff+t*kvDim+hs]
				att[t] = kernels.Dot(q, kt) / scale
			}
			kernels.Softmax(att)
			out := r.xb[h*hs : (h+1)*hs]
			clear(out)
			for t, a := range att {
				kernels.Axpy(out, a, r.valueCache[kvOff+t*kvDim:kvOff+t*kvDim+hs])
			}
		}
		kernels.MatVec(r.xb2, w.WO[l], r.xb)
		for i := range x {
			x[i] += r.xb2[i]
		}

		// Feed-forward: w2(silu(w1 xn) * (w3 xn)).
		rmsnorm(r.xb, x, w.RMSFFN[l])
		kernels.MatVec(r.hb, w.W1[l], r.xb)
		kernels.MatVec(r.hb2, w.W3[l], r.xb)
		for i, a := range r.hb {
			a *= 1 / (1 + float32(math.Exp(float64(-a)))) // silu
			r.hb[i] = a * r.hb2[i]
		}
		kernels.MatVec(r.xb, w.W2[l], r.hb)
		for i := range x {
			x[i] += r.xb[i]
		}
	}

	if !wantLogits {
		return nil
	}
	rmsnorm(x, x, w.RMSFinal)
	kernels.MatVec(r.logits, w.Classifier, x)
	return r.logits
}

// setRotation computes RoPE's cos and sin for position pos (run.c: val = pos * freq).
func (r *RunState) setRotation(pos int) {
	for j, f := range r.ropeFreq {
		val := float64(float32(pos) * f)
		r.ropeCos[j] = float32(math.Cos(val))
		r.ropeSin[j] = float32(math.Sin(val))
	}
}

// rotate applies RoPE to every head of vec: adjacent pairs (2j, 2j+1) of each head
// turn by the pair's angle (the interleaved convention of run.c).
func (r *RunState) rotate(vec []float32) {
	hs := 2 * len(r.ropeFreq)
	for h := 0; h < len(vec); h += hs {
		for j := range r.ropeFreq {
			i := h + 2*j
			v0, v1 := vec[i], vec[i+1]
			fcr, fci := r.ropeCos[j], r.ropeSin[j]
			vec[i] = v0*fcr - v1*fci
			vec[i+1] = v0*fci + v1*fcr
		}
	}
}

// rmsnorm is run.c's: o = w * (ss * x) with ss = 1.0f / sqrtf(mean(x^2) + 1e-5).
// It stays here rather than in kernels.RMSNorm because run.c rounds twice (sqrtf,
// then the float32 division) where kernels.RMSNorm rounds 1/sqrt once in float64;
// on the llama-tiny fixture that alone moves logits by up to 6e-5 against run.c,
// most of the fixture's 1e-4 budget. It is O(dim), not a hot loop.
func rmsnorm(o, x, w []float32) {
	ss := kernels.Dot(x, x)/float32(len(x)) + rmsEps
	ss = 1 / float32(math.Sqrt(float64(ss)))
	for j := range x {
		o[j] = w[j] * (ss * x[j])
	}
}
