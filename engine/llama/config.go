package llama

import (
	"encoding/binary"
	"fmt"

	"github.com/inferpi/inferpi/engine/kernels"
)

// HeaderSize is the size of llama2.c's Config header: seven little-endian int32.
const HeaderSize = 28

// Config is llama2.c's header, the whole description of the model's shape.
type Config struct {
	Dim       int // width of the residual stream
	HiddenDim int // width of the feed-forward layer
	NLayers   int
	NHeads    int // query heads
	NKVHeads  int // key/value heads (fewer than NHeads: grouped-query attention)
	VocabSize int // always positive here; the file stores -VocabSize when the classifier is separate
	SeqLen    int // positions the KV cache holds
	// SharedClassifier is true when the file's vocab_size was positive: the output
	// layer reuses the token embedding table (no classifier tensor in the file).
	SharedClassifier bool

	// The knobs llama2.c's header does not have, set from a GGUF file's metadata
	// (gguf.go). The zero value of each is run.c's, which llama2.c files get.
	HeadDim   int     // width of one attention head (attention.key_length); 0: dim/n_heads
	RopeTheta float64 // RoPE's frequency base (rope.freq_base); 0: 10000
	// RopeNeox rotates the pairs (i, i+head_dim/2) of a head, as GPT-NeoX and Qwen do;
	// otherwise the adjacent pairs (2i, 2i+1), as run.c and llama.cpp's "normal" mode.
	RopeNeox bool
	NormEps  float32 // RMSNorm's epsilon (attention.layer_norm_rms_epsilon); 0: 1e-5
}

// Limits far above any model a Raspberry Pi can hold, low enough that sizes
// computed from a corrupt header cannot overflow int64.
const (
	maxDim       = 1 << 16
	maxHiddenDim = 1 << 18
	maxLayers    = 1 << 10
	maxVocab     = 1 << 22
	maxSeqLen    = 1 << 20
)

// HeadSize is the width of one attention head.
func (c Config) HeadSize() int {
	if c.HeadDim > 0 {
		return c.HeadDim
	}
	return c.Dim / c.NHeads
}

// QDim is the width of the queries of one position (all heads), and of the
// attention's output: Dim unless the heads are wider or narrower (Qwen3).
func (c Config) QDim() int { return c.NHeads * c.HeadSize() }

// KVDim is the width of the keys (and values) of one position.
func (c Config) KVDim() int { return c.NKVHeads * c.HeadSize() }

// run.c's fixed values of the knobs llama2.c's header does not carry.
const (
	runcRopeTheta = 10000
	runcNormEps   = 1e-5
)

// ropeTheta is RoPE's frequency base.
func (c Config) ropeTheta() float64 {
	if c.RopeTheta > 0 {
		return c.RopeTheta
	}
	return runcRopeTheta
}

// normEps is RMSNorm's epsilon.
func (c Config) normEps() float32 {
	if c.NormEps > 0 {
		return c.NormEps
	}
	return runcNormEps
}

// String prints the header's fields, and the other knobs where they differ from
// run.c's.
func (c Config) String() string {
	cls := "shared"
	if !c.SharedClassifier {
		cls = "separate"
	}
	s := fmt.Sprintf("dim=%d hidden=%d layers=%d heads=%d kv_heads=%d vocab=%d seq_len=%d classifier=%s",
		c.Dim, c.HiddenDim, c.NLayers, c.NHeads, c.NKVHeads, c.VocabSize, c.SeqLen, cls)
	if c.HeadDim > 0 {
		s += fmt.Sprintf(" head_dim=%d", c.HeadDim)
	}
	if c.RopeTheta > 0 {
		s += fmt.Sprintf(" rope_theta=%g", c.RopeTheta)
	}
	if c.RopeNeox {
		s += " rope=neox"
	}
	if c.NormEps > 0 {
		s += fmt.Sprintf(" norm_eps=%g", c.NormEps)
	}
	return s
}

// HeaderProblem explains why Engine.Detect refuses a file shaped like a llama2.c
// header: of the four fields Detect reads (dim, hidden_dim, n_layers, n_heads),
// three are plausible dimensions and one is not, which text and other formats
// never give (their words are far above the limits) but a corrupt or hostile
// header does. The error names the field, its value and the range it must lie
// in; it is nil when Detect claims head or head resembles no header.
func HeaderProblem(head []byte) error {
	if len(head) < 16 || (Engine{}).Detect(head) {
		return nil
	}
	plausible := 0
	var problem error
	for i, f := range []struct {
		name string
		max  int
	}{{"dim", maxDim}, {"hidden_dim", maxHiddenDim}, {"n_layers", maxLayers}, {"n_heads", maxDim}} {
		v := int32(binary.LittleEndian.Uint32(head[4*i:]))
		if v > 0 && int(v) <= f.max {
			plausible++
		} else if problem == nil {
			problem = fmt.Errorf("model.bin: looks like a llama2.c header but says %s %d, want 1..%d", f.name, v, f.max)
		}
	}
	if plausible < 3 {
		return nil
	}
	return problem
}

// ParseConfig reads and checks the 28-byte header at the start of a legacy
// model.bin. Every dimension is checked before anything is sized from it.
func ParseConfig(data []byte) (Config, error) {
	if len(data) < HeaderSize {
		return Config{}, fmt.Errorf("model.bin: file is %d bytes, too short for the %d-byte llama2.c header", len(data), HeaderSize)
	}
	return configFrom(data[:HeaderSize])
}

// configFrom reads and checks llama2.c's seven int32 fields (28 bytes), which
// both the legacy file and the InferPi container hold.
func configFrom(fields []byte) (Config, error) {
	f := func(i int) int { return int(int32(binary.LittleEndian.Uint32(fields[4*i:]))) }
	c := Config{Dim: f(0), HiddenDim: f(1), NLayers: f(2), NHeads: f(3), NKVHeads: f(4), VocabSize: f(5), SeqLen: f(6)}
	c.SharedClassifier = c.VocabSize > 0
	if c.VocabSize < 0 {
		c.VocabSize = -c.VocabSize
	}
	for _, d := range []struct {
		name     string
		val, max int
	}{
		{"dim", c.Dim, maxDim},
		{"hidden_dim", c.HiddenDim, maxHiddenDim},
		{"n_layers", c.NLayers, maxLayers},
		{"n_heads", c.NHeads, maxDim},
		{"n_kv_heads", c.NKVHeads, maxDim},
		{"vocab_size", c.VocabSize, maxVocab},
		{"seq_len", c.SeqLen, maxSeqLen},
	} {
		if d.val <= 0 || d.val > d.max {
			return Config{}, fmt.Errorf("model.bin: header says %s %d, want 1..%d (is this a llama2.c model file?)", d.name, d.val, d.max)
		}
	}
	if c.Dim%c.NHeads != 0 {
		return Config{}, fmt.Errorf("model.bin: header says dim %d, not divisible by n_heads %d", c.Dim, c.NHeads)
	}
	if c.NKVHeads > c.NHeads || c.NHeads%c.NKVHeads != 0 {
		return Config{}, fmt.Errorf("model.bin: header says n_kv_heads %d, which does not divide n_heads %d", c.NKVHeads, c.NHeads)
	}
	if c.HeadSize()%2 != 0 {
		// RoPE rotates pairs of entries inside a head.
		return Config{}, fmt.Errorf("model.bin: head size dim/n_heads = %d is odd; RoPE needs an even head size", c.HeadSize())
	}
	return c, nil
}

// AppendBinary appends llama2.c's 28-byte header for c (vocab_size negative when
// the classifier is separate).
func (c Config) AppendBinary(b []byte) []byte {
	vocab := c.VocabSize
	if !c.SharedClassifier {
		vocab = -vocab
	}
	for _, v := range []int{c.Dim, c.HiddenDim, c.NLayers, c.NHeads, c.NKVHeads, vocab, c.SeqLen} {
		b = binary.LittleEndian.AppendUint32(b, uint32(int32(v)))
	}
	return b
}

// Tensor is one entry of llama2.c's layout, in file order: Count matrices of
// Rows x Cols stored one after the other.
type Tensor struct {
	Name       string
	Count      int // how many matrices (n_layers for per-layer tensors)
	Rows, Cols int
}

// Floats is the number of weights in all Count matrices.
func (t Tensor) Floats() int64 { return int64(t.Count) * int64(t.Rows) * int64(t.Cols) }

// Tensors lists the tensors of llama2.c's legacy export in file order (see layout).
func (c Config) Tensors() []Tensor { return c.layout() }

// layout lists the tensors of llama2.c's legacy (version 0) export in file order:
// per-layer tensors are stored for all layers together, matrices as [out][in].
// The freq_cis tables are the old RoPE cos/sin tables; run.c skips them.
func (c Config) layout() []Tensor {
	kv, L, d, h := c.KVDim(), c.NLayers, c.Dim, c.HiddenDim
	t := []Tensor{
		{"token_embedding", 1, c.VocabSize, d},
		{"rms_att", 1, L, d},
		{"wq", L, d, d},
		{"wk", L, kv, d},
		{"wv", L, kv, d},
		{"wo", L, d, d},
		{"rms_ffn", 1, L, d},
		{"w1", L, h, d},
		{"w2", L, d, h},
		{"w3", L, h, d},
		{"rms_final", 1, 1, d},
		{"freq_cis_real", 1, c.SeqLen, c.HeadSize() / 2},
		{"freq_cis_imag", 1, c.SeqLen, c.HeadSize() / 2},
	}
	if !c.SharedClassifier {
		t = append(t, Tensor{"classifier", 1, c.VocabSize, d})
	}
	return t
}

// isRopeTable reports whether t is one of the freq_cis tables: old precomputed
// RoPE constants that run.c (and InferPi) skip.
func (t Tensor) isRopeTable() bool { return t.Name == "freq_cis_real" || t.Name == "freq_cis_imag" }

// Floats is the number of weights after the header, freq_cis tables included.
func (c Config) Floats() int64 {
	var n int64
	for _, t := range c.layout() {
		n += t.Floats()
	}
	return n
}

// Params is the parameter count: every weight except the freq_cis tables (which
// are precomputed constants), a shared classifier counted once.
func (c Config) Params() int64 {
	var n int64
	for _, t := range c.layout() {
		if !t.isRopeTable() {
			n += t.Floats()
		}
	}
	return n
}

// FileSize is the exact size of model.bin in the given encoding.
func (c Config) FileSize(enc kernels.Encoding) int64 {
	return HeaderSize + c.Floats()*int64(enc.RowBytes(1))
}

// Encodings are the weight encodings a llama2.c-layout model.bin may use.
var Encodings = []kernels.Encoding{kernels.F32, kernels.F16}

// EncodingOf tells the weight encoding from the file size: fp32 (run.c's files)
// and fp16 (InferPi's export) differ only in that.
func EncodingOf(c Config, size int64) (kernels.Encoding, error) {
	for _, enc := range Encodings {
		if c.FileSize(enc) == size {
			return enc, nil
		}
	}
	return 0, fmt.Errorf("model.bin: header (%v) needs %d bytes as fp32 or %d bytes as fp16, file has %d bytes",
		c, c.FileSize(kernels.F32), c.FileSize(kernels.F16), size)
}
