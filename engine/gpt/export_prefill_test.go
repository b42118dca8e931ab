package gpt

// Test hooks for batched prefill (see prefill_test.go).

// SetPrefillBatch sets how many prompt tokens the session feeds together (1: one
// token at a time, as before batching).
func (s *Session) SetPrefillBatch(n int) { s.batch = n }

// PrefillBatch is the largest batch sessions feed.
const PrefillBatch = prefillBatch

// ForwardBatches feeds ids from position 0 in batches of the given size in a fresh
// run state and returns a copy of the logits of the last token of each batch, by
// position.
func (m *Model) ForwardBatches(ids []int, batch int) map[int][]float32 {
	s := newRunState(m.h, m.h.SeqLen)
	out := map[int][]float32{}
	for pos := 0; pos < len(ids); pos += batch {
		n := min(batch, len(ids)-pos)
		out[pos+n-1] = append([]float32(nil), m.forwardBatch(s, ids[pos:pos+n], pos, true)...)
	}
	return out
}
