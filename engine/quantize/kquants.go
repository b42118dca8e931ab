package quantize

import "encoding/binary"

// The 256-weight super-block types without an importance matrix, as ggml-quants.c's
// quantize_row_q4_K_ref, quantize_row_q5_K_ref and quantize_row_q6_K_ref (which
// quantize_q4_K, quantize_q5_K and quantize_q6_K call when there is none).

const qkK = 256 // weights per super-block

// groupMaxEps is ggml-quants.c's GROUP_MAX_EPS: a group whose largest magnitude is
// below it is all zeros.
const groupMaxEps = 1e-15

// q4_KRow: eight sub-blocks of 32, each with a scale and a min fitted by
// make_qkx2_quants (weights av_x+|x|, 20 steps from -1 by 0.1), the scales and the mins
// quantized to 6 bits against the largest of each, then every weight requantized with
// the stored 6-bit values.
func q4_KRow(dst []byte, src []float32) {
	for b := range len(src) / qkK {
		kQuantBlock(dst[b*144:(b+1)*144], src[b*qkK:(b+1)*qkK], 15, -1, 20)
	}
}

// q5_KRow is q4_KRow with 5-bit weights (0..31, 15 steps from -0.5) and their fifth
// bits in qh.
func q5_KRow(dst []byte, src []float32) {
	for b := range len(src) / qkK {
		kQuantBlock(dst[b*176:(b+1)*176], src[b*qkK:(b+1)*qkK], 31, -0.5, 15)
	}
}

// kQuantBlock writes one Q4_K (nmax 15) or Q5_K (nmax 31) super-block y from x:
// d, dmin, scales[12], then for Q5_K qh[32], then qs[128].
func kQuantBlock(y []byte, x []float32, nmax int32, rmin float32, nstep int) {
	var (
		L              [qkK]uint8
		scales, mins   [8]float32
		weights        [32]float32
		maxScale, maxM float32
	)
	for j := range 8 {
		xs := x[32*j : 32*j+32]
		var sumX2 float32
		for _, v := range xs {
			sumX2 += float32(v * v)
		}
		avX := sqrt32(sumX2 / 32)
		for l, v := range xs {
			weights[l] = avX + abs32(v)
		}
		scales[j], mins[j] = fitScaleMin(xs, &weights, L[32*j:32*j+32], nmax, rmin, 0.1, nstep)
		if scales[j] > maxScale {
			maxScale = scales[j]
		}
		if mins[j] > maxM {
			maxM = mins[j]
		}
	}

	var invScale, invMin float32
	if maxScale > 0 {
		invScale = 63 / maxScale
	}
	if maxM > 0 {
		invMin = 63 / maxM
	}
	sc := y[4:16]
	for j := range 8 {
		// uint8_t ls = nearest_int(...): the conversion keeps the low byte.
		ls := min(63, uint8(nearestInt(float32(invScale*scales[j]))))
		lm := min(63, uint8(nearestInt(float32(invMin*mins[j]))))
		if j < 4 {
			sc[j] = ls
			sc[j+4] = lm
		} else {
			sc[j+4] = ls&15 | lm<<4
			sc[j-4] |= ls >> 4 << 6
			sc[j] |= lm >> 4 << 6
		}
	}
	dh, mh := fp16(maxScale/63), fp16(maxM/63)
	binary.LittleEndian.PutUint16(y, dh)
	binary.LittleEndian.PutUint16(y[2:], mh)

	d16, m16 := fp16ToF32(dh), fp16ToF32(mh)
	for j := range 8 {
		s, m := scaleMin(sc, j)
		d := d16 * float32(s)
		if d == 0 {
			continue // the sub-block keeps make_qkx2_quants's levels
		}
		dm := m16 * float32(m)
		for i, v := range x[32*j : 32*j+32] {
			L[32*j+i] = uint8(min(nmax, max(0, nearestInt((v+dm)/d))))
		}
	}

	qs := y[16:]
	if nmax == 31 {
		qh := y[16:48]
		clear(qh)
		qs = y[48:]
		for j := range qkK {
			if L[j] > 15 {
				L[j] -= 16
				// sub-block s = j/32 sets bit s of qh[j%32]
				qh[j%32] |= 1 << (j / 32)
			}
		}
	}
	// chunk c of 32 bytes: sub-block 2c in the low nibbles, 2c+1 in the high ones
	for c := range 4 {
		for l := range 32 {
			qs[32*c+l] = L[64*c+l] | L[64*c+32+l]<<4
		}
	}
}

// scaleMin is ggml-quants.c's get_scale_min_k4: sub-block j's 6-bit scale and min
// from the 12 packed bytes.
func scaleMin(q []byte, j int) (sc, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&15 | q[j-4]>>6<<4, q[j+4]>>4 | q[j]>>6<<4
}

// fitScaleMin is ggml-quants.c's make_qkx2_quants with use_mad false: it fits
// x ≈ scale*L + min with L in 0..nmax, minimising the weighted squared error over
// nstep+1 trial scales (nmax+rmin+rdelta*is)/(max-min), and returns scale and -min
// (min is never above 0). L gets the levels of the best fit. As in llama.cpp, a
// better fit replaces min, and the later trials start from it.
func fitScaleMin(x []float32, w *[32]float32, L []uint8, nmax int32, rmin, rdelta float32, nstep int) (scale, negMin float32) {
	n := len(x)
	lo, hi := x[0], x[0]
	sumW := w[0]
	sumX := float32(sumW * x[0])
	for i := 1; i < n; i++ {
		if x[i] < lo {
			lo = x[i]
		}
		if x[i] > hi {
			hi = x[i]
		}
		sumW += w[i]
		sumX += float32(w[i] * x[i])
	}
	if lo > 0 {
		lo = 0
	}
	if hi == lo {
		clear(L)
		return 0, -lo
	}
	fmax := float32(nmax)
	iscale := fmax / (hi - lo)
	scale = 1 / iscale
	var bestErr float32
	for i := range n {
		l := min(nmax, max(0, nearestInt(float32(iscale*(x[i]-lo)))))
		L[i] = uint8(l)
		diff := float32(scale*float32(L[i])) + lo - x[i]
		bestErr += float32(w[i] * float32(diff*diff))
	}
	var aux [32]uint8
	for is := 0; is <= nstep; is++ {
		iscale = (rmin + float32(rdelta*float32(is)) + fmax) / (hi - lo)
		var sumL, sumL2, sumXL float32
		for i := range n {
			l := min(nmax, max(0, nearestInt(float32(iscale*(x[i]-lo)))))
			aux[i] = uint8(l)
			fl := float32(l)
			sumL += float32(w[i] * fl)
			sumL2 += float32(float32(w[i]*fl) * fl)
			sumXL += float32(float32(w[i]*fl) * x[i])
		}
		D := float32(sumW*sumL2) - float32(sumL*sumL)
		if !(D > 0) {
			continue
		}
		thisScale := (float32(sumW*sumXL) - float32(sumX*sumL)) / D
		thisMin := (float32(sumL2*sumX) - float32(sumL*sumXL)) / D
		if thisMin > 0 {
			thisMin = 0
			thisScale = sumXL / sumL2
		}
		var e float32
		for i := range n {
			diff := float32(thisScale*float32(aux[i])) + thisMin - x[i]
			e += float32(w[i] * float32(diff*diff))
		}
		if e < bestErr {
			copy(L, aux[:n])
			bestErr = e
			scale = thisScale
			lo = thisMin
		}
	}
	return scale, -lo
}

// q6_KRow: sixteen sub-blocks of 16, each with a signed scale from make_qx_quants
// (nmax 32, weights x²), the scales quantized to int8 against the one of largest
// magnitude (which maps to -128), then every weight requantized to -32..31 with the
// stored scales. Layout: ql[128], qh[64], scales[16], d.
func q6_KRow(dst []byte, src []float32) {
	for b := range len(src) / qkK {
		q6_KBlock(dst[b*210:(b+1)*210], src[b*qkK:(b+1)*qkK])
	}
}

func q6_KBlock(y []byte, x []float32) {
	var (
		L                   [qkK]int8
		scales              [16]float32
		maxScale, maxAbsScl float32
	)
	for ib := range 16 {
		s := fitSymmetric(x[16*ib:16*ib+16], L[16*ib:16*ib+16], 32)
		scales[ib] = s
		if abs32(s) > maxAbsScl {
			maxAbsScl = abs32(s)
			maxScale = s
		}
	}
	if maxAbsScl < groupMaxEps {
		clear(y) // all zero, d = +0
		return
	}
	ql, qh, sc := y[:128], y[128:192], y[192:208]
	iscale := -128 / maxScale
	dh := fp16(1 / iscale)
	binary.LittleEndian.PutUint16(y[208:], dh)
	for ib := range 16 {
		sc[ib] = byte(int8(min(127, nearestInt(float32(iscale*scales[ib])))))
	}
	d16 := fp16ToF32(dh)
	for j := range 16 {
		d := d16 * float32(int8(sc[j]))
		if d == 0 {
			continue
		}
		for i, v := range x[16*j : 16*j+16] {
			L[16*j+i] = int8(min(31, max(-32, nearestInt(v/d))) + 32)
		}
	}
	// half h: weights 128h+l, +32, +64, +96 share ql[64h+l], ql[64h+l+32] and qh[32h+l]
	for h := range 2 {
		q := L[128*h : 128*h+128]
		for l := range 32 {
			ql[64*h+l] = byte(q[l]&15 | (q[l+64]&15)<<4)
			ql[64*h+l+32] = byte(q[l+32]&15 | (q[l+96]&15)<<4)
			qh[32*h+l] = byte(q[l]>>4 | q[l+32]>>4<<2 | q[l+64]>>4<<4 | q[l+96]>>4<<6)
		}
	}
}

// fitSymmetric is ggml-quants.c's make_qx_quants with rmse_type 1 and no importance
// weights: x ≈ scale*l with l in -nmax..nmax-1, weighted by x², trying the scales
// -(nmax+0.1*is)/max for is = -9..9 around the plain one. L gets l+nmax; it returns scale.
func fitSymmetric(x []float32, L []int8, nmax int32) float32 {
	var amax, m float32
	for _, v := range x {
		if abs32(v) > amax {
			amax, m = abs32(v), v
		}
	}
	if amax < groupMaxEps {
		clear(L)
		return 0
	}
	fmax := float32(nmax)
	level := func(iscale, v float32) int32 {
		return min(nmax-1, max(-nmax, nearestInt(float32(iscale*v))))
	}
	iscale := -fmax / m
	var sumLX, sumL2 float32
	for i, v := range x {
		l := level(iscale, v)
		L[i] = int8(l + nmax)
		w, fl := float32(v*v), float32(l)
		sumLX += float32(float32(w*v) * fl)
		sumL2 += float32(float32(w*fl) * fl)
	}
	var scale float32
	if sumL2 != 0 {
		scale = sumLX / sumL2
	}
	best := scale * sumLX
	for is := int32(-9); is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(fmax + float32(0.1*float32(is))) / m
		sumLX, sumL2 = 0, 0
		for _, v := range x {
			l := level(iscale, v)
			w, fl := float32(v*v), float32(l)
			sumLX += float32(float32(w*v) * fl)
			sumL2 += float32(float32(w*fl) * fl)
		}
		if sumL2 > 0 && float32(sumLX*sumLX) > float32(best*sumL2) {
			for i, v := range x {
				L[i] = int8(level(iscale, v) + nmax)
			}
			scale = sumLX / sumL2
			best = scale * sumLX
		}
	}
	return scale
}
