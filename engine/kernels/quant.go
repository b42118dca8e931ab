package kernels

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/quantize"
)

// EncodeRow stores one row of weights src in enc into dst (exactly enc.RowBytes(len(src))
// bytes): exporters and `inferpi convert` use it. Every block encoding is written by
// package quantize, llama-quantize's reference quantization without an importance
// matrix (ggml-quants.c, quantize_row_q8_0_ref ... quantize_row_q6_K_ref) bit for bit,
// so a row reads the same here and in llama.cpp. It refuses, with an error naming
// the column, values that are not finite or that do not fit the encoding (fp16 or
// bf16 overflow, a block scale beyond fp16's range), instead of writing infinities
// into a model.
func EncodeRow(enc Encoding, dst []byte, src []float32) error {
	if err := enc.CheckCols(len(src)); err != nil {
		return err
	}
	if need := enc.RowBytes(len(src)); len(dst) != need {
		return fmt.Errorf("kernels: %v row of %d values needs %d bytes, have %d", enc, len(src), need, len(dst))
	}
	for j, v := range src {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("kernels: %v row: value %v at column %d is not finite", enc, v, j)
		}
	}
	switch enc {
	case F32:
		for j, v := range src {
			binary.LittleEndian.PutUint32(dst[4*j:], math.Float32bits(v))
		}
	case F16:
		for j, v := range src {
			h := F32ToF16(v)
			if h&0x7c00 == 0x7c00 {
				return fmt.Errorf("kernels: fp16 row: value %v at column %d is beyond fp16's range (±65504)", v, j)
			}
			binary.LittleEndian.PutUint16(dst[2*j:], h)
		}
	case BF16:
		for j, v := range src {
			h := F32ToBF16(v)
			if h&0x7f80 == 0x7f80 {
				return fmt.Errorf("kernels: bf16 row: value %v at column %d is beyond bf16's range", v, j)
			}
			binary.LittleEndian.PutUint16(dst[2*j:], h)
		}
	default:
		if err := quantize.Row(enc.info().gguf, dst, src); err != nil {
			return scaleError(enc, src, err)
		}
	}
	return nil
}

// scaleError names the first block of src that quantize.Row refuses: with finite
// values in whole blocks, the only refusal is a block whose weights are too large
// for its fp16 scales.
func scaleError(enc Encoding, src []float32, err error) error {
	n := enc.BlockWeights()
	blk := make([]byte, blockBytes(enc))
	for c := 0; c < len(src); c += n {
		x := src[c : c+n]
		if quantize.Row(enc.info().gguf, blk, x) != nil {
			return fmt.Errorf("kernels: %v row: block at column %d has a scale beyond fp16's range (its largest weight is %g)",
				enc, c, absMax(x))
		}
	}
	return fmt.Errorf("kernels: %v row: %w", enc, err)
}

// StoredAs is the encoding InferPi's model files store a matrix in when its
// weights are to be e and its rows hold cols weights (the formats' narrow-width
// rule): e when cols is a whole number of e's blocks; otherwise, for a K-quant,
// the type llama-quantize falls back to (Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0:
// quantize.Fallback) when cols is a whole number of its 32-weight blocks;
// otherwise narrow.
func (e Encoding) StoredAs(cols int, narrow Encoding) Encoding {
	if cols%e.BlockWeights() == 0 {
		return e
	}
	if t, ok := quantize.Fallback(e.info().gguf); ok {
		if f, ok := EncodingOf(t); ok && cols%f.BlockWeights() == 0 {
			return f
		}
	}
	return narrow
}

// EncodingOf is the encoding of a GGUF (ggml) tensor type, where the kernels
// compute it.
func EncodingOf(t gguf.Type) (Encoding, bool) {
	for e, in := range encodingInfos {
		if in.gguf == t {
			return Encoding(e), true
		}
	}
	return 0, false
}

// GGUF is the GGUF (ggml) tensor type of e.
func (e Encoding) GGUF() gguf.Type { return e.info().gguf }
