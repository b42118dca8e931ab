package kernels

// GGUF's K-quants (ggml-common.h: block_q4_K, block_q5_K, block_q6_K): super-blocks
// of 256 weights in sub-blocks with integer scales of their own, held in the file's
// layout (layout.go).
//
//	Q4_K (144 bytes): d f16 | dmin f16 | scales[12] | qs[128]
//	Q5_K (176 bytes): d f16 | dmin f16 | scales[12] | qh[32] | qs[128]
//	Q6_K (210 bytes): ql[128] | qh[64] | scales[16] int8 | d f16
//
// Q4_K and Q5_K: eight sub-blocks s of 32, weight = d·sc_s·q - dmin·m_s, with 6-bit
// sc_s and m_s packed in scales[12] (kScale). qs is four chunks of 32 bytes: chunk
// c holds sub-block 2c in its low nibbles and sub-block 2c+1 in its high ones,
// weight l of each in byte l; Q5_K's fifth bit of that weight is bit 2c (or 2c+1)
// of qh[l].
//
// Q6_K: sixteen sub-blocks of 16, weight = d·scales[s]·(q - 32), q of 6 bits. Each
// half h of 128 weights takes ql[64h:], qh[32h:] and scales[8h:]; for l < 32 its
// weights l, l+32, l+64, l+96 are the low nibbles of ql[l] and ql[l+32], then their
// high nibbles, with bits 0-1, 2-3, 4-5 and 6-7 of qh[l] on top.
const (
	q4KBlockBytes = 4 + 12 + superBlock/2
	q5KBlockBytes = 4 + 12 + superBlock/8 + superBlock/2
	q6KBlockBytes = superBlock/2 + superBlock/4 + superBlock/16 + 2
)

// kScale is sub-block s's 6-bit scale and min in a Q4_K or Q5_K scales[12]
// (llama.cpp's get_scale_min_k4, ggml-quants.c): the first four as the low 6 bits
// of bytes s and s+4; the last four from the nibbles of bytes s+4 and the top
// 2 bits of bytes s-4 and s.
func kScale(sc *[12]byte, s int) (scale, minimum uint8) {
	if s < 4 {
		return sc[s] & 63, sc[s+4] & 63
	}
	return sc[s+4]&0x0f | sc[s-4]>>6<<4, sc[s+4]>>4 | sc[s]>>6<<4
}

// kBlock unpacks super-block b of a Q4_K or Q5_K row into q (0..15 or 0..31) and
// the sub-blocks' scales and mins, and returns d and dmin.
func kBlock(enc Encoding, row []byte, b int, q *[superBlock]int8, sc, mins *[8]uint8) (d, dmin float32) {
	var blk []byte
	var qh *[32]byte
	var qs *[128]byte
	if enc == Q4_K {
		blk = row[b*q4KBlockBytes : (b+1)*q4KBlockBytes]
		qs = (*[128]byte)(blk[16:])
	} else {
		blk = row[b*q5KBlockBytes : (b+1)*q5KBlockBytes]
		qh, qs = (*[32]byte)(blk[16:]), (*[128]byte)(blk[48:])
	}
	scales := (*[12]byte)(blk[4:])
	for s := range 8 {
		sc[s], mins[s] = kScale(scales, s)
	}
	for c := range 4 {
		lo, hi := q[64*c:64*c+32], q[64*c+32:64*c+64]
		for l, v := range qs[32*c : 32*c+32] {
			lo[l], hi[l] = int8(v&0x0f), int8(v>>4)
			if qh != nil {
				lo[l] |= int8(qh[l]>>(2*c)&1) << 4
				hi[l] |= int8(qh[l]>>(2*c+1)&1) << 4
			}
		}
	}
	return f16At(blk[0:]), f16At(blk[2:])
}

// q6Block unpacks super-block b of a Q6_K row into q (-32..31) and returns its
// scales and d.
func q6Block(row []byte, b int, q *[superBlock]int8) (scales [16]int8, d float32) {
	blk := (*[q6KBlockBytes]byte)(row[b*q6KBlockBytes:])
	for h := range 2 {
		ql, qh, out := blk[64*h:64*h+64], blk[128+32*h:128+32*h+32], q[128*h:128*h+128]
		for l, hb := range qh {
			out[l] = int8(ql[l]&0x0f|(hb&3)<<4) - 32
			out[l+32] = int8(ql[l+32]&0x0f|(hb>>2&3)<<4) - 32
			out[l+64] = int8(ql[l]>>4|(hb>>4&3)<<4) - 32
			out[l+96] = int8(ql[l+32]>>4|(hb>>6&3)<<4) - 32
		}
	}
	for s, v := range blk[192:208] {
		scales[s] = int8(v)
	}
	return scales, f16At(blk[208:])
}

// decodeKQuants widens a Q4_K, Q5_K or Q6_K row as llama.cpp's dequantize_row_q4_K,
// _q5_K and _q6_K do (ggml-quants.c). Q4_K, Q5_K: (d·sc)·q - dmin·m, where d·sc,
// its product with q and dmin·m are exact in float32, so the subtraction alone
// rounds. Q6_K: (d·sc)·q, d·sc exact and the second product rounded.
func decodeKQuants(enc Encoding, row []byte, dst []float32) {
	var q [superBlock]int8
	var sc, mins [8]uint8
	for b := range len(dst) / superBlock {
		out := (*[superBlock]float32)(dst[b*superBlock:])
		if enc == Q6_K {
			scales, d := q6Block(row, b, &q)
			for j, v := range q {
				out[j] = float32(d*float32(scales[j/16])) * float32(v)
			}
			continue
		}
		d, dmin := kBlock(enc, row, b, &q, &sc, &mins)
		for s := range 8 {
			ds, ms := float32(d*float32(sc[s])), float32(dmin*float32(mins[s]))
			for j := 32 * s; j < 32*s+32; j++ {
				out[j] = float32(ds*float32(q[j])) - ms
			}
		}
	}
}

// matVecQ4KRef and matVecQ5KRef: x in Q8_K blocks (llama.cpp's
// ggml_vec_dot_q4_K_q8_K, _q5_K_q8_K). Super-block b gives, in integers,
// isum = Σ_s sc_s·Σ q_w·q_x over sub-block s, and msum = Σ_s m_s·(the two bsums of
// x over sub-block s); then float32(dw·dx)·float32(isum) - float32(dmin·dx)·
// float32(msum), each product rounded, then the difference, into blockSums.
func matVecQ4KRef(out []float32, w []byte, x *q8Vector) { matVecKRef(Q4_K, out, w, x) }

func matVecQ5KRef(out []float32, w []byte, x *q8Vector) { matVecKRef(Q5_K, out, w, x) }

func matVecKRef(enc Encoding, out []float32, w []byte, x *q8Vector) {
	rb := len(x.d) * blockBytes(enc)
	var q [superBlock]int8
	var sc, mins [8]uint8
	for i := range out {
		row := w[i*rb : (i+1)*rb]
		var acc blockSums
		for b, xd := range x.d {
			d, dmin := kBlock(enc, row, b, &q, &sc, &mins)
			xq, bsums := x.q[b*superBlock:(b+1)*superBlock], x.bsums[b*16:(b+1)*16]
			var isum, msum int32
			for s := range 8 {
				isum += int32(sc[s]) * dotInt8(q[32*s:32*s+32], xq[32*s:32*s+32])
				msum += int32(mins[s]) * (int32(bsums[2*s]) + int32(bsums[2*s+1]))
			}
			v := float32(float32(d*xd)*float32(isum)) - float32(float32(dmin*xd)*float32(msum))
			acc.add(b, v)
		}
		out[i] = acc.total()
	}
}

// matVecQ6KRef: x in Q8_K blocks (ggml_vec_dot_q6_K_q8_K). Super-block b gives, in
// integers, isum = Σ_s scales[s]·Σ (q_w - 32)·q_x over sub-block s of 16; then
// float32(d·dx)·float32(isum), each product rounded, into blockSums.
func matVecQ6KRef(out []float32, w []byte, x *q8Vector) {
	rb := len(x.d) * q6KBlockBytes
	var q [superBlock]int8
	for i := range out {
		row := w[i*rb : (i+1)*rb]
		var acc blockSums
		for b, xd := range x.d {
			scales, d := q6Block(row, b, &q)
			xq := x.q[b*superBlock : (b+1)*superBlock]
			var isum int32
			for s, sc := range scales {
				isum += int32(sc) * dotInt8(q[16*s:16*s+16], xq[16*s:16*s+16])
			}
			acc.add(b, float32(float32(d*xd)*float32(isum)))
		}
		out[i] = acc.total()
	}
}

// dotInt8 is the exact integer dot product of two equally long int8 vectors.
func dotInt8(a, b []int8) int32 {
	b = b[:len(a)]
	var s int32
	for j, v := range a {
		s += int32(v) * int32(b[j])
	}
	return s
}
