package llama

import "github.com/inferpi/inferpi/engine/kernels"

// attention is the layer's attention for the batch (run.c's q, k and v matmuls,
// RoPE, cache write and attention per head): from each token's row of xb, its
// queries, keys and values; the keys and values go into the cache, and each
// query head's output into the token's row of xb2. A single token (decoding)
// takes attentionDecode, a batch attentionBatch; both give the same bits.
func (r *RunState) attention() {
	if r.job.n == 1 {
		r.attentionDecode()
	} else {
		r.attentionBatch()
	}
}

// attentionBatch reads each of wq, wk and wv once for the batch (kernels.MatMul),
// places every token's keys and values in the cache, since token t attends over
// the keys of tokens 0..t, and then attends, one item per token and kv head.
func (r *RunState) attentionBatch() {
	j := &r.job
	c, w, l, n := j.c, j.w, j.layer, j.n
	qDim, kvDim := c.QDim(), c.KVDim()
	xb := r.xb[:n*c.Dim]
	kernels.MatMul(r.q[:n*qDim], w.WQ[l], xb, n)
	kernels.MatMul(r.k[:n*kvDim], w.WK[l], xb, n)
	kernels.MatMul(r.v[:n*kvDim], w.WV[l], xb, n)
	for t := range n {
		for kh := range c.NKVHeads {
			r.place(t, kh)
		}
	}
	work := n * (j.pos + n) * qDim // multiply-adds of attention
	kernels.ParallelWork(n*c.NKVHeads, work, j.attendStep)
}

// attentionDecode is attention for one token with the projections inside it:
// xb is prepared once for wq, wk and wv (kernels.Input), and each kv head's job
// computes its own rows of q, k and v, places them and attends (decodeHead). That
// is one job per layer instead of two, and the rows are in the core's cache when
// attention reads them.
func (r *RunState) attentionDecode() {
	j := &r.job
	c, w, l := j.c, j.w, j.layer
	qDim, kvDim := c.QDim(), c.KVDim()
	j.in.Prepare(r.xb[:c.Dim], w.WQ[l].Enc, w.WK[l].Enc, w.WV[l].Enc)
	work := (j.pos+1)*qDim + (qDim+2*kvDim)*c.Dim // multiply-adds of attention and of the q, k and v rows
	kernels.ParallelWork(c.NKVHeads, work, j.decodeStep)
	j.in.Release()
}

// decodeHead is kv head kh's job of attentionDecode: the rows of q, k and v of
// the query heads that share it and of its key and value, placed, then attention.
func (r *RunState) decodeHead(kh int) {
	j := &r.job
	c, w, l := j.c, j.w, j.layer
	hs := c.HeadSize()
	kvMul := c.NHeads / c.NKVHeads // query heads per key/value head
	j.in.Rows(r.q, w.WQ[l], kh*kvMul*hs, (kh+1)*kvMul*hs)
	j.in.Rows(r.k, w.WK[l], kh*hs, (kh+1)*hs)
	j.in.Rows(r.v, w.WV[l], kh*hs, (kh+1)*hs)
	r.place(0, kh)
	r.attendHeads(0, kh)
}

// attendItem is item i of attentionBatch's attention: token i/NKVHeads, kv head
// i%NKVHeads.
func (r *RunState) attendItem(i int) {
	nkv := r.job.c.NKVHeads
	r.attendHeads(i/nkv, i%nkv)
}

// place finishes batch token t's query heads that share key/value head kh and its
// key and value (biases, q/k norms and rotation, where the model has them), then
// puts the key and value into the layer's cache.
func (r *RunState) place(t, kh int) {
	j := &r.job
	c, w, l := j.c, j.w, j.layer
	hs, qDim, kvDim := c.HeadSize(), c.QDim(), c.KVDim()
	kvMul := c.NHeads / c.NKVHeads
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
	r.rope.rotate(qt, t)
	r.rope.rotate(kt, t)
	r.cache.Store(l, kh, j.pos+t, kt, vt)
}

// attendHeads is batch token t's query heads that share key/value head kh
// attending over positions 0..pos+t of that head. The heads of every token are
// independent, so the items run in parallel; the query heads sharing a key/value
// head go together, so its cache comes from memory once, on one core, read by two
// heads at a time. The output goes to xb2, as xb is the input of the other items'
// rows.
func (r *RunState) attendHeads(t, kh int) {
	j := &r.job
	c, l := j.c, j.layer
	qDim, hs := c.QDim(), c.HeadSize()
	kvMul := c.NHeads / c.NKVHeads
	r.cache.AttendHeads(l, kh, 0, j.pos+t+1, kh*kvMul, (kh+1)*kvMul, r.attnScale,
		func(h int) (out, q []float32) {
			return r.xb2[t*qDim+h*hs : t*qDim+(h+1)*hs], r.q[t*qDim+h*hs : t*qDim+(h+1)*hs]
		})
}
