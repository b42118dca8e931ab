package kernels

// A group of matrices that read the same input (attention's q, k and v; a SwiGLU's
// two up-projections) can share one trip through the worker pool. Decoding one
// token is a long run of small matrix-vector products, and every pool job costs a
// wake-up and a final barrier; for GPT2-286M that is 85 jobs per token, so doing
// q, k and v as one saves a quarter of them.

// MatMulGroup computes MatMul(outs[g], ms[g], x, n) for every g. All matrices take
// the same input (same Cols and, for quantized ones, the same encoding). The results
// are MatMul's bit for bit; for one token the rows of all matrices are split across
// the pool as one job.
func MatMulGroup(outs [][]float32, ms []Matrix, x []float32, n int) {
	DefaultPool().MatMulGroup(outs, ms, x, n)
}

// MatMulGroup is the pool's MatMulGroup.
func (p *Pool) MatMulGroup(outs [][]float32, ms []Matrix, x []float32, n int) {
	if len(outs) != len(ms) {
		panic("kernels: MatMulGroup: outputs and matrices differ in number")
	}
	if n != 1 || !groupable(ms) {
		for g := range ms {
			p.MatMul(outs[g], ms[g], x, n)
		}
		return
	}
	t := &groupTask{k: kern, x: x}
	total, bytes := 0, 0
	for g, m := range ms {
		checkMatVec(outs[g], m, x)
		t.ends[g] = total + m.Rows
		t.outs[g], t.ms[g] = outs[g], m
		total += m.Rows
		bytes += m.Bytes()
	}
	t.n = len(ms)
	if ms[0].Enc.Quantized() {
		xq := q8Vectors.Get().(*q8Vector)
		defer q8Vectors.Put(xq)
		t.k.quantizeX(xq, x, ms[0].Enc)
		t.xq = xq
	}
	rb := ms[0].Enc.RowBytes(ms[0].Cols)
	grain := (chunkMinBytes + rb - 1) / rb
	if bytes < parallelMinBytes || grain >= total || !p.acquire() {
		t.run(0, total)
		return
	}
	p.runAcquired(&job{task: t, n: total, grain: grain})
}

const maxGroup = 4

// groupable: up to maxGroup matrices of one encoding and width.
func groupable(ms []Matrix) bool {
	if len(ms) == 0 || len(ms) > maxGroup {
		return false
	}
	for _, m := range ms[1:] {
		if m.Enc != ms[0].Enc || m.Cols != ms[0].Cols {
			return false
		}
	}
	return true
}

// groupTask runs rows [lo, hi) of the group's concatenated rows.
type groupTask struct {
	k    *impl
	x    []float32
	xq   *q8Vector
	n    int
	ends [maxGroup]int // cumulative row counts
	outs [maxGroup][]float32
	ms   [maxGroup]Matrix
}

func (t *groupTask) run(lo, hi int) {
	start := 0
	for g := 0; g < t.n && lo < hi; g++ {
		end := t.ends[g]
		if lo < end {
			e := min(hi, end)
			matVecRows(t.k, t.outs[g], t.ms[g], t.x, t.xq, lo-start, e-start)
			lo = e
		}
		start = end
	}
}
