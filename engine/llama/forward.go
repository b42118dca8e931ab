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

// RunState is a session's state for the forward pass, allocated once: run.c's
// activations, the KV cache, which grows with the positions used, and RoPE's
// tables; and the job of the forwardBatch call in progress, which the kernels'
// parallel steps read.
type RunState struct {
	activations
	// cache holds the keys and values of every layer and kv head, head-major
	// within each chunk of positions, so attention reads each head's keys and
	// values as sequential streams (which the prefetchers follow) rather than a
	// piece of every position's kv_dim values; it holds the attention scores too.
	cache *kernels.KVCache
	rope  rope
	// attnScale multiplies the scores: 1/sqrt(head_size) (run.c divides by
	// sqrtf(head_size): within an ulp).
	attnScale float32
	eps       float32 // RMSNorm's epsilon
	job       batchJob
}

// activations are run.c's RunState buffers, each holding a batch of up to
// prefillBatch tokens, token t's at [t*width, (t+1)*width); decoding uses t = 0.
type activations struct {
	x      []float32 // residual stream [batch][dim]
	xb     []float32 // normalised input, projection output [batch][dim]
	xb2    []float32 // attention output [batch][q_dim]
	hb     []float32 // feed-forward hidden [batch][hidden_dim]
	hb2    []float32 // feed-forward gate [batch][hidden_dim]
	q      []float32 // queries [batch][q_dim]
	k, v   []float32 // keys and values [batch][kv_dim], before they go into the cache
	logits []float32 // [vocab], for the batch's last token
}

// batchJob is what the steps forwardBatch hands to the kernels' parallel jobs
// read: the model, the batch, the layer, the input prepared for q, k and v
// (decoding) and the residual add. The steps are RunState's methods, bound once
// (newRunState), and the input and the adder are prepared in place, so a layer
// makes no closure and no Input: each would be a fresh heap object, lines the
// cores meet cold from memory where every job starts.
type batchJob struct {
	w                        *Weights
	c                        Config
	n, pos                   int // the batch's size and first position
	layer                    int
	in                       kernels.Input    // xb prepared for q, k and v (decoding)
	residual                 kernels.RowAdder // x += xb
	attendStep, decodeStep   func(i int)
	swigluStep, residualStep func(lo, hi int)
}

// newRunState allocates a session's activations and an empty KV cache of context
// positions in encoding kv; ropeFactors are the model's (nil for none).
func newRunState(c Config, kv kernels.Encoding, ropeFactors []float32, context int) *RunState {
	b := prefillBatch
	r := &RunState{
		activations: activations{
			x:      make([]float32, b*c.Dim),
			xb:     make([]float32, b*c.Dim),
			xb2:    make([]float32, b*c.QDim()),
			hb:     make([]float32, b*c.HiddenDim),
			hb2:    make([]float32, b*c.HiddenDim),
			q:      make([]float32, b*c.QDim()),
			k:      make([]float32, b*c.KVDim()),
			v:      make([]float32, b*c.KVDim()),
			logits: make([]float32, c.VocabSize),
		},
		cache:     kernels.NewKVCache(c.NLayers, c.NKVHeads, c.HeadSize(), context, kernels.KVChunk, kv),
		rope:      newRope(c, ropeFactors, b),
		attnScale: 1 / float32(math.Sqrt(float64(c.HeadSize()))),
		eps:       c.normEps(),
	}
	j := &r.job
	j.attendStep = r.attendItem
	j.decodeStep = r.decodeHead
	j.swigluStep = r.swiglu
	j.residualStep = j.residual.Step
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
	j := &r.job
	j.w, j.c, j.n, j.pos = w, c, n, pos
	r.cache.Reserve(pos + n)
	dim, qDim, hidden := c.Dim, c.QDim(), c.HiddenDim
	x, xb, xb2, hb, hb2 := r.x[:n*dim], r.xb[:n*dim], r.xb2[:n*qDim], r.hb[:n*hidden], r.hb2[:n*hidden]
	for t, tok := range tokens {
		w.TokenEmbedding.Row(tok, row(x, t, dim))
		r.rope.set(t, pos+t) // once for all layers
	}

	for l := range c.NLayers {
		j.layer = l
		// Attention: x += wo(attention(rmsnorm(x))).
		r.rmsnormRows(xb, x, w.RMSAtt[l])
		r.attention() // xb2: the heads' outputs from xb's q, k and v; k and v into the cache
		j.residual.Set(x, xb, n)
		kernels.MatMulThen(xb, w.WO[l], xb2, n, j.residualStep) // x += xb, on the rows' cores

		// Feed-forward: x += w2(silu(w1 xn) * (w3 xn)), xn = rmsnorm(x).
		r.rmsnormRows(xb, x, w.RMSFFN[l])
		kernels.MatMulPairThen(hb, hb2, w.W1[l], w.W3[l], xb, n, j.swigluStep)
		kernels.MatMulThen(xb, w.W2[l], hb, n, j.residualStep) // x += xb
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

// swiglu is the step after W1 and W3: hb = silu(hb)·hb2 over rows [lo, hi) of
// every token of the batch.
func (r *RunState) swiglu(lo, hi int) {
	hidden := r.job.c.HiddenDim
	for t := range r.job.n {
		kernels.SwiGLU(r.hb[t*hidden+lo:t*hidden+hi], r.hb2[t*hidden+lo:t*hidden+hi])
	}
}

// rmsnormRows sets each token's row of o to rmsnorm of its row of x, with the
// layer's weight w (one row's width).
func (r *RunState) rmsnormRows(o, x, w []float32) {
	width := len(w)
	for t := range len(x) / width {
		rmsnorm(row(o, t, width), row(x, t, width), w, r.eps)
	}
}

// rmsnorm is run.c's: o = w * (ss * x) with ss = 1.0f / sqrtf(mean(x^2) + eps)
// (run.c's eps is 1e-5).
// It stays here rather than in kernels.RMSNorm because run.c rounds twice (sqrtf,
// then the float32 division) where kernels.RMSNorm rounds 1/sqrt once in float64,
// which alone takes most of the tolerance the oracle tests allow against run.c.
// kernels.Scale does the last
// pass, with run.c's two roundings, 8 or 4 values at a time: a decoding step runs
// two per layer on one core.
func rmsnorm(o, x, w []float32, eps float32) {
	ss := kernels.Dot(x, x)/float32(len(x)) + eps
	ss = 1 / float32(math.Sqrt(float64(ss)))
	kernels.Scale(o, x, w, ss)
}
