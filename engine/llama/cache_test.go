package llama

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/quantize"
)

// The KV cache is allocated in chunks of positions as a conversation uses them:
// these tests check that attention across chunks gives the bits of one stretch,
// and that a session's memory follows the positions it uses, not its context.

// chunkedLogits feeds seq to a fresh run state whose cache is allocated chunk
// positions at a time: the first prefill positions in batches of batch tokens,
// then the rest one at a time. It returns the logits after every batch and step.
func chunkedLogits(m *Model, seq []int, prefill, batch, chunk int) ([][]float32, *kernels.KVCache) {
	c := m.cfg
	r := m.runState()
	r.cache = kernels.NewKVCache(c.NLayers, c.NKVHeads, c.HeadSize(), c.SeqLen, chunk, r.cache.Encoding())
	var out [][]float32
	for pos := 0; pos < len(seq); {
		n := 1
		if pos < prefill {
			n = min(batch, prefill-pos)
		}
		out = append(out, slices.Clone(forwardBatch(m.w, c, r, seq[pos:pos+n], pos, true)))
		pos += n
	}
	return out, r.cache
}

// TestChunkedCacheMatchesOneStretch: 300 positions of the demo model, 250 fed in
// batches of 50 that cross chunk boundaries and 50 decoded across another, give
// bit for bit the logits of a cache held in one chunk (the layout of a cache
// allocated whole), over an fp32 cache and an fp16 one (q4_0 weights, where
// attention takes query heads two at a time).
func TestChunkedCacheMatchesOneStretch(t *testing.T) {
	files := readFiles(t, demoDir)
	q4 := files
	q4.Model = convert(t, files.Model, kernels.Q4_0)
	for _, f := range []engine.Files{files, q4} {
		m := loadModel(t, f)
		seq := make([]int, 300)
		for i := range seq {
			seq[i] = 3 + (i*37)%(m.cfg.VocabSize-3)
		}
		want, whole := chunkedLogits(m, seq, 250, 50, m.cfg.SeqLen)
		if whole.Allocated() != m.cfg.SeqLen {
			t.Fatalf("one chunk holds %d positions, want %d", whole.Allocated(), m.cfg.SeqLen)
		}
		for _, chunk := range []int{4, 128} {
			got, cache := chunkedLogits(m, seq, 250, 50, chunk)
			name := m.enc.String() + " weights, " + cache.Encoding().String() + " cache"
			for i := range want {
				if j, ok := sameBits(got[i], want[i]); !ok {
					t.Fatalf("%s in chunks of %d: call %d, logit %d = %v, in one chunk %v", name, chunk, i, j, got[i][j], want[i][j])
				}
			}
			if n := (300 + chunk - 1) / chunk * chunk; cache.Allocated() != n {
				t.Errorf("%s in chunks of %d: %d positions allocated for 300, want %d", name, chunk, cache.Allocated(), n)
			}
		}
	}
}

// longContextModel is a llama2.c model (fp32, 2 layers, dim 64, 32 heads and 32
// kv heads, vocab 260) that declares 2^20 positions, with smallModel's tokenizer.
func longContextModel(t testing.TB) engine.Files {
	t.Helper()
	cfg := Config{Dim: 64, HiddenDim: 64, NLayers: 2, NHeads: 32, NKVHeads: 32, VocabSize: 260, SeqLen: 1 << 20, SharedClassifier: true}
	head := []int32{int32(cfg.Dim), int32(cfg.HiddenDim), int32(cfg.NLayers), int32(cfg.NHeads), int32(cfg.NKVHeads), int32(cfg.VocabSize), int32(cfg.SeqLen)}
	model := make([]byte, 0, 4*(int64(len(head))+cfg.Floats()))
	for _, v := range head {
		model = binary.LittleEndian.AppendUint32(model, uint32(v))
	}
	for i := range cfg.Floats() {
		model = binary.LittleEndian.AppendUint32(model, math.Float32bits(float32(math.Sin(float64(i)*0.7))))
	}
	_, tok := smallModel(t)
	return engine.Files{Model: model, Tokenizer: tok}
}

// TestLongContextTakesWhatItUses: a model declaring 2^20 positions generates two
// tokens with a session whose cache is one chunk, and the whole session (its
// creation and the turn) allocates a few MB, where a cache for the declared
// context alone would take 1 GiB.
func TestLongContextTakesWhatItUses(t *testing.T) {
	m := loadModel(t, longContextModel(t))
	per := kvBytesPerPosition(m.cfg, m.kvEnc())
	if info := m.Info(); info.ContextSize != 1<<20 || info.KVBytesPerPosition != per || per != 2*2*64*4 {
		t.Fatalf("Info: context %d, %d KV bytes per position; want %d, %d", info.ContextSize, info.KVBytesPerPosition, 1<<20, 2*2*64*4)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s, err := m.newSession(engine.Options{Mode: engine.Completion, MaxTokens: 2})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Turn(context.Background(), "ab", nil)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if len(r.IDs) != 2 || r.Stop != engine.StopMaxTokens {
		t.Fatalf("reply %v (%v), want 2 tokens", r.IDs, r.Stop)
	}
	if got, want := s.r.cache.Bytes(), kernels.KVChunk*per; got != want || s.r.cache.Allocated() != kernels.KVChunk {
		t.Errorf("cache of %d positions after %d used: %d bytes, want %d (one chunk)", s.r.cache.Allocated(), s.Used(), got, want)
	}
	if got, want := s.r.cache.ScratchBytes(), kernels.KVScoresBytes(kernels.KVChunk, m.cfg.HeadSize(), m.kvEnc()); got != want {
		t.Errorf("attention scratch of %d bytes, want %d (one chunk's)", got, want)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
		t.Errorf("a session and a 2-token turn allocated %d bytes", n)
	}
}

// TestSessionContext: Options.Context sets the positions a session holds: the
// default is the model's, more than the model declares is refused, and a turn
// that would pass the context stops as full.
func TestSessionContext(t *testing.T) {
	m := loadModel(t, readFiles(t, demoDir))
	s, err := m.newSession(engine.Options{})
	if err != nil || s.capacity() != m.cfg.SeqLen {
		t.Fatalf("default context: %v, capacity %d, want %d", err, s.capacity(), m.cfg.SeqLen)
	}
	for _, bad := range []int{-1, m.cfg.SeqLen + 1} {
		if _, err := m.newSession(engine.Options{Context: bad}); err == nil {
			t.Errorf("context %d accepted", bad)
		}
	}
	s, err = m.newSession(engine.Options{Mode: engine.Completion, Context: 40})
	if err != nil || s.capacity() != 40 {
		t.Fatalf("context 40: %v, capacity %d", err, s.capacity())
	}
	ids := make([]int, 40)
	for i := range ids {
		ids[i] = 3 + i
	}
	if _, err := s.FeedTokens(ids); err != nil {
		t.Fatalf("40 tokens in a context of 40: %v", err)
	}
	if _, err := s.FeedTokens(ids[:1]); err == nil {
		t.Error("a 41st token fed")
	}
	if r, err := s.Turn(context.Background(), "more", nil); err != nil || r.Stop != engine.StopContextFull || s.Used() != 40 {
		t.Errorf("a turn past the context: %v, stop %v, %d positions used", err, r.Stop, s.Used())
	}
	if s.r.cache.Allocated() != 40 {
		t.Errorf("a context of 40 allocated %d positions", s.r.cache.Allocated())
	}
	// Reset keeps the chunks for the next conversation.
	s.Reset()
	if r, err := s.Turn(context.Background(), "Once", nil); err != nil || len(r.IDs) == 0 || s.r.cache.Allocated() != 40 {
		t.Errorf("after Reset: %v, %d tokens, %d positions allocated", err, len(r.IDs), s.r.cache.Allocated())
	}
}

// TestInfoSessionBytes: Info's per-position and session bytes add up to what a
// session of the default context holds once full.
func TestInfoSessionBytes(t *testing.T) {
	m := loadModel(t, readFiles(t, demoDir))
	s, err := m.newSession(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	info := m.Info()
	if got, want := runStateBytes(s.r), info.SessionBytes+int64(info.ContextSize)*info.KVBytesPerPosition; got != want {
		t.Errorf("a full session holds %d bytes, Info says %d + %d x %d", got, info.SessionBytes, info.ContextSize, info.KVBytesPerPosition)
	}
}

// TestGGUFContextBeyondTheDefault: a GGUF file declaring 2^20 positions gets
// sessions of DefaultContext by default, more up to its context_length when the
// options ask, and a session of the whole 2^20 allocates one chunk to reply.
func TestGGUFContextBeyondTheDefault(t *testing.T) {
	files := longContextModel(t)
	var buf bytes.Buffer
	if err := WriteGGUF(&buf, files, quantize.FileF32); err != nil {
		t.Fatal(err)
	}
	m := loadModel(t, engine.Files{Model: buf.Bytes(), ModelName: "long.gguf"})
	if info := m.Info(); info.ContextSize != DefaultContext {
		t.Fatalf("Info: context %d, want %d", info.ContextSize, DefaultContext)
	}
	s, err := m.newSession(engine.Options{})
	if err != nil || s.capacity() != DefaultContext {
		t.Fatalf("default context: %v, capacity %d", err, s.capacity())
	}
	if _, err := m.newSession(engine.Options{Context: 1<<20 + 1}); err == nil {
		t.Error("a context beyond context_length accepted")
	}
	s, err = m.newSession(engine.Options{Mode: engine.Completion, MaxTokens: 2, Context: 1 << 20})
	if err != nil || s.capacity() != 1<<20 {
		t.Fatalf("context 2^20: %v, capacity %d", err, s.capacity())
	}
	if r, err := s.Turn(context.Background(), "ab", nil); err != nil || len(r.IDs) != 2 || s.r.cache.Allocated() != kernels.KVChunk {
		t.Errorf("2 tokens in a context of 2^20: %v, %d tokens, %d positions allocated", err, len(r.IDs), s.r.cache.Allocated())
	}
}
