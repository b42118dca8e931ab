package gpt_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/gpt"
)

// Batched prefill must give every token exactly what it gets when fed alone (the
// smear of a batch's first token, sliding windows that start inside a batch), so it
// is checked bit for bit against one token at a time, and against nanochat's
// logits within the oracle tolerance.

func sameBits(a, b []float32) (int, bool) {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i, false
		}
	}
	return 0, len(a) == len(b)
}

func TestBatchedPrefillMatchesOneByOne(t *testing.T) {
	o := loadOracle(t)
	rng := rand.New(rand.NewPCG(7, 7))
	for _, dtype := range []string{"fp32", "fp16"} {
		m := tiny(t, dtype)
		h := m.Header()
		// A long random sequence crosses the 128-position sliding windows of the S
		// layers; the oracle prompts are short.
		long := make([]int, h.SeqLen-3)
		for i := range long {
			long[i] = rng.IntN(h.VocabSize)
		}
		seqs := [][]int{long}
		for _, c := range o.Completions {
			seqs = append(seqs, c.IDs)
		}
		for si, seq := range seqs {
			want := m.ForwardAll(seq, nil)
			for _, batch := range []int{2, 3, 7, 16, gpt.PrefillBatch} {
				for pos, got := range m.ForwardBatches(seq, batch) {
					if i, ok := sameBits(got, want[pos]); !ok {
						t.Fatalf("%s sequence %d, batches of %d, position %d: logit %d = %v, one token at a time %v",
							dtype, si, batch, pos, i, got[i], want[pos][i])
					}
				}
			}
		}
		// The same rows against nanochat's own logits.
		if dtype == "fp32" {
			for _, c := range o.Completions {
				ref := rows(t, c.PromptLogits)
				got := m.ForwardBatches(c.IDs, 3)
				var gotRows, wantRows [][]float32
				for pos, l := range got {
					gotRows, wantRows = append(gotRows, l), append(wantRows, ref[pos])
				}
				checkClose(t, c.Name+" batched prompt logits", gotRows, wantRows, 1e-4)
			}
		}
	}
}

// TestSessionBatchesLikeOneByOne: multi-turn conversations with prompts longer than
// a batch give the same replies and the same logits at every step with batched
// prefill as with one token at a time, in chat (where each turn's first token is
// smeared with the reply before it) and in completion mode.
func TestSessionBatchesLikeOneByOne(t *testing.T) {
	m := tiny(t, "fp32")
	long := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 2) + "Then it sleeps."
	turns := []string{long, "What is 2+2?", "ok", long}
	for _, mode := range []engine.Mode{engine.Chat, engine.Completion} {
		type run struct {
			s     *gpt.Session
			steps [][]float32
		}
		runs := make([]*run, 2)
		for i, batch := range []int{1, gpt.PrefillBatch} {
			s, _ := m.NewSession(engine.Options{Mode: mode, MaxTokens: 6})
			r := &run{s: s.(*gpt.Session)}
			r.s.SetPrefillBatch(batch)
			r.s.SetLogitsHook(func(l []float32) { r.steps = append(r.steps, append([]float32(nil), l...)) })
			runs[i] = r
		}
		for n, input := range turns {
			var replies [2]engine.Reply
			for i, r := range runs {
				r.steps = r.steps[:0]
				reply, err := r.s.Turn(context.Background(), input, nil)
				if err != nil {
					t.Fatal(err)
				}
				replies[i] = reply
			}
			name := fmt.Sprintf("mode %v turn %d", mode, n)
			if replies[0].Stop == engine.StopContextFull {
				t.Fatalf("%s: context full after %d positions", name, runs[0].s.Used())
			}
			if n == 0 && len(replies[0].PromptIDs) <= gpt.PrefillBatch {
				t.Fatalf("%s: prompt of %d tokens fits one batch", name, len(replies[0].PromptIDs))
			}
			if !reflect.DeepEqual(replies[0].IDs, replies[1].IDs) || replies[0].Text != replies[1].Text {
				t.Fatalf("%s: batched reply %v %q, one by one %v %q", name, replies[1].IDs, replies[1].Text, replies[0].IDs, replies[0].Text)
			}
			if len(runs[0].steps) != len(runs[1].steps) || len(runs[0].steps) == 0 {
				t.Fatalf("%s: %d and %d steps", name, len(runs[0].steps), len(runs[1].steps))
			}
			for i := range runs[0].steps {
				if j, ok := sameBits(runs[1].steps[i], runs[0].steps[i]); !ok {
					t.Fatalf("%s step %d: logit %d batched %v, one by one %v", name, i, j, runs[1].steps[i][j], runs[0].steps[i][j])
				}
			}
			if runs[0].s.Used() != runs[1].s.Used() {
				t.Fatalf("%s: %d and %d positions used", name, runs[0].s.Used(), runs[1].s.Used())
			}
		}
	}
}

// TestFeedTokens: the token-id interface gives the logits of feeding one token at
// a time, and refuses what cannot be fed.
func TestFeedTokens(t *testing.T) {
	m := tiny(t, "fp32")
	h := m.Header()
	rng := rand.New(rand.NewPCG(8, 8))
	seq := make([]int, 150)
	for i := range seq {
		seq[i] = rng.IntN(h.VocabSize)
	}
	want := m.ForwardAll(seq, nil)
	sess, _ := m.NewSession(engine.Options{})
	s := sess.(*gpt.Session)
	for _, cut := range [][2]int{{0, 70}, {70, 71}, {71, 150}} {
		got, err := s.FeedTokens(seq[cut[0]:cut[1]])
		if err != nil {
			t.Fatal(err)
		}
		if i, ok := sameBits(got, want[cut[1]-1]); !ok || s.Used() != cut[1] {
			t.Fatalf("after %d tokens (%d used): logit %d = %v, one at a time %v", cut[1], s.Used(), i, got[i], want[cut[1]-1][i])
		}
	}
	for _, bad := range [][]int{nil, {-1}, {h.VocabSize}, make([]int, h.SeqLen)} {
		if _, err := s.FeedTokens(bad); err == nil {
			t.Errorf("FeedTokens(%d tokens) accepted", len(bad))
		}
	}
	if s.Used() != len(seq) {
		t.Errorf("refused feeds changed the cache: %d used", s.Used())
	}
}
