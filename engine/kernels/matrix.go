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

	"github.com/inferpi/inferpi/engine/gguf"
)

// Encoding is how a matrix's weights are stored. The block encodings are GGUF's
// (ggml-common.h: block_q8_0 ... block_q6_K); the numeric values are InferPi's own
// (not ggml's type numbers), and fixed once given.
type Encoding uint8

const (
	F32  Encoding = iota // IEEE float32, little-endian
	F16                  // IEEE binary16, little-endian
	Q8_0                 // GGUF Q8_0 blocks: fp16 scale d, then 32 int8; weight = q * d
	Q4_0                 // GGUF Q4_0 blocks: fp16 scale d, then 16 bytes of nibbles; weight = (q - 8) * d
	BF16                 // bfloat16 (the upper half of a float32), little-endian
	Q4_1                 // GGUF Q4_1 blocks of 32: fp16 d and m, 16 bytes of nibbles; weight = q * d + m
	Q5_0                 // GGUF Q5_0 blocks of 32: fp16 d, 32 high bits, 16 bytes of nibbles; weight = (q - 16) * d
	Q5_1                 // GGUF Q5_1 blocks of 32: fp16 d and m, 32 high bits, nibbles; weight = q * d + m
	Q4_K                 // GGUF Q4_K super-blocks of 256 (kquants.go)
	Q5_K                 // GGUF Q5_K super-blocks of 256 (kquants.go)
	Q6_K                 // GGUF Q6_K super-blocks of 256 (kquants.go)
)

// Encodings lists every encoding, in the order of their numeric values.
var Encodings = []Encoding{F32, F16, Q8_0, Q4_0, BF16, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K}

// BlockSize is the number of weights in one Q8_0 or Q4_0 block (GGUF's QK8_0 = QK4_0 = 32),
// and in one block of a quantized activation vector (Q8_0, Q8_1). Rows of a quantized
// matrix hold a whole number of blocks (Encoding.BlockWeights).
const BlockSize = 32

// superBlock is the number of weights in a K-quant super-block (GGUF's QK_K).
const superBlock = 256

// Bytes per block, as in ggml-common.h: block_q8_0 {ggml_half d; int8_t qs[32]} and
// block_q4_0 {ggml_half d; uint8_t qs[16]}, packed with no padding.
const (
	q8BlockBytes = 2 + BlockSize
	q4BlockBytes = 2 + BlockSize/2
)

// encodingInfo describes an encoding: its name, its block (1 weight for the float
// encodings), the form of x its kernels take (llama.cpp's vec_dot_type) and its
// ggml type (which package quantize writes).
type encodingInfo struct {
	name           string
	weights, bytes int // per block
	act            actKind
	gguf           gguf.Type
}

var encodingInfos = [...]encodingInfo{
	F32:  {"fp32", 1, 4, actFloat, gguf.F32},
	F16:  {"fp16", 1, 2, actFloat, gguf.F16},
	Q8_0: {"q8_0", BlockSize, q8BlockBytes, actQ8_0, gguf.Q8_0},
	Q4_0: {"q4_0", BlockSize, q4BlockBytes, actQ8_0, gguf.Q4_0},
	BF16: {"bf16", 1, 2, actFloat, gguf.BF16},
	Q4_1: {"q4_1", BlockSize, q41BlockBytes, actQ8_1, gguf.Q4_1},
	Q5_0: {"q5_0", BlockSize, q50BlockBytes, actQ8_0, gguf.Q5_0},
	Q5_1: {"q5_1", BlockSize, q51BlockBytes, actQ8_1, gguf.Q5_1},
	Q4_K: {"q4_k", superBlock, q4KBlockBytes, actQ8K, gguf.Q4_K},
	Q5_K: {"q5_k", superBlock, q5KBlockBytes, actQ8K, gguf.Q5_K},
	Q6_K: {"q6_k", superBlock, q6KBlockBytes, actQ8K, gguf.Q6_K},
}

func (e Encoding) String() string {
	if e.Valid() {
		return encodingInfos[e].name
	}
	return fmt.Sprintf("encoding(%d)", uint8(e))
}

// ParseEncoding reads the names String returns ("fp32", "fp16", "bf16", "q8_0",
// "q4_0", "q4_1", "q5_0", "q5_1", "q4_k", "q5_k", "q6_k"), as used by the exporters'
// --dtype flag. Case does not matter; "f32" and "f16" are accepted too.
func ParseEncoding(s string) (Encoding, error) {
	switch strings.ToLower(s) {
	case "f32":
		return F32, nil
	case "f16":
		return F16, nil
	}
	for _, e := range Encodings {
		if strings.EqualFold(s, e.String()) {
			return e, nil
		}
	}
	return 0, fmt.Errorf("kernels: unknown weight encoding %q (want fp32, fp16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k or q6_k)", s)
}

// Valid reports whether e is one of the encodings this package implements.
func (e Encoding) Valid() bool { return int(e) < len(encodingInfos) }

// Quantized reports whether e stores blocks of weights with shared scales (every
// encoding but fp32, fp16 and bf16).
func (e Encoding) Quantized() bool { return e.Valid() && encodingInfos[e].weights > 1 }

// BlockWeights is the number of weights in one block of e: 1 for fp32, fp16 and
// bf16, 32 for Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1, 256 for the K-quants. A row holds a
// whole number of blocks. It panics for an unknown encoding.
func (e Encoding) BlockWeights() int { return e.info().weights }

// blockBytes is the size of one block of e (of one weight for the float encodings).
func blockBytes(e Encoding) int { return e.info().bytes }

func (e Encoding) info() *encodingInfo {
	if !e.Valid() {
		panic("kernels: unknown encoding " + e.String())
	}
	return &encodingInfos[e]
}

// CheckCols reports whether a row of cols weights can be stored in e: quantized
// encodings need a whole number of blocks.
func (e Encoding) CheckCols(cols int) error {
	switch {
	case !e.Valid():
		return fmt.Errorf("kernels: unknown weight encoding %v", e)
	case cols <= 0:
		return fmt.Errorf("kernels: %v row of %d columns", e, cols)
	case cols%e.BlockWeights() != 0:
		return fmt.Errorf("kernels: %v needs columns in multiples of %d, have %d", e, e.BlockWeights(), cols)
	}
	return nil
}

// RowBytes is the storage size of one row of cols weights. It panics for an unknown
// encoding or a quantized row that is not a whole number of blocks; loaders should
// use MatrixBytes, which returns an error instead.
func (e Encoding) RowBytes(cols int) int {
	in := e.info()
	if cols%in.weights != 0 {
		panic(fmt.Sprintf("kernels: %v row of %d columns is not a whole number of %d-weight blocks", e, cols, in.weights))
	}
	return cols / in.weights * in.bytes
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
// a slice of the loaded model file: no copy). Q8_0 and Q4_0 rows are held in the
// kernels' layout (layout.go), which NewMatrix makes; build matrices only with it.
type Matrix struct {
	Rows, Cols int
	Enc        Encoding
	Data       []byte
}

// NewMatrix makes data, as a model file stores it, a rows x cols matrix, checking
// the shape and the size. It takes data over: Q8_0 and Q4_0 rows are rearranged in
// place into the kernels' layout (layout.go), so data must not be read as file
// bytes afterwards, nor given to NewMatrix twice (share the Matrix instead). The
// other encodings keep the file's layout.
func NewMatrix(data []byte, rows, cols int, enc Encoding) (Matrix, error) {
	need, err := enc.MatrixBytes(rows, cols)
	if err != nil {
		return Matrix{}, err
	}
	if len(data) != need {
		return Matrix{}, fmt.Errorf("kernels: %dx%d %v matrix needs %d bytes, have %d", rows, cols, enc, need, len(data))
	}
	if regrouped(enc) {
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
