package kernels

// Argmax is the lowest index holding the largest value of x, as llama2.c's
// sample_argmax finds it: the first i with x[i] > x[best] for every earlier best.
// NaNs never win, unless x[0] is one, which nothing compares greater than; -0
// and +0 are equal. An empty x gives 0.
//
// Greedy decoding runs it over the whole vocabulary for every token. run.c's loop
// reloads x[best] at every step and waits on the comparison before it, which
// for a 32000-token vocabulary is a visible part of a small model's token. The
// kernels find the largest
// value first, several vectors at a time, then its first index, a vector at a time.
func Argmax(x []float32) int {
	if len(x) == 0 || x[0] != x[0] {
		return 0
	}
	top := kern.maxValue(x)
	if top != top {
		return argmaxRef(x) // a NaN after x[0]: run.c's loop skips it
	}
	return kern.find(x, top)
}

// argmaxRef is run.c's sample_argmax.
func argmaxRef(x []float32) int {
	best := 0
	for i := 1; i < len(x); i++ {
		if x[i] > x[best] {
			best = i
		}
	}
	return best
}

// maxValueRef is the largest value of x (len(x) > 0), or NaN when x holds one.
func maxValueRef(x []float32) float32 {
	m := x[0]
	for _, v := range x {
		if v != v {
			return v
		}
		if v > m {
			m = v
		}
	}
	return m
}

// findRef is the first index of v in x (==), or len(x).
func findRef(x []float32, v float32) int {
	for i, u := range x {
		if u == v {
			return i
		}
	}
	return len(x)
}

// simdMaxValue runs k over x's whole vectors (at least one) and the reference
// over the rest.
func simdMaxValue(width int, k func(x *float32, n int) float32) func([]float32) float32 {
	return func(x []float32) float32 {
		n := len(x) &^ (width - 1)
		if n == 0 {
			return maxValueRef(x)
		}
		m := k(f32p(x), n)
		if n < len(x) {
			t := maxValueRef(x[n:])
			if t != t || t > m {
				return t
			}
		}
		return m
	}
}

// simdFind runs k (the first vector holding v, or n) over x's whole vectors and
// finds the lane in Go; the reference searches the rest.
func simdFind(width int, k func(x *float32, n int, v float32) int) func([]float32, float32) int {
	return func(x []float32, v float32) int {
		n := len(x) &^ (width - 1)
		if n > 0 {
			if i := k(f32p(x), n, v); i < n {
				return i + findRef(x[i:i+width], v)
			}
		}
		return n + findRef(x[n:], v)
	}
}
