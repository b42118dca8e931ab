package gpt

import "math"

// The few scalar helpers of the forward pass that are not kernels: everything
// over weights goes through kernels.MatVec and kernels.Matrix.Row, and the
// vector loops through kernels.RMSNorm, Dot, Axpy and Softmax.

func scaleVec(x []float32, a float32) {
	for i := range x {
		x[i] *= a
	}
}

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }
