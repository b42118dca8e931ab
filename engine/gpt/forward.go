package gpt

import (
	"math"

	"github.com/inferpi/inferpi/engine/kernels"
)

// prefillBatch is how many prompt tokens go through the model together: every
// matrix is read once per batch (kernels.MatMul) instead of once per token.
const prefillBatch = 64

// RunState holds every activation of one session, allocated once, and the KV
// cache, which grows with the positions used. Buffers are named after nanochat's
// gpt.py variables; each holds a batch of up to prefillBatch tokens, token t's at
// [t*width, (t+1)*width) (decoding uses t = 0).
type RunState struct {
	x, x0, xBackout []float32 // residual stream, its value after the embedding, at the backout layer
	xn              []float32 // norm(x), the input of attention and MLP
	q, k, v         []float32 // queries, keys, values
	attn            []float32 // attention output, heads concatenated (input of c_proj)
	proj            []float32 // c_proj outputs before the residual add
	hidden          []float32 // MLP hidden layer
	gate            []float32 // value-embedding gates, one per kv head (and the smear gate)
	valueEmbed      []float32 // one token's value embedding
	logits          []float32 // [vocab], for the batch's last token

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

	// The batch and layer forwardBatch is at, for the steps it hands to the kernels'
	// jobs. The steps are this RunState's methods, bound once (newRunState), and the
	// input is prepared in place: closures and an Input made for every layer were
	// fresh heap objects each time, lines the cores first met from memory where each
	// job starts (see the Llama engine's RunState).
	m                             *Model
	tokens                        []int // a copy of the batch's tokens, in tokenBuf
	tokenBuf                      [prefillBatch]int
	pos                           int // the batch's first position
	layer                         int
	in                            kernels.Input    // the norm's output prepared for q, k and v (decoding)
	residual                      kernels.RowAdder // x += proj
	attendStep, softcapStep       func(i int)
	reluSquaredStep, residualStep func(lo, hi int)
}

// newRunState allocates a session's activations and an empty KV cache of
// context positions.
func newRunState(h *Header, context int) *RunState {
	f := func(n int) []float32 { return make([]float32, n) }
	b := prefillBatch
	s := &RunState{
		x: f(b * h.NEmbd), x0: f(b * h.NEmbd), xBackout: f(h.NEmbd), xn: f(b * h.NEmbd),
		q: f(b * h.QDim()), k: f(b * h.KVDim()), v: f(b * h.KVDim()), attn: f(b * h.QDim()),
		proj: f(b * h.NEmbd), hidden: f(b * h.MLPHidden), gate: f(h.NKVHead + 1),
		valueEmbed: f(h.KVDim()), logits: f(h.VocabSize),
		prevEmbed: f(h.NEmbd), embed: f(h.NEmbd),
		cache: kernels.NewKVCache(h.NLayer, h.NKVHead, h.HeadDim, context, kernels.KVChunk, h.kvEncoding()),
	}
	s.attnScale = float32(1 / math.Sqrt(float64(h.HeadDim)))
	s.attendStep = s.attend
	s.softcapStep = s.softcapChunk
	s.reluSquaredStep = s.reluSquared
	s.residualStep = s.residual.Step
	return s
}

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
	eps := h.NormEps
	n := len(tokens)
	s.m, s.tokens, s.pos = m, append(s.tokenBuf[:0], tokens...), pos
	s.cache.Reserve(pos + n)
	d, qDim, kvDim, hidden := h.NEmbd, h.QDim(), h.KVDim(), h.MLPHidden
	x, x0, xn, proj := s.x[:n*d], s.x0[:n*d], s.xn[:n*d], s.proj[:n*d]
	q, k, v, attn := s.q[:n*qDim], s.k[:n*kvDim], s.v[:n*kvDim], s.attn[:n*qDim]
	hid := s.hidden[:n*hidden]

	// Token embeddings, normed.
	for t, tok := range tokens {
		xt := row(x, t, d)
		w.TokenEmbed.Row(tok, xt)
		kernels.RMSNorm(xt, xt, nil, eps)
	}
	// Smear: each token mixes in the previous token's normed embedding (for the
	// first of the batch, the last one fed before it, kept in prevEmbed). Going
	// backwards, x[t-1] is still unsmeared when token t reads it.
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
	copy(x0, x)

	for l := range h.NLayer {
		s.layer = l
		lw := &w.Layers[l]
		// Learned mix of the residual stream and the embedding.
		rl, xl := w.ResidLambdas[l], w.X0Lambdas[l]
		for i := range x {
			x[i] = rl*x[i] + xl*x0[i]
		}
		s.traceRows(l, 0, x, n)

		// Attention.
		for t := range n {
			kernels.RMSNorm(row(xn, t, d), row(x, t, d), nil, eps)
		}
		if n == 1 { // decoding: each kv head's item computes its own q, k and v rows
			s.in.Prepare(xn, lw.Q.Enc)
			s.gates(0)
		} else {
			kernels.MatMul(q, lw.Q, xn, n)
			kernels.MatMul(k, lw.K, xn, n)
			kernels.MatMul(v, lw.V, xn, n)
			// Token t attends over the keys of tokens 0..t, so all go in first.
			for t := range n {
				s.gates(t)
				for kv := range h.NKVHead {
					s.place(t, kv)
				}
			}
		}
		work := n * min(pos+n, h.Windows[l]+1) * qDim // multiply-adds of attention
		if n == 1 {
			work += (qDim + 2*kvDim) * d // and of the q, k and v rows
		}
		kernels.ParallelWork(n*h.NKVHead, work, s.attendStep)
		if n == 1 {
			s.in.Release()
		}
		s.residual.Set(x, proj, n)
		kernels.MatMulThen(proj, lw.AttnOut, attn, n, s.residualStep) // x += proj
		s.traceRows(l, 1, proj, n)

		// MLP: c_proj(relu(c_fc(xn))²).
		for t := range n {
			kernels.RMSNorm(row(xn, t, d), row(x, t, d), nil, eps)
		}
		kernels.MatMulThen(hid, lw.FC, xn, n, s.reluSquaredStep)
		kernels.MatMulThen(proj, lw.MLPOut, hid, n, s.residualStep) // x += proj
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
	kernels.RMSNorm(last, last, nil, eps)
	s.traceVec(h.NLayer, 0, last)
	if !wantLogits {
		return nil
	}

	// Logits over the real vocabulary (the padding rows were not exported), softcapped.
	kernels.MatVec(s.logits, w.LMHead, last)
	if h.Softcap > 0 {
		// One tanh per vocabulary entry is a visible part of a decoding step:
		// the chunks go in parallel.
		kernels.ParallelWork(softcapChunks(len(s.logits)), 4*len(s.logits), s.softcapStep)
	}
	return s.logits
}

// row is token t's row of a batch's activations of the given width.
func row(a []float32, t, width int) []float32 { return a[t*width : (t+1)*width] }

// gates sets batch token t's value-embedding gates and row when the layer has value
// embeddings (value residual: v += scale*sigmoid(gate(xn[:C])) * value_embed[tok],
// one gate per kv head).
func (s *RunState) gates(t int) {
	h, l := s.m.h, s.layer
	if !h.ValueEmbeds[l] {
		return
	}
	lw := &s.m.w.Layers[l]
	kernels.MatVec(s.gate[:h.NKVHead], lw.VEGate, row(s.xn, t, h.NEmbd)[:h.VEGateChannels])
	lw.ValueEmbed.Row(s.tokens[t], s.valueEmbed)
}

// place finishes batch token t's query heads that share kv head kv, and its key and
// value: the value residual, rotary, then QK-norm per head and the QK scale; the key
// and value go into the layer's cache. The cache is head-major ([kv head][position]
// [head dim] in each chunk of positions): attention then reads each head's keys and
// values as sequential streams, which the prefetchers follow, instead of a 512-byte
// piece of every 3 KB position.
func (s *RunState) place(t, kv int) {
	m, l := s.m, s.layer
	h := m.h
	hd, groups, eps := h.HeadDim, h.NHead/h.NKVHead, h.NormEps
	qt, kt, vt := row(s.q, t, h.QDim()), row(s.k, t, h.KVDim()), row(s.v, t, h.KVDim())
	if h.ValueEmbeds[l] {
		g := h.VEGateScale * sigmoid(s.gate[kv])
		kernels.Axpy(vt[kv*hd:(kv+1)*hd], g, s.valueEmbed[kv*hd:(kv+1)*hd])
	}
	for hh := kv * groups; hh < (kv+1)*groups; hh++ {
		head := qt[hh*hd : (hh+1)*hd]
		m.rope.rotate(head, s.pos+t)
		kernels.RMSNorm(head, head, nil, eps)
		kernels.Scale(head, head, nil, h.QKScale)
	}
	head := kt[kv*hd : (kv+1)*hd]
	m.rope.rotate(head, s.pos+t)
	kernels.RMSNorm(head, head, nil, eps)
	kernels.Scale(head, head, nil, h.QKScale)
	s.cache.Store(l, kv, s.pos+t, head, vt[kv*hd:(kv+1)*hd])
}

// attend is item i of a layer's causal attention over its window: token t =
// i/NKVHead at position p = pos+t sees keys p-window .. p. Heads of every token are
// independent and run in parallel, one item per kv head with the query heads that
// share it (GQA: query head hh reads kv head hh/groups), so its cache comes from
// memory once, on one core, read by two heads at a time. When decoding, the item
// first computes and places its heads' rows of q, k and v (one job per layer
// instead of two).
func (s *RunState) attend(i int) {
	m, l := s.m, s.layer
	h, lw := m.h, &m.w.Layers[l]
	hd, groups, qDim := h.HeadDim, h.NHead/h.NKVHead, h.QDim()
	t, kv := i/h.NKVHead, i%h.NKVHead
	if len(s.tokens) == 1 {
		s.in.Rows(s.q, lw.Q, kv*groups*hd, (kv+1)*groups*hd)
		s.in.Rows(s.k, lw.K, kv*hd, (kv+1)*hd)
		s.in.Rows(s.v, lw.V, kv*hd, (kv+1)*hd)
		s.place(t, kv)
	}
	p := s.pos + t
	first := max(0, p-h.Windows[l])
	s.cache.AttendHeads(l, kv, first, p-first+1, kv*groups, (kv+1)*groups, s.attnScale,
		func(hh int) (out, q []float32) {
			return s.attn[t*qDim+hh*hd : t*qDim+(hh+1)*hd], s.q[t*qDim+hh*hd : t*qDim+(hh+1)*hd]
		})
}

// reluSquared is the step after c_fc: hidden = relu(hidden)² over rows [lo, hi) of
// every token of the batch.
func (s *RunState) reluSquared(lo, hi int) {
	width := s.m.h.MLPHidden
	for t := range s.tokens {
		hid := s.hidden[t*width+lo : t*width+hi]
		for i, a := range hid {
			a = max(a, 0)
			hid[i] = a * a
		}
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
	kernels.Softcap(logits[i*softcapChunk:min((i+1)*softcapChunk, len(logits))], s.m.h.Softcap)
}

// softcapChunk is how many logits go in one of the softcap's parallel items.
const softcapChunk = 4096

func softcapChunks(n int) int { return (n + softcapChunk - 1) / softcapChunk }
