package gpt

import (
	"testing"

	"github.com/inferpi/inferpi/engine/kernels"
)

// Test hooks for the external test package (which may import the exporter).

// SetLogitsHook makes the session report the logits of every generated step.
func (s *Session) SetLogitsHook(f func(logits []float32)) { s.onLogits = f }

// ForwardAll runs ids from position 0 in a fresh run state and returns a copy of
// the logits at every position. trace, when not nil, sees the debug activations.
func (m *Model) ForwardAll(ids []int, trace func(pos, layer, what int, v []float32)) [][]float32 {
	s := newRunState(m.h, m.h.SeqLen)
	out := make([][]float32, len(ids))
	for pos, id := range ids {
		if trace != nil {
			s.trace = func(layer, what int, v []float32) { trace(pos, layer, what, v) }
		}
		out[pos] = append([]float32(nil), m.forward(s, id, pos)...)
	}
	return out
}

// DecodeAllocs is the average number of allocations of a decoding step, after one.
func (m *Model) DecodeAllocs() float64 {
	s := newRunState(m.h, m.h.SeqLen)
	m.forward(s, 1, 0)
	pos := 1
	return testing.AllocsPerRun(20, func() {
		m.forward(s, 2, pos)
		pos++
	})
}

// ForwardChunked feeds ids from position 0 in a fresh run state whose KV cache is
// allocated chunk positions at a time: the first prefill tokens in batches of
// batch, the rest one at a time. It returns a copy of the logits after every call
// and the positions of each call's last token.
func (m *Model) ForwardChunked(ids []int, prefill, batch, chunk int) (logits [][]float32, last []int) {
	h := m.h
	s := newRunState(h, h.SeqLen)
	s.cache = kernels.NewKVCache(h.NLayer, h.NKVHead, h.HeadDim, h.SeqLen, chunk, h.kvEncoding())
	for pos := 0; pos < len(ids); {
		n := 1
		if pos < prefill {
			n = min(batch, prefill-pos)
		}
		logits = append(logits, append([]float32(nil), m.forwardBatch(s, ids[pos:pos+n], pos, true)...))
		pos += n
		last = append(last, pos-1)
	}
	return logits, last
}

// Cache is the session's KV cache.
func (s *Session) Cache() *kernels.KVCache { return s.st.cache }
