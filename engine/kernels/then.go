package kernels

import "fmt"

// Elementwise steps right after a matrix product (the residual add after an
// output projection, the activation after an up-projection) are cheap, but done
// after the product's job they run on one core while the others wait, over rows
// that have left the cache. MatMulThen and MatMulPairThen hand them to the job: the
// core that computed a chunk of rows applies the step to those rows straight away.

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
	checkMatMul(out, m, x, n)
	DefaultPool().matMulThen([]Matrix{m}, [][]float32{out}, x, n, then)
}

// MatMulPairThen computes MatMul(out0, m0, x, n) and MatMul(out1, m1, x, n), two
// matrices of the same shape over the same input (a gated feed-forward's gate and
// up projections; their encodings may differ), and calls then(lo, hi) as
// MatMulThen does, once rows [lo, hi) of both outputs are final.
func MatMulPairThen(out0, out1 []float32, m0, m1 Matrix, x []float32, n int, then func(lo, hi int)) {
	if m0.Rows != m1.Rows || m0.Cols != m1.Cols {
		panic(fmt.Sprintf("kernels: MatMulPairThen of a %dx%d %v and a %dx%d %v matrix",
			m0.Rows, m0.Cols, m0.Enc, m1.Rows, m1.Cols, m1.Enc))
	}
	checkMatMul(out0, m0, x, n)
	checkMatMul(out1, m1, x, n)
	DefaultPool().matMulThen([]Matrix{m0, m1}, [][]float32{out0, out1}, x, n, then)
}

// matMulThen runs one or two products over the same rows, then the step (none when
// then is nil), as one job: MatVec, MatMul and the two above. Shapes are the
// callers' to check. x is made ready once for both matrices (Input).
//
// Chunks: decoding one token, at least chunkMinBytes of weights (see job.work);
// a batch, whole tiles where there are enough of them, or a share of the rows (a
// batch is n times a MatVec's arithmetic: worth splitting as soon as the rows can
// be shared at all); with a step, multiples of thenAlign. A product too small to
// split runs on the caller without allocating.
func (p *Pool) matMulThen(ms []Matrix, outs [][]float32, x []float32, n int, then func(lo, hi int)) {
	m := ms[0]
	if n == 0 || m.Rows == 0 {
		return
	}
	var encs [2]Encoding
	rowBytes, maxRow := 0, 0 // a row of every matrix; the widest row
	for g, mg := range ms {
		encs[g] = mg.Enc
		rb := mg.Enc.RowBytes(mg.Cols)
		rowBytes += rb
		maxRow = max(maxRow, rb)
	}
	t := productTask{parts: len(ms), n: n, tileRows: max(1, tileBytes(m.Enc)/maxRow), then: then}
	copy(t.ms[:], ms)
	copy(t.outs[:], outs)
	if n == 1 {
		t.in.prepare(kern, x, encs[:len(ms)], nil)
		defer t.in.Release()
	} else {
		b := inputBatches.Get().(*inputBatch)
		defer inputBatches.Put(b)
		b.prepare(kern, x, n, m.Cols, encs[:len(ms)])
		t.ins, t.xq = b.ins, &b.xq
	}
	grain, align := 0, 1
	if n == 1 {
		grain = (chunkMinBytes + rowBytes - 1) / rowBytes
	} else {
		grain = min(t.tileRows, (m.Rows+p.workers-1)/p.workers)
	}
	if then != nil {
		align = thenAlign
		grain = (grain + align - 1) / align * align
	}
	if m.Rows*rowBytes*n < parallelMinBytes || grain >= m.Rows || !p.acquire() {
		t.run(0, m.Rows)
		return
	}
	s := p.newJob()
	s.product = t // the helpers' copy
	s.set(&s.product, m.Rows, grain, align)
	p.runAcquired(&s.job)
}

// productTask computes rows [lo, hi) of one or two products over the same x, for
// each of n tokens, then runs the step (if any) on them.
type productTask struct {
	parts    int
	ms       [2]Matrix
	outs     [2][]float32
	in       Input                  // x made ready (one token)
	ins      []Input                // each token's x made ready (a batch)
	xq       *[actKinds][]*q8Vector // and its quantized forms (inputBatch.xq)
	n        int
	tileRows int
	then     func(lo, hi int)
}

func (t *productTask) run(lo, hi int) {
	for g := range t.parts {
		t.rows(g, lo, hi)
	}
	if t.then != nil {
		t.then(lo, hi)
	}
}

// rows computes rows [lo, hi) of product g. A batch goes a tile of rows at a time,
// every token over it before the next tile is read.
func (t *productTask) rows(g, lo, hi int) {
	m, out := t.ms[g], t.outs[g]
	if t.n == 1 {
		matVecRows(&t.in, out, m, lo, hi)
		return
	}
	for r := lo; r < hi; r += t.tileRows {
		matMulRows(t.ins, t.xq, out, m, r, min(r+t.tileRows, hi))
	}
}

// RowAdder is the step that adds rows [lo, hi) of one vector into another for each
// of n tokens (both hold n rows of the same width): the residual add after an
// output projection. Axpy's fused 1·b + a rounds once, as x + out does. An engine
// keeps one in its session state with Step bound once, and Sets it before each
// product: then the step costs no allocation per call (see Pool.newJob for why
// that matters).
type RowAdder struct {
	x, out []float32
	n      int
}

// Set makes the step add out into x, n tokens' rows each.
func (a *RowAdder) Set(x, out []float32, n int) {
	if len(x) != len(out) || n <= 0 || len(x)%n != 0 {
		panic(fmt.Sprintf("kernels: adding rows of %d values into %d for %d tokens", len(out), len(x), n))
	}
	a.x, a.out, a.n = x, out, n
}

// Step adds rows [lo, hi) of every token's out into its x.
func (a *RowAdder) Step(lo, hi int) {
	width := len(a.x) / a.n
	for t := range a.n {
		Axpy(a.x[t*width+lo:t*width+hi], 1, a.out[t*width+lo:t*width+hi])
	}
}
