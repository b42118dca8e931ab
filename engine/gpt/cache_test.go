package gpt_test

import (
	"context"
	"testing"

	"github.com/inferpi/inferpi/convert/nanochat"
	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/gpt"
)

// TestChunkedCacheMatchesOneStretch: a sequence filling the context, fed in
// batches that cross chunk boundaries and then decoded across more, gives bit for
// bit the logits of a cache held in one chunk (the layout of a cache allocated
// whole), over an fp32 cache and an fp16 one (q4_0 weights), beyond the sliding
// windows too, whose first keys lie anywhere in a chunk.
func TestChunkedCacheMatchesOneStretch(t *testing.T) {
	for _, dtype := range []string{"fp32", "q4_0"} {
		m, err := gpt.Load(export(t, nanochat.Options{BaseDir: tinyDir, DType: dtype, Step: -1}))
		if err != nil {
			t.Fatal(err)
		}
		h := m.Header()
		window := h.SeqLen
		for _, w := range h.Windows {
			window = min(window, w)
		}
		seq := make([]int, h.SeqLen)
		for i := range seq {
			seq[i] = (i*37 + 11) % h.VocabSize
		}
		prefill := h.SeqLen * 3 / 4
		want, _ := m.ForwardChunked(seq, prefill, 50, h.SeqLen)
		for _, chunk := range []int{4, 16, 128} {
			got, last := m.ForwardChunked(seq, prefill, 50, chunk)
			for i := range want {
				if j, ok := sameBits(got[i], want[i]); !ok {
					t.Fatalf("%s in chunks of %d: position %d, logit %d = %v, in one chunk %v", dtype, chunk, last[i], j, got[i][j], want[i][j])
				}
			}
			if last[len(last)-1] <= window {
				t.Fatalf("no position beyond the window of %d", window)
			}
		}
	}
}

// TestSessionContext: Options.Context sets the positions a session holds, and
// only what is used is allocated: the default is the model's, more than the model
// declares is refused, and a turn that would pass the context stops as full.
func TestSessionContext(t *testing.T) {
	m := tiny(t, "fp32")
	h := m.Header()
	for _, bad := range []int{-1, h.SeqLen + 1} {
		if _, err := m.NewSession(engine.Options{Context: bad}); err == nil {
			t.Errorf("context %d accepted", bad)
		}
	}
	es, err := m.NewSession(engine.Options{Mode: engine.Completion, Context: 40})
	if err != nil {
		t.Fatal(err)
	}
	s := es.(*gpt.Session)
	ids := make([]int, 40)
	for i := range ids {
		ids[i] = 3 + i
	}
	if _, err := s.FeedTokens(ids[:2]); err != nil || s.Cache().Allocated() != 40 || s.Cache().Capacity() != 40 {
		t.Fatalf("2 tokens in a context of 40: %v, %d of %d positions allocated", err, s.Cache().Allocated(), s.Cache().Capacity())
	}
	if _, err := s.FeedTokens(ids[2:]); err != nil {
		t.Fatalf("40 tokens in a context of 40: %v", err)
	}
	if _, err := s.FeedTokens(ids[:1]); err == nil {
		t.Error("a 41st token fed")
	}
	if r, err := s.Turn(context.Background(), "more", nil); err != nil || r.Stop != engine.StopContextFull || s.Used() != 40 {
		t.Errorf("a turn past the context: %v, stop %v, %d positions used", err, r.Stop, s.Used())
	}
	info := m.Info()
	if info.KVBytesPerPosition != int64(2*h.NLayer*h.KVDim()*4) || info.SessionBytes <= 0 {
		t.Errorf("Info: %d KV bytes per position, %d session bytes", info.KVBytesPerPosition, info.SessionBytes)
	}
	if got, want := s.Cache().Bytes(), 40*info.KVBytesPerPosition; got != want {
		t.Errorf("a full cache of 40 positions holds %d bytes, Info says %d per position", got, info.KVBytesPerPosition)
	}
}
