package kernels

import (
	"encoding/binary"
	"math"
)

// The pure-Go reference kernels. They define the results that every faster kernel
// is tested against, and they run wherever no SIMD kernel exists.
//
// Float sums run from index 0 upward in float32 and every product is rounded before
// it is added: the explicit float32 conversions stop the Go compiler from fusing
// a*b+s into one FMA (it does on arm64), so the reference gives the same bits on
// every architecture, and they are the bits of llama2.c's run.c built without
// -ffast-math or FMA (the fixtures' oracle build).
//
// The block encodings after Q4_0 (Q4_1, Q5_0, Q5_1 and the K-quants) define their
// float arithmetic for every kernel, SIMD ones included, to the bit: each block (a
// K-quant super-block) gives one float32 value from its exact integer sums, in the
// order its reference states (blocks32.go, kquants.go), and the values add up in
// blockSums. Q8_0 and Q4_0 (sequential sums here, lanes in the SIMD kernels) and the
// float encodings agree only to float32 rounding.
//
// Rows are taken from len(out): w holds len(out) rows of len(x) (or len(xq)) weights.

// blockSums adds the values of a row's blocks as an 8-lane SIMD register would:
// block b into lane b mod 8, from lane 0 upward, then the lanes as
// ((l0+l4) + (l1+l5)) + ((l2+l6) + (l3+l7)), which is AVX2's horizontal sum
// (VEXTRACTF128 and VADDPS, then VHADDPS twice) and NEON's over two registers of
// four lanes (FADD, then FADDP twice). A SIMD kernel computes eight blocks' values
// in one register and adds it to its accumulator; zeros in the lanes of missing
// blocks change nothing, as a lane's sum is never -0.
type blockSums [8]float32

func (s *blockSums) add(b int, v float32) { s[b&7] += v }

func (s *blockSums) total() float32 {
	return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
}

func matVecF32Ref(out []float32, w []byte, x []float32) {
	rb := 4 * len(x)
	for i := range out {
		row := w[i*rb : (i+1)*rb]
		var s float32
		for j, xv := range x {
			s += float32(math.Float32frombits(binary.LittleEndian.Uint32(row[4*j:])) * xv)
		}
		out[i] = s
	}
}

func matVecF16Ref(out []float32, w []byte, x []float32) {
	rb := 2 * len(x)
	for i := range out {
		row := w[i*rb : (i+1)*rb]
		var s float32
		for j, xv := range x {
			s += float32(F16ToF32(binary.LittleEndian.Uint16(row[2*j:])) * xv)
		}
		out[i] = s
	}
}

// matVecBF16Ref widens bf16 weights exactly (a shift) and sums as matVecF16Ref.
func matVecBF16Ref(out []float32, w []byte, x []float32) {
	rb := 2 * len(x)
	for i := range out {
		row := w[i*rb : (i+1)*rb]
		var s float32
		for j, xv := range x {
			s += float32(BF16ToF32(binary.LittleEndian.Uint16(row[2*j:])) * xv)
		}
		out[i] = s
	}
}

// matVecQ8Ref and matVecQ4Ref: x in Q8_0 blocks (llama.cpp's ggml_vec_dot_q8_0_q8_0,
// _q4_0_q8_0); float32(d_w·d_x)·float32(isum) per block, added in block order.
func matVecQ8Ref(out []float32, w []byte, x *q8Vector) {
	rb := len(x.d) * q8BlockBytes
	for i := range out {
		row := w[i*rb : (i+1)*rb]
		var s float32
		for b, xd := range x.d {
			scale, qs := blockAt(Q8_0, row, b)
			xq := x.q[b*BlockSize : (b+1)*BlockSize]
			var isum int32
			for j, q := range qs {
				isum += int32(int8(q)) * int32(xq[j])
			}
			d := float32(F16ToF32(scale) * xd)
			s += float32(float32(isum) * d)
		}
		out[i] = s
	}
}

func matVecQ4Ref(out []float32, w []byte, x *q8Vector) {
	const half = BlockSize / 2
	rb := len(x.d) * q4BlockBytes
	for i := range out {
		row := w[i*rb : (i+1)*rb]
		var s float32
		for b, xd := range x.d {
			scale, qs := blockAt(Q4_0, row, b)
			xq := x.q[b*BlockSize : (b+1)*BlockSize]
			var isum int32
			for j, q := range qs {
				isum += (int32(q&0x0f) - 8) * int32(xq[j])
				isum += (int32(q>>4) - 8) * int32(xq[j+half])
			}
			d := float32(F16ToF32(scale) * xd)
			s += float32(float32(isum) * d)
		}
		out[i] = s
	}
}

func dotRef(a, b []float32) float32 {
	var s float32
	for i, av := range a {
		s += float32(av * b[i])
	}
	return s
}

func axpyRef(dst []float32, a float32, x []float32) {
	for i, xv := range x {
		dst[i] += float32(a * xv)
	}
}

// DecodeRow widens one row as a model file stores it (for the block encodings,
// GGUF's blocks) to float32, with the bits of llama.cpp's dequantize_row_*
// functions (ggml-quants.c): for converters and tests, which read files without
// making matrices of them. dst must hold the row's values (len(row) must be
// enc.RowBytes(len(dst))). A file's rows lie back to back, so a whole tensor
// decodes as one row of all its values.
func DecodeRow(enc Encoding, row []byte, dst []float32) {
	if len(row) != enc.RowBytes(len(dst)) {
		panic("kernels: DecodeRow: row size does not match its values")
	}
	decodeRow(enc, row, dst)
}

// decodeRow widens a row in the file's layout (see DecodeRow).
func decodeRow(enc Encoding, row []byte, dst []float32) {
	switch enc {
	case F32:
		for j := range dst {
			dst[j] = math.Float32frombits(binary.LittleEndian.Uint32(row[4*j:]))
		}
	case F16:
		for j := range dst {
			dst[j] = F16ToF32(binary.LittleEndian.Uint16(row[2*j:]))
		}
	case BF16:
		for j := range dst {
			dst[j] = BF16ToF32(binary.LittleEndian.Uint16(row[2*j:]))
		}
	case Q4_1, Q5_0, Q5_1:
		decodeBlocks32(enc, row, dst)
	case Q4_K, Q5_K, Q6_K:
		decodeKQuants(enc, row, dst)
	case Q8_0, Q4_0:
		bb := blockBytes(enc)
		for b := 0; b < len(dst)/BlockSize; b++ {
			decodeBlock(enc, binary.LittleEndian.Uint16(row[b*bb:]), row[b*bb+2:(b+1)*bb], dst[b*BlockSize:(b+1)*BlockSize])
		}
	default:
		panic("kernels: unknown encoding " + enc.String())
	}
}

// decodeMatrixRow widens a row of a Matrix, whose Q8_0 and Q4_0 rows are in the
// kernels' layout (layout.go).
func decodeMatrixRow(enc Encoding, row []byte, dst []float32) {
	if !regrouped(enc) {
		decodeRow(enc, row, dst)
		return
	}
	for b := 0; b < len(dst)/BlockSize; b++ {
		scale, qs := blockAt(enc, row, b)
		decodeBlock(enc, scale, qs, dst[b*BlockSize:(b+1)*BlockSize])
	}
}

// decodeBlock widens one block's quants qs, with fp16 scale bits d, into dst.
func decodeBlock(enc Encoding, d uint16, qs []byte, dst []float32) {
	scale := F16ToF32(d)
	if enc == Q8_0 {
		for j, q := range qs {
			dst[j] = float32(int8(q)) * scale
		}
		return
	}
	const half = BlockSize / 2
	for j, q := range qs {
		dst[j] = float32(int32(q&0x0f)-8) * scale
		dst[j+half] = float32(int32(q>>4)-8) * scale
	}
}
