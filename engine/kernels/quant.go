package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Quantizers for the GGUF block encodings. They reproduce llama.cpp's reference
// quantization (ggml/src/ggml-quants.c: quantize_row_q8_0_ref, quantize_row_q4_0_ref)
// bit for bit, so files written here read the same in llama.cpp and vice versa.

// QuantizeRowQ8_0 encodes src into Q8_0 blocks in dst. len(src) must be a multiple of
// BlockSize and len(dst) = len(src)/BlockSize*34. Per block: d = amax/127 (stored as
// fp16), q = round(x/d) with ties away from zero, as C's roundf (blocks below
// tinyBlock become zeros). Inputs must be finite (EncodeRow checks that).
func QuantizeRowQ8_0(dst []byte, src []float32) {
	checkQuantShape(Q8_0, dst, src)
	for b := 0; b < len(src)/BlockSize; b++ {
		x := src[b*BlockSize : (b+1)*BlockSize]
		blk := dst[b*q8BlockBytes : (b+1)*q8BlockBytes]
		var d, id float32
		if amax := absMax(x); amax >= tinyBlock {
			d = amax / 127
			id = 1 / d
		}
		binary.LittleEndian.PutUint16(blk, F32ToF16(d))
		for j, v := range x {
			blk[2+j] = byte(int8(roundHalfAway(float32(v * id))))
		}
	}
}

// QuantizeRowQ4_0 encodes src into Q4_0 blocks in dst. len(src) must be a multiple of
// BlockSize and len(dst) = len(src)/BlockSize*18. Per block, as llama.cpp: d = m/-8
// where m is the value of largest magnitude (the first one on ties), so m itself maps
// to nibble 0; q = min(15, trunc(x/d + 8.5)). Byte j holds element j in its low nibble
// and element j+16 in its high nibble.
func QuantizeRowQ4_0(dst []byte, src []float32) {
	checkQuantShape(Q4_0, dst, src)
	const half = BlockSize / 2
	for b := 0; b < len(src)/BlockSize; b++ {
		x := src[b*BlockSize : (b+1)*BlockSize]
		blk := dst[b*q4BlockBytes : (b+1)*q4BlockBytes]
		var amax, m float32
		for _, v := range x {
			if amax < abs32(v) {
				amax, m = abs32(v), v
			}
		}
		var d, id float32
		if amax >= tinyBlock {
			d = m / -8
			id = 1 / d
		}
		binary.LittleEndian.PutUint16(blk, F32ToF16(d))
		for j := 0; j < half; j++ {
			lo := nibble(float32(x[j]*id) + 8.5)
			hi := nibble(float32(x[j+half]*id) + 8.5)
			blk[2+j] = lo | hi<<4
		}
	}
}

// tinyBlock: a block whose largest magnitude is below it quantizes to zeros. llama.cpp
// has no such limit, but there 1/d overflows to infinity once d < 2^-128 and the
// conversion of x*id to an integer is undefined (it differs between amd64 and arm64);
// values this small (≈ 7.5e-37) contribute nothing anyway, and their fp16 scale is 0.
const tinyBlock = 0x1p-120

// nibble is llama.cpp's MIN(15, (int8_t)(v)) for v in [0.5, 16.5]: truncation toward zero.
func nibble(v float32) byte {
	return byte(min(15, int32(v)))
}

// roundHalfAway rounds to the nearest integer, halves away from zero (C's roundf):
// add ±0.5 and truncate. float64 holds every float32 exactly, so the addition
// cannot round; Copysign keeps it free of a branch on the sign, which random
// activations would mispredict half the time.
func roundHalfAway(v float32) int32 {
	f := float64(v)
	return int32(f + math.Copysign(0.5, f))
}

// absMax returns the largest |v| in x (finite values; x not empty). For floats of
// one sign, the order of the bit patterns is the order of the values, so integer
// maxima over four independent chains do it without float compares.
func absMax(x []float32) float32 {
	const abs = 1<<31 - 1
	var m0, m1, m2, m3 uint32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		m0 = max(m0, math.Float32bits(x[i])&abs)
		m1 = max(m1, math.Float32bits(x[i+1])&abs)
		m2 = max(m2, math.Float32bits(x[i+2])&abs)
		m3 = max(m3, math.Float32bits(x[i+3])&abs)
	}
	for ; i < len(x); i++ {
		m0 = max(m0, math.Float32bits(x[i])&abs)
	}
	return math.Float32frombits(max(m0, m1, m2, m3))
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

func checkQuantShape(enc Encoding, dst []byte, src []float32) {
	if len(src)%BlockSize != 0 || len(dst) != len(src)/BlockSize*blockBytes(enc) {
		panic(fmt.Sprintf("kernels: %v quantize: %d values into %d bytes", enc, len(src), len(dst)))
	}
}

// EncodeRow stores one row of weights src in enc into dst (exactly enc.RowBytes(len(src))
// bytes): exporters and `inferpi convert` use it. It refuses, with an error naming the
// column, values that are not finite or that do not fit the encoding (fp16 or bf16
// overflow, a block scale beyond fp16's range), instead of writing infinities into a
// model. It writes fp32, fp16, bf16, q8_0 and q4_0; the other block encodings have
// quantizers of their own (they choose scales by search), and EncodeRow refuses them.
func EncodeRow(enc Encoding, dst []byte, src []float32) error {
	if err := enc.CheckCols(len(src)); err != nil {
		return err
	}
	if enc.Quantized() && !regrouped(enc) {
		return fmt.Errorf("kernels: EncodeRow writes fp32, fp16, bf16, q8_0 or q4_0 rows, not %v", enc)
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
	case Q8_0, Q4_0:
		if enc == Q8_0 {
			QuantizeRowQ8_0(dst, src)
		} else {
			QuantizeRowQ4_0(dst, src)
		}
		bb := blockBytes(enc)
		for b := 0; b < len(src)/BlockSize; b++ {
			if binary.LittleEndian.Uint16(dst[b*bb:])&0x7c00 == 0x7c00 {
				return fmt.Errorf("kernels: %v row: block at column %d has a scale beyond fp16's range (values up to about %g)",
					enc, b*BlockSize, maxQuantizable(enc))
			}
		}
	}
	return nil
}

// maxQuantizable is roughly the largest magnitude whose block scale still fits fp16.
func maxQuantizable(enc Encoding) float64 {
	if enc == Q8_0 {
		return 65504 * 127
	}
	return 65504 * 8
}
