package kernels

import "fmt"

// Elementwise steps right after a matrix product (the residual add after an
// output projection, the activation after an up-projection) are cheap, but done
// after the product's job they run on one core while the others wait, over rows
// that have left the cache. MatMulThen and MatMulPairThen hand them to the job: the
// core that computed a chunk of rows applies the step to those rows straight away.
// When decoding llama-50m q4_0 they were about 2% of a token (SwiGLU and two adds
// per layer).

// thenAlign is where the chunks of a job with a step start: a multiple of every
// SIMD width and of BlockSize, so a step that runs elementwise kernels over its
// chunk sends the same elements through the SIMD and reference paths however the
// rows were split (the results do not depend on the scheduling).
const thenAlign = 32

// MatMulThen computes MatMul(out, m, x, n) and calls then(lo, hi) for chunks of
// rows that together cover [0, m.Rows) once, each after rows [lo, hi) of every
// token's output are final. then may only touch what belongs to its rows (out's and
// those of other per-row vectors), as the chunks run at the same time on several
// cores. Chunk boundaries other than 0 and m.Rows are multiples of 32.
func MatMulThen(out []float32, m Matrix, x []float32, n int, then func(lo, hi int)) {
	DefaultPool().matMulThen([]Matrix{m}, [][]float32{out}, x, n, then)
}

// MatMulPairThen computes MatMul(out0, m0, x, n) and MatMul(out1, m1, x, n), two
// matrices of the same shape and encoding over the same input (a gated feed-forward's
// gate and up projections), and calls then(lo, hi) as MatMulThen does, once rows
// [lo, hi) of both outputs are final.
func MatMulPairThen(out0, out1 []float32, m0, m1 Matrix, x []float32, n int, then func(lo, hi int)) {
	if m0.Rows != m1.Rows || m0.Cols != m1.Cols || m0.Enc != m1.Enc {
		panic(fmt.Sprintf("kernels: MatMulPairThen of a %dx%d %v and a %dx%d %v matrix",
			m0.Rows, m0.Cols, m0.Enc, m1.Rows, m1.Cols, m1.Enc))
	}
	DefaultPool().matMulThen([]Matrix{m0, m1}, [][]float32{out0, out1}, x, n, then)
}

// matMulThen runs one or two products over the same rows, then the step, as one job.
func (p *Pool) matMulThen(ms []Matrix, outs [][]float32, x []float32, n int, then func(lo, hi int)) {
	for g, m := range ms {
		checkMatMul(outs[g], m, x, n)
	}
	m := ms[0]
	if n == 0 || m.Rows == 0 {
		return
	}
	k := kern
	t := &thenTask{then: then, parts: len(ms)}
	var xq *q8Vector
	var xb *q8Batch
	if m.Enc.Quantized() { // x quantized once for both matrices
		if n == 1 {
			xq = q8Vectors.Get().(*q8Vector)
			defer q8Vectors.Put(xq)
			k.quantizeX(xq, x, m.Enc)
		} else {
			xb = q8Batches.Get().(*q8Batch)
			defer q8Batches.Put(xb)
			xb.quantize(k, x, n, m.Cols, m.Enc)
		}
	}
	rb := m.Enc.RowBytes(m.Cols)
	var grain int
	for g, mg := range ms {
		if n == 1 {
			t.vec[g] = matVecTask{k: k, out: outs[g], m: mg, x: x, xq: xq}
			t.tasks[g] = &t.vec[g]
		} else {
			mt := &matMulTask{k: k, out: outs[g], m: mg, x: x, n: n, tileRows: max(1, matMulTileBytes/rb)}
			if xb != nil {
				mt.xq = xb.vs
			}
			t.tasks[g] = mt
		}
	}
	if n == 1 { // as MatVec: chunks of at least chunkMinBytes of weights
		grain = (chunkMinBytes + len(ms)*rb - 1) / (len(ms) * rb)
	} else { // as MatMul: a tile, or a share of the rows
		grain = min(max(1, matMulTileBytes/rb), (m.Rows+p.workers-1)/p.workers)
	}
	grain = (grain + thenAlign - 1) / thenAlign * thenAlign
	if len(ms)*m.Bytes()*n < parallelMinBytes || grain >= m.Rows || !p.acquire() {
		t.run(0, m.Rows)
		return
	}
	p.runAcquired(&job{task: t, n: m.Rows, grain: grain, align: thenAlign})
}

// thenTask computes rows [lo, hi) of each of its products, then runs the step on them.
type thenTask struct {
	parts int
	tasks [2]task
	vec   [2]matVecTask // the tasks when decoding one token (allocated with thenTask)
	then  func(lo, hi int)
}

func (t *thenTask) run(lo, hi int) {
	for _, s := range t.tasks[:t.parts] {
		s.run(lo, hi)
	}
	t.then(lo, hi)
}

// AddRows is the step that adds rows [lo, hi) of out into x for each of n tokens (x
// and out hold n rows of the same width): the residual add after an output
// projection. Axpy's fused 1·b + a rounds once, as x + out does.
func AddRows(x, out []float32, n int) func(lo, hi int) {
	if len(x) != len(out) || n <= 0 || len(x)%n != 0 {
		panic(fmt.Sprintf("kernels: AddRows of %d values into %d for %d tokens", len(out), len(x), n))
	}
	width := len(x) / n
	return func(lo, hi int) {
		for t := range n {
			Axpy(x[t*width+lo:t*width+hi], 1, out[t*width+lo:t*width+hi])
		}
	}
}
