package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
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

// randomMatrix fills a rows x cols matrix in enc with random weights (fillRandom).
func randomMatrix(rng *rand.Rand, rows, cols int, enc Encoding) Matrix {
	data := make([]byte, rows*enc.RowBytes(cols))
	fillRandom(rng, data, enc)
	m, err := NewMatrix(data, rows, cols, enc)
	if err != nil {
		panic(err)
	}
	return m
}

// fillRandom fills data with weights in enc as a file stores them, fast enough for
// hundreds of megabytes: float weights are N(0, 0.02)-like values, and blocks get
// random quants under a random small scale.
func fillRandom(rng *rand.Rand, data []byte, enc Encoding) {
	switch enc {
	case F32, F16, BF16:
		table := make([]float32, 4096)
		for i := range table {
			table[i] = float32(rng.NormFloat64() * 0.02)
		}
		size := blockBytes(enc)
		for i := 0; i < len(data)/size; i++ {
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
}

func randomVector(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// A benchModel is the matrix set one decoding step of a model reads (embeddings
// are lookups, not read per token), in one allocation like a loaded model file.
type benchModel struct {
	mats  []Matrix
	bytes int
}

// benchShape is a model's matrices: those of every layer, then the classifier.
type benchShape struct {
	name   string
	layers int
	layer  []benchMatrix
	output benchMatrix
}

// benchMatrix is one matrix of a shape; role names it as llama.cpp's quantizer
// does where a mix treats it apart (attn_v, ffn_down, output).
type benchMatrix struct {
	role       string
	rows, cols int
}

var (
	// shape286M is nanochat d12's (GPT2-286M): 12 layers of n_embd 768 (c_q, c_k,
	// c_v, c_proj 768x768; c_fc 3072x768; mlp c_proj 768x3072) and lm_head
	// 32768x768, 110M weights.
	shape286M = benchShape{"286M", 12, []benchMatrix{
		{"attn_q", 768, 768}, {"attn_k", 768, 768}, {"attn_v", 768, 768}, {"attn_output", 768, 768},
		{"ffn_up", 3072, 768}, {"ffn_down", 768, 3072},
	}, benchMatrix{"output", 32768, 768}}
	// shape2048 has the layers of a Llama 3.2 1B (2048 wide, grouped-query k and v
	// of 512, SwiGLU of 8192), 8 of them, and a 32000-token classifier: 570M weights,
	// rows as wide as the GGUF models that come in Q4_K_M usually have.
	shape2048 = benchShape{"2048", 8, []benchMatrix{
		{"attn_q", 2048, 2048}, {"attn_k", 512, 2048}, {"attn_v", 512, 2048}, {"attn_output", 2048, 2048},
		{"ffn_gate", 8192, 2048}, {"ffn_up", 8192, 2048}, {"ffn_down", 2048, 8192},
	}, benchMatrix{"output", 32000, 2048}}
)

// q4KM is the encoding llama.cpp's Q4_K_M gives a matrix (llama-quant.cpp,
// llama_tensor_get_type): Q6_K for the classifier, and for attn_v and ffn_down in
// the layers use_more_bits picks (the first and last eighth, and every third in
// between); Q4_K for the rest.
func q4KM(m benchMatrix, layer, layers int) Encoding {
	moreBits := layer < layers/8 || layer >= 7*layers/8 || (layer-layers/8)%3 == 2
	if m.role == "output" || (m.role == "attn_v" || m.role == "ffn_down") && moreBits {
		return Q6_K
	}
	return Q4_K
}

// benchVariant is how a benchmark model's matrices are encoded: one encoding for
// all ("q4_0"), or the Q4_K_M mix ("q4_k_m").
type benchVariant string

func (v benchVariant) encoding(m benchMatrix, layer, layers int) Encoding {
	if v == "q4_k_m" {
		return q4KM(m, layer, layers)
	}
	enc, err := ParseEncoding(string(v))
	if err != nil {
		panic(err)
	}
	return enc
}

var benchModels sync.Map // shape name + "/" + variant -> *benchModel

func getBenchModel(shape benchShape, v benchVariant) *benchModel {
	key := shape.name + "/" + string(v)
	if m, ok := benchModels.Load(key); ok {
		return m.(*benchModel)
	}
	type part struct {
		m   benchMatrix
		enc Encoding
	}
	var parts []part
	for l := range shape.layers {
		for _, m := range shape.layer {
			parts = append(parts, part{m, v.encoding(m, l, shape.layers)})
		}
	}
	parts = append(parts, part{shape.output, v.encoding(shape.output, 0, shape.layers)})
	total := 0
	for _, p := range parts {
		total += p.m.rows * p.enc.RowBytes(p.m.cols)
	}
	rng := rand.New(rand.NewPCG(286, uint64(len(key))))
	whole := make([]byte, total)
	m := &benchModel{bytes: total}
	off := 0
	for _, p := range parts {
		n := p.m.rows * p.enc.RowBytes(p.m.cols)
		data := whole[off : off+n : off+n]
		fillRandom(rng, data, p.enc)
		mat, err := NewMatrix(data, p.m.rows, p.m.cols, p.enc)
		if err != nil {
			panic(err)
		}
		m.mats = append(m.mats, mat)
		off += n
	}
	benchModels.Store(key, m)
	return m
}

// getModel286M is the 286M matrix set in one encoding.
func getModel286M(enc Encoding) *benchModel {
	return getBenchModel(shape286M, benchVariant(enc.String()))
}

// decodeStep runs one decoding step's products over m, x taken from xs by width.
func (m *benchModel) decodeStep(p *Pool, out []float32, xs map[int][]float32) {
	for _, mat := range m.mats {
		p.MatVec(out, mat, xs[mat.Cols])
	}
}

// benchInputs returns a random x for every width of m's matrices, and an output
// vector for the tallest.
func (m *benchModel) benchInputs(rng *rand.Rand) (map[int][]float32, []float32) {
	xs := map[int][]float32{}
	rows := 0
	for _, mat := range m.mats {
		if xs[mat.Cols] == nil {
			xs[mat.Cols] = randomVector(rng, mat.Cols)
		}
		rows = max(rows, mat.Rows)
	}
	return xs, make([]float32, rows)
}

func reportGBps(b *testing.B, bytes int) float64 {
	b.SetBytes(int64(bytes))
	gbps := float64(bytes) * float64(b.N) / b.Elapsed().Seconds() / 1e9
	b.ReportMetric(gbps, "GB/s")
	return gbps
}

// modelVariants are the encodings the whole-model benchmarks take: every
// encoding of a model's matrices, and llama.cpp's Q4_K_M mix of Q4_K and Q6_K.
var modelVariants = []benchVariant{"fp32", "fp16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k", "q5_k", "q6_k", "q4_k_m"}

// BenchmarkModel286M: one token's matrix-vector products over the 286M matrix set.
// Each iteration first reads 512 MiB of another buffer (untimed), which leaves none
// of the matrices in the caches, then as many bytes as the matrices further along
// it, with StreamRead on as many threads (timed separately; inferpi bench pairs its
// reads the same way), so the metrics give the kernels' GB/s, the plain read's GB/s
// and their ratio x-read under the same conditions, even on a machine shared with
// others.
func BenchmarkModel286M(b *testing.B) {
	for _, v := range modelVariants {
		for _, threads := range benchThreads() {
			b.Run(fmt.Sprintf("%v/threads=%d", v, threads), func(b *testing.B) {
				m := getBenchModel(shape286M, v)
				p := NewPool(threads)
				defer p.Close()
				xs, out := m.benchInputs(rand.New(rand.NewPCG(1, 1)))
				buf := memReadBuffer()
				var readTime time.Duration
				b.ResetTimer()
				for i := range b.N {
					b.StopTimer()
					off := evictCaches(p, buf, i, m.bytes)
					t0 := time.Now()
					sink ^= p.StreamRead(buf[off : off+m.bytes])
					readTime += time.Since(t0)
					b.StartTimer()
					m.decodeStep(p, out, xs)
				}
				gbps := reportGBps(b, m.bytes)
				read := float64(m.bytes) * float64(b.N) / readTime.Seconds() / 1e9
				b.ReportMetric(read, "read-GB/s")
				b.ReportMetric(gbps/read, "x-read")
			})
		}
	}
}

// BenchmarkQ4KM: Q4_K_M (llama.cpp's mix of Q4_K and Q6_K, q4KM) against Q4_0
// decoding from memory, per byte read: one token of each in turn in every
// iteration, after the caches are emptied (as BenchmarkModel286M), so that both see
// the same machine on a host shared with other work. Shapes: the 286M (768-wide
// rows, three super-blocks each) and shape2048. The metrics are medians over the
// iterations: each variant's GB/s of its own weights, and the ratio of the two in
// the same iteration.
func BenchmarkQ4KM(b *testing.B) {
	for _, shape := range []benchShape{shape286M, shape2048} {
		for _, threads := range benchThreads() {
			b.Run(fmt.Sprintf("%s/threads=%d", shape.name, threads), func(b *testing.B) {
				models := []*benchModel{getBenchModel(shape, "q4_0"), getBenchModel(shape, "q4_k_m")}
				p := NewPool(threads)
				defer p.Close()
				xs, out := models[0].benchInputs(rand.New(rand.NewPCG(1, 1)))
				buf := memReadBuffer()
				var gbps [2][]float64
				var ratio []float64
				b.ResetTimer()
				for i := range b.N {
					for k, m := range models {
						b.StopTimer()
						evictCaches(p, buf, 2*i+k, 0)
						b.StartTimer()
						t0 := time.Now()
						m.decodeStep(p, out, xs)
						gbps[k] = append(gbps[k], float64(m.bytes)/time.Since(t0).Seconds()/1e9)
					}
					ratio = append(ratio, gbps[1][i]/gbps[0][i])
				}
				b.ReportMetric(median(gbps[0]), "q4_0-GB/s")
				b.ReportMetric(median(gbps[1]), "q4_k_m-GB/s")
				b.ReportMetric(median(ratio), "q4_k_m/q4_0")
			})
		}
	}
}

// median returns the middle value of v (the mean of the two middle ones for an
// even count); it sorts v.
func median(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	return (v[(n-1)/2] + v[n/2]) / 2
}

// evictCaches reads 512 MiB of buf (more than the 300 MiB L3 of an earlier
// development machine), the i-th such read further along it, so that no weights are
// left in the caches, and returns the offset of the next room bytes after it.
func evictCaches(p *Pool, buf []byte, i, room int) int {
	const evict = 512 << 20
	off := i * (room + evict) % (len(buf) - room - evict + 1)
	sink ^= p.StreamRead(buf[off : off+evict])
	return off + evict
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

// BenchmarkQuantize: x quantized for each kind of activation blocks (act.go), 4096
// values, with the kernels in use and the reference. Bytes are x's.
func BenchmarkQuantize(b *testing.B) {
	x := randomVector(rand.New(rand.NewPCG(7, 7)), 4096)
	for _, a := range []struct {
		name string
		kind actKind
	}{{"q8_0", actQ8_0}, {"q8_1", actQ8_1}, {"q8_k", actQ8K}} {
		for _, k := range []*impl{kern, &reference} {
			b.Run(a.name+"/"+k.name, func(b *testing.B) {
				var v q8Vector
				b.SetBytes(int64(4 * len(x)))
				for range b.N {
					k.quantize(a.kind, &v, x)
				}
			})
		}
	}
}

// BenchmarkBatchKernels: every batch kernel of the kernels in use against its
// one-token kernel on the same four tokens, over a tile of rows in cache (MatMul's,
// matMulTileBytes), one core; Gw/s is weights times tokens per second.
func BenchmarkBatchKernels(b *testing.B) {
	for _, enc := range Encodings {
		floats, blocks := kern.batch(enc)
		if floats == nil && blocks == nil {
			continue
		}
		for _, cols := range []int{512, 768, 1024, 3072} {
			rng := rand.New(rand.NewPCG(1, 2))
			rows := max(1, matMulTileBytes/enc.RowBytes(cols))
			m := randomMatrix(rng, rows, cols, enc)
			x := tokens(rng, batchTokens, cols)
			var ins [batchTokens]Input
			var store [batchTokens][actKinds]q8Vector
			xs := make([]*q8Vector, batchTokens)
			for tok := range ins {
				ins[tok].prepare(kern, x[tok*cols:(tok+1)*cols], []Encoding{enc}, &store[tok])
				xs[tok] = ins[tok].xq[enc.act()]
			}
			out := make([]float32, batchTokens*rows)
			b.Run(fmt.Sprintf("%v/%d/batch", enc, cols), func(b *testing.B) {
				for range b.N {
					if floats != nil {
						floats(out, rows, rows, m.Data, ins[:])
					} else {
						blocks(out, rows, rows, m.Data, xs)
					}
				}
				b.ReportMetric(float64(b.N*rows*cols*batchTokens)/b.Elapsed().Seconds()/1e9, "Gw/s")
			})
			b.Run(fmt.Sprintf("%v/%d/one", enc, cols), func(b *testing.B) {
				for range b.N {
					for tok := range ins {
						matVecRows(&ins[tok], out[tok*rows:], m, 0, rows)
					}
				}
				b.ReportMetric(float64(b.N*rows*cols*batchTokens)/b.Elapsed().Seconds()/1e9, "Gw/s")
			})
		}
	}
}
