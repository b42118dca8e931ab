package quantize

import (
	"encoding/binary"
	"math"

	"github.com/inferpi/inferpi/engine/gguf"
)

// dequantize reads a row of n weights back from the block layouts as
// testdata/gguf/models/README.md spells them (and ggml-common.h defines them),
// independently of the quantizers' packing code.
func dequantize(t gguf.Type, row []byte, n int) []float32 {
	out := make([]float32, 0, n)
	h := func(b []byte) float32 { return fp16ToF32(binary.LittleEndian.Uint16(b)) }
	size := t.BlockBytes()
	for b := 0; b < len(row); b += size {
		y := row[b : b+size]
		switch t {
		case gguf.F32:
			out = append(out, math.Float32frombits(binary.LittleEndian.Uint32(y)))
		case gguf.F16:
			out = append(out, h(y))
		case gguf.BF16:
			out = append(out, math.Float32frombits(uint32(binary.LittleEndian.Uint16(y))<<16))
		case gguf.Q8_0:
			for j := range 32 {
				out = append(out, h(y)*float32(int8(y[2+j])))
			}
		case gguf.Q4_0, gguf.Q4_1, gguf.Q5_0, gguf.Q5_1:
			out = append(out, legacyBlock(t, y)...)
		case gguf.Q4_K, gguf.Q5_K:
			d, dmin := h(y), h(y[2:])
			sc := y[4:16]
			qs, qh := y[16:], []byte(nil)
			if t == gguf.Q5_K {
				qh, qs = y[16:48], y[48:]
			}
			for s := range 8 {
				var scale, m uint8
				if s < 4 {
					scale, m = sc[s]&63, sc[s+4]&63
				} else {
					scale = sc[s+4]&15 | (sc[s-4]>>6)<<4
					m = sc[s+4]>>4 | (sc[s]>>6)<<4
				}
				for l := range 32 {
					q := qs[32*(s/2)+l] >> (4 * (s % 2)) & 15
					if qh != nil {
						q += 16 * (qh[l] >> s & 1)
					}
					out = append(out, d*float32(scale)*float32(q)-dmin*float32(m))
				}
			}
		case gguf.Q6_K:
			ql, qh, sc := y[:128], y[128:192], y[192:208]
			d := h(y[208:])
			var w [256]float32
			for half := range 2 {
				for l := range 32 {
					L, H := ql[64*half:], qh[32*half:]
					q := [4]int{
						int(L[l]&15) | int(H[l]&3)<<4,
						int(L[l+32]&15) | int(H[l]>>2&3)<<4,
						int(L[l]>>4) | int(H[l]>>4&3)<<4,
						int(L[l+32]>>4) | int(H[l]>>6&3)<<4,
					}
					for k := range 4 {
						s := float32(int8(sc[8*half+2*k+l/16]))
						w[128*half+32*k+l] = d * s * float32(q[k]-32)
					}
				}
			}
			out = append(out, w[:]...)
		}
	}
	return out
}

func legacyBlock(t gguf.Type, y []byte) []float32 {
	d := fp16ToF32(binary.LittleEndian.Uint16(y))
	var m float32
	var qh uint32
	qs := y[2:]
	switch t {
	case gguf.Q4_1:
		m, qs = fp16ToF32(binary.LittleEndian.Uint16(y[2:])), y[4:]
	case gguf.Q5_0:
		qh, qs = binary.LittleEndian.Uint32(y[2:]), y[6:]
	case gguf.Q5_1:
		m, qh, qs = fp16ToF32(binary.LittleEndian.Uint16(y[2:])), binary.LittleEndian.Uint32(y[4:]), y[8:]
	}
	out := make([]float32, 32)
	for j := range 32 {
		q := int(qs[j%16] >> (4 * (j / 16)) & 15)
		if t == gguf.Q5_0 || t == gguf.Q5_1 {
			q |= int(qh>>j&1) << 4
		}
		switch t {
		case gguf.Q4_0:
			out[j] = d * float32(q-8)
		case gguf.Q5_0:
			out[j] = d * float32(q-16)
		default:
			out[j] = d*float32(q) + m
		}
	}
	return out
}
