// Package llama is InferPi's engine for the Llama family. It reads llama2.c's
// files (the legacy model.bin written by llama2.c's export.py, in fp32 as run.c
// reads it or in fp16 as InferPi's converter writes it, or InferPi's container
// for the other weight encodings, format.go, with llama2.c's tokenizer.bin),
// whose numbers follow run.c's: same operations, same order, float32; and GGUF
// files of the llama, qwen2 and qwen3 architectures (gguf.go), whose numbers
// follow llama.cpp's. Both go through one forward pass.
//
// The code mirrors run.c's sections: Config (config.go), TransformerWeights
// (weights.go), RunState and forward (forward.go, with its attention in
// attention.go and RoPE in rope.go), then the chat session (session.go) with
// its prompt templates (template.go, and engine/chat for GGUF files).
package llama

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/tokenizer/llama2c"
)

// Engine is the llama2.c-format engine.
type Engine struct{}

// Name implements engine.Engine.
func (Engine) Name() string { return "Llama" }

// Detect implements engine.Engine. It claims GGUF files and InferPi's container
// by their magic; llama2.c files have no magic number: they start with the
// config, so this also claims any file whose first four fields are plausible
// dimensions. It must be the last engine asked.
func (Engine) Detect(head []byte) bool {
	if bytes.HasPrefix(head, []byte(Magic)) || IsGGUF(head) {
		return true
	}
	if len(head) < 16 {
		return false
	}
	for i, max := range []int{maxDim, maxHiddenDim, maxLayers, maxDim} {
		v := int32(binary.LittleEndian.Uint32(head[4*i:]))
		if v <= 0 || int(v) > max {
			return false
		}
	}
	return true
}

// Model is a loaded llama2.c model.
type Model struct {
	cfg      Config
	enc      kernels.Encoding
	layout   Layout
	w        *Weights
	tok      *llama2c.Tokenizer // a llama2.c model's tokenizer.bin (nil for GGUF files)
	vocab    vocabulary
	template Template
	system   string // inferpi.json's system prompt, the sessions' default
	size     int64
	gguf     *ggufModel // what a GGUF file adds (nil for llama2.c files)
}

// Load implements engine.Engine: it checks the header and the file size before
// anything else, then maps the weights (views into files.Model, no copy).
func (Engine) Load(files engine.Files) (engine.Model, error) { return Load(files) }

// Load is Engine.Load with the concrete type: a GGUF file (gguf.go), or a
// llama2.c model.bin with its tokenizer.bin.
func Load(files engine.Files) (*Model, error) {
	if IsGGUF(files.Model) {
		return loadGGUF(files)
	}
	cfg, layout, err := ParseModel(files.Model)
	if err != nil {
		return nil, err
	}
	tmpl, system, err := parseSettings(files.Settings)
	if err != nil {
		return nil, err
	}
	if files.Tokenizer == nil {
		return nil, fmt.Errorf("tokenizer.bin: missing (llama2.c models need their tokenizer.bin beside model.bin)")
	}
	tok, err := llama2c.Load(files.Tokenizer, cfg.VocabSize)
	if err != nil {
		return nil, err
	}
	w, err := mapWeights(files.Model, cfg, layout)
	if err != nil {
		return nil, err
	}
	return &Model{cfg: cfg, enc: layout.Enc, layout: layout, w: w, tok: tok, vocab: runcVocabulary{tok}, template: tmpl, system: system, size: int64(len(files.Model))}, nil
}

// Config is the model's header.
func (m *Model) Config() Config { return m.cfg }

// Tokenizer is a llama2.c model's vocabulary (nil for a GGUF file's model).
func (m *Model) Tokenizer() *llama2c.Tokenizer { return m.tok }

// Info implements engine.Model.
func (m *Model) Info() engine.Info {
	if m.gguf != nil {
		return m.ggufInfo()
	}
	c := m.cfg
	return engine.Info{
		Engine:              "Llama",
		Config:              c.String(),
		Params:              c.Params(),
		Encoding:            m.enc.String(),
		ContextSize:         c.SeqLen,
		VocabSize:           c.VocabSize,
		WeightBytesPerToken: m.w.bytesPerToken(),
		KVBytesPerPosition:  kvBytesPerPosition(c, m.kvEnc()),
		SessionBytes:        activationBytes(c, m.kvEnc(), c.SeqLen),
		Template:            m.template.String(),
		Details: []engine.KV{
			{Key: "format", Value: m.layout.Format()},
			{Key: "tensors by encoding", Value: m.layout.encodingSummary()},
			{Key: "head_size", Value: fmt.Sprint(c.HeadSize())},
			{Key: "kv_dim", Value: fmt.Sprint(c.KVDim())},
			{Key: "model.bin bytes", Value: fmt.Sprint(m.size)},
			{Key: "kv cache", Value: m.cacheInfo()},
		},
	}
}

// cacheInfo describes a session's KV cache by default.
func (m *Model) cacheInfo() string {
	per := kvBytesPerPosition(m.cfg, m.kvEnc())
	return fmt.Sprintf("%v, %d bytes per position (%d for a full context of %d), allocated %d positions at a time as they are used",
		m.kvEnc(), per, per*int64(m.cfg.SeqLen), m.cfg.SeqLen, kernels.KVChunk)
}

// kvEnc is the encoding of a session's KV cache unless its options choose:
// for a GGUF file fp16, as llama.cpp's default (half fp32's bytes, which a Pi
// with a large context needs); for a llama2.c file fp16 with q4_0 weights,
// fp32 otherwise (kernels.KVEncodingFor).
func (m *Model) kvEnc() kernels.Encoding {
	if m.gguf != nil {
		return ggufKVEncoding
	}
	return kernels.KVEncodingFor(m.enc)
}

// sessionKV is the KV cache encoding a session's options ask for.
func (m *Model) sessionKV(opts engine.Options) (kernels.Encoding, error) {
	switch opts.KVCache {
	case "":
		return m.kvEnc(), nil
	case "fp32", "f32":
		return kernels.F32, nil
	case "fp16", "f16":
		return kernels.F16, nil
	}
	return 0, fmt.Errorf("llama: KV cache encoding %q: want fp32 or fp16", opts.KVCache)
}

// runState allocates a session's activations and a KV cache of the default
// encoding and context.
func (m *Model) runState() *RunState {
	return newRunState(m.cfg, m.kvEnc(), m.w.RopeFactors, m.cfg.SeqLen)
}

// maxContext is the most positions a session may hold: what the file declares
// (for a GGUF file its context_length, of which sessions hold DefaultContext
// unless their options ask for more).
func (m *Model) maxContext() int {
	if m.gguf != nil {
		return max(m.gguf.context, m.cfg.SeqLen)
	}
	return m.cfg.SeqLen
}

// sessionContext is the context a session's options ask for: Options.Context,
// or the model's default, no more than the model declares, and small enough
// that the session's memory is a number (its cache is allocated as it fills).
func (m *Model) sessionContext(opts engine.Options, kv kernels.Encoding) (int, error) {
	n := opts.Context
	switch {
	case n == 0:
		n = m.cfg.SeqLen
	case n < 0:
		return 0, fmt.Errorf("llama: a context of %d positions", n)
	case n > m.maxContext():
		return 0, fmt.Errorf("llama: a context of %d positions is more than the %d the model declares", n, m.maxContext())
	}
	if per := kvBytesPerPosition(m.cfg, kv); per > (math.MaxInt64-activationBytes(m.cfg, kv, n))/int64(n) {
		return 0, fmt.Errorf("llama: a context of %d positions of %d bytes each is more memory than can be counted", n, per)
	}
	return n, nil
}

// NewSession implements engine.Model.
func (m *Model) NewSession(opts engine.Options) (engine.Session, error) { return m.newSession(opts) }

func (m *Model) newSession(opts engine.Options) (*Session, error) {
	kv, err := m.sessionKV(opts)
	if err != nil {
		return nil, err
	}
	context, err := m.sessionContext(opts, kv)
	if err != nil {
		return nil, err
	}
	if opts.System == "" {
		opts.System = m.system
	}
	s := &Session{m: m, r: newRunState(m.cfg, kv, m.w.RopeFactors, context), opts: opts}
	s.Reset()
	return s, nil
}
