package gpt

import "testing"

// Test hooks for the external test package (which may import the exporter).

// SetLogitsHook makes the session report the logits of every generated step.
func (s *Session) SetLogitsHook(f func(logits []float32)) { s.onLogits = f }

// ForwardAll runs ids from position 0 in a fresh run state and returns a copy of
// the logits at every position. trace, when not nil, sees the debug activations.
func (m *Model) ForwardAll(ids []int, trace func(pos, layer, what int, v []float32)) [][]float32 {
	s := newRunState(m.h)
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
	s := newRunState(m.h)
	m.forward(s, 1, 0)
	pos := 1
	return testing.AllocsPerRun(20, func() {
		m.forward(s, 2, pos)
		pos++
	})
}
