package gpt

import "math"

// The scalar helper of the forward pass that is not a kernel: everything over
// weights goes through kernels.MatVec and kernels.Matrix.Row, and the vector loops
// through kernels.RMSNorm, Scale, Dot, Axpy and Softmax.

func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }
