package kernels

import "sync"

// parallelMinBytes is the smallest matrix MatVec splits across cores. Below it the
// wake-up and the final barrier (about half a microsecond with spinning helpers,
// BenchmarkParallelOverhead) cost more than the rows a second core would take over:
// on amd64 two threads broke even between 48 and 96 KiB of fp16 (BenchmarkMatVecSplit).
const parallelMinBytes = 64 << 10

// chunkMinBytes is the smallest chunk of rows a core takes (job.work hands out
// shrinking chunks, down to this), big enough that the wait for a new stream's
// first lines from memory is a small part of it (see job.work).
const chunkMinBytes = 64 << 10

// MatVec computes out[i] = dot(row i of m, x) for every row, splitting the rows
// across the pool's cores when the matrix is big enough to pay for it.
// len(x) must be m.Cols and len(out) at least m.Rows.
//
// For block-quantized matrices x is first quantized to 8-bit blocks exactly as
// llama.cpp's CPU backend quantizes it for that weight type (act.go), and each
// block's dot product is computed in integers: the result carries x's rounding to
// 8 bits as well as the weights', and it is llama.cpp's (see ref.go).
func (p *Pool) MatVec(out []float32, m Matrix, x []float32) {
	checkMatVec(out, m, x)
	p.matMulThen([]Matrix{m}, [][]float32{out}, x, 1, nil)
}

// q8Vectors recycles quantized copies of x between MatVec calls.
var q8Vectors = sync.Pool{New: func() any { return new(q8Vector) }}
