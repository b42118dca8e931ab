package llama

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
)

// Batched prefill must give every token exactly the numbers it gets when fed alone,
// so it is checked bit for bit against forward, one token at a time, and against
// run.c's logits within the oracle tolerance.

// stepLogits feeds seq one token at a time and keeps the logits of every position.
func stepLogits(m *Model, seq []int) [][]float32 {
	r := m.runState()
	out := make([][]float32, len(seq))
	for pos, tok := range seq {
		out[pos] = slices.Clone(forward(m.w, m.cfg, r, tok, pos, true))
	}
	return out
}

// batchedLogits feeds seq in batches of the given size and returns the logits of
// the last token of each batch, by position.
func batchedLogits(m *Model, seq []int, batch int) map[int][]float32 {
	r := m.runState()
	out := map[int][]float32{}
	for pos := 0; pos < len(seq); pos += batch {
		n := min(batch, len(seq)-pos)
		out[pos+n-1] = slices.Clone(forwardBatch(m.w, m.cfg, r, seq[pos:pos+n], pos, true))
	}
	return out
}

func TestBatchedPrefillMatchesOneByOne(t *testing.T) {
	o := readOracle(t)
	fp32 := readFiles(t, tinyDir)
	fp16 := fp32
	var err error
	if fp16.Model, err = ConvertFP16(fp32.Model); err != nil {
		t.Fatal(err)
	}
	for _, enc := range []struct {
		name  string
		files engine.Files
	}{{"fp32", fp32}, {"fp16", fp16}} {
		m := loadModel(t, enc.files)
		for _, c := range o.Greedy {
			oracle := readLogits(t, c.Logits) // fp32 run.c logits of every position fed
			seq := c.Sequence[:len(oracle)]
			want := stepLogits(m, seq)
			compared := 0
			for _, batch := range []int{2, 3, 7, 16, prefillBatch} {
				for pos, got := range batchedLogits(m, seq, batch) {
					name := fmt.Sprintf("%s %s, batches of %d, position %d", enc.name, c.Name, batch, pos)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[pos][i]) {
							t.Fatalf("%s: logit %d = %v, one token at a time %v", name, i, got[i], want[pos][i])
						}
					}
					if enc.name == "fp32" {
						if c.Logits.RowPositions[pos] != pos {
							t.Fatalf("oracle row %d is position %d", pos, c.Logits.RowPositions[pos])
						}
						if d := maxAbsDiff(got, oracle[pos]); d > tolFP32 {
							t.Errorf("%s: max abs logit difference from run.c %.3g > %.0g", name, d, tolFP32)
						}
					}
					compared++
				}
			}
			if compared < 10 {
				t.Fatalf("%s: only %d positions compared", c.Name, compared)
			}
		}
	}
}

// TestSessionBatchesLikeOneByOne: a multi-turn chat on the demo model (prompts
// longer than a batch, replies cut short and resumed) gives the same replies and
// the same cache contents with batched prefill as when every token is fed alone.
func TestSessionBatchesLikeOneByOne(t *testing.T) {
	m := loadModel(t, readFiles(t, demoDir))
	long := "Tell me a long story about a cat who lives in Paris and a dog who lives in Kenya, " +
		"and about the colours of their houses, the animals they meet and the capitals they visit."
	turns := []string{long, "What is the capital of France?", long + " " + long, "And Kenya?"}
	for _, mode := range []engine.Mode{engine.Chat, engine.Completion} {
		var sessions [2]*Session
		for i, batch := range []int{1, prefillBatch} {
			s, err := m.newSession(engine.Options{Mode: mode, MaxTokens: 12})
			if err != nil {
				t.Fatal(err)
			}
			s.batch = batch
			sessions[i] = s
		}
		for n, input := range turns {
			var replies [2]engine.Reply
			for i, s := range sessions {
				r, err := s.Turn(context.Background(), input, nil)
				if err != nil {
					t.Fatal(err)
				}
				replies[i] = r
			}
			one, batched := replies[0], replies[1]
			if len(one.PromptIDs) <= prefillBatch && n == 2 {
				t.Fatalf("turn %d: prompt of %d tokens does not span several batches", n, len(one.PromptIDs))
			}
			if !slices.Equal(one.IDs, batched.IDs) || one.Text != batched.Text || one.Stop != batched.Stop {
				t.Fatalf("mode %v turn %d: batched reply %v %q (%v), one by one %v %q (%v)",
					mode, n, batched.IDs, batched.Text, batched.Stop, one.IDs, one.Text, one.Stop)
			}
		}
		a, b := sessions[0], sessions[1]
		for l := 0; l < m.cfg.NLayers; l++ {
			if !sameCache(a.r.cache, b.r.cache, l, len(a.tokens)) {
				t.Fatalf("mode %v: layer %d's KV cache differs after %d positions", mode, l, len(a.tokens))
			}
		}
	}
}

// sameCache reports whether a and b hold the same keys and values in positions
// [0, n) of layer.
func sameCache(a, b *kernels.KVCache, layer, n int) bool {
	hs := a.HeadSize()
	ka, va, kb, vb := make([]float32, hs), make([]float32, hs), make([]float32, hs), make([]float32, hs)
	for h := range a.Heads() {
		for p := range n {
			a.Load(layer, h, p, ka, va)
			b.Load(layer, h, p, kb, vb)
			if !slices.Equal(ka, kb) || !slices.Equal(va, vb) {
				return false
			}
		}
	}
	return true
}

// TestPrefillCancelForgetsThePrompt: a turn canceled while its prompt is being fed
// leaves the conversation as it was.
func TestPrefillCancelForgetsThePrompt(t *testing.T) {
	m := loadModel(t, readFiles(t, demoDir))
	s, err := m.newSession(engine.Options{Mode: engine.Chat, MaxTokens: 8})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Turn(context.Background(), "What is the capital of France?", nil); err != nil {
		t.Fatal(err)
	}
	used, pending := s.Used(), s.pending
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := s.Turn(ctx, "Tell me a story about a cat.", nil)
	if err != nil || r.Stop != engine.StopCanceled {
		t.Fatalf("canceled turn: %v, stop %v", err, r.Stop)
	}
	if s.Used() != used || s.pending != pending {
		t.Fatalf("after a canceled prompt: %d positions used (pending %d), want %d (%d)", s.Used(), s.pending, used, pending)
	}
}

// TestFeedTokens: the token-id interface gives the logits of feeding one token at
// a time, and refuses what cannot be fed.
func TestFeedTokens(t *testing.T) {
	o := readOracle(t)
	m := loadModel(t, readFiles(t, tinyDir))
	seq := o.Greedy[0].Sequence
	want := stepLogits(m, seq)
	s, err := m.newSession(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.FeedTokens(seq[:20])
	if err != nil {
		t.Fatal(err)
	}
	if i, ok := sameBits(got, want[19]); !ok {
		t.Fatalf("after 20 tokens: logit %d = %v, one at a time %v", i, got[i], want[19][i])
	}
	if got, err = s.FeedTokens(seq[20:]); err != nil {
		t.Fatal(err)
	}
	if i, ok := sameBits(got, want[len(seq)-1]); !ok || s.Used() != len(seq) {
		t.Fatalf("after %d tokens (%d used): logit %d = %v, one at a time %v", len(seq), s.Used(), i, got[i], want[len(seq)-1][i])
	}
	for _, bad := range [][]int{nil, {-1}, {m.cfg.VocabSize}, make([]int, m.cfg.SeqLen)} {
		if _, err := s.FeedTokens(bad); err == nil {
			t.Errorf("FeedTokens(%d tokens, first %v) accepted", len(bad), bad)
		}
	}
	if s.Used() != len(seq) {
		t.Errorf("refused feeds changed the cache: %d used", s.Used())
	}
}

func sameBits(a, b []float32) (int, bool) {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i, false
		}
	}
	return 0, len(a) == len(b)
}
