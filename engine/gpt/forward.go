package gpt

import (
	"math"

	"github.com/inferpi/inferpi/engine/kernels"
)

// prefillBatch is how many prompt tokens go through the model together: every
// matrix is read once per batch (kernels.MatMul) instead of once per token.
const prefillBatch = 64

// RunState is a session's state for the forward pass, allocated once: the
// activations, the smear's embeddings carried from one call to the next, and the
// KV cache, which grows with the positions used; and the job of the forwardBatch
// call in progress, which the kernels' parallel steps read. The rotary tables
// are the model's (Model.rope), shared by its sessions.
type RunState struct {
	activations

	// Smear mixes the previous token's normed embedding into the current one:
	// prevEmbed is it, embed is the current one kept for the next position.
	prevEmbed, embed []float32
	hasPrev          bool

	// cache holds the keys and values of every layer, [n_kv_head][position]
	// [head_dim] within each chunk of positions; fp32, or fp16 for q4_0 weights
	// (kernels.KVEncodingFor). It holds the attention scores too.
	cache     *kernels.KVCache
	attnScale float32 // multiplies the scores: 1/sqrt(head_dim)

	// trace, when set (by tests), sees the debug activations nanochat's oracle
	// records: per layer the block input, attention output, MLP output, block
	// output (what = 0..3), then the lm_head input (layer = n_layer, what = 0).
	// Within a batch it sees every token's vector of one kind before the next kind.
	trace func(layer, what int, v []float32)

	job batchJob
}

// activations are the buffers of GPT.forward, named after nanochat's gpt.py
// variables; each holds a batch of up to prefillBatch tokens, token t's at
// [t*width, (t+1)*width) (decoding uses t = 0).
type activations struct {
	x, x0, xBackout []float32 // residual stream, its value after the embedding, at the backout layer
	xn              []float32 // norm(x), the input of attention and MLP
	q, k, v         []float32 // queries, keys, values
	attn            []float32 // attention output, heads concatenated (input of c_proj)
	proj            []float32 // c_proj outputs before the residual add
	hidden          []float32 // MLP hidden layer
	gate            []float32 // value-embedding gates, one per kv head (and the smear gate)
	valueEmbed      []float32 // one token's value embedding
	logits          []float32 // [vocab], for the batch's last token
}

// batchJob is what the steps forwardBatch hands to the kernels' parallel jobs
// read: the model, the batch, the layer, the input prepared for q, k and v
// (decoding) and the residual add. The steps are RunState's methods, bound once
// (newRunState), and the input and the adder are prepared in place, so a layer
// makes no closure and no Input: each would be a fresh heap object, lines the
// cores meet cold from memory where every job starts.
type batchJob struct {
	m                             *Model
	tokens                        []int // a copy of the batch's tokens, in tokenBuf
	tokenBuf                      [prefillBatch]int
	pos                           int // the batch's first position
	layer                         int
	in                            kernels.Input    // xn prepared for q, k and v (decoding)
	residual                      kernels.RowAdder // x += proj
	attendStep, decodeStep        func(i int)
	softcapStep                   func(i int)
	reluSquaredStep, residualStep func(lo, hi int)
}

// newRunState allocates a session's activations and an empty KV cache of
// context positions.
func newRunState(h *Header, context int) *RunState {
	f := func(n int) []float32 { return make([]float32, n) }
	b := prefillBatch
	s := &RunState{
		activations: activations{
			x: f(b * h.NEmbd), x0: f(b * h.NEmbd), xBackout: f(h.NEmbd), xn: f(b * h.NEmbd),
			q: f(b * h.QDim()), k: f(b * h.KVDim()), v: f(b * h.KVDim()), attn: f(b * h.QDim()),
			proj: f(b * h.NEmbd), hidden: f(b * h.MLPHidden), gate: f(h.NKVHead + 1),
			valueEmbed: f(h.KVDim()), logits: f(h.VocabSize),
		},
		prevEmbed: f(h.NEmbd), embed: f(h.NEmbd),
		cache:     kernels.NewKVCache(h.NLayer, h.NKVHead, h.HeadDim, context, kernels.KVChunk, h.kvEncoding()),
		attnScale: float32(1 / math.Sqrt(float64(h.HeadDim))),
	}
	j := &s.job
	j.attendStep = s.attendItem
	j.decodeStep = s.decodeHead
	j.softcapStep = s.softcapChunk
	j.reluSquaredStep = s.reluSquared
	j.residualStep = j.residual.Step
	return s
}

// forward runs token tok at position pos through the model, filling the KV cache
// at pos, and returns the logits for the next token (a view into the run state).
// It follows GPT.forward in nanochat/gpt.py for one position with a KV cache.
func (m *Model) forward(s *RunState, tok, pos int) []float32 {
	return m.forwardBatch(s, []int{tok}, pos, true)
}

// forwardBatch runs tokens (at most prefillBatch) at positions pos, pos+1, ...,
// each exactly as forward would alone (the same operations in the same order;
// kernels.MatMul is MatVec bit for bit), with every matrix read once for the
// batch. It returns the last token's logits, or nil when wantLogits is false.
func (m *Model) forwardBatch(s *RunState, tokens []int, pos int, wantLogits bool) []float32 {
	h, w := m.h, m.w
	n := len(tokens)
	j := &s.job
	j.m, j.tokens, j.pos = m, append(j.tokenBuf[:0], tokens...), pos
	s.cache.Reserve(pos + n)
	d, qDim, hidden := h.NEmbd, h.QDim(), h.MLPHidden
	x, x0, xn, proj := s.x[:n*d], s.x0[:n*d], s.xn[:n*d], s.proj[:n*d]
	attn, hid := s.attn[:n*qDim], s.hidden[:n*hidden]

	s.embedTokens() // x = x0 = smear(norm(wte(tokens)))

	for l := range h.NLayer {
		j.layer = l
		lw := &w.Layers[l]
		// Learned mix of the residual stream and the embedding.
		rl, xl := w.ResidLambdas[l], w.X0Lambdas[l]
		for i := range x {
			x[i] = rl*x[i] + xl*x0[i]
		}
		s.traceRows(l, 0, x, n)

		// Attention: x += c_proj(attention(norm(x))).
		s.normRows(xn, x)
		s.attention() // attn: the heads' outputs from xn's q, k and v; k and v into the cache
		j.residual.Set(x, proj, n)
		kernels.MatMulThen(proj, lw.AttnOut, attn, n, j.residualStep) // x += proj, on the rows' cores
		s.traceRows(l, 1, proj, n)

		// MLP: x += c_proj(relu(c_fc(norm(x)))²).
		s.normRows(xn, x)
		kernels.MatMulThen(hid, lw.FC, xn, n, j.reluSquaredStep)
		kernels.MatMulThen(proj, lw.MLPOut, hid, n, j.residualStep) // x += proj
		s.traceRows(l, 2, proj, n)
		s.traceRows(l, 3, x, n)

		if l == h.BackoutLayer {
			copy(s.xBackout, row(x, n-1, d)) // only the last token goes on to the logits
		}
	}
	if !wantLogits && s.trace == nil {
		return nil
	}

	// Backout: remove part of the mid-network residual, then the final norm; for
	// the last token, the only one whose logits are wanted.
	last := row(x, n-1, d)
	if h.BackoutLayer >= 0 {
		kernels.Axpy(last, -w.BackoutLambda, s.xBackout)
	}
	kernels.RMSNorm(last, last, nil, h.NormEps)
	s.traceVec(h.NLayer, 0, last)
	if !wantLogits {
		return nil
	}

	// Logits over the real vocabulary (model.bin holds no padding rows), softcapped.
	kernels.MatVec(s.logits, w.LMHead, last)
	if h.Softcap > 0 {
		// One tanh per vocabulary entry is a visible part of a decoding step:
		// the chunks go in parallel.
		kernels.ParallelWork(softcapChunks(len(s.logits)), 4*len(s.logits), j.softcapStep)
	}
	return s.logits
}

// embedTokens sets x and x0 to the batch's token embeddings, normed, then
// smeared: each token mixes in the previous token's normed embedding (for the
// first of the batch, the last one fed before it, kept in prevEmbed).
func (s *RunState) embedTokens() {
	j := &s.job
	h, w := j.m.h, j.m.w
	d, n := h.NEmbd, len(j.tokens)
	x := s.x[:n*d]
	for t, tok := range j.tokens {
		xt := row(x, t, d)
		w.TokenEmbed.Row(tok, xt)
		kernels.RMSNorm(xt, xt, nil, h.NormEps)
	}
	// Going backwards, x[t-1] is still unsmeared when token t reads it.
	if h.SmearChannels > 0 {
		copy(s.embed, row(x, n-1, d)) // the next position smears with this
		for t := n - 1; t >= 0; t-- {
			prev := s.prevEmbed
			if t > 0 {
				prev = row(x, t-1, d)
			} else if !s.hasPrev {
				break
			}
			xt := row(x, t, d)
			kernels.MatVec(s.gate[:1], w.SmearGate, xt[:h.SmearChannels])
			g := w.SmearLambda * sigmoid(s.gate[0])
			kernels.Axpy(xt, g, prev)
		}
		s.prevEmbed, s.embed = s.embed, s.prevEmbed
		s.hasPrev = true
	}
	copy(s.x0[:n*d], x)
}

// row is token t's row of a batch's activations of the given width.
func row(a []float32, t, width int) []float32 { return a[t*width : (t+1)*width] }

// reluSquared is the step after c_fc: hidden = relu(hidden)² over rows [lo, hi) of
// every token of the batch.
func (s *RunState) reluSquared(lo, hi int) {
	width := s.job.m.h.MLPHidden
	for t := range s.job.tokens {
		hid := s.hidden[t*width+lo : t*width+hi]
		for i, a := range hid {
			a = max(a, 0)
			hid[i] = a * a
		}
	}
}

// normRows sets each token's row of xn to norm(its row of x).
func (s *RunState) normRows(xn, x []float32) {
	h := s.job.m.h
	for t := range len(s.job.tokens) {
		kernels.RMSNorm(row(xn, t, h.NEmbd), row(x, t, h.NEmbd), nil, h.NormEps)
	}
}

// traceRows hands each of the n token rows of v to the trace.
func (s *RunState) traceRows(layer, what int, v []float32, n int) {
	if s.trace == nil {
		return
	}
	width := len(v) / n
	for t := range n {
		s.trace(layer, what, v[t*width:(t+1)*width])
	}
}

func (s *RunState) traceVec(layer, what int, v []float32) {
	if s.trace != nil {
		s.trace(layer, what, v)
	}
}

// softcapChunk is chunk i of the logits' softcap (softcapChunks of them): every
// logit v becomes c·tanh(v/c) (kernels.Softcap: float32 tanh, as torch computes it).
func (s *RunState) softcapChunk(i int) {
	logits := s.logits
	kernels.Softcap(logits[i*softcapChunk:min((i+1)*softcapChunk, len(logits))], s.job.m.h.Softcap)
}

// softcapChunk is how many logits go in one of the softcap's parallel items.
const softcapChunk = 4096

func softcapChunks(n int) int { return (n + softcapChunk - 1) / softcapChunk }
