package gpt

import "math"

// Small vector operations of the forward pass. They run over activations (at most
// n_embd or a window of scores), not weights; every weight goes through
// kernels.MatVec and kernels.Matrix.Row.

// rmsnorm sets out = x / sqrt(mean(x²) + eps): F.rms_norm without a weight.
// out may be x.
func rmsnorm(out, x []float32, eps float32) {
	ss := dot(x, x)/float32(len(x)) + eps
	inv := float32(1 / math.Sqrt(float64(ss)))
	for i, v := range x {
		out[i] = v * inv
	}
}

func dot(a, b []float32) float32 {
	var s float32
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// axpy adds a*x to dst.
func axpy(dst []float32, a float32, x []float32) {
	for i, v := range x {
		dst[i] += a * v
	}
}

func scaleVec(x []float32, a float32) {
	for i := range x {
		x[i] *= a
	}
}

func softmax(x []float32) {
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

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }
