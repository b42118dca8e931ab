package kernels

import "math"

// Float64 models of the weights and the products, for the tests: no float32
// rounding anywhere (products of up to five factors may round in float64, far
// below float32's precision).

// exactWeights widens a row of a block encoding after Q4_0 (in the file's layout)
// in float64, each weight as a sum a + b of its scaled part a (d·q, or d·sc·q) and
// its min part b (m for Q4_1 and Q5_1, -dmin·m_s for Q4_K and Q5_K, 0 otherwise).
func exactWeights(enc Encoding, row []byte, cols int) (a, b []float64) {
	a, b = make([]float64, cols), make([]float64, cols)
	switch enc {
	case Q4_1, Q5_0, Q5_1:
		var q [BlockSize]int8
		for blk := range cols / BlockSize {
			d, m := block32(enc, row, blk, &q)
			for j, v := range q {
				a[blk*BlockSize+j] = float64(d) * float64(v)
				b[blk*BlockSize+j] = float64(m)
			}
		}
	case Q4_K, Q5_K:
		var q [superBlock]int8
		var sc, mins [8]uint8
		for blk := range cols / superBlock {
			d, dmin := kBlock(enc, row, blk, &q, &sc, &mins)
			for j, v := range q {
				a[blk*superBlock+j] = float64(d) * float64(sc[j/32]) * float64(v)
				b[blk*superBlock+j] = -float64(dmin) * float64(mins[j/32])
			}
		}
	case Q6_K:
		var q [superBlock]int8
		for blk := range cols / superBlock {
			scales, d := q6Block(row, blk, &q)
			for j, v := range q {
				a[blk*superBlock+j] = float64(d) * float64(scales[j/16]) * float64(v)
			}
		}
	default:
		panic("exactWeights: " + enc.String())
	}
	return a, b
}

// exactX is x as the products of enc's kernels see it, in float64: x itself, or
// its quantized values times their block's scale.
func exactX(enc Encoding, in *Input) []float64 {
	xs := make([]float64, len(in.x))
	v := in.xq[enc.act()]
	for j, x := range in.x {
		switch enc.act() {
		case actFloat:
			xs[j] = float64(x)
		case actQ8_0, actQ8_1:
			xs[j] = float64(v.q[j]) * float64(v.d[j/BlockSize])
		case actQ8K:
			xs[j] = float64(v.q[j]) * float64(v.d[j/superBlock])
		}
	}
	return xs
}

// exactDots is every row of m times x as in holds it for m's encoding, in
// float64, and the sum of the magnitudes of each row's terms (what the float32
// rounding errors of the kernels are relative to). A Q8_1 block's min meets s,
// fp16(d·Σq), not the sum of the block's values.
func exactDots(m Matrix, in *Input) (sum, mag []float64) {
	sum, mag = make([]float64, m.Rows), make([]float64, m.Rows)
	xs := exactX(m.Enc, in)
	w := make([]float32, m.Cols)
	rb := m.Enc.RowBytes(m.Cols)
	for i := range m.Rows {
		add := func(p float64) {
			sum[i] += p
			mag[i] += math.Abs(p)
		}
		if m.Enc.act() == actFloat || m.Enc == Q8_0 || m.Enc == Q4_0 {
			m.Row(i, w)
			for j, wv := range w {
				add(float64(wv) * xs[j])
			}
			continue
		}
		a, b := exactWeights(m.Enc, m.Data[i*rb:(i+1)*rb], m.Cols)
		for j := range a {
			add(a[j] * xs[j])
		}
		switch m.Enc.act() {
		case actQ8_1:
			for blk, s := range in.xq[actQ8_1].s {
				add(b[blk*BlockSize] * float64(s))
			}
		case actQ8K:
			for j := range b {
				add(b[j] * xs[j])
			}
		}
	}
	return sum, mag
}
