package kernels

import "encoding/binary"

// GGUF's other blocks of 32 weights (ggml-common.h: block_q4_1, block_q5_0,
// block_q5_1), held in the file's layout (layout.go):
//
//	Q4_1 (20 bytes): d f16 | m f16 | qs[16]            weight j = q_j·d + m
//	Q5_0 (22 bytes): d f16 | qh u32 | qs[16]           weight j = (q_j - 16)·d
//	Q5_1 (24 bytes): d f16 | m f16 | qh u32 | qs[16]   weight j = q_j·d + m
//
// Byte j of qs holds the low 4 bits of q_j in its low nibble and those of q_{j+16}
// in its high nibble; bit j of qh (little-endian) is the fifth bit of q_j.
const (
	q41BlockBytes = 4 + BlockSize/2
	q50BlockBytes = 6 + BlockSize/2
	q51BlockBytes = 8 + BlockSize/2
)

// fields32 returns block b of a Q4_1, Q5_0 or Q5_1 row: its scale d and min m
// (0 for Q5_0), its nibbles qs and fifth bits qh (0 for Q4_1), and the bias its
// quants carry (16 for Q5_0, 0 otherwise).
func fields32(enc Encoding, row []byte, b int) (d, m float32, qs *[BlockSize / 2]byte, qh uint32, bias int32) {
	switch enc {
	case Q4_1:
		blk := (*[q41BlockBytes]byte)(row[b*q41BlockBytes:])
		return f16At(blk[0:]), f16At(blk[2:]), (*[BlockSize / 2]byte)(blk[4:]), 0, 0
	case Q5_0:
		blk := (*[q50BlockBytes]byte)(row[b*q50BlockBytes:])
		return f16At(blk[0:]), 0, (*[BlockSize / 2]byte)(blk[6:]), binary.LittleEndian.Uint32(blk[2:]), 16
	case Q5_1:
		blk := (*[q51BlockBytes]byte)(row[b*q51BlockBytes:])
		return f16At(blk[0:]), f16At(blk[2:]), (*[BlockSize / 2]byte)(blk[8:]), binary.LittleEndian.Uint32(blk[4:]), 0
	}
	panic("kernels: internal error: " + enc.String() + " is not a block of 32")
}

// block32 unpacks block b of a Q4_1, Q5_0 or Q5_1 row into q (its quants less
// their bias) and returns its scale d and its min m.
func block32(enc Encoding, row []byte, b int, q *[BlockSize]int8) (d, m float32) {
	const half = BlockSize / 2
	d, m, qs, qh, bias := fields32(enc, row, b)
	for j, v := range qs {
		q[j] = int8(int32(v&0x0f|byte(qh>>j&1)<<4) - bias)
		q[j+half] = int8(int32(v>>4|byte(qh>>(j+half)&1)<<4) - bias)
	}
	return d, m
}

// dotBlock32 is the exact Σ q_j·x_j of a block's quants (as block32 unpacks them)
// with x's, unpacking on the way.
func dotBlock32(qs *[BlockSize / 2]byte, qh uint32, bias int32, x []int8) int32 {
	const half = BlockSize / 2
	x = x[:BlockSize]
	var s int32
	for j, v := range qs {
		s += (int32(v&0x0f|byte(qh>>j&1)<<4) - bias) * int32(x[j])
		s += (int32(v>>4|byte(qh>>(j+half)&1)<<4) - bias) * int32(x[j+half])
	}
	return s
}

// f16At widens the little-endian fp16 value at b[0:2].
func f16At(b []byte) float32 { return F16ToF32(binary.LittleEndian.Uint16(b)) }

// decodeBlocks32 widens a Q4_1, Q5_0 or Q5_1 row as llama.cpp's dequantize_row_q4_1,
// _q5_0 and _q5_1 do (ggml-quants.c): q·d + m, each product exact in float32, so one
// rounding (an FMA gives the same bits).
func decodeBlocks32(enc Encoding, row []byte, dst []float32) {
	var q [BlockSize]int8
	for b := range len(dst) / BlockSize {
		d, m := block32(enc, row, b, &q)
		out := (*[BlockSize]float32)(dst[b*BlockSize:])
		for j, v := range q {
			if enc == Q5_0 {
				out[j] = float32(v) * d
			} else {
				out[j] = float32(float32(v)*d) + m
			}
		}
	}
}

// matVecQ5_0Ref: x in Q8_0 blocks (llama.cpp's ggml_vec_dot_q5_0_q8_0). Block b
// gives float32(d_w·d_x)·float32(Σ q_w·q_x), rounded after each product, into
// blockSums.
func matVecQ5_0Ref(out []float32, w []byte, x *q8Vector) {
	matVecBlocks32Ref(Q5_0, out, w, x)
}

// matVecQ4_1Ref and matVecQ5_1Ref: x in Q8_1 blocks (ggml_vec_dot_q4_1_q8_1,
// _q5_1_q8_1). Block b gives float32(d_w·d_x)·float32(Σ q_w·q_x) + m_w·s_x, each
// product rounded, then their sum, into blockSums.
func matVecQ4_1Ref(out []float32, w []byte, x *q8Vector) {
	matVecBlocks32Ref(Q4_1, out, w, x)
}

func matVecQ5_1Ref(out []float32, w []byte, x *q8Vector) {
	matVecBlocks32Ref(Q5_1, out, w, x)
}

func matVecBlocks32Ref(enc Encoding, out []float32, w []byte, x *q8Vector) {
	rb := len(x.d) * blockBytes(enc)
	for i := range out {
		row := w[i*rb : (i+1)*rb]
		var acc blockSums
		for b, xd := range x.d {
			d, m, qs, qh, bias := fields32(enc, row, b)
			isum := dotBlock32(qs, qh, bias, x.q[b*BlockSize:])
			v := float32(float32(d*xd) * float32(isum))
			if enc != Q5_0 {
				v += float32(m * x.s[b])
			}
			acc.add(b, v)
		}
		out[i] = acc.total()
	}
}
