package llama

import (
	"errors"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/tokenizer/llama2c"
)

var _ engine.Checker = Engine{}

// Check implements engine.Checker for a llama2.c model.bin: its header against
// the file's size, tokenizer.bin (read whole: it is small) against the header's
// vocabulary, and inferpi.json. A GGUF file is checked by GGUFFootprint,
// which reads its header region.
func (Engine) Check(files engine.Files, size int64) (engine.Footprint, error) {
	if IsGGUF(files.Model) {
		return engine.Footprint{}, errors.New("llama: a GGUF file is checked from its header region (GGUFFootprint)")
	}
	cfg, layout, err := ParseModelHeader(files.Model, size)
	if err != nil {
		return engine.Footprint{}, err
	}
	if _, _, err := parseSettings(files.Settings); err != nil {
		return engine.Footprint{}, err
	}
	if files.Tokenizer == nil {
		return engine.Footprint{}, errors.New("tokenizer.bin: missing (llama2.c models need their tokenizer.bin beside model.bin)")
	}
	if _, err := llama2c.Load(files.Tokenizer, cfg.VocabSize); err != nil {
		return engine.Footprint{}, err
	}
	return footprint(cfg, cfg.SeqLen, size, kernels.KVEncodingFor(layout.Enc)), nil
}

// GGUFFootprint checks a GGUF file's header and tensor table as CheckGGUF
// does, and settings, the inferpi.json beside it (nil when there is none), and
// returns the model's footprint: the file held whole, the KV cache in fp16
// (llama.cpp's default), and the context the file declares, of which a
// session holds what its options ask for.
func GGUFFootprint(f *gguf.File, settings []byte) (engine.Footprint, error) {
	cfg, g, err := checkGGUF(f, settings)
	if err != nil {
		return engine.Footprint{}, err
	}
	return footprint(cfg, g.context, f.Size, ggufKVEncoding), nil
}

// Footprint is the memory the loaded model keeps and what its sessions take,
// with the KV cache in the default encoding.
func (m *Model) Footprint() engine.Footprint {
	declared := m.cfg.SeqLen
	if m.gguf != nil {
		declared = m.gguf.context
	}
	return footprint(m.cfg, declared, m.size, m.kvEnc())
}

// footprint is the memory of a model of shape c, declaring a context of
// declared positions, whose file of size bytes is held whole, with a KV cache
// in encoding kv: a session's allocation (sessionBytesOf) split into what
// grows with its context and what does not.
func footprint(c Config, declared int, size int64, kv kernels.Encoding) engine.Footprint {
	at := func(positions int) int64 {
		c := c
		c.SeqLen = positions
		return sessionBytesOf(c, kv)
	}
	fixed := at(0)
	return engine.Footprint{
		Context:            declared,
		ModelBytes:         size,
		KVBytesPerPosition: 2 * kernels.KVBytes(int64(c.NLayers)*int64(c.KVDim()), kv),
		PositionBytes:      at(1) - fixed,
		SessionBytes:       fixed,
	}
}
