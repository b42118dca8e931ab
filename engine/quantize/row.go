package quantize

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/inferpi/inferpi/engine/gguf"
)

// maxBlockInput bounds the weights a block type accepts. No block whose largest
// magnitude reaches it has fp16 scales that llama.cpp's validation accepts (the
// smallest such bound is Q8_0's 127*65504, the largest Q6_K's about 4096*65504), and
// below it the quantizers' sums stay far from overflowing into infinities that could
// meet as NaNs, whose sign and payload differ between amd64 and arm64.
const maxBlockInput = 1 << 29

// Row writes src, one row of weights, into dst as t, exactly as llama-quantize writes
// it without an importance matrix. len(dst) must be RowBytes(t, len(src)).
//
// As llama-quantize (ggml_validate_row_data), it refuses values that are not finite
// and results that are not: an F16 or BF16 value beyond the type's range, a block
// whose fp16 scale or min overflows. The error names the column.
func Row(t gguf.Type, dst []byte, src []float32) error {
	need, err := RowBytes(t, len(src))
	if err != nil {
		return err
	}
	if len(dst) != need {
		return fmt.Errorf("quantize: a %v row of %d weights is %d bytes, not %d", t, len(src), need, len(dst))
	}
	block := t.BlockSize()
	for j, v := range src {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("quantize: %v row: the weight at column %d is %v", t, j, v)
		}
		if block > 1 && abs32(v) >= maxBlockInput {
			return fmt.Errorf("quantize: %v row: the weight at column %d (%g) is too large for the type's fp16 block scales", t, j, v)
		}
	}
	switch t {
	case gguf.F32:
		for j, v := range src {
			binary.LittleEndian.PutUint32(dst[4*j:], math.Float32bits(v))
		}
		return nil
	case gguf.F16, gguf.BF16:
		convert := fp16
		if t == gguf.BF16 {
			convert = bf16
		}
		for j, v := range src {
			h := convert(v)
			if isInfOrNaN16(t, h) {
				return fmt.Errorf("quantize: %v row: the weight at column %d (%g) is beyond the type's range", t, j, v)
			}
			binary.LittleEndian.PutUint16(dst[2*j:], h)
		}
		return nil
	case gguf.Q4_0:
		q4_0Row(dst, src)
	case gguf.Q4_1:
		q4_1Row(dst, src)
	case gguf.Q5_0:
		q5_0Row(dst, src)
	case gguf.Q5_1:
		q5_1Row(dst, src)
	case gguf.Q8_0:
		q8_0Row(dst, src)
	case gguf.Q4_K:
		q4_KRow(dst, src)
	case gguf.Q5_K:
		q5_KRow(dst, src)
	case gguf.Q6_K:
		q6_KRow(dst, src)
	}
	return checkScales(t, dst)
}

// scaleFields: the byte offsets of each block's fp16 scale fields (d, and m or dmin),
// the fields ggml_validate_row_data checks.
var scaleFields = map[gguf.Type][]int{
	gguf.Q4_0: {0}, gguf.Q5_0: {0}, gguf.Q8_0: {0},
	gguf.Q4_1: {0, 2}, gguf.Q5_1: {0, 2}, gguf.Q4_K: {0, 2}, gguf.Q5_K: {0, 2},
	gguf.Q6_K: {208},
}

// checkScales reports the first block of row whose fp16 scale is infinite or NaN.
func checkScales(t gguf.Type, row []byte) error {
	size := t.BlockBytes()
	for b := 0; b < len(row); b += size {
		for _, off := range scaleFields[t] {
			if isInfOrNaN16(gguf.F16, binary.LittleEndian.Uint16(row[b+off:])) {
				return fmt.Errorf("quantize: %v row: the block at column %d has weights too large for its fp16 scale",
					t, b/size*t.BlockSize())
			}
		}
	}
	return nil
}

func isInfOrNaN16(t gguf.Type, h uint16) bool {
	if t == gguf.BF16 {
		return h&0x7f80 == 0x7f80
	}
	return h&0x7c00 == 0x7c00
}
