package gpt

import (
	"math"

	"github.com/inferpi/inferpi/engine/kernels"
)

// RunState holds every activation of one session, allocated once, and the KV
// cache. Buffers are named after nanochat's gpt.py variables.
type RunState struct {
	x, x0, xBackout []float32 // residual stream, its value after the embedding, at the backout layer
	xn              []float32 // norm(x), the input of attention and MLP
	q, k, v         []float32 // this position's queries, keys, values
	attn            []float32 // attention output, heads concatenated (input of c_proj)
	proj            []float32 // c_proj outputs before the residual add
	hidden          []float32 // MLP hidden layer
	gate            []float32 // value-embedding gates, one per kv head (and the smear gate)
	valueEmbed      []float32 // this token's value embedding
	scores          []float32 // attention scores over the window
	logits          []float32 // [vocab]

	// Smear mixes the previous token's normed embedding into the current one:
	// prevEmbed is it, embed is the current one kept for the next position.
	prevEmbed, embed []float32
	hasPrev          bool

	keys, values [][]float32 // per layer, [seq_len][kv_dim] flattened

	// trace, when set (by tests), sees the debug activations nanochat's oracle
	// records: per layer the block input, attention output, MLP output, block
	// output (what = 0..3), then the lm_head input (layer = n_layer, what = 0).
	trace func(layer, what int, v []float32)
}

func newRunState(h *Header) *RunState {
	f := func(n int) []float32 { return make([]float32, n) }
	s := &RunState{
		x: f(h.NEmbd), x0: f(h.NEmbd), xBackout: f(h.NEmbd), xn: f(h.NEmbd),
		q: f(h.QDim()), k: f(h.KVDim()), v: f(h.KVDim()), attn: f(h.QDim()),
		proj: f(h.NEmbd), hidden: f(h.MLPHidden), gate: f(h.NKVHead + 1),
		valueEmbed: f(h.KVDim()), scores: f(h.SeqLen), logits: f(h.VocabSize),
		prevEmbed: f(h.NEmbd), embed: f(h.NEmbd),
		keys: make([][]float32, h.NLayer), values: make([][]float32, h.NLayer),
	}
	for l := range h.NLayer {
		s.keys[l] = f(h.SeqLen * h.KVDim())
		s.values[l] = f(h.SeqLen * h.KVDim())
	}
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
	h, w := m.h, m.w
	eps := h.NormEps
	x := s.x

	// Token embedding, normed, then smeared with the previous token's.
	w.TokenEmbed.Row(tok, x)
	kernels.RMSNorm(x, x, nil, eps)
	if h.SmearChannels > 0 {
		copy(s.embed, x) // the next position smears with this, before our own smear
		if s.hasPrev {
			kernels.MatVec(s.gate[:1], w.SmearGate, x[:h.SmearChannels])
			g := w.SmearLambda * sigmoid(s.gate[0])
			kernels.Axpy(x, g, s.prevEmbed)
		}
		s.prevEmbed, s.embed = s.embed, s.prevEmbed
		s.hasPrev = true
	}
	copy(s.x0, x)

	groups := h.NHead / h.NKVHead
	hd := h.HeadDim
	kvDim := h.KVDim()
	scale := float32(1 / math.Sqrt(float64(hd)))
	for l := range h.NLayer {
		lw := &w.Layers[l]
		// Learned mix of the residual stream and the embedding.
		rl, xl := w.ResidLambdas[l], w.X0Lambdas[l]
		for i := range x {
			x[i] = rl*x[i] + xl*s.x0[i]
		}
		s.traceVec(l, 0, x)

		// Attention.
		kernels.RMSNorm(s.xn, x, nil, eps)
		kernels.MatVec(s.q, lw.Q, s.xn)
		kernels.MatVec(s.k, lw.K, s.xn)
		kernels.MatVec(s.v, lw.V, s.xn)
		if h.ValueEmbeds[l] {
			// Value residual: v += scale*sigmoid(gate(xn[:C])) * value_embed[tok], one gate per kv head.
			kernels.MatVec(s.gate[:h.NKVHead], lw.VEGate, s.xn[:h.VEGateChannels])
			lw.ValueEmbed.Row(tok, s.valueEmbed)
			for kh := range h.NKVHead {
				g := h.VEGateScale * sigmoid(s.gate[kh])
				kernels.Axpy(s.v[kh*hd:(kh+1)*hd], g, s.valueEmbed[kh*hd:(kh+1)*hd])
			}
		}
		// Rotary, then QK-norm per head, then the QK scale.
		for hh := range h.NHead {
			head := s.q[hh*hd : (hh+1)*hd]
			m.rope.rotate(head, pos)
			kernels.RMSNorm(head, head, nil, eps)
			scaleVec(head, h.QKScale)
		}
		for kh := range h.NKVHead {
			head := s.k[kh*hd : (kh+1)*hd]
			m.rope.rotate(head, pos)
			kernels.RMSNorm(head, head, nil, eps)
			scaleVec(head, h.QKScale)
		}
		keys, values := s.keys[l], s.values[l]
		copy(keys[pos*kvDim:(pos+1)*kvDim], s.k)
		copy(values[pos*kvDim:(pos+1)*kvDim], s.v)

		// Causal attention over the layer's window: keys pos-window .. pos.
		first := max(0, pos-h.Windows[l])
		for hh := range h.NHead {
			q := s.q[hh*hd : (hh+1)*hd]
			kvOff := (hh / groups) * hd // GQA: query head hh reads kv head hh/groups
			scores := s.scores[:pos-first+1]
			for t := first; t <= pos; t++ {
				scores[t-first] = kernels.Dot(q, keys[t*kvDim+kvOff:t*kvDim+kvOff+hd]) * scale
			}
			kernels.Softmax(scores)
			out := s.attn[hh*hd : (hh+1)*hd]
			clear(out)
			for t := first; t <= pos; t++ {
				kernels.Axpy(out, scores[t-first], values[t*kvDim+kvOff:t*kvDim+kvOff+hd])
			}
		}
		kernels.MatVec(s.proj, lw.AttnOut, s.attn)
		s.traceVec(l, 1, s.proj)
		kernels.Axpy(x, 1, s.proj)

		// MLP: c_proj(relu(c_fc(xn))²).
		kernels.RMSNorm(s.xn, x, nil, eps)
		kernels.MatVec(s.hidden, lw.FC, s.xn)
		for i, v := range s.hidden {
			v = max(v, 0)
			s.hidden[i] = v * v
		}
		kernels.MatVec(s.proj, lw.MLPOut, s.hidden)
		s.traceVec(l, 2, s.proj)
		kernels.Axpy(x, 1, s.proj)
		s.traceVec(l, 3, x)

		if l == h.BackoutLayer {
			copy(s.xBackout, x)
		}
	}

	// Backout: remove part of the mid-network residual, then the final norm.
	if h.BackoutLayer >= 0 {
		kernels.Axpy(x, -w.BackoutLambda, s.xBackout)
	}
	kernels.RMSNorm(x, x, nil, eps)
	s.traceVec(h.NLayer, 0, x)

	// Logits over the real vocabulary (the padding rows were not exported), softcapped.
	kernels.MatVec(s.logits, w.LMHead, x)
	if c := h.Softcap; c > 0 {
		for i, v := range s.logits {
			s.logits[i] = c * float32(math.Tanh(float64(v/c)))
		}
	}
	return s.logits
}

func (s *RunState) traceVec(layer, what int, v []float32) {
	if s.trace != nil {
		s.trace(layer, what, v)
	}
}
