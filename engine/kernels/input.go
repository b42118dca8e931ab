package kernels

import "fmt"

// An Input is a vector made ready once for products with rows of several
// matrices of one encoding and width (quantized to Q8_0 blocks when the matrices
// are quantized), for work that is split by something other than rows: attention,
// where the item of a key/value head computes its own rows of q, k and v and then
// attends with them, on one core, while they are in its cache.
type Input struct {
	k   *impl
	x   []float32
	enc Encoding
	xq  *q8Vector
}

// NewInput prepares x for matrices of encoding enc and len(x) columns. Release
// returns its buffers.
func NewInput(x []float32, enc Encoding) *Input {
	in := new(Input)
	in.Prepare(x, enc)
	return in
}

// Prepare makes in ready for x as NewInput does, in in's own storage: an Input an
// engine keeps in its session state and prepares for every layer costs no
// allocation. Release it before preparing it again.
func (in *Input) Prepare(x []float32, enc Encoding) {
	in.k, in.x, in.enc, in.xq = kern, x, enc, nil
	if enc.Quantized() {
		in.xq = q8Vectors.Get().(*q8Vector)
		in.k.quantizeX(in.xq, x, enc)
	}
}

// Rows sets out[i] = dot(row i of m, x) for lo <= i < hi, on the calling goroutine,
// with the bits MatVec gives those rows.
func (in *Input) Rows(out []float32, m Matrix, lo, hi int) {
	if m.Enc != in.enc || m.Cols != len(in.x) || lo < 0 || hi > m.Rows || lo > hi || len(out) < hi {
		panic(fmt.Sprintf("kernels: rows [%d,%d) of a %dx%d %v matrix into %d values, for an input of %d prepared for %v",
			lo, hi, m.Rows, m.Cols, m.Enc, len(out), len(in.x), in.enc))
	}
	matVecRows(in.k, out, m, in.x, in.xq, lo, hi)
}

// Release gives the quantized copy back; the Input must not be used afterwards.
func (in *Input) Release() {
	if in.xq != nil {
		q8Vectors.Put(in.xq)
		in.xq = nil
	}
}
