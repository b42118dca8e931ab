package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Benchmarks report the bytes of weights read per second (b.SetBytes, shown as
// MB/s, plus a GB/s metric). Decoding is memory-bound, so the figure to watch is the
// ratio to the machine's own read bandwidth, measured in the same run by the "read"
// benchmarks (a plain sequential read of the same bytes, or of a buffer much larger
// than the caches). For example:
//
//	go test -run '^$' -bench 'Model286M|MemRead' -benchtime 20x ./engine/kernels/
//
// BenchmarkModel286M reports the ratio itself (x-read); BenchmarkMemRead gives the
// DRAM ceiling (a buffer far larger than the caches) for the same thread counts.

// benchThreads are the pool sizes to measure: 1, and every core.
func benchThreads() []int {
	if n := runtime.GOMAXPROCS(0); n > 1 {
		return []int{1, n}
	}
	return []int{1}
}

// randomMatrix fills a rows x cols matrix in enc with random weights, fast enough
// for hundreds of megabytes: float weights are N(0, 0.02)-like values, and blocks
// get random quants under a random small scale.
func randomMatrix(rng *rand.Rand, rows, cols int, enc Encoding) Matrix {
	data := make([]byte, rows*enc.RowBytes(cols))
	switch enc {
	case F32, F16, BF16:
		table := make([]float32, 4096)
		for i := range table {
			table[i] = float32(rng.NormFloat64() * 0.02)
		}
		for i := 0; i < rows*cols; i++ {
			v := table[rng.Uint32()&4095]
			switch enc {
			case F32:
				binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
			case F16:
				binary.LittleEndian.PutUint16(data[2*i:], F32ToF16(v))
			case BF16:
				binary.LittleEndian.PutUint16(data[2*i:], F32ToBF16(v))
			}
		}
	case Q8_0, Q4_0:
		bb := blockBytes(enc)
		for off := 0; off < len(data); off += bb {
			for j := off + 2; j < off+bb; j += 8 {
				binary.LittleEndian.PutUint64(data[j:], rng.Uint64()) // may run into the next block: overwritten below
			}
		}
		for off := 0; off < len(data); off += bb {
			binary.LittleEndian.PutUint16(data[off:], F32ToF16(float32(0.0005+rng.Float64()*0.001)))
		}
	default:
		fillBlocks(rng, enc, data, randomScales(rng, enc, 0.02))
	}
	m, err := NewMatrix(data, rows, cols, enc)
	if err != nil {
		panic(err)
	}
	return m
}

func randomVector(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// model286M is the matrix set one decoding step of the 286M nanochat reads:
// 12 layers of n_embd 768 (c_q, c_k, c_v, c_proj 768x768; c_fc 3072x768; mlp
// c_proj 768x3072) and lm_head 32768x768, 110M weights. Embeddings and value
// embeddings are lookups, not read per token.
type model286M struct {
	mats  []Matrix
	bytes int
}

var (
	model286MOnce sync.Map // Encoding -> *model286M
)

func getModel286M(enc Encoding) *model286M {
	if m, ok := model286MOnce.Load(enc); ok {
		return m.(*model286M)
	}
	rng := rand.New(rand.NewPCG(286, uint64(enc)))
	const d, layers, vocab = 768, 12, 32768
	var shapes [][2]int
	for l := 0; l < layers; l++ {
		shapes = append(shapes, [2]int{d, d}, [2]int{d, d}, [2]int{d, d}, [2]int{d, d}, [2]int{4 * d, d}, [2]int{d, 4 * d})
	}
	shapes = append(shapes, [2]int{vocab, d})
	total := 0
	for _, s := range shapes {
		total += s[0] * enc.RowBytes(s[1])
	}
	// One allocation, matrices as views into it, like a loaded model file.
	whole := randomMatrix(rng, total/enc.RowBytes(d), d, enc).Data
	m := &model286M{bytes: total}
	off := 0
	for _, s := range shapes {
		n := s[0] * enc.RowBytes(s[1])
		mat, err := NewMatrix(whole[off:off+n], s[0], s[1], enc)
		if err != nil {
			panic(err)
		}
		m.mats = append(m.mats, mat)
		off += n
	}
	model286MOnce.Store(enc, m)
	return m
}

func reportGBps(b *testing.B, bytes int) float64 {
	b.SetBytes(int64(bytes))
	gbps := float64(bytes) * float64(b.N) / b.Elapsed().Seconds() / 1e9
	b.ReportMetric(gbps, "GB/s")
	return gbps
}

// modelEncodings are the encodings the whole-model benchmarks take: those of the
// demo models, and GGUF's that Q4_K_M and Q8_0 files are made of.
var modelEncodings = []Encoding{F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q6_K}

// BenchmarkModel286M: one token's matrix-vector products over the 286M matrix set.
// Each iteration first reads 512 MiB of another buffer (untimed), which leaves none
// of the matrices in the caches, then as many bytes as the matrices further along
// it, with StreamRead on as many threads (timed separately; inferpi bench pairs its
// reads the same way), so the metrics give the kernels' GB/s, the plain read's GB/s
// and their ratio x-read under the same conditions, even on a machine shared with
// others.
func BenchmarkModel286M(b *testing.B) {
	for _, enc := range modelEncodings {
		for _, threads := range benchThreads() {
			b.Run(fmt.Sprintf("%v/threads=%d", enc, threads), func(b *testing.B) {
				m := getModel286M(enc)
				p := NewPool(threads)
				defer p.Close()
				rng := rand.New(rand.NewPCG(1, 1))
				x768, x3072 := randomVector(rng, 768), randomVector(rng, 3072)
				out := make([]float32, 32768)
				buf := memReadBuffer()
				var readTime time.Duration
				b.ResetTimer()
				const evict = 512 << 20 // more than this machine's 300 MiB L3
				for i := range b.N {
					b.StopTimer()
					off := i * (m.bytes + evict) % (len(buf) - m.bytes - evict + 1)
					sink ^= p.StreamRead(buf[off : off+evict])
					off += evict
					t0 := time.Now()
					sink ^= p.StreamRead(buf[off : off+m.bytes])
					readTime += time.Since(t0)
					b.StartTimer()
					for _, mat := range m.mats {
						x := x768
						if mat.Cols == 3072 {
							x = x3072
						}
						p.MatVec(out, mat, x)
					}
				}
				gbps := reportGBps(b, m.bytes)
				read := float64(m.bytes) * float64(b.N) / readTime.Seconds() / 1e9
				b.ReportMetric(read, "read-GB/s")
				b.ReportMetric(gbps/read, "x-read")
			})
		}
	}
}

var sink uint64

// BenchmarkMemRead: the machine's read bandwidth over a buffer far larger than the
// caches (1 GiB), the DRAM ceiling.
func BenchmarkMemRead(b *testing.B) {
	for _, threads := range benchThreads() {
		b.Run(fmt.Sprintf("1GiB/threads=%d", threads), func(b *testing.B) {
			buf := memReadBuffer()
			p := NewPool(threads)
			defer p.Close()
			b.ResetTimer()
			for range b.N {
				sink ^= p.StreamRead(buf)
			}
			reportGBps(b, len(buf))
		})
	}
}

var memReadBuf []byte

func memReadBuffer() []byte {
	if memReadBuf == nil {
		memReadBuf = make([]byte, 1<<30)
		for i := 0; i < len(memReadBuf); i += 4096 {
			memReadBuf[i] = byte(i >> 12) // touch every page so reads hit real memory
		}
	}
	return memReadBuf
}

// BenchmarkMatVec: single matrices of the 286M, llama-50m and fixture shapes, serial, per
// encoding and kernel set (the "go" reference for comparison).
func BenchmarkMatVec(b *testing.B) {
	shapes := [][2]int{{768, 768}, {3072, 768}, {768, 3072}, {1408, 512}, {512, 1408}, {172, 64}}
	for _, enc := range Encodings {
		for _, s := range shapes {
			if enc.CheckCols(s[1]) != nil {
				continue
			}
			for _, k := range []*impl{kern, &reference} {
				b.Run(fmt.Sprintf("%v/%dx%d/%s", enc, s[0], s[1], k.name), func(b *testing.B) {
					rng := rand.New(rand.NewPCG(2, 2))
					m := randomMatrix(rng, s[0], s[1], enc)
					x := randomVector(rng, s[1])
					out := make([]float32, s[0])
					in := prepared(k, x, enc)
					b.ResetTimer()
					for range b.N {
						matVecRows(in, out, m, 0, m.Rows)
					}
					reportGBps(b, m.Bytes())
				})
			}
		}
	}
}

// BenchmarkMatVecSplit measures where splitting rows across cores starts to pay:
// fp16 matrices of growing size, serial against the pool (parallelMinBytes).
func BenchmarkMatVecSplit(b *testing.B) {
	if runtime.GOMAXPROCS(0) < 2 {
		b.Skip("needs 2 cores")
	}
	for _, rows := range []int{8, 16, 32, 64, 128, 256, 512} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%dKiB/threads=%d", rows*768*2>>10, threads), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(3, 3))
				m := randomMatrix(rng, rows, 768, F16)
				x := randomVector(rng, 768)
				out := make([]float32, rows)
				p := NewPool(threads)
				defer p.Close()
				rb := m.Enc.RowBytes(m.Cols)
				grain := max(1, (chunkMinBytes+rb-1)/rb)
				in := prepared(kern, x, F16)
				b.ResetTimer()
				for range b.N {
					// Force the split (MatVec would not split below parallelMinBytes).
					if threads > 1 && p.acquire() {
						t := &productTask{parts: 1, ms: [2]Matrix{m}, outs: [2][]float32{out}, in: *in, n: 1}
						s := p.newJob()
						s.set(t, m.Rows, min(grain, (m.Rows+1)/2), 1)
						p.runAcquired(&s.job)
					} else {
						matVecRows(in, out, m, 0, m.Rows)
					}
				}
				reportGBps(b, m.Bytes())
			})
		}
	}
}

// BenchmarkParallelOverhead is the cost of one empty job on every core: the wake-up
// and the final barrier.
func BenchmarkParallelOverhead(b *testing.B) {
	for _, threads := range benchThreads() {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			p := NewPool(threads)
			defer p.Close()
			for range b.N {
				p.Parallel(threads, func(int) {})
			}
		})
	}
}

func BenchmarkDot(b *testing.B) {
	for _, n := range []int{64, 128, 768} {
		rng := rand.New(rand.NewPCG(4, 4))
		x, y := randomVector(rng, n), randomVector(rng, n)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			var s float32
			for range b.N {
				s += Dot(x, y)
			}
			sink += uint64(s)
			b.SetBytes(int64(8 * n))
		})
	}
}

// BenchmarkPackRows: NewMatrix's rearrangement of quantized rows into the kernels'
// layout (layout.go), which every model load pays once per quantized byte.
func BenchmarkPackRows(b *testing.B) {
	for _, enc := range []Encoding{Q8_0, Q4_0} {
		b.Run(enc.String(), func(b *testing.B) {
			rb := enc.RowBytes(3072)
			data := make([]byte, 768*rb)
			b.SetBytes(int64(len(data)))
			for range b.N {
				packRows(enc, data, rb)
			}
		})
	}
}

// BenchmarkArgmax: greedy decoding's pick over a 32000-token vocabulary, with the
// kernels in use and with run.c's loop (argmaxRef) as the baseline in the same run.
func BenchmarkArgmax(b *testing.B) {
	rng := rand.New(rand.NewPCG(72, 73))
	x := randVec(rng, 32000, 3)
	for _, c := range []struct {
		name string
		f    func([]float32) int
	}{{"kernels", Argmax}, {"runc-loop", argmaxRef}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(4 * len(x)))
			for range b.N {
				c.f(x)
			}
		})
	}
}
