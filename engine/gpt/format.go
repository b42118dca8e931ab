package gpt

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/inferpi/inferpi/engine/kernels"
)

// model.bin, version 1. All integers are little-endian uint32 unless noted,
// floats are little-endian float32. docs/formats.md ("The GPT (nanochat)
// format") has the same table.
//
//	off  field
//	  0  magic "NCHT"
//	  4  version (1)
//	  8  header_size: bytes from offset 0 to the end of the per-layer table (88 + 8*n_layer)
//	 12  n_layer
//	 16  n_embd
//	 20  n_head
//	 24  n_kv_head
//	 28  head_dim
//	 32  mlp_hidden (4*n_embd in nanochat)
//	 36  vocab_size (rows stored in wte, lm_head and value embeddings)
//	 40  padded_vocab_size (rows the checkpoint had; the padding is not stored)
//	 44  sequence_len (KV cache positions)
//	 48  ve_gate_channels (0 when no layer has value embeddings)
//	 52  smear_gate_channels (0: no smear)
//	 56  backout_layer (int32; -1: no backout)
//	 60  rope_base (float32)
//	 64  qk_scale (float32; q and k are multiplied by it after QK-norm)
//	 68  ve_gate_scale (float32; the value-embedding gate is scale*sigmoid(.))
//	 72  logit_softcap (float32; 0: none)
//	 76  norm_eps (float32)
//	 80  matrix_encoding (attention, MLP and lm_head matrices)
//	 84  embedding_encoding (token and value embeddings, smear and ve gates)
//	 88  n_layer x {window, flags}: a query at t sees keys t-window..t; flags bit 0 = value embedding
//
// Then the tensors of Layout, each starting at a multiple of 64 bytes (zero
// padding between), row-major, and nothing after the last one.
//
// The encodings are kernels.Encoding's numbers: 0 fp32, 1 fp16, 2 q8_0, 3 q4_0,
// 4 bf16, 5 q4_1, 6 q5_0, 7 q5_1, 8 q4_k, 9 q5_k, 10 q6_k. The block encodings
// store rows as GGUF's blocks (32 weights, 256 for the K-quants; see package
// kernels). A tensor whose rows are not a whole number of blocks is stored
// otherwise, by the narrow-width rule (kernels.StoredAs), part of the format, so
// a reader derives every tensor's encoding from the two header fields and the
// shapes alone: a K-quant falls back as llama-quantize does, q4_k to q5_0, q5_k
// to q5_1, q6_k to q8_0, when the rows are a whole number of 32-weight blocks
// (n_embd 192 makes every matrix but mlp.c_proj such a tensor); otherwise, and
// with the 32-weight encodings, the tensor is fp16 (nanochat's ve_gate with 12
// columns, its smear gate with 24).
//
// Codes 4-10 need no new version: a reader that does not know them refuses the
// file by its encoding instead of misreading it, and codes 0-3 keep their layout.
const (
	Magic          = "NCHT"
	Version        = 1
	fixedHeader    = 88
	layerEntry     = 8
	TensorAlign    = 64
	flagValueEmbed = 1
)

// Encoding is a weight encoding code in model.bin: kernels.Encoding's number.
type Encoding uint32

const (
	EncF32  Encoding = 0
	EncF16  Encoding = 1
	EncQ8_0 Encoding = 2  // GGUF Q8_0 blocks
	EncQ4_0 Encoding = 3  // GGUF Q4_0 blocks
	EncBF16 Encoding = 4  // bfloat16
	EncQ4_1 Encoding = 5  // GGUF Q4_1 blocks
	EncQ5_0 Encoding = 6  // GGUF Q5_0 blocks
	EncQ5_1 Encoding = 7  // GGUF Q5_1 blocks
	EncQ4_K Encoding = 8  // GGUF Q4_K super-blocks
	EncQ5_K Encoding = 9  // GGUF Q5_K super-blocks
	EncQ6_K Encoding = 10 // GGUF Q6_K super-blocks
)

func (e Encoding) String() string {
	if k, err := e.kernel(); err == nil {
		return k.String()
	}
	return fmt.Sprintf("encoding(%d)", uint32(e))
}

// kernel maps a file encoding to the kernels' encoding.
func (e Encoding) kernel() (kernels.Encoding, error) {
	if e >= Encoding(len(kernels.Encodings)) {
		return 0, fmt.Errorf("unknown weight encoding %d", uint32(e))
	}
	return kernels.Encoding(e), nil
}

// EncodingOf is the file's code for a kernels encoding (what --dtype names).
func EncodingOf(k kernels.Encoding) (Encoding, error) {
	if !k.Valid() {
		return 0, fmt.Errorf("weight encoding %v has no code in the GPT format", k)
	}
	return Encoding(k), nil
}

// storedAs is the encoding a tensor with rows of cols weights gets when its
// header field says e (the narrow-width rule, with fp16 as its last resort).
func (e Encoding) storedAs(cols int) Encoding {
	k, err := e.kernel()
	if err != nil {
		return e
	}
	return Encoding(k.StoredAs(cols, kernels.F16))
}

// Header records every architecture knob of a nanochat GPT.
type Header struct {
	NLayer, NEmbd, NHead, NKVHead, HeadDim int
	MLPHidden                              int
	VocabSize, PaddedVocab                 int
	SeqLen                                 int
	Windows                                []int  // per layer
	ValueEmbeds                            []bool // per layer
	VEGateChannels, SmearChannels          int
	BackoutLayer                           int // -1: none
	RopeBase, QKScale, VEGateScale         float32
	Softcap, NormEps                       float32
	MatrixEnc, EmbedEnc                    Encoding
}

// Size limits keep every size computation far from overflow and reject absurd
// headers before anything is allocated.
const (
	maxLayers = 1 << 12
	maxDim    = 1 << 16
	maxVocab  = 1 << 22
	maxSeq    = 1 << 20
	// maxRope bounds sequence_len * head_dim: the rotary tables are computed at load.
	maxRope = 1 << 26
)

// HeaderSize is the encoded size of h's header.
func (h *Header) HeaderSize() int { return fixedHeader + layerEntry*h.NLayer }

// AppendBinary appends the encoded header (without padding) to b.
func (h *Header) AppendBinary(b []byte) ([]byte, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	u := func(v int) { b = binary.LittleEndian.AppendUint32(b, uint32(v)) }
	f := func(v float32) { b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v)) }
	b = append(b, Magic...)
	u(Version)
	u(h.HeaderSize())
	u(h.NLayer)
	u(h.NEmbd)
	u(h.NHead)
	u(h.NKVHead)
	u(h.HeadDim)
	u(h.MLPHidden)
	u(h.VocabSize)
	u(h.PaddedVocab)
	u(h.SeqLen)
	u(h.VEGateChannels)
	u(h.SmearChannels)
	b = binary.LittleEndian.AppendUint32(b, uint32(int32(h.BackoutLayer)))
	f(h.RopeBase)
	f(h.QKScale)
	f(h.VEGateScale)
	f(h.Softcap)
	f(h.NormEps)
	u(int(h.MatrixEnc))
	u(int(h.EmbedEnc))
	for i := 0; i < h.NLayer; i++ {
		u(h.Windows[i])
		flags := 0
		if h.ValueEmbeds[i] {
			flags |= flagValueEmbed
		}
		u(flags)
	}
	return b, nil
}

// ParseHeader decodes and validates the header at the start of model.bin.
// It does not look at the weights (Load checks the file size against Layout).
func ParseHeader(data []byte) (*Header, error) {
	if len(data) < 8 || string(data[:4]) != Magic {
		return nil, fmt.Errorf("not a GPT (nanochat) model: want magic %q", Magic)
	}
	if v := binary.LittleEndian.Uint32(data[4:]); v != Version {
		return nil, fmt.Errorf("format version %d, this build reads version %d (re-export with this inferpi)", v, Version)
	}
	if len(data) < fixedHeader {
		return nil, fmt.Errorf("file is %d bytes, shorter than the %d-byte header", len(data), fixedHeader)
	}
	u := func(off int) int { return int(binary.LittleEndian.Uint32(data[off:])) }
	f := func(off int) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(data[off:])) }
	h := &Header{
		NLayer: u(12), NEmbd: u(16), NHead: u(20), NKVHead: u(24), HeadDim: u(28),
		MLPHidden: u(32), VocabSize: u(36), PaddedVocab: u(40), SeqLen: u(44),
		VEGateChannels: u(48), SmearChannels: u(52),
		BackoutLayer: int(int32(binary.LittleEndian.Uint32(data[56:]))),
		RopeBase:     f(60), QKScale: f(64), VEGateScale: f(68), Softcap: f(72), NormEps: f(76),
		MatrixEnc: Encoding(u(80)), EmbedEnc: Encoding(u(84)),
	}
	if h.NLayer < 1 || h.NLayer > maxLayers {
		return nil, fmt.Errorf("header says %d layers (want 1..%d)", h.NLayer, maxLayers)
	}
	if hs := u(8); hs != h.HeaderSize() {
		return nil, fmt.Errorf("header size field is %d, but %d layers need %d", hs, h.NLayer, h.HeaderSize())
	}
	if len(data) < h.HeaderSize() {
		return nil, fmt.Errorf("file is %d bytes, shorter than its %d-byte header", len(data), h.HeaderSize())
	}
	h.Windows = make([]int, h.NLayer)
	h.ValueEmbeds = make([]bool, h.NLayer)
	for i := range h.NLayer {
		off := fixedHeader + layerEntry*i
		h.Windows[i] = u(off)
		flags := u(off + 4)
		if flags&^flagValueEmbed != 0 {
			return nil, fmt.Errorf("layer %d has unknown flags %#x", i, flags)
		}
		h.ValueEmbeds[i] = flags&flagValueEmbed != 0
	}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	return h, nil
}

// Validate checks that the knobs are consistent with each other.
func (h *Header) Validate() error {
	bad := func(format string, args ...any) error { return fmt.Errorf("inconsistent header: "+format, args...) }
	switch {
	case h.NLayer < 1 || h.NLayer > maxLayers:
		return bad("%d layers", h.NLayer)
	case len(h.Windows) != h.NLayer || len(h.ValueEmbeds) != h.NLayer:
		return bad("%d windows and %d value-embedding flags for %d layers", len(h.Windows), len(h.ValueEmbeds), h.NLayer)
	case h.NEmbd < 1 || h.NEmbd > maxDim:
		return bad("n_embd %d", h.NEmbd)
	case h.NHead < 1 || h.NKVHead < 1 || h.NHead > maxDim || h.NKVHead > h.NHead || h.NHead%h.NKVHead != 0:
		return bad("%d query heads and %d kv heads (kv heads must divide query heads)", h.NHead, h.NKVHead)
	case h.HeadDim < 2 || h.HeadDim%2 != 0 || h.HeadDim*h.NHead > maxDim:
		return bad("head_dim %d (must be even, rotary rotates pairs)", h.HeadDim)
	case h.MLPHidden < 1 || h.MLPHidden > 8*maxDim:
		return bad("mlp_hidden %d", h.MLPHidden)
	case h.VocabSize < 1 || h.VocabSize > maxVocab || h.PaddedVocab < h.VocabSize || h.PaddedVocab > maxVocab:
		return bad("vocab_size %d, padded %d", h.VocabSize, h.PaddedVocab)
	case h.SeqLen < 1 || h.SeqLen > maxSeq || h.SeqLen*h.HeadDim > maxRope:
		return bad("sequence_len %d (with head_dim %d)", h.SeqLen, h.HeadDim)
	case h.SmearChannels < 0 || h.SmearChannels > h.NEmbd:
		return bad("smear gate reads %d of %d channels", h.SmearChannels, h.NEmbd)
	case h.BackoutLayer < -1 || h.BackoutLayer >= h.NLayer:
		return bad("backout layer %d of %d", h.BackoutLayer, h.NLayer)
	}
	anyVE := false
	for i, w := range h.Windows {
		if w < 0 || w > maxSeq {
			return bad("layer %d window %d", i, w)
		}
		anyVE = anyVE || h.ValueEmbeds[i]
	}
	if anyVE != (h.VEGateChannels > 0) || h.VEGateChannels < 0 || h.VEGateChannels > h.NEmbd {
		return bad("ve_gate_channels %d with value embeddings on %v", h.VEGateChannels, h.ValueEmbeds)
	}
	for _, v := range []struct {
		name     string
		x        float32
		positive bool
	}{{"rope_base", h.RopeBase, true}, {"qk_scale", h.QKScale, false}, {"ve_gate_scale", h.VEGateScale, false},
		{"logit_softcap", h.Softcap, false}, {"norm_eps", h.NormEps, true}} {
		f := float64(v.x)
		if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || (v.positive && f == 0) {
			return bad("%s = %v", v.name, v.x)
		}
	}
	if _, err := h.MatrixEnc.kernel(); err != nil {
		return fmt.Errorf("matrix encoding: %w", err)
	}
	if _, err := h.EmbedEnc.kernel(); err != nil {
		return fmt.Errorf("embedding encoding: %w", err)
	}
	return nil
}

// KVDim is the width of one position's keys (or values) in one layer.
func (h *Header) KVDim() int { return h.NKVHead * h.HeadDim }

// QDim is the width of the queries (n_embd in nanochat).
func (h *Header) QDim() int { return h.NHead * h.HeadDim }

// TensorSpec is one tensor of model.bin: its nanochat state-dict name, shape,
// encoding and place in the file.
type TensorSpec struct {
	Name       string
	Rows, Cols int      // a 1-D tensor has Rows = 1
	Enc        Encoding // as stored: fp32 scalars, fp16 for narrow rows of a quantized model
	Offset     int64
	Size       int64
}

// Layout lists the tensors in file order with their offsets, encodings (the
// header's, after the narrow-width rule) and the file size. The order: the
// scalars, the embeddings, the layers, lm_head.
func (h *Header) Layout() ([]TensorSpec, int64, error) {
	if err := h.Validate(); err != nil {
		return nil, 0, err
	}
	var specs []TensorSpec
	off := int64(h.HeaderSize())
	add := func(name string, rows, cols int, enc Encoding) {
		off = (off + TensorAlign - 1) / TensorAlign * TensorAlign
		enc = enc.storedAs(cols)
		ke, _ := enc.kernel()
		size := int64(rows) * int64(ke.RowBytes(cols))
		specs = append(specs, TensorSpec{Name: name, Rows: rows, Cols: cols, Enc: enc, Offset: off, Size: size})
		off += size
	}
	// The per-layer scalars stay float32 whatever the encoding: they are a handful
	// of numbers that scale whole activations.
	add("resid_lambdas", 1, h.NLayer, EncF32)
	add("x0_lambdas", 1, h.NLayer, EncF32)
	if h.SmearChannels > 0 {
		add("smear_lambda", 1, 1, EncF32)
		add("smear_gate.weight", 1, h.SmearChannels, h.EmbedEnc)
	}
	if h.BackoutLayer >= 0 {
		add("backout_lambda", 1, 1, EncF32)
	}
	add("transformer.wte.weight", h.VocabSize, h.NEmbd, h.EmbedEnc)
	for i := range h.NLayer {
		if h.ValueEmbeds[i] {
			add(fmt.Sprintf("value_embeds.%d.weight", i), h.VocabSize, h.KVDim(), h.EmbedEnc)
		}
	}
	for i := range h.NLayer {
		p := fmt.Sprintf("transformer.h.%d.", i)
		add(p+"attn.c_q.weight", h.QDim(), h.NEmbd, h.MatrixEnc)
		add(p+"attn.c_k.weight", h.KVDim(), h.NEmbd, h.MatrixEnc)
		add(p+"attn.c_v.weight", h.KVDim(), h.NEmbd, h.MatrixEnc)
		add(p+"attn.c_proj.weight", h.NEmbd, h.QDim(), h.MatrixEnc)
		if h.ValueEmbeds[i] {
			add(p+"attn.ve_gate.weight", h.NKVHead, h.VEGateChannels, h.EmbedEnc)
		}
		add(p+"mlp.c_fc.weight", h.MLPHidden, h.NEmbd, h.MatrixEnc)
		add(p+"mlp.c_proj.weight", h.NEmbd, h.MLPHidden, h.MatrixEnc)
	}
	add("lm_head.weight", h.VocabSize, h.NEmbd, h.MatrixEnc)
	return specs, off, nil
}

// EncodingSummary lists the bytes stored in each encoding, largest first:
// "q8_0 2.8 MB, fp16 1.9 KB, fp32 64 B" (inspect shows it).
func (h *Header) EncodingSummary() string {
	specs, _, err := h.Layout()
	if err != nil {
		return err.Error()
	}
	by := map[Encoding]int64{}
	for _, s := range specs {
		by[s.Enc] += s.Size
	}
	encs := make([]Encoding, 0, len(by))
	for e := range by {
		encs = append(encs, e)
	}
	slices.SortFunc(encs, func(a, b Encoding) int { return cmp.Compare(by[b], by[a]) })
	parts := make([]string, len(encs))
	for i, e := range encs {
		n := by[e]
		switch {
		case n >= 1<<20:
			parts[i] = fmt.Sprintf("%v %.1f MB", e, float64(n)/(1<<20))
		case n >= 1<<10:
			parts[i] = fmt.Sprintf("%v %.1f KB", e, float64(n)/(1<<10))
		default:
			parts[i] = fmt.Sprintf("%v %d B", e, n)
		}
	}
	return strings.Join(parts, ", ")
}
