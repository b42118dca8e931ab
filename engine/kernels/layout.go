package kernels

import "encoding/binary"

// The kernels' layout of quantized rows. A model file stores Q8_0 and Q4_0 rows as
// GGUF does, each block its fp16 scale followed by its quants. A SIMD kernel wants
// the scales of several blocks together: gathering eight 2-byte scales from eight
// places took a third of the AVX2 Q4_0 kernel's instructions, and each NEON block
// spent a scalar load and an fp16 conversion on its own. So NewMatrix rearranges
// every row in place (as llama.cpp repacks Q4_0 for its AArch64 kernels at load
// time, ggml-cpu/repack.cpp): each whole group of groupBlocks blocks becomes its
// groupBlocks scales (16 bytes) followed by its blocks' quants, in block order;
// the last blocks of a row that do not fill a group keep the file's layout.
// The row's size does not change, so neither do MatrixBytes, row slicing or the
// bytes a token streams.
//
//	file:    d0 q0 | d1 q1 | ... | d7 q7 | d8 q8 | d9 q9
//	kernels: d0 d1 ... d7 q0 q1 ... q7   | d8 q8 | d9 q9
//
// The other block encodings (Q4_1, Q5_0, Q5_1 and the K-quants) keep the file's
// layout: a K-quant super-block already keeps its scales together, and the NEON
// kernels of the blocks of 32 take each block's scales with one integer load (its
// fifth bits too, for Q5_0 and Q5_1). A SIMD kernel that wants them elsewhere adds its
// encoding to regrouped and packRows, and the reference's block accessors follow
// (blocks32.go, kquants.go); a row's size must stay the file's.

// regrouped reports whether NewMatrix rearranges rows of enc (Q8_0 and Q4_0).
func regrouped(enc Encoding) bool { return enc == Q8_0 || enc == Q4_0 }

// groupBlocks is the number of blocks whose scales go together.
const groupBlocks = 8

// packRows rearranges every row of a quantized matrix (rowBytes each) from the
// file's layout into the kernels' layout, in place. Every model load pays it once
// per quantized byte, so the groups have constant sizes (copies the compiler turns
// into a few moves, with no bounds checks; BenchmarkPackRows measures it).
func packRows(enc Encoding, data []byte, rowBytes int) {
	gb := groupBlocks * blockBytes(enc)
	full := rowBytes / gb * gb // whole groups of a row
	for r := 0; r+rowBytes <= len(data); r += rowBytes {
		for g := r; g < r+full; g += gb {
			if enc == Q8_0 {
				packQ8Group((*[groupBlocks * q8BlockBytes]byte)(data[g : g+gb]))
			} else {
				packQ4Group((*[groupBlocks * q4BlockBytes]byte)(data[g : g+gb]))
			}
		}
	}
}

func packQ8Group(g *[groupBlocks * q8BlockBytes]byte) {
	const qb = q8BlockBytes - 2
	t := *g
	for k := range groupBlocks {
		blk := (*[q8BlockBytes]byte)(t[k*q8BlockBytes:])
		g[2*k], g[2*k+1] = blk[0], blk[1]
		*(*[qb]byte)(g[2*groupBlocks+k*qb:]) = *(*[qb]byte)(blk[2:])
	}
}

func packQ4Group(g *[groupBlocks * q4BlockBytes]byte) {
	const qb = q4BlockBytes - 2
	t := *g
	for k := range groupBlocks {
		blk := (*[q4BlockBytes]byte)(t[k*q4BlockBytes:])
		g[2*k], g[2*k+1] = blk[0], blk[1]
		*(*[qb]byte)(g[2*groupBlocks+k*qb:]) = *(*[qb]byte)(blk[2:])
	}
}

// blockAt returns the fp16 scale bits and the quants of block b in a row held in
// the kernels' layout.
func blockAt(enc Encoding, row []byte, b int) (uint16, []byte) {
	bb := blockBytes(enc)
	if full := len(row) / bb / groupBlocks * groupBlocks; b < full {
		g := row[b/groupBlocks*groupBlocks*bb:]
		k := b % groupBlocks
		q := 2*groupBlocks + k*(bb-2)
		return binary.LittleEndian.Uint16(g[2*k:]), g[q : q+bb-2]
	}
	return binary.LittleEndian.Uint16(row[b*bb:]), row[b*bb+2 : (b+1)*bb]
}
