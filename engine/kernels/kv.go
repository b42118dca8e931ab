package kernels

import (
	"fmt"
	"unsafe"

	"github.com/inferpi/inferpi/internal/hugepage"
)

// KV is a stretch of attention cache, keys or values, in float32 or in IEEE fp16.
//
// An fp16 cache reads half the bytes per position: at a few hundred positions a
// decoding step of a small q4_0 model reads about as many cache bytes as weight
// bytes of a layer. It rounds every key and value to 11 significant bits (relative
// error at most 2^-11), which moved llama-tiny's fp16 logits by up to 0.04: more
// than an fp32 or fp16 model's oracle tests allow, far less than Q4_0's own
// rounding. The engines choose it for q4_0 models only (KVEncodingFor; llama.cpp
// keeps an fp16 cache for every model).
type KV struct {
	enc Encoding // F32 or F16
	f32 []float32
	f16 []uint16
}

// NewKV allocates a zeroed cache of n values in enc (F32 or F16), in huge pages
// where the host allows (hugepage.Advise): every decoding step writes and reads
// every head's stretch of it, one stretch per 4 KiB page or more.
func NewKV(n int, enc Encoding) KV {
	var c KV
	switch enc {
	case F32:
		c = KV{enc: F32, f32: make([]float32, n)}
		hugepage.Advise(f32bytes(c.f32))
	case F16:
		c = KV{enc: F16, f16: make([]uint16, n)}
		hugepage.Advise(u16bytes(c.f16))
	default:
		panic("kernels: a KV cache holds fp32 or fp16, not " + enc.String())
	}
	return c
}

// Encoding is F32 or F16.
func (c KV) Encoding() Encoding { return c.enc }

// Len is the number of values.
func (c KV) Len() int {
	if c.enc == F16 {
		return len(c.f16)
	}
	return len(c.f32)
}

// KVBytes is the size of a cache of n values in enc.
func KVBytes(n int64, enc Encoding) int64 {
	if enc == F16 {
		return 2 * n
	}
	return 4 * n
}

// Slice is values [lo, hi) of c (a view, as s[lo:hi] is).
func (c KV) Slice(lo, hi int) KV {
	if c.enc == F16 {
		return KV{enc: F16, f16: c.f16[lo:hi]}
	}
	return KV{enc: F32, f32: c.f32[lo:hi]}
}

// Store writes v into the cache at values [at, at+len(v)), rounded to the nearest
// fp16 value (ties to even, as F32ToF16) in an F16 cache.
func (c KV) Store(at int, v []float32) {
	if c.enc == F16 {
		kern.toF16(c.f16[at:at+len(v)], v)
		return
	}
	copy(c.f32[at:at+len(v)], v)
}

// Load reads values [at, at+len(v)) of the cache into v, widened from fp16 exactly.
func (c KV) Load(at int, v []float32) {
	if c.enc == F16 {
		for i, h := range c.f16[at : at+len(v)] {
			v[i] = F16ToF32(h)
		}
		return
	}
	copy(v, c.f32[at:at+len(v)])
}

// Attend computes one attention head for one query over a stretch of its KV cache
// kept head-major: keys and values hold len(scores) positions of len(q) values
// each, one position after the other (the layout both engines use, so that a head's
// cache is one sequential stream for the prefetchers). It sets scores[j] to the
// softmax over j of scale·dot(q, key j), and out (len(q) values) to Σ scores[j]·value j.
// keys and values have the same encoding.
//
// Scores and the weighted sum of the values are one kernel call each (impl.scores,
// impl.mix and their fp16 twins), not one Dot or Axpy per position: at a few hundred
// positions of 64 or 128 values the calls cost more than the arithmetic. The scores
// kernel prefetches the values while it reads the keys, so the two streams come
// from memory together.
func Attend(out, q []float32, keys, values KV, scores []float32, scale float32) {
	n, hd := len(scores), len(q)
	if len(out) < hd || keys.Len() < n*hd || values.Len() < n*hd || keys.enc != values.enc {
		panic(fmt.Sprintf("kernels: Attend of %d positions of %d values with %d %v keys, %d %v values, %d outputs",
			n, hd, keys.Len(), keys.enc, values.Len(), values.enc, len(out)))
	}
	if n == 0 || hd == 0 {
		clear(out[:hd])
		return
	}
	if keys.enc == F16 {
		kern.scoresF16(scores, keys.f16[:n*hd], q, values.f16[:n*hd])
	} else {
		kern.scores(scores, keys.f32[:n*hd], q, values.f32[:n*hd])
	}
	scaledSoftmax(scores, scale)
	clear(out[:hd])
	if keys.enc == F16 {
		kern.mixF16(out[:hd], values.f16[:n*hd], scores)
	} else {
		kern.mix(out[:hd], values.f32[:n*hd], scores)
	}
}

// Attend2 is Attend for two query heads that share one key/value head (grouped-
// query attention): out0, q0, scores0 for one, out1, q1, scores1 for the other,
// each of the same length. Over an fp16 cache each key and value is widened once
// for both heads, and each head's results are exactly what Attend gives it alone.
func Attend2(out0, out1, q0, q1 []float32, keys, values KV, scores0, scores1 []float32, scale float32) {
	n, hd := len(scores0), len(q0)
	if keys.enc != F16 || n == 0 || hd == 0 || len(q1) != hd || len(scores1) != n || len(out0) < hd || len(out1) < hd ||
		keys.Len() < n*hd || values.Len() < n*hd || values.enc != F16 {
		Attend(out0, q0, keys, values, scores0, scale) // which also checks the shapes
		Attend(out1, q1, keys, values, scores1, scale)
		return
	}
	k, v := keys.f16[:n*hd], values.f16[:n*hd]
	kern.scoresF16x2(scores0, scores1, k, q0, q1, v)
	scaledSoftmax(scores0, scale)
	scaledSoftmax(scores1, scale)
	clear(out0[:hd])
	clear(out1[:hd])
	kern.mixF16x2(out0[:hd], out1[:hd], v, scores0, scores1)
}

// AttendHeads runs Attend for query heads lo..hi-1, which share keys and values,
// two at a time (Attend2). head(h) gives query head h's output, query and scores.
func AttendHeads(lo, hi int, keys, values KV, scale float32, head func(h int) (out, q, scores []float32)) {
	h := lo
	for ; h+1 < hi; h += 2 {
		out0, q0, s0 := head(h)
		out1, q1, s1 := head(h + 1)
		Attend2(out0, out1, q0, q1, keys, values, s0, s1, scale)
	}
	if h < hi {
		out, q, scores := head(h)
		Attend(out, q, keys, values, scores, scale)
	}
}

// scoresRef sets out[j] = dot(q, key j) for the len(out) keys in keys.
func scoresRef(out, keys, q, _ []float32) {
	hd := len(q)
	for j := range out {
		out[j] = dotRef(q, keys[j*hd:(j+1)*hd])
	}
}

// mixRef adds Σ w[j]·value j over the len(w) values (len(out) each) in values to out.
func mixRef(out, values, w []float32) {
	hd := len(out)
	for j, p := range w {
		axpyRef(out, p, values[j*hd:(j+1)*hd])
	}
}

// scoresF16Ref is scoresRef over fp16 keys: each key a row of an fp16 matrix.
func scoresF16Ref(out []float32, keys []uint16, q []float32, _ []uint16) {
	matVecF16Ref(out, u16bytes(keys), q)
}

// mixF16Ref is mixRef over fp16 values, widened exactly.
func mixF16Ref(out []float32, values []uint16, w []float32) {
	hd := len(out)
	for j, p := range w {
		for i, h := range values[j*hd : (j+1)*hd] {
			out[i] += float32(p * F16ToF32(h))
		}
	}
}

// toF16Ref rounds src into dst (F32ToF16).
func toF16Ref(dst []uint16, src []float32) {
	for i, f := range src {
		dst[i] = F32ToF16(f)
	}
}

// u16bytes views fp16 values as their bytes (little-endian, as the kernels read them).
func u16bytes(s []uint16) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 2*len(s))
}

func u16p(s []uint16) *uint16 { return unsafe.SliceData(s) }

// KVEncodingFor is the cache encoding InferPi's engines use with weights in enc:
// F16 for Q4_0, whose own rounding moves logits far more than an fp16 cache does
// and whose decoding steps read the cache most in proportion to the weights
// (llama-50m at 160 positions: 2.0 instead of 3.9 MB a step, against 29 MB of
// weights), F32 otherwise: fp32 and fp16 models match their oracles to 1e-4
// and 1e-3, and q8_0 keeps its 99% top-1 agreement on the demo models, which an
// fp16 cache lowered to 97.8%. The GGUF encodings (bf16, q4_1 ... q6_k) get F32,
// as in the GGUF fixtures' oracle. It is a default: an engine that chooses its
// cache otherwise passes that encoding to NewKV.
func KVEncodingFor(enc Encoding) Encoding {
	if enc == Q4_0 {
		return F16
	}
	return F32
}
