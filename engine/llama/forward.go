package llama

import (
	"math"

	"github.com/inferpi/inferpi/engine/kernels"
)

// prefillBatch is how many prompt tokens go through the model together: every
// matrix is read once per batch (kernels.MatMul) instead of once per token. 64
// tokens make the weight traffic per token a small fraction of a decoding step's,
// for a few MB of activations.
const prefillBatch = 64

// RunState holds every activation buffer of one session (run.c's RunState),
// allocated once, and the KV cache, which grows with the positions used. The
// activations hold a batch of up to prefillBatch tokens, token t's at
// [t*width, (t+1)*width); decoding uses t = 0.
type RunState struct {
	x      []float32 // residual stream [batch][dim]
	xb     []float32 // normalised input, projection output [batch][dim]
	xb2    []float32 // attention output [batch][q_dim]
	hb     []float32 // feed-forward hidden [batch][hidden_dim]
	hb2    []float32 // feed-forward gate [batch][hidden_dim]
	q      []float32 // queries [batch][q_dim]
	k, v   []float32 // keys and values [batch][kv_dim], before they go into the cache
	logits []float32 // [vocab], for the batch's last token
	// cache holds the keys and values of every layer and kv head, head-major
	// within each chunk of positions, so attention reads each head's keys and
	// values as sequential streams (which the prefetchers follow) rather than a
	// piece of every position's kv_dim values; it holds the attention scores too.
	cache *kernels.KVCache
	// ropeFreq[j] is the rotation frequency of pair j inside a head; ropeCos/ropeSin
	// hold each batch token's rotation ([batch][head_size/2]), shared by every head
	// and every layer.
	ropeFreq, ropeCos, ropeSin []float32
	// attnScale multiplies the scores: 1/sqrt(head_size) (run.c divides by
	// sqrtf(head_size): within an ulp).
	attnScale float32
	eps       float32 // RMSNorm's epsilon

	// The layer forwardBatch is at, for the steps it hands to the kernels' jobs.
	// The steps are this RunState's methods, bound once (newRunState), and the input
	// is prepared in place: six closures and an Input made for every layer were
	// fresh heap objects each time, lines the cores first met from memory where each
	// job starts. Without them a llama-50m q4_0 token from memory took 3.5% less
	// (alternating with the old code in one process).
	w                        *Weights
	c                        Config
	n, pos                   int // the batch's size and first position
	layer                    int
	in                       kernels.Input    // the norm's output prepared for q, k and v (decoding)
	residual                 kernels.RowAdder // x += xb
	attendStep               func(i int)
	swigluStep, residualStep func(lo, hi int)
}

// newRunState allocates a session's activations and an empty KV cache of context
// positions in encoding kv; ropeFactors are the model's (nil for none).
func newRunState(c Config, kv kernels.Encoding, ropeFactors []float32, context int) *RunState {
	hs := c.HeadSize()
	b := prefillBatch
	r := &RunState{
		x:        make([]float32, b*c.Dim),
		xb:       make([]float32, b*c.Dim),
		xb2:      make([]float32, b*c.QDim()),
		hb:       make([]float32, b*c.HiddenDim),
		hb2:      make([]float32, b*c.HiddenDim),
		q:        make([]float32, b*c.QDim()),
		k:        make([]float32, b*c.KVDim()),
		v:        make([]float32, b*c.KVDim()),
		logits:   make([]float32, c.VocabSize),
		cache:    kernels.NewKVCache(c.NLayers, c.NKVHeads, hs, context, kernels.KVChunk, kv),
		ropeFreq: make([]float32, hs/2),
		ropeCos:  make([]float32, b*hs/2),
		ropeSin:  make([]float32, b*hs/2),
		eps:      c.normEps(),
	}
	for j := range r.ropeFreq {
		// run.c: freq = 1.0f / powf(10000.0f, head_dim / (float)head_size), head_dim = 2j;
		// llama.cpp divides the angle by rope_freqs[j] where a model has them.
		exp := float32(2*j) / float32(hs)
		r.ropeFreq[j] = 1 / float32(math.Pow(c.ropeTheta(), float64(exp)))
		if ropeFactors != nil {
			r.ropeFreq[j] /= ropeFactors[j]
		}
	}
	r.attnScale = 1 / float32(math.Sqrt(float64(hs)))
	r.attendStep = r.attend
	r.swigluStep = r.swiglu
	r.residualStep = r.residual.Step
	return r
}

// kvBytesPerPosition is what one position takes in a KV cache of encoding kv:
// keys and values of every layer.
func kvBytesPerPosition(c Config, kv kernels.Encoding) int64 {
	return 2 * kernels.KVBytes(int64(c.NLayers)*int64(c.KVDim()), kv)
}

// activationBytes is what a session of context positions takes besides its KV
// cache (of encoding kv): the activations of a batch, the logits, and attention's
// scratch (two rows of scores of the context per core).
func activationBytes(c Config, kv kernels.Encoding, context int) int64 {
	b, hs := int64(prefillBatch), int64(c.HeadSize())
	floats := b*(2*int64(c.Dim)+2*int64(c.QDim())+2*int64(c.HiddenDim)+2*int64(c.KVDim())+hs) +
		int64(c.VocabSize) + hs/2
	return 4*floats + kernels.KVScoresBytes(context, int(hs), kv)
}

// sessionBytesOf is what a session of c's context takes once it is full: its KV
// cache in encoding kv and the activations.
func sessionBytesOf(c Config, kv kernels.Encoding) int64 {
	return int64(c.SeqLen)*kvBytesPerPosition(c, kv) + activationBytes(c, kv, c.SeqLen)
}

// forward runs token through the transformer at position pos (run.c's forward),
// storing its keys and values in the cache. With wantLogits false the classifier
// is skipped (prompt tokens whose logits nobody reads) and nil is returned.
func forward(w *Weights, c Config, r *RunState, token, pos int, wantLogits bool) []float32 {
	return forwardBatch(w, c, r, []int{token}, pos, wantLogits)
}

// forwardBatch runs tokens (at most prefillBatch) through the transformer at
// positions pos, pos+1, ...: run.c's forward for each of them, with every matrix
// read once for the whole batch. Each token's numbers are exactly what forward
// gives it alone: the same operations in the same order, and the matrix products
// of kernels.MatMul are MatVec's bit for bit. Returns the last token's logits, or
// nil when wantLogits is false.
func forwardBatch(w *Weights, c Config, r *RunState, tokens []int, pos int, wantLogits bool) []float32 {
	n := len(tokens)
	r.w, r.c, r.n, r.pos = w, c, n, pos
	r.cache.Reserve(pos + n)
	dim, qDim, hidden, kvDim := c.Dim, c.QDim(), c.HiddenDim, c.KVDim()
	x, xb, xb2, q := r.x[:n*dim], r.xb[:n*dim], r.xb2[:n*qDim], r.q[:n*qDim]
	k, v := r.k[:n*kvDim], r.v[:n*kvDim]
	hb, hb2 := r.hb[:n*hidden], r.hb2[:n*hidden]
	for t, tok := range tokens {
		w.TokenEmbedding.Row(tok, row(x, t, dim))
	}
	for t := range n {
		r.setRotation(t, pos+t)
	}

	for l := 0; l < c.NLayers; l++ {
		r.layer = l
		// Attention: rmsnorm, then q, k, v; k and v go into the cache, head by head.
		for t := range n {
			rmsnorm(row(xb, t, dim), row(x, t, dim), w.RMSAtt[l], r.eps)
		}
		if n == 1 { // decoding: each key/value head's item computes its own q, k and v rows
			r.in.Prepare(xb, w.WQ[l].Enc, w.WK[l].Enc, w.WV[l].Enc)
		} else {
			kernels.MatMul(q, w.WQ[l], xb, n)
			kernels.MatMul(k, w.WK[l], xb, n)
			kernels.MatMul(v, w.WV[l], xb, n)
			// Token t attends over the keys of tokens 0..t, so all go in first.
			for t := range n {
				for kh := range c.NKVHeads {
					r.place(t, kh)
				}
			}
		}
		work := n * (pos + n) * qDim // multiply-adds of attention
		if n == 1 {
			work += (qDim + 2*kvDim) * dim // and of the q, k and v rows
		}
		kernels.ParallelWork(n*c.NKVHeads, work, r.attendStep)
		if n == 1 {
			r.in.Release()
		}
		r.residual.Set(x, xb, n)
		kernels.MatMulThen(xb, w.WO[l], xb2, n, r.residualStep) // x += xb, on the rows' cores

		// Feed-forward: w2(silu(w1 xn) * (w3 xn)).
		for t := range n {
			rmsnorm(row(xb, t, dim), row(x, t, dim), w.RMSFFN[l], r.eps)
		}
		kernels.MatMulPairThen(hb, hb2, w.W1[l], w.W3[l], xb, n, r.swigluStep)
		kernels.MatMulThen(xb, w.W2[l], hb, n, r.residualStep) // x += xb
	}

	if !wantLogits {
		return nil
	}
	last := row(x, n-1, dim)
	rmsnorm(last, last, w.RMSFinal, r.eps)
	kernels.MatVec(r.logits, w.Classifier, last)
	return r.logits
}

// row is token t's row of a batch's activations of the given width.
func row(v []float32, t, width int) []float32 { return v[t*width : (t+1)*width] }

// place finishes batch token t's query heads that share key/value head kh and its
// key and value (biases, q/k norms and rotation, where the model has them), then
// puts the key and value into the layer's cache.
func (r *RunState) place(t, kh int) {
	c, w, l := r.c, r.w, r.layer
	hs, qDim, kvDim := c.HeadSize(), c.QDim(), c.KVDim()
	kvMul := c.NHeads / c.NKVHeads // query heads per key/value head
	qlo, qhi, klo, khi := kh*kvMul*hs, (kh+1)*kvMul*hs, kh*hs, (kh+1)*hs
	qt, kt, vt := row(r.q, t, qDim)[qlo:qhi], row(r.k, t, kvDim)[klo:khi], row(r.v, t, kvDim)[klo:khi]
	if w.BQ != nil {
		kernels.Axpy(qt, 1, w.BQ[l][qlo:qhi])
		kernels.Axpy(kt, 1, w.BK[l][klo:khi])
		kernels.Axpy(vt, 1, w.BV[l][klo:khi])
	}
	if w.QNorm != nil {
		for h := 0; h < len(qt); h += hs {
			rmsnorm(qt[h:h+hs], qt[h:h+hs], w.QNorm[l], r.eps)
		}
		rmsnorm(kt, kt, w.KNorm[l], r.eps)
	}
	r.rotate(qt, t)
	r.rotate(kt, t)
	r.cache.Store(l, kh, r.pos+t, kt, vt)
}

// attend is item i of a layer's attention: token i/NKVHeads's query heads that share
// key/value head i%NKVHeads attend over positions 0..pos+t of that head. The heads
// of every token are independent, so the items run in parallel; the query heads
// sharing a key/value head go together, so its cache comes from memory once, on one
// core, read by two heads at a time. When decoding, the item first computes its
// heads' rows of q, k and v and places them: one job per layer instead of two, and
// the rows are in the core's cache when attention reads them. The output goes to
// xb2, as xb is the input of the other items' rows.
func (r *RunState) attend(i int) {
	c, w, l := r.c, r.w, r.layer
	qDim, hs := c.QDim(), c.HeadSize()
	kvMul := c.NHeads / c.NKVHeads
	t, kh := i/c.NKVHeads, i%c.NKVHeads
	if r.n == 1 {
		r.in.Rows(r.q, w.WQ[l], kh*kvMul*hs, (kh+1)*kvMul*hs)
		r.in.Rows(r.k, w.WK[l], kh*hs, (kh+1)*hs)
		r.in.Rows(r.v, w.WV[l], kh*hs, (kh+1)*hs)
		r.place(t, kh)
	}
	r.cache.AttendHeads(l, kh, 0, r.pos+t+1, kh*kvMul, (kh+1)*kvMul, r.attnScale,
		func(h int) (out, q []float32) {
			return r.xb2[t*qDim+h*hs : t*qDim+(h+1)*hs], r.q[t*qDim+h*hs : t*qDim+(h+1)*hs]
		})
}

// swiglu is the step after W1 and W3: hb = silu(hb)·hb2 over rows [lo, hi) of
// every token of the batch.
func (r *RunState) swiglu(lo, hi int) {
	hidden := r.c.HiddenDim
	for t := range r.n {
		kernels.SwiGLU(r.hb[t*hidden+lo:t*hidden+hi], r.hb2[t*hidden+lo:t*hidden+hi])
	}
}

// setRotation computes RoPE's cos and sin for batch token t at position pos
// (run.c: val = pos * freq), once for all layers.
func (r *RunState) setRotation(t, pos int) {
	half := len(r.ropeFreq)
	cos, sin := r.ropeCos[t*half:(t+1)*half], r.ropeSin[t*half:(t+1)*half]
	for j, f := range r.ropeFreq {
		val := float64(float32(pos) * f)
		cos[j] = float32(math.Cos(val))
		sin[j] = float32(math.Sin(val))
	}
}

// rotate applies batch token t's RoPE to every head of vec: each pair of a head
// turns by its angle. The pairs are adjacent (2j, 2j+1), run.c's and llama.cpp's
// "normal" mode, or the halves (j, j+head_size/2) with RopeNeox.
func (r *RunState) rotate(vec []float32, t int) {
	half := len(r.ropeFreq)
	cos, sin := r.ropeCos[t*half:(t+1)*half], r.ropeSin[t*half:(t+1)*half]
	step, dist := 2, 1 // pair j of a head at h: vec[h+step*j] and vec[h+step*j+dist]
	if r.c.RopeNeox {
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

// rmsnorm is run.c's: o = w * (ss * x) with ss = 1.0f / sqrtf(mean(x^2) + eps)
// (run.c's eps is 1e-5).
// It stays here rather than in kernels.RMSNorm because run.c rounds twice (sqrtf,
// then the float32 division) where kernels.RMSNorm rounds 1/sqrt once in float64;
// on the llama-tiny fixture that alone moves logits by up to 6e-5 against run.c,
// most of the fixture's 1e-4 budget. kernels.Scale does the last pass, with run.c's
// two roundings, 8 or 4 values at a time (a decoding step runs 2 per layer on one
// core: 0.56 -> 0.09 µs each for 512 values here).
func rmsnorm(o, x, w []float32, eps float32) {
	ss := kernels.Dot(x, x)/float32(len(x)) + eps
	ss = 1 / float32(math.Sqrt(float64(ss)))
	kernels.Scale(o, x, w, ss)
}
