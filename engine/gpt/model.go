// Package gpt runs nanochat's GPT (github.com/karpathy/nanochat, nanochat/gpt.py)
// from a model.bin exported by `inferpi convert nanochat`: norm after the
// embedding, smear, resid and x0 lambdas, value embeddings with gates, rotary
// embeddings, QK-norm, GQA, sliding-window attention, ReLU² MLP, backout, and a
// softcapped lm_head; chat in nanochat's format with its calculator tool.
//
// The code reads like llama2.c's run.c: Header is the config, Weights are views
// into the file, RunState is allocated once per session, and forward runs one
// token (forward.go, with its attention in attention.go and the rotary tables in
// rope.go). Facts are from nanochat at commit 92d63d4e (gpt.py, engine.py,
// tokenizer.py, scripts/chat_cli.py).
package gpt

import (
	"bytes"
	"fmt"
	"math"
	"strings"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/tokenizer/bpe"
)

// Engine is the GPT engine; it claims files starting with the magic "NCHT".
type Engine struct{}

// Name implements engine.Engine.
func (Engine) Name() string { return "GPT" }

// Detect implements engine.Engine.
func (Engine) Detect(head []byte) bool { return bytes.HasPrefix(head, []byte(Magic)) }

// Load implements engine.Engine.
func (Engine) Load(files engine.Files) (engine.Model, error) { return Load(files) }

// Model is a loaded nanochat model with its tokenizer.
type Model struct {
	h    *Header
	w    *Weights
	rope rope
	tok  *bpe.Tokenizer
	ids  specialIDs
	// template is "nanochat" (chat turns wrapped in nanochat's special tokens) or
	// "none" (chat turns fed as plain text, like a completion kept going).
	template string
}

// specialIDs are nanochat's special tokens (tokenizer.py SPECIAL_TOKENS).
type specialIDs struct {
	bos, userStart, userEnd, assistantStart, assistantEnd int
	pythonStart, pythonEnd, outputStart, outputEnd        int
}

// Load reads model.bin and tokenizer.bin. Errors name the file and the problem.
func Load(files engine.Files) (*Model, error) {
	h, err := ParseHeader(files.Model)
	if err != nil {
		return nil, fmt.Errorf("model.bin: %w", err)
	}
	w, err := loadWeights(h, files.Model)
	if err != nil {
		return nil, fmt.Errorf("model.bin: %w", err)
	}
	m := &Model{h: h, w: w, rope: newRope(h)}
	if err := m.readCompanions(files); err != nil {
		return nil, err
	}
	return m, nil
}

// Header returns the model's configuration.
func (m *Model) Header() *Header { return m.h }

// Tokenizer returns the model's tokenizer.
func (m *Model) Tokenizer() *bpe.Tokenizer { return m.tok }

// Info implements engine.Model.
func (m *Model) Info() engine.Info {
	h := m.h
	specs, _, _ := h.Layout()
	var params int64
	for _, s := range specs {
		params += int64(s.Rows) * int64(s.Cols)
	}
	var veLayers []string
	for i, ve := range h.ValueEmbeds {
		if ve {
			veLayers = append(veLayers, fmt.Sprint(i))
		}
	}
	windows := strings.Trim(strings.Join(strings.Fields(fmt.Sprint(h.Windows)), ","), "[]")
	enc := h.MatrixEnc.String()
	if h.EmbedEnc != h.MatrixEnc {
		enc += " (embeddings " + h.EmbedEnc.String() + ")"
	}
	backout := "none"
	if h.BackoutLayer >= 0 {
		backout = fmt.Sprint(h.BackoutLayer)
	}
	return engine.Info{
		Engine: "GPT",
		Config: fmt.Sprintf("dim=%d layers=%d heads=%d kv_heads=%d head_dim=%d hidden=%d vocab=%d seq_len=%d",
			h.NEmbd, h.NLayer, h.NHead, h.NKVHead, h.HeadDim, h.MLPHidden, h.VocabSize, h.SeqLen),
		Params:              params,
		Encoding:            enc,
		ContextSize:         h.SeqLen,
		VocabSize:           h.VocabSize,
		WeightBytesPerToken: m.w.matrixBytes(),
		KVBytesPerPosition:  h.kvBytesPerPosition(),
		SessionBytes:        h.activationBytes(h.SeqLen),
		Template:            m.template,
		Details: []engine.KV{
			{Key: "format", Value: fmt.Sprintf("%s version %d", Magic, Version)},
			{Key: "tensors by encoding", Value: h.EncodingSummary()},
			{Key: "padded vocab (checkpoint rows)", Value: fmt.Sprint(h.PaddedVocab)},
			{Key: "attention windows", Value: windows},
			{Key: "value embeddings on layers", Value: strings.Join(veLayers, ",")},
			{Key: "gate channels (ve, smear)", Value: fmt.Sprintf("%d, %d", h.VEGateChannels, h.SmearChannels)},
			{Key: "backout layer", Value: backout},
			{Key: "rope base", Value: fmt.Sprint(h.RopeBase)},
			{Key: "qk scale", Value: fmt.Sprint(h.QKScale)},
			{Key: "logit softcap", Value: fmt.Sprint(h.Softcap)},
			{Key: "kv cache", Value: fmt.Sprintf("%v, %d bytes per position (%d for a full context of %d), allocated %d positions at a time as they are used",
				h.kvEncoding(), h.kvBytesPerPosition(), h.kvBytesPerPosition()*int64(h.SeqLen), h.SeqLen, kernels.KVChunk)},
			{Key: "tokenizer", Value: fmt.Sprintf("byte-level BPE, %d merges + %d special tokens", m.tok.NumMergeable(), len(m.tok.Specials()))},
		},
	}
}

// kvEncoding is the encoding of a session's KV cache: fp16 for q4_0 matrices,
// fp32 otherwise (kernels.KVEncodingFor).
func (h *Header) kvEncoding() kernels.Encoding {
	enc, _ := h.MatrixEnc.kernel() // checked by the parser
	return kernels.KVEncodingFor(enc)
}

// kvBytesPerPosition is what one position takes in a session's KV cache: keys
// and values of every layer.
func (h *Header) kvBytesPerPosition() int64 {
	return 2 * kernels.KVBytes(int64(h.NLayer)*int64(h.KVDim()), h.kvEncoding())
}

// activationBytes is what a session of context positions takes besides its KV
// cache (newRunState's buffers): the activations of a batch, the logits, and
// attention's scores (two rows of the context per core).
func (h *Header) activationBytes(context int) int64 {
	b, d, kvDim := int64(prefillBatch), int64(h.NEmbd), int64(h.KVDim())
	floats := b*(4*d+2*int64(h.QDim())+2*kvDim+int64(h.MLPHidden)) +
		3*d + int64(h.NKVHead) + 1 + kvDim + int64(h.VocabSize)
	return 4*floats + kernels.KVScoresBytes(context, h.HeadDim, h.kvEncoding())
}

// NewSession implements engine.Model. Options.Context is the session's context:
// the model's (sequence_len) when 0, no more than it.
func (m *Model) NewSession(opts engine.Options) (engine.Session, error) {
	h := m.h
	n := opts.Context
	switch {
	case n == 0:
		n = h.SeqLen
	case n < 0:
		return nil, fmt.Errorf("gpt: a context of %d positions", n)
	case n > h.SeqLen:
		return nil, fmt.Errorf("gpt: a context of %d positions is more than the model's sequence_len %d", n, h.SeqLen)
	}
	if per := h.kvBytesPerPosition(); per > (math.MaxInt64-h.activationBytes(n))/int64(n) {
		return nil, fmt.Errorf("gpt: a context of %d positions of %d bytes each is more memory than can be counted", n, per)
	}
	return m.newSession(opts, n), nil
}
