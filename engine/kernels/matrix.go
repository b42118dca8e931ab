// Package kernels holds the hot loops of every engine: matrix-vector products over
// the supported weight encodings, and the small vector operations around them.
// Engines call only this package for arithmetic over weights, so faster kernels
// (SIMD, more cores, new encodings) need no engine changes.
package kernels

import "fmt"

// Encoding is how a matrix's weights are stored.
type Encoding uint8

const (
	F32 Encoding = iota // IEEE float32, little-endian
	F16                 // IEEE binary16, little-endian
)

func (e Encoding) String() string {
	switch e {
	case F32:
		return "fp32"
	case F16:
		return "fp16"
	}
	return fmt.Sprintf("encoding(%d)", uint8(e))
}

// RowBytes is the storage size of one row of cols weights.
func (e Encoding) RowBytes(cols int) int {
	switch e {
	case F32:
		return 4 * cols
	case F16:
		return 2 * cols
	}
	panic("kernels: unknown encoding " + e.String())
}

// Matrix is a row-major [Rows][Cols] weight matrix viewing its bytes in Data
// (usually a slice of the loaded model file: no copy).
type Matrix struct {
	Rows, Cols int
	Enc        Encoding
	Data       []byte
}

// NewMatrix views data as a rows x cols matrix, checking the size.
func NewMatrix(data []byte, rows, cols int, enc Encoding) (Matrix, error) {
	if rows <= 0 || cols <= 0 {
		return Matrix{}, fmt.Errorf("kernels: bad matrix shape %dx%d", rows, cols)
	}
	need := rows * enc.RowBytes(cols)
	if len(data) != need {
		return Matrix{}, fmt.Errorf("kernels: %dx%d %v matrix needs %d bytes, have %d", rows, cols, enc, need, len(data))
	}
	return Matrix{Rows: rows, Cols: cols, Enc: enc, Data: data}, nil
}

// Bytes is the matrix's storage size.
func (m Matrix) Bytes() int { return len(m.Data) }

// Row decodes row i into dst[:m.Cols] as float32 (embedding lookups).
func (m Matrix) Row(i int, dst []float32) {
	rb := m.Enc.RowBytes(m.Cols)
	decodeRow(m.Enc, m.Data[i*rb:(i+1)*rb], dst[:m.Cols])
}

// MatVec computes out[i] = dot(row i of m, x) for every row.
// len(x) must be m.Cols and len(out) at least m.Rows.
func MatVec(out []float32, m Matrix, x []float32) {
	if len(x) != m.Cols || len(out) < m.Rows {
		panic(fmt.Sprintf("kernels: MatVec shape mismatch: %dx%d matrix, x %d, out %d", m.Rows, m.Cols, len(x), len(out)))
	}
	matVecRows(out, m, x, 0, m.Rows)
}
