package quantize

import (
	"encoding/binary"
	"math"
)

// The 32-weight block types, as ggml-quants.c's quantize_row_q4_0_ref,
// quantize_row_q4_1_ref, quantize_row_q5_0_ref, quantize_row_q5_1_ref and
// quantize_row_q8_0_ref. Each function takes whole blocks: len(src) a multiple of 32
// and dst exactly RowBytes long.

const qk = 32 // weights per block

// q8_0Row: d = amax/127, stored as fp16; q = roundf(x*(1/d)) with d before rounding.
func q8_0Row(dst []byte, src []float32) {
	for b := range len(src) / qk {
		x := src[b*qk : (b+1)*qk]
		y := dst[b*34 : (b+1)*34]
		var amax float32
		for _, v := range x {
			amax = max(amax, abs32(v))
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		binary.LittleEndian.PutUint16(y, fp16(d))
		for j, v := range x {
			y[2+j] = byte(truncate(roundAway(v * id)))
		}
	}
}

// signedMax returns the value of largest magnitude in x, the first one on ties, and
// 0 for a block of zeros.
func signedMax(x []float32) float32 {
	var amax, m float32
	for _, v := range x {
		if amax < abs32(v) {
			amax, m = abs32(v), v
		}
	}
	return m
}

// minMax returns the smallest and the largest value of x.
func minMax(x []float32) (lo, hi float32) {
	lo, hi = math.MaxFloat32, -math.MaxFloat32
	for _, v := range x {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi
}

// inverse is llama.cpp's `d ? 1.0f/d : 0.0f`.
func inverse(d float32) float32 {
	if d == 0 {
		return 0
	}
	return 1 / d
}

// q4_0Row: d = m/-8 for the value m of largest magnitude (which maps to 0), and
// q = min(15, trunc(x/d + 8.5)); byte j holds weight j low and weight j+16 high.
func q4_0Row(dst []byte, src []float32) {
	for b := range len(src) / qk {
		x := src[b*qk : (b+1)*qk]
		y := dst[b*18 : (b+1)*18]
		d := signedMax(x) / -8
		id := inverse(d)
		binary.LittleEndian.PutUint16(y, fp16(d))
		for j := range qk / 2 {
			lo := uint8(min(15, int8(truncate(float32(x[j]*id)+8.5))))
			hi := uint8(min(15, int8(truncate(float32(x[j+qk/2]*id)+8.5))))
			y[2+j] = lo | hi<<4
		}
	}
}

// q4_1Row: d = (max-min)/15, m = min, q = min(15, trunc((x-min)/d + 0.5)).
func q4_1Row(dst []byte, src []float32) {
	for b := range len(src) / qk {
		x := src[b*qk : (b+1)*qk]
		y := dst[b*20 : (b+1)*20]
		lo, hi := minMax(x)
		d := (hi - lo) / 15
		id := inverse(d)
		binary.LittleEndian.PutUint16(y, fp16(d))
		binary.LittleEndian.PutUint16(y[2:], fp16(lo))
		for j := range qk / 2 {
			q0 := uint8(min(15, int8(truncate(float32((x[j]-lo)*id)+0.5))))
			q1 := uint8(min(15, int8(truncate(float32((x[j+qk/2]-lo)*id)+0.5))))
			y[4+j] = q0 | q1<<4
		}
	}
}

// q5_0Row: d = m/-16, q = min(31, trunc(x/d + 16.5)); the low nibbles as Q4_0, the
// fifth bit of weight j in bit j of the little-endian qh.
func q5_0Row(dst []byte, src []float32) {
	for b := range len(src) / qk {
		x := src[b*qk : (b+1)*qk]
		y := dst[b*22 : (b+1)*22]
		d := signedMax(x) / -16
		id := inverse(d)
		binary.LittleEndian.PutUint16(y, fp16(d))
		var qh uint32
		for j := range qk / 2 {
			q0 := uint8(min(31, int8(truncate(float32(x[j]*id)+16.5))))
			q1 := uint8(min(31, int8(truncate(float32(x[j+qk/2]*id)+16.5))))
			y[6+j] = q0&15 | q1<<4
			qh |= uint32(q0>>4&1)<<j | uint32(q1>>4&1)<<(j+qk/2)
		}
		binary.LittleEndian.PutUint32(y[2:], qh)
	}
}

// q5_1Row: d = (max-min)/31, m = min, q = trunc((x-min)/d + 0.5) (no clamp in
// llama.cpp: the largest value gives 31), packed as Q5_0.
func q5_1Row(dst []byte, src []float32) {
	for b := range len(src) / qk {
		x := src[b*qk : (b+1)*qk]
		y := dst[b*24 : (b+1)*24]
		lo, hi := minMax(x)
		d := (hi - lo) / 31
		id := inverse(d)
		binary.LittleEndian.PutUint16(y, fp16(d))
		binary.LittleEndian.PutUint16(y[2:], fp16(lo))
		var qh uint32
		for j := range qk / 2 {
			q0 := uint8(truncate(float32((x[j]-lo)*id) + 0.5))
			q1 := uint8(truncate(float32((x[j+qk/2]-lo)*id) + 0.5))
			y[8+j] = q0&15 | q1<<4
			qh |= uint32(q0>>4&1)<<j | uint32(q1>>4&1)<<(j+qk/2)
		}
		binary.LittleEndian.PutUint32(y[4:], qh)
	}
}
