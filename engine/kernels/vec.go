package kernels

import (
	"fmt"
	"math"
)

// Vector helpers around the matrix products: normalisation, softmax, dot and axpy
// (what attention over a KV cache is made of; Attend puts them together).

// Dot returns Σ a[i]*b[i]. len(b) must be at least len(a).
func Dot(a, b []float32) float32 {
	if len(b) < len(a) {
		panic(fmt.Sprintf("kernels: Dot of %d and %d values", len(a), len(b)))
	}
	if len(a) == 0 {
		return 0
	}
	return kern.dot(a, b[:len(a)])
}

// Axpy adds a*x to dst element by element. len(dst) must be at least len(x).
func Axpy(dst []float32, a float32, x []float32) {
	if len(dst) < len(x) {
		panic(fmt.Sprintf("kernels: Axpy of %d values into %d", len(x), len(dst)))
	}
	if len(x) == 0 {
		return
	}
	kern.axpy(dst[:len(x)], a, x)
}

// RMSNorm sets out[i] = weight[i] * x[i] / sqrt(mean(x²) + eps), the normalisation of
// llama2.c's rmsnorm and of nanochat's F.rms_norm. A nil weight means no weight (all
// ones). out may be x itself; len(out) and len(weight) (when not nil) must be at least len(x).
func RMSNorm(out, x, weight []float32, eps float32) {
	if len(out) < len(x) || (weight != nil && len(weight) < len(x)) {
		panic(fmt.Sprintf("kernels: RMSNorm of %d values into %d with %d weights", len(x), len(out), len(weight)))
	}
	if len(x) == 0 {
		return
	}
	ss := Dot(x, x)/float32(len(x)) + eps
	inv := float32(1 / math.Sqrt(float64(ss)))
	if weight != nil {
		weight = weight[:len(x)]
	}
	kern.scale(out[:len(x)], x, weight, inv)
}

// Scale sets out[i] = w[i]·(s·x[i]) for every i < len(x), or s·x[i] when w is
// nil, rounding after each multiplication (run.c's rmsnorm: o = w * (ss * x)).
// out may be x; len(out) and len(w) (when not nil) must be at least len(x).
func Scale(out, x, w []float32, s float32) {
	if len(out) < len(x) || (w != nil && len(w) < len(x)) {
		panic(fmt.Sprintf("kernels: Scale of %d values into %d with %d weights", len(x), len(out), len(w)))
	}
	if len(x) == 0 {
		return
	}
	if w != nil {
		w = w[:len(x)]
	}
	kern.scale(out[:len(x)], x, w, s)
}

// scaleRef is Scale's loop; the conversion keeps s·x[i] rounded on its own.
func scaleRef(out, x, w []float32, s float32) {
	if w == nil {
		for i, v := range x {
			out[i] = s * v
		}
		return
	}
	for i, v := range x {
		out[i] = w[i] * float32(s*v)
	}
}

// Softmax replaces x by exp(x - max(x)) / Σ exp(x - max(x)), in place, as run.c's
// softmax, with float32 exponentials (Exp32's, 8 or 4 at a time in the SIMD
// kernels) as run.c's expf and torch's float32 softmax are. Its cost is the
// exponentials of one attention row per head and position.
func Softmax(x []float32) {
	scaledSoftmax(x, 1)
}

// scaledSoftmax is Softmax(x·s) for s > 0, which turns a head's dot products into
// its attention weights (run.c scales each score by 1/sqrt(head size) before its
// softmax), with the scaling inside the exponentials' pass: the same bits as
// scaling x first, as max(x)·s is the largest x[i]·s when s > 0 (rounding keeps
// the order).
func scaledSoftmax(x []float32, s float32) {
	if len(x) == 0 {
		return
	}
	sum := kern.softmaxExp(x, s, softmaxMax(x)*s)
	kern.divide(x, sum)
}

// softmaxMax is run.c's maximum for softmax (the first value, replaced by any
// later one greater than it) up to the sign of a zero, which x - m cannot tell
// (e^(±0 - ±0) = 1): the SIMD maxValue, or run.c's loop when a NaN is among x
// (maxValue gives NaN, the loop skips NaNs after the first value, and the NEON
// exponentials turn a NaN lane into 0, so the two would differ).
func softmaxMax(x []float32) float32 {
	if m := kern.maxValue(x); m == m {
		return m
	}
	return x[argmaxRef(x)] // run.c's sample_argmax loop is its softmax maximum's
}

// divideRef sets x[i] /= d.
func divideRef(x []float32, d float32) {
	for i := range x {
		x[i] /= d
	}
}

// softmaxExpRef sets x[i] = Exp32(x[i]·s - m) and returns their sum. The
// conversion rounds the product before the subtraction (no fused multiply-add), as
// scaling the scores and then subtracting does.
func softmaxExpRef(x []float32, s, m float32) float32 {
	var sum float32
	for i, v := range x {
		e := Exp32(float32(v*s) - m)
		x[i] = e
		sum += e
	}
	return sum
}

// Exp32 is e^x in float32 to within about 1 ulp (expf's job), several times
// faster than math.Exp's float64, which made the exponentials of attention cost
// more than its dot products. TestExp32 holds it to 2 ulp of math.Exp.
func Exp32(x float32) float32 {
	switch {
	case x != x: // NaN
		return x
	case x > 88.72283:
		return float32(math.Inf(1))
	case x < -87.33654: // below the smallest normal float32: 0 for a softmax
		return 0
	}
	k, s := expReduce(x)
	p := 1 + s
	if k > 127 { // 2^128 is not a float32; the product may still be
		p, k = 2*p, k-1
	}
	return p * pow2(k)
}

// expReduce splits e^x = 2^k·(1+s) for -87.4 < x < 88.8: x = k·ln2 + r with
// |r| <= ln2/2 (ln2 in two parts so k·ln2Hi is exact: Cody and Waite's
// reduction), and s = e^r - 1 by its Taylor series to r^7 (the first term left out
// is below 2^-27 of the result), summed as r + r²·q so that the rounding of the
// small tail hardly reaches it.
func expReduce(x float32) (k int32, s float32) {
	const (
		log2e = 1.44269504088896341
		ln2Hi = 0.693145751953125 // ln 2 to 16 significant bits
		ln2Lo = 1.42860682030941723212e-6
	)
	// k = x·log2e rounded to the nearest integer without a branch (a branch on the
	// sign mispredicts half the time on SiLU's inputs): adding and subtracting
	// 1.5·2^23 leaves no fraction bits in float32 (|x·log2e| < 2^22).
	const shifter = 0x1.8p23
	kf := (x*log2e + shifter) - shifter
	k = int32(kf)
	r := (x - kf*ln2Hi) - kf*ln2Lo
	q := 1.0/2 + r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))
	return k, r + r*r*q
}

// pow2 is 2^k for a normal float32 exponent, -126 <= k <= 127.
func pow2(k int32) float32 { return math.Float32frombits(uint32(k+127) << 23) }

// Tanh32 is tanh(x) in float32 to within a few ulp, about four times faster than
// math.Tanh's float64 (nanochat's logit softcap takes one per vocabulary entry
// per token): with m = e^-2|x| - 1, tanh|x| = -m / (2 + m). m comes from
// expReduce's 2^k·(1+s) - 1 = 2^k·s + (2^k - 1), which does not cancel near 0 the
// way 1 - e^-2|x| would (k is 0 there). Above 9.01 tanh is ±1 in float32.
func Tanh32(x float32) float32 {
	// The sign by bit operations: float64 conversions (math.Abs, math.Copysign)
	// would merge into registers the previous call still writes, chaining every
	// call of a loop behind the one before (4x slower).
	bits := math.Float32bits(x)
	sign := bits & (1 << 31)
	a := math.Float32frombits(bits &^ (1 << 31))
	if !(a <= 9.01) { // also NaN, which stays NaN
		if a != a {
			return x
		}
		return math.Float32frombits(sign | math.Float32bits(1))
	}
	k, s := expReduce(-2 * a)
	p := pow2(k)
	m := p*s + (p - 1)
	return math.Float32frombits(sign | math.Float32bits(-m/(2+m)))
}

// Softcap sets every x[i] to c·tanh(x[i]/c), c > 0: nanochat's logit softcap, one
// tanh per vocabulary entry per token. The SIMD kernels compute Tanh32's arithmetic
// 8 (AVX2) or 4 (NEON) values at a time, with x·(1/c) for x/c.
func Softcap(x []float32, c float32) {
	if len(x) > 0 {
		kern.softcap(x, c)
	}
}

func softcapRef(x []float32, c float32) {
	for i, v := range x {
		x[i] = c * Tanh32(v/c)
	}
}

// SwiGLU sets h[i] = silu(h[i])·g[i], silu(a) = a/(1 + e^-a): the gate of Llama's
// feed-forward. len(g) must be at least len(h). The reference is run.c's loop with
// Exp32 for expf; the SIMD kernels compute the same exponential 8 (AVX2) or 4 (NEON)
// values at a time.
func SwiGLU(h, g []float32) {
	if len(g) < len(h) {
		panic(fmt.Sprintf("kernels: SwiGLU of %d values with %d gates", len(h), len(g)))
	}
	if len(h) > 0 {
		kern.swiglu(h, g[:len(h)])
	}
}

func swigluRef(h, g []float32) {
	for i, a := range h {
		a *= 1 / (1 + Exp32(-a))
		h[i] = a * g[i]
	}
}
