package gpt

import "github.com/inferpi/inferpi/engine/kernels"

// attention is the layer's CausalSelfAttention for the batch, before c_proj:
// from each token's row of xn, its queries, keys and values (with the value
// residual where the layer has value embeddings); the keys and values go into the
// cache, and each query head's output over the layer's window into the token's
// row of attn. A single token (decoding) takes attentionDecode, a batch
// attentionBatch; both give the same bits.
func (s *RunState) attention() {
	if len(s.job.tokens) == 1 {
		s.attentionDecode()
	} else {
		s.attentionBatch()
	}
}

// attentionBatch reads each of c_q, c_k and c_v once for the batch
// (kernels.MatMul), places every token's keys and values in the cache, since
// token t attends over the keys of tokens 0..t, and then attends, one item per
// token and kv head.
func (s *RunState) attentionBatch() {
	j := &s.job
	h, lw, n := j.m.h, &j.m.w.Layers[j.layer], len(j.tokens)
	qDim, kvDim := h.QDim(), h.KVDim()
	xn := s.xn[:n*h.NEmbd]
	kernels.MatMul(s.q[:n*qDim], lw.Q, xn, n)
	kernels.MatMul(s.k[:n*kvDim], lw.K, xn, n)
	kernels.MatMul(s.v[:n*kvDim], lw.V, xn, n)
	for t := range n {
		s.gates(t)
		for kv := range h.NKVHead {
			s.place(t, kv)
		}
	}
	work := n * min(j.pos+n, h.Windows[j.layer]+1) * qDim // multiply-adds of attention
	kernels.ParallelWork(n*h.NKVHead, work, j.attendStep)
}

// attentionDecode is attention for one token with the projections inside it: xn
// is prepared once for c_q, c_k and c_v (kernels.Input), and each kv head's job
// computes its own rows of q, k and v, places them and attends (decodeHead). That
// is one job per layer instead of two, and the rows are in the core's cache when
// attention reads them.
func (s *RunState) attentionDecode() {
	j := &s.job
	h, lw := j.m.h, &j.m.w.Layers[j.layer]
	d, qDim, kvDim := h.NEmbd, h.QDim(), h.KVDim()
	j.in.Prepare(s.xn[:d], lw.Q.Enc)
	s.gates(0)
	work := min(j.pos+1, h.Windows[j.layer]+1)*qDim + (qDim+2*kvDim)*d // multiply-adds of attention and of the q, k and v rows
	kernels.ParallelWork(h.NKVHead, work, j.decodeStep)
	j.in.Release()
}

// decodeHead is kv head kv's job of attentionDecode: the rows of q, k and v of
// the query heads that share it and of its key and value, placed, then attention.
func (s *RunState) decodeHead(kv int) {
	j := &s.job
	h, lw := j.m.h, &j.m.w.Layers[j.layer]
	hd, groups := h.HeadDim, h.NHead/h.NKVHead
	j.in.Rows(s.q, lw.Q, kv*groups*hd, (kv+1)*groups*hd)
	j.in.Rows(s.k, lw.K, kv*hd, (kv+1)*hd)
	j.in.Rows(s.v, lw.V, kv*hd, (kv+1)*hd)
	s.place(0, kv)
	s.attendHeads(0, kv)
}

// attendItem is item i of attentionBatch's attention: token i/NKVHead, kv head
// i%NKVHead.
func (s *RunState) attendItem(i int) {
	nkv := s.job.m.h.NKVHead
	s.attendHeads(i/nkv, i%nkv)
}

// gates sets batch token t's value-embedding gates and row when the layer has value
// embeddings (value residual: v += scale*sigmoid(gate(xn[:C])) * value_embed[tok],
// one gate per kv head).
func (s *RunState) gates(t int) {
	j := &s.job
	h, l := j.m.h, j.layer
	if !h.ValueEmbeds[l] {
		return
	}
	lw := &j.m.w.Layers[l]
	kernels.MatVec(s.gate[:h.NKVHead], lw.VEGate, row(s.xn, t, h.NEmbd)[:h.VEGateChannels])
	lw.ValueEmbed.Row(j.tokens[t], s.valueEmbed)
}

// place finishes batch token t's query heads that share kv head kv, and its key and
// value: the value residual, rotary, then QK-norm per head and the QK scale; the key
// and value go into the layer's cache. The cache is head-major ([kv head][position]
// [head dim] in each chunk of positions): attention then reads each head's keys and
// values as sequential streams, which the prefetchers follow, instead of a
// head_dim piece of every position's kv_dim values.
func (s *RunState) place(t, kv int) {
	j := &s.job
	m, l, p := j.m, j.layer, j.pos+t
	h := m.h
	hd, groups, eps := h.HeadDim, h.NHead/h.NKVHead, h.NormEps
	qt, kt, vt := row(s.q, t, h.QDim()), row(s.k, t, h.KVDim()), row(s.v, t, h.KVDim())
	if h.ValueEmbeds[l] {
		g := h.VEGateScale * sigmoid(s.gate[kv])
		kernels.Axpy(vt[kv*hd:(kv+1)*hd], g, s.valueEmbed[kv*hd:(kv+1)*hd])
	}
	for hh := kv * groups; hh < (kv+1)*groups; hh++ {
		head := qt[hh*hd : (hh+1)*hd]
		m.rope.rotate(head, p)
		kernels.RMSNorm(head, head, nil, eps)
		kernels.Scale(head, head, nil, h.QKScale)
	}
	head := kt[kv*hd : (kv+1)*hd]
	m.rope.rotate(head, p)
	kernels.RMSNorm(head, head, nil, eps)
	kernels.Scale(head, head, nil, h.QKScale)
	s.cache.Store(l, kv, p, head, vt[kv*hd:(kv+1)*hd])
}

// attendHeads is batch token t's causal attention over the layer's window, for
// the query heads that share kv head kv (GQA: query head hh reads kv head
// hh/groups): at position p = pos+t it sees keys p-window .. p. The heads of
// every token are independent and run in parallel; the query heads sharing a kv
// head go together, so its cache comes from memory once, on one core, read by two
// heads at a time.
func (s *RunState) attendHeads(t, kv int) {
	j := &s.job
	h, l := j.m.h, j.layer
	hd, groups, qDim := h.HeadDim, h.NHead/h.NKVHead, h.QDim()
	p := j.pos + t
	first := max(0, p-h.Windows[l])
	s.cache.AttendHeads(l, kv, first, p-first+1, kv*groups, (kv+1)*groups, s.attnScale,
		func(hh int) (out, q []float32) {
			return s.attn[t*qDim+hh*hd : t*qDim+(hh+1)*hd], s.q[t*qDim+hh*hd : t*qDim+(hh+1)*hd]
		})
}
