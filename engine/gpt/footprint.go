package gpt

import (
	"fmt"

	"github.com/inferpi/inferpi/engine"
)

var _ engine.Checker = Engine{}

// Check implements engine.Checker: model.bin's header against the file's size,
// then tokenizer.bin and inferpi.json as Load reads them.
func (Engine) Check(files engine.Files, size int64) (engine.Footprint, error) {
	h, err := ParseHeader(files.Model)
	if err != nil {
		return engine.Footprint{}, fmt.Errorf("model.bin: %w", err)
	}
	if _, err := h.checkSize(size); err != nil {
		return engine.Footprint{}, fmt.Errorf("model.bin: %w", err)
	}
	if err := (&Model{h: h}).readCompanions(files); err != nil {
		return engine.Footprint{}, err
	}
	return h.footprint(size), nil
}

// Footprint is the memory the loaded model keeps and what its sessions take.
func (m *Model) Footprint() engine.Footprint {
	_, size, _ := m.h.Layout() // model.bin's size: Load checked it
	return m.h.footprint(size)
}

// footprint is the memory of a model with header h whose model.bin of size
// bytes is held whole: the file and the rotary tables (newRope), and a
// session's run state split into what grows with its context and what does
// not.
func (h *Header) footprint(size int64) engine.Footprint {
	fixed := h.activationBytes(0)
	return engine.Footprint{
		Context:            h.SeqLen,
		ModelBytes:         size + 4*int64(h.SeqLen)*int64(h.HeadDim/2)*2,
		KVBytesPerPosition: h.kvBytesPerPosition(),
		PositionBytes:      h.kvBytesPerPosition() + h.activationBytes(1) - fixed,
		SessionBytes:       fixed,
	}
}
