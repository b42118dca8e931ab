// Package kernels holds the hot loops of every engine: matrix-vector products over
// the supported weight encodings, and the small vector operations around them.
// Engines call only this package for arithmetic over weights, so faster kernels
// (SIMD, more cores, new encodings) need no engine changes.
//
// Every kernel has a pure-Go reference (ref.go) that defines its result; the SIMD
// versions (AVX2/FMA/F16C on amd64, NEON on arm64) are tested against it and chosen
// at start-up (impl.go). MatVec splits big matrices across a worker pool (pool.go).
package kernels

import (
	"fmt"
	"math"
	"strings"
)

// Encoding is how a matrix's weights are stored.
type Encoding uint8

const (
	F32  Encoding = iota // IEEE float32, little-endian
	F16                  // IEEE binary16, little-endian
	Q8_0                 // GGUF Q8_0 blocks: fp16 scale d, then 32 int8; weight = q * d
	Q4_0                 // GGUF Q4_0 blocks: fp16 scale d, then 16 bytes of nibbles; weight = (q - 8) * d
)

// Encodings lists every encoding, in the order of their numeric values.
var Encodings = []Encoding{F32, F16, Q8_0, Q4_0}

// BlockSize is the number of weights in one Q8_0 or Q4_0 block (GGUF's QK8_0 = QK4_0 = 32).
// Rows of a quantized matrix hold a whole number of blocks.
const BlockSize = 32

// Bytes per block, as in ggml-common.h: block_q8_0 {ggml_half d; int8_t qs[32]} and
// block_q4_0 {ggml_half d; uint8_t qs[16]}, packed with no padding.
const (
	q8BlockBytes = 2 + BlockSize
	q4BlockBytes = 2 + BlockSize/2
)

func (e Encoding) String() string {
	switch e {
	case F32:
		return "fp32"
	case F16:
		return "fp16"
	case Q8_0:
		return "q8_0"
	case Q4_0:
		return "q4_0"
	}
	return fmt.Sprintf("encoding(%d)", uint8(e))
}

// ParseEncoding reads the names String returns ("fp32", "fp16", "q8_0", "q4_0"), as used
// by the exporters' --dtype flag. Case does not matter; "f32" and "f16" are accepted too.
func ParseEncoding(s string) (Encoding, error) {
	switch strings.ToLower(s) {
	case "fp32", "f32":
		return F32, nil
	case "fp16", "f16":
		return F16, nil
	case "q8_0":
		return Q8_0, nil
	case "q4_0":
		return Q4_0, nil
	}
	return 0, fmt.Errorf("kernels: unknown weight encoding %q (want fp32, fp16, q8_0 or q4_0)", s)
}

// Valid reports whether e is one of the encodings this package implements.
func (e Encoding) Valid() bool { return e <= Q4_0 }

// Quantized reports whether e stores blocks of BlockSize weights with a shared scale.
func (e Encoding) Quantized() bool { return e == Q8_0 || e == Q4_0 }

// CheckCols reports whether a row of cols weights can be stored in e: quantized
// encodings need a whole number of blocks.
func (e Encoding) CheckCols(cols int) error {
	switch {
	case !e.Valid():
		return fmt.Errorf("kernels: unknown weight encoding %v", e)
	case cols <= 0:
		return fmt.Errorf("kernels: %v row of %d columns", e, cols)
	case e.Quantized() && cols%BlockSize != 0:
		return fmt.Errorf("kernels: %v needs columns in multiples of %d, have %d", e, BlockSize, cols)
	}
	return nil
}

// RowBytes is the storage size of one row of cols weights. It panics for an unknown
// encoding or a quantized row that is not a whole number of blocks; loaders should
// use MatrixBytes, which returns an error instead.
func (e Encoding) RowBytes(cols int) int {
	switch e {
	case F32:
		return 4 * cols
	case F16:
		return 2 * cols
	case Q8_0, Q4_0:
		if cols%BlockSize != 0 {
			panic(fmt.Sprintf("kernels: %v row of %d columns is not a whole number of %d-weight blocks", e, cols, BlockSize))
		}
		return cols / BlockSize * blockBytes(e)
	}
	panic("kernels: unknown encoding " + e.String())
}

// MatrixBytes is the storage size of a rows x cols matrix in e, or an error naming the
// problem when the shape is impossible (non-positive, a partial block, or too big to
// address). Loaders use it to check a header against the file before slicing it.
func (e Encoding) MatrixBytes(rows, cols int) (int, error) {
	if rows <= 0 {
		return 0, fmt.Errorf("kernels: %v matrix with %d rows", e, rows)
	}
	if err := e.CheckCols(cols); err != nil {
		return 0, err
	}
	// 4 bytes per weight is the most any encoding needs: bound the product first.
	if cols > math.MaxInt32 || rows > math.MaxInt/4/cols {
		return 0, fmt.Errorf("kernels: %dx%d %v matrix is too large", rows, cols, e)
	}
	return rows * e.RowBytes(cols), nil
}

// Matrix is a row-major [Rows][Cols] weight matrix over its bytes in Data (usually
// a slice of the loaded model file: no copy). Quantized rows are held in the
// kernels' layout (layout.go), which NewMatrix makes; build matrices only with it.
type Matrix struct {
	Rows, Cols int
	Enc        Encoding
	Data       []byte
}

// NewMatrix makes data, as a model file stores it, a rows x cols matrix, checking
// the shape and the size. It takes data over: Q8_0 and Q4_0 rows are rearranged in
// place into the kernels' layout (layout.go), so data must not be read as file
// bytes afterwards, nor given to NewMatrix twice (share the Matrix instead).
func NewMatrix(data []byte, rows, cols int, enc Encoding) (Matrix, error) {
	need, err := enc.MatrixBytes(rows, cols)
	if err != nil {
		return Matrix{}, err
	}
	if len(data) != need {
		return Matrix{}, fmt.Errorf("kernels: %dx%d %v matrix needs %d bytes, have %d", rows, cols, enc, need, len(data))
	}
	if enc.Quantized() {
		packRows(enc, data, enc.RowBytes(cols))
	}
	return Matrix{Rows: rows, Cols: cols, Enc: enc, Data: data}, nil
}

// Bytes is the matrix's storage size.
func (m Matrix) Bytes() int { return len(m.Data) }

// Row decodes row i into dst[:m.Cols] as float32 (embedding lookups).
func (m Matrix) Row(i int, dst []float32) {
	rb := m.Enc.RowBytes(m.Cols)
	decodeMatrixRow(m.Enc, m.Data[i*rb:(i+1)*rb], dst[:m.Cols])
}

// MatVec computes out[i] = dot(row i of m, x) for every row, on the default worker
// pool (see Pool.MatVec). len(x) must be m.Cols and len(out) at least m.Rows.
func MatVec(out []float32, m Matrix, x []float32) {
	DefaultPool().MatVec(out, m, x)
}
