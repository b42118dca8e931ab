package kernels

import (
	"fmt"
	"math"
)

// Vector helpers around the matrix products: normalisation, softmax, and the dot and
// axpy that attention over a KV cache is made of:
//
//	for t := 0; t <= pos; t++ { att[t] = kernels.Dot(q, key(t)) * scale }
//	kernels.Softmax(att[:pos+1])
//	for t := 0; t <= pos; t++ { kernels.Axpy(out, att[t], value(t)) }

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
	if weight == nil {
		for i, v := range x {
			out[i] = inv * v
		}
		return
	}
	for i, v := range x {
		out[i] = weight[i] * float32(inv*v)
	}
}

// Softmax replaces x by exp(x - max(x)) / Σ exp(x - max(x)), in place, as run.c's
// softmax. It stays in Go on every architecture: its cost is the exponentials of
// one attention row (at most seq_len values per head), not memory.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	m := x[0]
	for _, v := range x[1:] {
		m = max(m, v)
	}
	var sum float32
	for i, v := range x {
		e := float32(math.Exp(float64(v - m)))
		x[i] = e
		sum += e
	}
	for i := range x {
		x[i] /= sum
	}
}
