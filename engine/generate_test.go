package engine

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeModel is a cache whose forward passes only record what they are given.
// Its clock moves a millisecond per Prefill and a second per Decode, so that a
// reply's times count the passes they cover.
type fakeModel struct {
	tokens          []int // fed so far
	capacity, batch int
	prefills        [][]int
	decodes         []int
	saves           int
	saved           int
	elapsed         time.Duration
	afterPrefill    func() // called after each Prefill (a test cancels there)
}

func (m *fakeModel) Used() int         { return len(m.tokens) }
func (m *fakeModel) Capacity() int     { return m.capacity }
func (m *fakeModel) PrefillBatch() int { return m.batch }
func (m *fakeModel) Save()             { m.saves, m.saved = m.saves+1, len(m.tokens) }
func (m *fakeModel) Restore()          { m.tokens = m.tokens[:m.saved] }

func (m *fakeModel) Prefill(ids []int) {
	if len(ids) > m.batch || len(m.tokens)+len(ids) > m.capacity {
		panic("fakeModel: Prefill beyond the batch or the cache")
	}
	m.tokens = append(m.tokens, ids...)
	m.prefills = append(m.prefills, slices.Clone(ids))
	m.elapsed += time.Millisecond
	if m.afterPrefill != nil {
		m.afterPrefill()
	}
}

func (m *fakeModel) Decode(id int) []float32 {
	if len(m.tokens) >= m.capacity {
		panic("fakeModel: Decode beyond the cache")
	}
	m.tokens = append(m.tokens, id)
	m.decodes = append(m.decodes, id)
	m.elapsed += time.Second
	return []float32{float32(id)}
}

// fakeReplier chooses the tokens of script in turn; id 0 ends a reply, and
// each other id prints pieces[id]. Print holds back the ids in hold until the
// next Print or Flush, as a printer holds an incomplete character.
type fakeReplier struct {
	script  []int
	pieces  map[int]string
	hold    map[int]bool
	held    string
	onPrint func(id int)
}

func (r *fakeReplier) Next(logits []float32) int {
	id := r.script[0]
	r.script = r.script[1:]
	return id
}

func (r *fakeReplier) Ends(id int) bool { return id == 0 }

func (r *fakeReplier) Print(id int) []byte {
	if r.onPrint != nil {
		r.onPrint(id)
	}
	out := r.held + r.pieces[id]
	r.held = ""
	if r.hold[id] {
		r.held, out = out, ""
	}
	return []byte(out)
}

func (r *fakeReplier) Flush() []byte {
	out := r.held
	r.held = ""
	return []byte(out)
}

var pieces = map[int]string{10: "a", 11: "b", 12: "c", 13: "d", 0: "<end>"}

// generate runs Generate on the fake clock of m, and checks what every reply
// must satisfy: the text emitted is the text returned, the reply's last token
// is not fed, and the times count the forward passes.
func generate(t *testing.T, ctx context.Context, m *fakeModel, r *fakeReplier, g Generation) (Reply, string) {
	t.Helper()
	defer func(f func() time.Time) { now = f }(now)
	now = func() time.Time { return time.Unix(0, 0).Add(m.elapsed) }
	var emitted strings.Builder
	g.Emit = func(piece string) { emitted.WriteString(piece) }
	used := m.Used()
	reply, raw := Generate(ctx, m, r, g)
	if emitted.String() != reply.Text {
		t.Errorf("emitted %q, reply text %q", emitted.String(), reply.Text)
	}
	if n := len(reply.IDs); n > 0 {
		fed := append(slices.Clone(g.Prompt), reply.IDs[:n-1]...)
		if got := m.tokens[used:]; !slices.Equal(got, fed) {
			t.Errorf("fed %v, want the prompt and the reply but its last token: %v", got, fed)
		}
	}
	if want := time.Duration(len(m.prefills)) * time.Millisecond; reply.PromptTime != want {
		t.Errorf("prompt time %v after %d prefill passes", reply.PromptTime, len(m.prefills))
	}
	if want := time.Duration(len(m.decodes)) * time.Second; reply.GenTime != want {
		t.Errorf("generation time %v after %d decoding passes", reply.GenTime, len(m.decodes))
	}
	return reply, raw
}

// A reply ends at the end token, which is chosen but neither printed nor fed.
// The prompt goes in batches, all but its last token, whose pass gives the
// first reply token; GenTime counts one pass per reply token.
func TestGenerateEndToken(t *testing.T) {
	m := &fakeModel{capacity: 100, batch: 3}
	r := &fakeReplier{script: []int{10, 11, 0, 12}, pieces: pieces}
	reply, raw := generate(t, t.Context(), m, r, Generation{Prompt: []int{1, 2, 3, 4, 5, 6, 7}})
	if reply.Stop != StopEnd || !slices.Equal(reply.IDs, []int{10, 11, 0}) || reply.Text != "ab" || raw != "ab" {
		t.Errorf("reply %v %v %q (raw %q), want end [10 11 0] \"ab\"", reply.Stop, reply.IDs, reply.Text, raw)
	}
	if want := [][]int{{1, 2, 3}, {4, 5, 6}}; !slices.EqualFunc(m.prefills, want, slices.Equal) {
		t.Errorf("prefill batches %v, want %v", m.prefills, want)
	}
	if want := []int{7, 10, 11}; !slices.Equal(m.decodes, want) {
		t.Errorf("decoded %v, want %v", m.decodes, want)
	}
	if reply.GenTime != time.Duration(len(reply.IDs))*time.Second || reply.TokensPerSec() != 1 {
		t.Errorf("generation time %v for %d tokens: %v tokens/s, want one pass per token", reply.GenTime, len(reply.IDs), reply.TokensPerSec())
	}
	if m.saves != 1 {
		t.Errorf("%d saves, want 1", m.saves)
	}
}

func TestGenerateMaxTokens(t *testing.T) {
	m := &fakeModel{capacity: 100, batch: 4}
	r := &fakeReplier{script: []int{10, 11, 12, 13}, pieces: pieces}
	reply, _ := generate(t, t.Context(), m, r, Generation{Prompt: []int{1, 2}, MaxTokens: 3})
	if reply.Stop != StopMaxTokens || !slices.Equal(reply.IDs, []int{10, 11, 12}) || reply.Text != "abc" {
		t.Errorf("reply %v %v %q, want max_tokens [10 11 12] \"abc\"", reply.Stop, reply.IDs, reply.Text)
	}
}

// A stop text ends the reply wherever the tokens split it; none of it is shown
// or kept, and what follows it in the same piece is dropped.
func TestGenerateStopText(t *testing.T) {
	m := &fakeModel{capacity: 100, batch: 4}
	p := map[int]string{10: "Paris.", 11: "<|im", 12: "_end|>\nmore", 13: "never"}
	r := &fakeReplier{script: []int{10, 11, 12, 13}, pieces: p}
	reply, raw := generate(t, t.Context(), m, r, Generation{Prompt: []int{1}, Stops: []string{"<|im_end|>"}})
	if reply.Stop != StopEnd || !slices.Equal(reply.IDs, []int{10, 11, 12}) || reply.Text != "Paris." || raw != "Paris." {
		t.Errorf("reply %v %v %q (raw %q), want end [10 11 12] \"Paris.\"", reply.Stop, reply.IDs, reply.Text, raw)
	}
}

// What the printer holds when the reply ends is flushed, whatever the stop,
// and may complete a stop text.
func TestGenerateFlush(t *testing.T) {
	m := &fakeModel{capacity: 100, batch: 4}
	r := &fakeReplier{script: []int{10, 11}, pieces: pieces, hold: map[int]bool{11: true}}
	reply, _ := generate(t, t.Context(), m, r, Generation{Prompt: []int{1}, MaxTokens: 2})
	if reply.Stop != StopMaxTokens || reply.Text != "ab" {
		t.Errorf("reply %v %q, want max_tokens \"ab\"", reply.Stop, reply.Text)
	}
	m = &fakeModel{capacity: 100, batch: 4}
	p := map[int]string{10: "Hi", 11: "<|im_", 12: "end|>"}
	r = &fakeReplier{script: []int{10, 11, 12}, pieces: p, hold: map[int]bool{12: true}}
	reply, raw := generate(t, t.Context(), m, r, Generation{Prompt: []int{1}, MaxTokens: 3, Stops: []string{"<|im_end|>"}})
	if reply.Stop != StopMaxTokens || reply.Text != "Hi" || raw != "Hi" {
		t.Errorf("reply %v %q (raw %q), want max_tokens \"Hi\"", reply.Stop, reply.Text, raw)
	}
}

// A filter (a think block hidden) sees the text after the stop texts; raw is
// the text before it.
func TestGenerateFilter(t *testing.T) {
	m := &fakeModel{capacity: 100, batch: 4}
	p := map[int]string{10: "<think>", 11: "hm</think>", 12: "Four."}
	r := &fakeReplier{script: []int{10, 11, 12, 0}, pieces: p}
	reply, raw := generate(t, t.Context(), m, r, Generation{Prompt: []int{1}, Filter: &dropThink{}})
	if reply.Text != "Four." || raw != "<think>hm</think>Four." {
		t.Errorf("shown %q, raw %q", reply.Text, raw)
	}
}

// dropThink hides everything up to a </think> (a whole piece), a TextFilter.
type dropThink struct{ after bool }

func (f *dropThink) Next(piece string) string {
	if f.after {
		return piece
	}
	f.after = strings.HasSuffix(piece, "</think>")
	return ""
}

func (f *dropThink) Flush() string { return "" }

// The reply's last token needs no room: a reply fills the cache and ends with
// one token more.
func TestGenerateContextFullInReply(t *testing.T) {
	m := &fakeModel{tokens: []int{1, 2}, capacity: 9, batch: 4}
	r := &fakeReplier{script: []int{10, 11, 12, 13, 10}, pieces: pieces}
	reply, _ := generate(t, t.Context(), m, r, Generation{Prompt: []int{3, 4, 5, 6, 7}})
	if reply.Stop != StopContextFull || !slices.Equal(reply.IDs, []int{10, 11, 12}) || m.Used() != 9 {
		t.Errorf("reply %v %v, %d used, want context_full [10 11 12], 9 used", reply.Stop, reply.IDs, m.Used())
	}
}

// A prompt that does not fit is not fed at all: the conversation is as it was.
func TestGenerateContextFullBeforeFeeding(t *testing.T) {
	m := &fakeModel{tokens: []int{1, 2}, capacity: 6, batch: 4}
	r := &fakeReplier{script: []int{10}, pieces: pieces}
	reply, _ := generate(t, t.Context(), m, r, Generation{Prompt: []int{3, 4, 5, 6, 7}})
	if reply.Stop != StopContextFull || len(reply.IDs) != 0 || !slices.Equal(m.tokens, []int{1, 2}) || m.saves != 0 || len(m.prefills)+len(m.decodes) != 0 {
		t.Errorf("reply %v %v, cache %v, %d saves, %d passes: want context_full, nothing fed", reply.Stop, reply.IDs, m.tokens, m.saves, len(m.prefills)+len(m.decodes))
	}
}

// A cancel while the prompt is fed restores the cache as it was before the turn.
func TestGenerateCancelInPrompt(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	m := &fakeModel{tokens: []int{1, 2}, capacity: 100, batch: 2, afterPrefill: cancel}
	r := &fakeReplier{script: []int{10}, pieces: pieces}
	reply, _ := generate(t, ctx, m, r, Generation{Prompt: []int{3, 4, 5, 6, 7}})
	if reply.Stop != StopCanceled || len(reply.IDs) != 0 || !slices.Equal(m.tokens, []int{1, 2}) {
		t.Errorf("reply %v %v, cache %v: want canceled, the cache as before", reply.Stop, reply.IDs, m.tokens)
	}
	if len(m.prefills) != 1 || len(m.decodes) != 0 {
		t.Errorf("%d prefill and %d decoding passes after a cancel in the first batch", len(m.prefills), len(m.decodes))
	}
	// Canceled before the turn: not even the prompt's last token is fed.
	m = &fakeModel{tokens: []int{1, 2}, capacity: 100, batch: 2}
	reply, _ = generate(t, ctx, m, r, Generation{Prompt: []int{3}})
	if reply.Stop != StopCanceled || len(reply.IDs) != 0 || !slices.Equal(m.tokens, []int{1, 2}) {
		t.Errorf("reply %v %v, cache %v: want canceled, the cache as before", reply.Stop, reply.IDs, m.tokens)
	}
}

// A cancel in the reply stops it after the current token, which is kept.
func TestGenerateCancelInReply(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	m := &fakeModel{capacity: 100, batch: 4}
	r := &fakeReplier{script: []int{10, 11, 12}, pieces: pieces, onPrint: func(id int) {
		if id == 11 {
			cancel()
		}
	}}
	reply, _ := generate(t, ctx, m, r, Generation{Prompt: []int{1, 2}})
	if reply.Stop != StopCanceled || !slices.Equal(reply.IDs, []int{10, 11}) || reply.Text != "ab" {
		t.Errorf("reply %v %v %q, want canceled [10 11] \"ab\"", reply.Stop, reply.IDs, reply.Text)
	}
}

// An empty prompt leaves no logits to continue from.
func TestGenerateEmptyPrompt(t *testing.T) {
	m := &fakeModel{tokens: []int{1}, capacity: 100, batch: 4}
	reply, _ := generate(t, t.Context(), m, &fakeReplier{}, Generation{})
	if reply.Stop != StopEnd || len(reply.IDs) != 0 || m.Used() != 1 {
		t.Errorf("reply %v %v, %d used", reply.Stop, reply.IDs, m.Used())
	}
}
