package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// Test data for the block encodings that have no quantizer in this package
// (Q4_1, Q5_0, Q5_1 and the K-quants): random quants under chosen scales.

// scaleFields are the byte offsets of a block's fp16 fields: its scale d, then
// the min (Q4_1, Q5_1) or dmin (Q4_K, Q5_K), if any.
func scaleFields(enc Encoding) []int {
	switch enc {
	case Q8_0, Q4_0, Q5_0:
		return []int{0}
	case Q6_K:
		return []int{q6KBlockBytes - 2}
	}
	return []int{0, 2}
}

// fillBlocks fills data with blocks of enc whose quants are random bytes and whose
// fp16 fields come from scales (called with the field's index: 0 for d, 1 for
// the min or dmin), so that the weights are of the order of scale's values.
func fillBlocks(rng *rand.Rand, enc Encoding, data []byte, scales func(field int) float32) {
	bb := blockBytes(enc)
	for off := 0; off < len(data); off += bb {
		blk := data[off : off+bb]
		for j := range blk {
			blk[j] = byte(rng.Uint32())
		}
		for f, at := range scaleFields(enc) {
			binary.LittleEndian.PutUint16(blk[at:], F32ToF16(scales(f)))
		}
	}
}

// randomScales gives fields for weights of about ±scale (the quants' range
// divided out, mins so that the weights centre on 0), each block's scale varied by
// up to a factor of 2.
func randomScales(rng *rand.Rand, enc Encoding, scale float64) func(field int) float32 {
	var d, m float64 // d for the largest quant; m, the min field, relative to d
	switch enc {
	case Q8_0:
		d = 1.0 / 127
	case Q4_0:
		d = 1.0 / 8
	case Q4_1:
		d, m = 2.0/15, -7.5
	case Q5_0:
		d = 1.0 / 16
	case Q5_1:
		d, m = 2.0/31, -15.5
	case Q4_K:
		d, m = 2.0/(15*63), 7.5/63 // weight = d·sc·q - dmin·m_s, sc and m_s up to 63
	case Q5_K:
		d, m = 2.0/(31*63), 15.5/63
	case Q6_K:
		d = 1.0 / (32 * 127)
	}
	var blockD float64
	return func(field int) float32 {
		v := blockD * m
		if field == 0 {
			blockD = scale * d * (0.5 + rng.Float64())
			v = blockD
		} else if enc == Q4_K || enc == Q5_K {
			v *= 63 // dmin
		}
		return float32(max(-65504, min(65504, v))) // within fp16's range
	}
}

// intBlocks fills data with blocks of enc whose weights are small integers or
// halves (power-of-two scales, integer mins, K-quant sub-block scales of at most
// 63 or ±32), so that with x of small integers every sum the kernels form is exact
// in float32 for the shapes the tests use.
func intBlocks(rng *rand.Rand, enc Encoding, data []byte) {
	fillBlocks(rng, enc, data, func(field int) float32 {
		if field == 0 {
			return []float32{0.5, 1, 2}[rng.IntN(3)]
		}
		if enc == Q4_K || enc == Q5_K {
			return []float32{0.5, 1}[rng.IntN(2)]
		}
		return float32(rng.IntN(17) - 8)
	})
	if enc == Q6_K {
		for off := 0; off < len(data); off += q6KBlockBytes {
			for s := range 16 {
				data[off+192+s] = byte(int8(rng.IntN(65) - 32))
			}
		}
	}
}

// intX is x for intBlocks: small integers, and ±127 once in every block of 32, so
// that every activation kind's scale is ±1 and its quants are ±x.
func intX(rng *rand.Rand, cols, small int) []float32 {
	x := make([]float32, cols)
	for j := range x {
		x[j] = float32(rng.IntN(2*small+1) - small)
	}
	for b := 0; b < cols/BlockSize; b++ {
		x[b*BlockSize+rng.IntN(BlockSize)] = float32(127 - 254*rng.IntN(2))
	}
	return x
}

// handBlock is one block of enc written byte by byte, and weights of it worked out
// by hand from the formats (ggml-common.h, and the formulas of ggml-quants.c's
// dequantize_row_*).
type handBlock struct {
	enc  Encoding
	blk  []byte
	want map[int]float32 // weight index -> value
	rest float32         // every other weight
}

func handBlocks() []handBlock {
	le16 := func(b []byte, at int, h uint16) { binary.LittleEndian.PutUint16(b[at:], h) }
	var bs []handBlock

	// Q4_1: d 0.5, m -1; byte 0 = 0x3a: q0 = 10, q16 = 3; byte 15 = 0xf0: q15 = 0, q31 = 15.
	b := make([]byte, q41BlockBytes)
	le16(b, 0, 0x3800)
	le16(b, 2, 0xbc00)
	b[4], b[4+15] = 0x3a, 0xf0
	bs = append(bs, handBlock{Q4_1, b, map[int]float32{0: 4, 16: 0.5, 15: -1, 31: 6.5}, -1})

	// Q5_0: d 0.25, qh bits 0 and 31: q0 = 10+16, q16 = 3, q15 = 0, q31 = 15+16; weight (q-16)·d.
	b = make([]byte, q50BlockBytes)
	le16(b, 0, 0x3400)
	binary.LittleEndian.PutUint32(b[2:], 0x80000001)
	b[6], b[6+15] = 0x3a, 0xf0
	bs = append(bs, handBlock{Q5_0, b, map[int]float32{0: 2.5, 16: -3.25, 15: -4, 31: 3.75}, -4})

	// Q5_1: d 2, m 0.5, qh bits 1 and 16: byte 1 = 0x21: q1 = 1+16, q17 = 2; q16 = 0+16.
	b = make([]byte, q51BlockBytes)
	le16(b, 0, 0x4000)
	le16(b, 2, 0x3800)
	binary.LittleEndian.PutUint32(b[4:], 0x00010002)
	b[8+1] = 0x21
	bs = append(bs, handBlock{Q5_1, b, map[int]float32{1: 34.5, 17: 4.5, 16: 32.5, 0: 0.5}, 0.5})

	// Q4_K and Q5_K: d 1, dmin 0.5; sub-block scales 1 2 3 4 33 46 63 5 and mins
	// 0 1 2 3 17 60 7 63, packed: bytes 0-3 = sc | (sc[s+4]>>4)<<6, bytes 4-7 =
	// m | (m[s+4]>>4)<<6, bytes 8-11 = sc[s+4]&15 | (m[s+4]&15)<<4.
	scales := []byte{0x81, 0x82, 0xc3, 0x04, 0x40, 0xc1, 0x02, 0xc3, 0x11, 0xce, 0x7f, 0xf5}
	for _, enc := range []Encoding{Q4_K, Q5_K} {
		b = make([]byte, blockBytes(enc))
		le16(b, 0, 0x3c00)
		le16(b, 2, 0x3800)
		copy(b[4:], scales)
		qs := b[16:]
		if enc == Q5_K {
			qs = b[48:]
		}
		qs[0] = 0x5a     // sub-block 0 weight 0: q 10; sub-block 1 weight 32: q 5
		qs[64+31] = 0xf3 // sub-block 4 weight 159: q 3; sub-block 5 weight 191: q 15
		qs[96] = 0x0f    // sub-block 6 weight 192: q 15; sub-block 7 weight 224: q 0
		// weight = sc·q - 0.5·m; q = 0 elsewhere: -0.5·m of the sub-block
		want := map[int]float32{0: 10, 32: 9.5, 159: 90.5, 191: 660, 192: 941.5, 224: -31.5, 64: -1, 96: -1.5, 1: 0, 33: -0.5}
		if enc == Q5_K {
			b[16+0] = 0x03    // fifth bits of weight 0 (sub-block 0) and 32 (sub-block 1)
			b[16+31] = 1 << 4 // fifth bit of weight 159 (sub-block 4)
			want[0], want[32], want[159] = 26, 41.5, 618.5
		}
		bs = append(bs, handBlock{enc, b, want, float32(-1e9)})
	}

	// Q6_K: d 0.5; scales 0, 1, 2 = -3, 7, 127, scales 8 = -128, the others 1.
	// ql[0] = 0x21, qh[0] = 0xe4: weight 0 q = 1 (-31), 64: q = 2|2<<4 (2); ql[32] = 0,
	// weight 32: q = 0|1<<4 (-16), 96: q = 0|3<<4 (16); ql[64] = 0x0f, qh[32] = 3:
	// weight 128: q = 15|3<<4 (31); weight 16: q = 0 (-32).
	b = make([]byte, q6KBlockBytes)
	for s := range 16 {
		b[192+s] = 1
	}
	b[192+0], b[192+1], b[192+2], b[192+8] = byte(0xfd), 7, 127, 0x80
	le16(b, 208, 0x3800)
	b[0], b[128] = 0x21, 0xe4
	b[64], b[128+32] = 0x0f, 0x03
	bs = append(bs, handBlock{Q6_K, b, map[int]float32{0: 46.5, 32: -1016, 64: 1, 96: 8, 128: -1984, 16: -112}, float32(-1e9)})
	return bs
}

func TestDecodeHandBlocks(t *testing.T) {
	for _, h := range handBlocks() {
		n := h.enc.BlockWeights()
		got := make([]float32, n)
		DecodeRow(h.enc, h.blk, got)
		for j, v := range got {
			want, ok := h.want[j]
			if !ok {
				if h.rest == -1e9 {
					continue // K-quants: only the weights listed
				}
				want = h.rest
			}
			if v != want {
				t.Errorf("%v weight %d = %v, want %v", h.enc, j, v, want)
			}
		}
	}
}

// TestDecodeMatchesExact: DecodeRow gives, for any bytes, the float32 rounding of the
// exact value of the block formula, which is what llama.cpp's dequantize_row_*
// functions give (every product in them is exact in float32, and at most one
// addition rounds), with or without FMA contraction. Random bytes (and so every
// kind of fp16 field: NaN, infinities, subnormals), and blocks whose fields are
// chosen edge values.
func TestDecodeMatchesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(40, 41))
	edges := []uint16{0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00, 0xfe01, 0x3c00}
	for _, enc := range []Encoding{Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K} {
		const blocks = 64
		row := make([]byte, blocks*blockBytes(enc))
		for i := range row {
			row[i] = byte(rng.Uint32())
		}
		bb := blockBytes(enc)
		for b := range blocks {
			blk := row[b*bb : (b+1)*bb]
			switch b % 4 {
			case 0: // random bytes
			case 1: // edge fields, random quants
				for _, at := range scaleFields(enc) {
					binary.LittleEndian.PutUint16(blk[at:], edges[rng.IntN(len(edges))])
				}
			case 2: // all quants and sub-block scales at their largest, edge fields
				for i := range blk {
					blk[i] = 0xff
				}
				if enc == Q6_K {
					for s := range 16 {
						blk[192+s] = 0x80 // -128
					}
				}
				for _, at := range scaleFields(enc) {
					binary.LittleEndian.PutUint16(blk[at:], edges[rng.IntN(len(edges))])
				}
			case 3: // all zeros
				clear(blk)
			}
		}
		cols := blocks * enc.BlockWeights()
		got := make([]float32, cols)
		DecodeRow(enc, row, got)
		a, c := exactWeights(enc, row, cols)
		for j, v := range got {
			want := float32(a[j]) // Q5_0 and Q6_K add no min (not even +0 to a -0)
			if enc != Q5_0 && enc != Q6_K {
				want = float32(a[j] + c[j])
			}
			if math.Float32bits(v) != math.Float32bits(want) && !(v != v && want != want) {
				t.Fatalf("%v weight %d (block %d) = %v (%#08x), exact %v (%#08x)", enc, j, j/enc.BlockWeights(), v, math.Float32bits(v), want, math.Float32bits(want))
			}
		}
	}
}
