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
// Rows are taken from len(out): w holds len(out) rows of len(x) (or len(xq)) weights.

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

// Quantized weights meet a quantized vector, as in llama.cpp (whose Q8_0 and Q4_0
// dot products take their second operand as Q8_0 blocks: vec_dot_type in
// ggml-cpu.c's type_traits): the integer dot product of a block is exact, and only
// the per-block sums d_w*d_x*isum are added in float. That keeps the inner loop in
// 8-bit integer multiplies, which the Cortex-A72 (no SDOT, no fp16 arithmetic) does
// with half the instructions of widening every weight to float32.

// q8Vector is an activation vector quantized to Q8_0 blocks, with the scale kept in
// float32 (it never goes to a file, so there is no reason to round it to fp16).
type q8Vector struct {
	q  []int8    // values, len(x)
	d  []float32 // one scale per block of BlockSize values
	s8 []float32 // per block, 8 * the sum of its values (for SIMD Q4_0 kernels)

	// Other layouts of q that SIMD kernels read (impl.prepare fills them).
	x16 []int16
	xp  []int8
	xz  []int8
}

// grow returns s resized to n, reusing its array when it is big enough.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// quantizeRef fills v (sized for x, len(x) a multiple of BlockSize) from x with
// llama.cpp's Q8_0 rounding: d = amax/127, q = roundf(x/d).
func (v *q8Vector) quantizeRef(x []float32) {
	for b := range v.d {
		xb := x[b*BlockSize : (b+1)*BlockSize]
		qb := v.q[b*BlockSize : (b+1)*BlockSize]
		var d, id float32
		if amax := absMax(xb); amax >= tinyBlock {
			d = amax / 127
			id = 1 / d
		}
		v.d[b] = d
		var sum int32
		for j, xv := range xb {
			qb[j] = int8(roundHalfAway(float32(xv * id)))
			sum += int32(qb[j])
		}
		v.s8[b] = float32(8 * sum)
	}
}

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

// DecodeRow widens one row as a model file stores it (for Q8_0 and Q4_0, GGUF's
// blocks) to float32, as llama.cpp's dequantize_row_q8_0 / dequantize_row_q4_0 do:
// for converters, which read files without making matrices of them. dst must hold
// the row's values (len(row) must be enc.RowBytes(len(dst))). A file's rows lie
// back to back, so a whole tensor decodes as one row of all its values.
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
	case Q8_0, Q4_0:
		bb := blockBytes(enc)
		for b := 0; b < len(dst)/BlockSize; b++ {
			decodeBlock(enc, binary.LittleEndian.Uint16(row[b*bb:]), row[b*bb+2:(b+1)*bb], dst[b*BlockSize:(b+1)*BlockSize])
		}
	default:
		panic("kernels: unknown encoding " + enc.String())
	}
}

// decodeMatrixRow widens a row of a Matrix, whose quantized rows are in the kernels'
// layout (layout.go).
func decodeMatrixRow(enc Encoding, row []byte, dst []float32) {
	if !enc.Quantized() {
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
