package kernels

import (
	"fmt"
	"sync"
)

// Batched prefill: a prompt's tokens all go through the same matrices, so instead of
// streaming every matrix from memory once per token (MatVec, memory-bound), MatMul
// reads a tile of rows once and multiplies it with every token's activations while
// the tile is still in cache. The arithmetic per row and token is exactly MatVec's
// (the same row kernels, or batch kernels that give their bits to several tokens
// from one pass over the rows, impl.matMulQ8 and matMulQ4K; the same quantization of
// x), so a batched forward pass gives the same bits as feeding the tokens one at a
// time.

// matMulTileBytes is the size of the weight tile that stays in cache while every
// token of the batch passes over it, for the block encodings. The batch kernels
// keep a group of tokens' x in L1 and stream the tile's rows past it, so the tile
// lives in L2 (a Cortex-A72 core's share of the 1 MiB is 256 KiB), and each group's
// x, brought in from further away, serves every row of the tile. A tile is also
// the least work a core takes at a time, and small ones even out the cores' ends.
var matMulTileBytes = 32 << 10

// tileBytes is the tile for rows of enc. The float encodings take two to four
// bytes a weight, so 32 KiB would hold only 16 rows of 512 fp32 weights: theirs is
// four times as large (64 such rows, about what a Q8_0 tile of that width holds).
func tileBytes(enc Encoding) int {
	if enc.Quantized() {
		return matMulTileBytes
	}
	return 4 * matMulTileBytes
}

// MatMul computes, for every token t < n, out[t*m.Rows+i] = dot(row i of m,
// x[t*m.Cols:(t+1)*m.Cols]): n MatVec products sharing one pass over the weights, on
// the default worker pool (see Pool.MatMul). x holds n rows of m.Cols values and out
// at least n rows of m.Rows.
func MatMul(out []float32, m Matrix, x []float32, n int) {
	DefaultPool().MatMul(out, m, x, n)
}

// MatMul is the batched MatVec: out row t is m·x row t, bit for bit what MatVec
// gives for that row alone. Tiles of rows are split across the pool's cores; within
// a tile every token is processed before the next tile is read, so the matrix comes
// from memory once per call rather than once per token. One token is simply MatVec.
func (p *Pool) MatMul(out []float32, m Matrix, x []float32, n int) {
	checkMatMul(out, m, x, n)
	p.matMulThen([]Matrix{m}, [][]float32{out}, x, n, nil)
}

// inputBatch holds each token's Input of a MatMul, with the storage of their
// quantized copies, kept between calls (inputBatches).
type inputBatch struct {
	ins []Input
	vs  [][actKinds]q8Vector
	xq  [actKinds][]*q8Vector // each token's x in each kind's blocks (nil where not prepared)
}

// prepare makes the n rows of x (cols values each) ready for encs as an Input is
// for a single x.
func (b *inputBatch) prepare(k *impl, x []float32, n, cols int, encs []Encoding) {
	if cap(b.vs) < n {
		b.vs = append(b.vs[:cap(b.vs)], make([][actKinds]q8Vector, n-cap(b.vs))...)
	}
	b.vs = b.vs[:n]
	b.ins = grow(b.ins, n)
	for a := range b.xq {
		b.xq[a] = grow(b.xq[a], n)
	}
	for t := range b.ins {
		b.ins[t].prepare(k, x[t*cols:(t+1)*cols], encs, &b.vs[t])
		for a := range b.xq {
			b.xq[a][t] = b.ins[t].xq[a]
		}
	}
}

// inputBatches recycles batches between MatMul calls.
var inputBatches = sync.Pool{New: func() any { return new(inputBatch) }}

// checkMatMul panics on shapes that can only come from a programming error (as
// checkMatVec).
func checkMatMul(out []float32, m Matrix, x []float32, n int) {
	if n < 0 || m.Rows < 0 || m.Enc.CheckCols(m.Cols) != nil || len(m.Data) != m.Rows*m.Enc.RowBytes(m.Cols) ||
		len(x) != n*m.Cols || len(out) < n*m.Rows {
		panic(fmt.Sprintf("kernels: MatMul shape mismatch: %dx%d %v matrix of %d bytes, %d tokens, x %d, out %d",
			m.Rows, m.Cols, m.Enc, len(m.Data), n, len(x), len(out)))
	}
}
