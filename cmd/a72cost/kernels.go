package main

import "regexp"

// kernel is one NEON kernel of engine/kernels as the cost model counts it: its
// main loop's cycles per 32 elements of its stream (weights of a matrix, values of
// the KV cache, floats of a vector).
type kernel struct {
	label  string
	group  string         // matvec, matmul, attention, elementwise
	symbol *regexp.Regexp // the TEXT symbol (kernels are found by name, and may be absent)
	stream string         // the argument whose elements are counted
	// elemBytes is the stream's bytes per element, as num/den (18/32 for q4_0).
	num, den int
	typ      string // the GGUF type a matrix kernel reads ("Q4_K"), for the models' estimates
	// innerTrips, when not 0, makes the main loop the one around the innermost,
	// with the innermost repeated that many times (see mainLoop).
	innerTrips int
}

func k(label, group, symbol, stream string, num, den int, typ string) kernel {
	return kernel{label: label, group: group, symbol: regexp.MustCompile("^(?i:" + symbol + ")$"), stream: stream, num: num, den: den, typ: typ}
}

// kernels lists the NEON kernels in the order of the report. The matrix kernels of
// types without a NEON kernel yet match names they may be given (matVecQ4KNEON,
// matVecQ4_KNEON) and show as pending until one exists.
var kernels = []kernel{
	k("matvec f32", "matvec", "matVecF32NEON", "w", 4, 1, "F32"),
	k("matvec f16", "matvec", "matVecF16NEON", "w", 2, 1, "F16"),
	k("matvec bf16", "matvec", "matVec_?BF16NEON", "w", 2, 1, "BF16"),
	k("matvec q8_0", "matvec", "matVecQ8(_0)?NEON", "w", 34, 32, "Q8_0"),
	k("matvec q4_0", "matvec", "matVecQ4(_0)?NEON", "w", 18, 32, "Q4_0"),
	k("matvec q4_1", "matvec", "matVecQ4_?1NEON", "w", 20, 32, "Q4_1"),
	k("matvec q5_0", "matvec", "matVecQ5(_?0)?NEON", "w", 22, 32, "Q5_0"),
	k("matvec q5_1", "matvec", "matVecQ5_?1NEON", "w", 24, 32, "Q5_1"),
	k("matvec q4_K", "matvec", "matVecQ4_?KNEON", "w", 144, 256, "Q4_K"),
	k("matvec q5_K", "matvec", "matVecQ5_?KNEON", "w", 176, 256, "Q5_K"),
	k("matvec q6_K", "matvec", "matVecQ6_?KNEON", "w", 210, 256, "Q6_K"),
	// The batch kernels (prefill) take four tokens per pass over a row: an element
	// is a weight for one token, four per weight read.
	k("matmul f32, 4 tokens", "matmul", "matMulF32NEON", "w", 4, 4, ""),
	k("matmul f16, 4 tokens", "matmul", "matMulF16NEON", "w", 2, 4, ""),
	k("matmul bf16, 4 tokens", "matmul", "matMul_?BF16NEON", "w", 2, 4, ""),
	k("matmul q8_0, 4 tokens", "matmul", "matMulQ8(_0)?NEON", "w", 34, 128, ""),
	k("matmul q4_0, 4 tokens", "matmul", "matMulQ4(_0)?NEON", "w", 18, 128, ""),
	k("matmul q4_1, 4 tokens", "matmul", "matMulQ4_1NEON", "w", 20, 128, ""),
	k("matmul q5_0, 4 tokens", "matmul", "matMulQ5_0NEON", "w", 22, 128, ""),
	k("matmul q5_1, 4 tokens", "matmul", "matMulQ5_1NEON", "w", 24, 128, ""),
	k("matmul q4_K, 4 tokens", "matmul", "matMulQ4_?KNEON", "w", 144, 1024, ""),
	k("matmul q5_K, 4 tokens", "matmul", "matMulQ5_?KNEON", "w", 176, 1024, ""),
	k("matmul q6_K, 4 tokens", "matmul", "matMulQ6_?KNEON", "w", 210, 1024, ""),
	k("attention scores, fp32 cache", "attention", "scoresNEON", "k", 4, 1, ""),
	k("attention mix, fp32 cache", "attention", "mixNEON", "v", 4, 1, ""),
	k("attention scores, fp16 cache", "attention", "scoresF16NEON", "k", 2, 1, ""),
	k("attention mix, fp16 cache", "attention", "mixF16NEON", "v", 2, 1, ""),
	k("attention scores, fp16 cache, 2 heads", "attention", "scoresF16x2NEON", "k", 2, 1, ""),
	k("attention mix, fp16 cache, 2 heads", "attention", "mixF16x2NEON", "v", 2, 1, ""),
	k("fp16 cache write", "attention", "toF16NEON", "src", 4, 1, ""),
	k("quantize x to q8_0", "elementwise", "quantizeQ8NEON", "x", 4, 1, ""),
	k("quantize x to q8_1", "elementwise", "quantizeQ8_1NEON", "x", 4, 1, ""),
	k("quantize x to q8_K", "elementwise", "quantizeQ8KNEON", "x", 4, 1, ""),
	k("swiglu", "elementwise", "swigluNEON", "h", 4, 1, ""),
	k("softmax exp", "elementwise", "softmaxExpNEON", "x", 4, 1, ""),
	k("softmax divide", "elementwise", "divideNEON", "x", 4, 1, ""),
	k("scale (rmsnorm)", "elementwise", "scaleNEON", "x", 4, 1, ""),
	k("axpy", "elementwise", "axpyNEON", "x", 4, 1, ""),
	k("softcap", "elementwise", "softcapNEON", "x", 4, 1, ""),
	k("argmax: max", "elementwise", "maxValueNEON", "x", 4, 1, ""),
	k("argmax: find", "elementwise", "findNEON", "x", 4, 1, ""),
	k("plain read (bench)", "elementwise", "readStreamNEON", "p", 1, 1, ""),
}
