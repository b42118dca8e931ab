package llama

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/chat"
	"github.com/inferpi/inferpi/engine/sample"
)

// Session is one conversation: its run state, KV cache and token history.
//
// The cache holds every token fed so far (tokens). The last token a reply chose is
// not fed at once (run.c's generate never feeds it either); it waits in pending and
// goes in at the start of the next turn, so a reply that ended with EOS continues
// the conversation right after that EOS, as the Alpaca template wants.
type Session struct {
	m       *Model
	r       *RunState
	opts    engine.Options
	sampler *sample.Sampler
	tokens  []int // fed tokens: tokens[p] is in the cache at position p
	pending int   // last chosen token, not yet fed; -1 if none
	// history is the conversation in the cache when a GGUF model chats in its
	// template (chat.Template.Fed(history) is its text); turn is the messages
	// the current turn adds to it once it has a reply.
	history, turn []chat.Message
	// batch is how many prompt tokens go through the model together: prefillBatch
	// when 0 (tests set 1 to compare with feeding one token at a time).
	batch int
}

// Options implements engine.Session.
func (s *Session) Options() *engine.Options { return &s.opts }

// Used implements engine.Session.
func (s *Session) Used() int { return len(s.tokens) }

// capacity is how many positions the session may hold (Options.Context).
func (s *Session) capacity() int { return s.r.cache.Capacity() }

// Reset implements engine.Session: the cache is emptied (its entries are simply
// overwritten later; the chunks it allocated stay for the next conversation,
// which is planned for the same context, and are not allocated and zeroed
// again) and the sampler starts again from its seed.
func (s *Session) Reset() {
	s.tokens = s.tokens[:0]
	s.pending = -1
	s.sampler = nil
	s.history, s.turn = nil, nil
}

// ErrNothingToContinue is returned for an empty completion input with no
// conversation before it to continue from.
var ErrNothingToContinue = errors.New("llama: nothing to continue from: the input is empty")

// Turn implements engine.Session: it builds the turn's prompt and runs
// engine.Generate over the session's cache (generate.go).
func (s *Session) Turn(ctx context.Context, input string, emit func(piece string)) (engine.Reply, error) {
	seg, rendered := s.segment(input)
	feed := append(s.closing(), seg...)
	if len(feed) == 0 {
		return engine.Reply{PromptIDs: seg, Rendered: rendered}, ErrNothingToContinue
	}
	if s.sampler == nil || s.sampler.Settings() != s.opts.Sampling {
		s.sampler = sample.New(s.opts.Sampling)
	}
	g := engine.Generation{Prompt: feed, MaxTokens: s.opts.MaxTokens, Emit: emit}
	t := s.tmpl()
	if t != nil {
		g.Stops = t.Stops()
		if t.Thinks() {
			g.Filter = &chat.ThinkFilter{Show: s.opts.Think}
		}
	}
	r := &replier{s: s, out: s.m.vocab.printer(feed[len(feed)-1], s.chat() || t != nil)}
	reply, raw := engine.Generate(ctx, &stepper{s: s}, r, g)
	reply.PromptIDs, reply.Rendered = seg, rendered
	if n := len(reply.IDs); n > 0 {
		// The prompt is in the cache, and the reply's last token waits for the
		// next turn (run.c's generate prints it but never feeds it).
		s.pending = reply.IDs[n-1]
		if t != nil {
			s.history = append(append(s.history, s.turn...), t.Reply(raw))
		}
	}
	return reply, nil
}

// feed runs tok at the next free position.
func (s *Session) feed(tok int, wantLogits bool) []float32 {
	s.checkFeed([]int{tok})
	pos := len(s.tokens)
	s.tokens = append(s.tokens, tok)
	return forward(s.m.w, s.m.cfg, s.r, tok, pos, wantLogits)
}

// feedBatch runs prompt tokens (at most prefillBatch) at the next free positions,
// without logits.
func (s *Session) feedBatch(toks []int) {
	s.checkFeed(toks)
	pos := len(s.tokens)
	s.tokens = append(s.tokens, toks...)
	forwardBatch(s.m.w, s.m.cfg, s.r, toks, pos, false)
}

// checkFeed panics on tokens that cannot be fed: Turn checks the room in the cache
// before feeding, and the tokenizer makes only ids of the vocabulary, so reaching
// this is a bug, not bad input.
func (s *Session) checkFeed(toks []int) {
	pos, c := len(s.tokens), s.m.cfg
	if len(toks) > prefillBatch || pos+len(toks) > s.capacity() {
		panic(fmt.Sprintf("llama: feeding %d tokens at position %d (context %d)", len(toks), pos, s.capacity()))
	}
	for _, tok := range toks {
		if tok < 0 || tok >= c.VocabSize {
			panic(fmt.Sprintf("llama: feeding token %d at position %d (vocab %d)", tok, pos, c.VocabSize))
		}
	}
}

// FeedTokens runs ids at the next positions of the cache, in batches, and returns
// the logits after the last one (a view into the run state, valid until the next
// call). It is for tools that work in token ids, such as `inferpi bench`; Turn is
// the chat interface. A token the last reply left pending is dropped.
func (s *Session) FeedTokens(ids []int) ([]float32, error) {
	c := s.m.cfg
	switch {
	case len(ids) == 0:
		return nil, errors.New("llama: no tokens to feed")
	case len(s.tokens)+len(ids) > s.capacity():
		return nil, fmt.Errorf("llama: %d tokens after %d do not fit the context of %d", len(ids), len(s.tokens), s.capacity())
	}
	for _, id := range ids {
		if id < 0 || id >= c.VocabSize {
			return nil, fmt.Errorf("llama: token %d is outside the vocabulary of %d", id, c.VocabSize)
		}
	}
	s.pending = -1
	var logits []float32
	for len(ids) > 0 {
		n := min(len(ids), cmp.Or(s.batch, prefillBatch))
		s.checkFeed(ids[:n])
		pos := len(s.tokens)
		s.tokens = append(s.tokens, ids[:n]...)
		logits = forwardBatch(s.m.w, c, s.r, ids[:n], pos, n == len(ids))
		ids = ids[n:]
	}
	return logits, nil
}

// chat reports whether turns use the Alpaca template of a llama2.c model.
func (s *Session) chat() bool { return s.opts.Mode == engine.Chat && s.m.template == Alpaca }

// tmpl is the chat template a GGUF model's turns use (NoThink as the options
// say), or nil when they are completions.
func (s *Session) tmpl() *chat.Template {
	if s.opts.Mode != engine.Chat || s.m.gguf == nil || s.m.gguf.template == nil {
		return nil
	}
	t := *s.m.gguf.template
	t.NoThink = !s.opts.Think
	return &t
}

// segment is the new text of this turn as tokens (Reply.PromptIDs), and the
// text they encode (Reply.Rendered).
//
// Chat (Alpaca), exactly as the demo model was trained: the first turn is
// BOS + encode(PREAMBLE + TURN(input)), a later turn encode(TURN(input)); each
// segment is encoded on its own and so starts with the dummy-prefix space token.
// A system prompt stands in for the preamble.
// Chat in a GGUF model's template: the text the template adds for this turn
// (chat.Template.Continue), encoded with the special tokens it writes, as
// llama.cpp's llama-cli does; where the template renders the earlier turns
// differently once a turn follows, the whole conversation is fed again.
// Completion: BOS + encode(input) at the start (run.c's generate), later turns
// encode(input) appended.
func (s *Session) segment(input string) ([]int, string) {
	first := len(s.tokens) == 0
	if t := s.tmpl(); t != nil {
		return s.templateSegment(t, input)
	}
	text := input
	if s.chat() {
		text = fmt.Sprintf(alpacaTurn, input)
		if first {
			text = cmp.Or(s.opts.System, alpacaPreamble) + text
		}
	}
	return s.m.vocab.encode(text, first), text
}

// templateSegment is segment in a GGUF model's chat template.
func (s *Session) templateSegment(t *chat.Template, input string) ([]int, string) {
	s.turn = s.turn[:0]
	if len(s.history) == 0 && s.opts.System != "" {
		s.turn = append(s.turn, chat.Message{Role: "system", Content: s.opts.System})
	}
	s.turn = append(s.turn, chat.Message{Role: "user", Content: input})
	text, err := t.Continue(s.history, s.turn, true)
	if err != nil || len(s.tokens) == 0 {
		// The cache does not hold the conversation's text (a new conversation, a
		// template that renders earlier turns anew, a prompt canceled halfway):
		// feed all of it.
		s.tokens, s.pending = s.tokens[:0], -1
		text = t.Render(append(slices.Clone(s.history), s.turn...), true)
	}
	return s.m.gguf.vocab.Encode(text, len(s.tokens) == 0, true), text
}

// closing is what must be fed before this turn's segment: the token the previous
// reply chose last. In Alpaca chat a reply is always closed by EOS, as in training:
// a reply cut short (max tokens, Ctrl-C) gets an EOS after its last token, and one
// that ended on BOS gets EOS instead. In completion mode BOS is dropped.
func (s *Session) closing() []int {
	p := s.pending
	if len(s.tokens) == 0 || p < 0 || s.tmpl() != nil {
		// A template's next turn starts by closing the reply in its own text.
		return nil
	}
	v := s.m.vocab
	if !s.chat() {
		if p == v.bos() {
			return nil
		}
		return []int{p}
	}
	switch p {
	case v.eos():
		return []int{p}
	case v.bos():
		return []int{v.eos()}
	}
	return []int{p, v.eos()}
}
