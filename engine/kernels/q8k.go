package kernels

import "math"

// quantizeQ8KRef fills v (sized for x, len(x) a multiple of 256) with x in Q8_K
// blocks, the form of x the K-quants' products take, as llama.cpp's
// quantize_row_q8_K_ref (ggml-quants.c; ggml-cpu's quantize_row_q8_K is that
// function on x86 and arm64). Per block of 256: max is the first value of largest
// magnitude, iscale = -127/max, q = min(127, round-half-to-even(iscale·x)), d =
// 1/iscale (float32, never rounded to fp16), and bsums the sums of every 16 q.
// A block of zeros gets d = 0 and q = 0. When |max| is so small that iscale
// overflows, nearest_int's addition meets infinities and NaNs, and its bits give 0
// for every q: so do these, with d = 1/iscale, a signed zero.
func quantizeQ8KRef(v *q8Vector, x []float32) {
	for b := range v.d {
		xb := x[b*superBlock : (b+1)*superBlock]
		qb := v.q[b*superBlock : (b+1)*superBlock]
		sums := v.bsums[b*superBlock/16 : (b+1)*superBlock/16]
		var amax, m float32
		for _, xv := range xb {
			if a := abs32(xv); a > amax {
				amax, m = a, xv
			}
		}
		if amax == 0 {
			v.d[b] = 0
			clear(qb)
			clear(sums)
			continue
		}
		iscale := -127 / m
		v.d[b] = 1 / iscale
		if math.IsInf(float64(iscale), 0) {
			clear(qb)
			clear(sums)
			continue
		}
		for j, xv := range xb {
			qb[j] = int8(min(127, nearestInt(float32(iscale*xv))))
		}
		for g := range sums {
			var s int16
			for _, q := range qb[16*g : 16*g+16] {
				s += int16(q)
			}
			sums[g] = s
		}
	}
}
