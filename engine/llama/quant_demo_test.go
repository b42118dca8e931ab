package llama

import (
	"context"
	"slices"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
)

// The q8_0 export of the demo keeps every example reply, id for id.
func TestDemoQ8KeepsTheExamples(t *testing.T) {
	files := readFiles(t, demoDir)
	files.Model = convert(t, files.Model, kernels.Q8_0)
	checkDemoConversations(t, files)
}

// TestDemoQ4Examples replays the examples on the q4_0 export. Each turn whose
// reply leaves the example's is logged with where and why (the fp32 model's
// margin between its token and q4_0's at that step, in the context the q4_0
// session had); their number is bounded by what was measured (docs/accuracy.md).
func TestDemoQ4Examples(t *testing.T) {
	files := readFiles(t, demoDir)
	ref := loadModel(t, files)
	files.Model = convert(t, files.Model, kernels.Q4_0)
	m := loadModel(t, files)
	turns, differ, tokens := 0, 0, 0
	for ci, conv := range readDemoExamples(t).Conversations {
		s, err := m.newSession(engine.Options{Mode: engine.Chat})
		if err != nil {
			t.Fatal(err)
		}
		for ti, turn := range conv.Turns {
			r, err := s.Turn(context.Background(), turn.User, nil)
			if err != nil {
				t.Fatal(err)
			}
			turns++
			tokens += len(turn.ReplyIDs)
			k := firstDiff(r.IDs, turn.ReplyIDs)
			if k < 0 {
				continue
			}
			differ++
			if k >= len(r.IDs) || k >= len(turn.ReplyIDs) {
				t.Logf("q4_0 conversation %d turn %d: reply %v, example %v", ci, ti, r.IDs, turn.ReplyIDs)
				continue
			}
			// The fp32 logits in the context q4_0 had at the first differing token:
			// the cache holds the reply but its last token.
			start := len(s.tokens) - (len(r.IDs) - 1)
			ctx := slices.Clone(s.tokens[:start+k])
			rs := ref.runState()
			var logits []float32
			for pos, tok := range ctx {
				logits = forward(ref.w, ref.cfg, rs, tok, pos, true)
			}
			t.Logf("q4_0 conversation %d turn %d %q: reply leaves the example at token %d of %d: fp32 prefers %q over q4_0's %q by %.3f\n  example: %q\n  q4_0:    %q",
				ci, ti, turn.User, k, len(turn.ReplyIDs), m.tok.Token(turn.ReplyIDs[k]), m.tok.Token(r.IDs[k]),
				logits[turn.ReplyIDs[k]]-logits[r.IDs[k]], turn.Reply, r.Text)
		}
	}
	t.Logf("q4_0: %d of %d turns (%d reply tokens) reproduce the examples exactly", turns-differ, turns, tokens)
	if differ > 2 {
		t.Errorf("q4_0: %d of %d turns leave the examples; 1 was measured", differ, turns)
	}
}

// firstDiff is the first index where a and b differ (a length difference
// counts), or -1.
func firstDiff(a, b []int) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}
