package llama

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

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

// Turn implements engine.Session.
func (s *Session) Turn(ctx context.Context, input string, emit func(piece string)) (engine.Reply, error) {
	seg, rendered := s.segment(input)
	feed := append(s.closing(), seg...)
	reply := engine.Reply{PromptIDs: seg, Rendered: rendered}
	if len(feed) == 0 {
		return reply, ErrNothingToContinue
	}
	if len(s.tokens)+len(feed) > s.capacity() {
		// Nothing is fed: the conversation stays as it was, and only a reset helps.
		reply.Stop = engine.StopContextFull
		return reply, nil
	}
	if s.sampler == nil || s.sampler.Settings() != s.opts.Sampling {
		s.sampler = sample.New(s.opts.Sampling)
	}

	// The prompt, in batches of prefillBatch tokens. Only the last token's logits
	// are needed; the time for it counts as generation (it produces the first reply
	// token), so tokens/s covers one forward pass per reply token.
	start, savedPending, savedLen := time.Now(), s.pending, len(s.tokens)
	s.pending = -1
	for prompt := feed[:len(feed)-1]; len(prompt) > 0; {
		if ctx.Err() != nil {
			// Canceled inside the prompt: forget the partial prompt.
			s.tokens, s.pending = s.tokens[:savedLen], savedPending
			reply.Stop = engine.StopCanceled
			reply.PromptTime = time.Since(start)
			return reply, nil
		}
		n := min(len(prompt), cmp.Or(s.batch, prefillBatch))
		s.feedBatch(prompt[:n])
		prompt = prompt[n:]
	}
	reply.PromptTime = time.Since(start)
	start = time.Now()
	logits := s.feed(feed[len(feed)-1], true)

	// Generation, as run.c's loop: sample, print, feed, until a stop.
	out := s.m.vocab.printer(feed[len(feed)-1], s.chat() || s.tmpl() != nil)
	text := s.replyText(emit)
	for {
		next := s.sampler.Next(logits, s.tokens)
		reply.IDs = append(reply.IDs, next)
		s.pending = next
		if s.m.vocab.ends(next) {
			reply.Stop = engine.StopEnd
			break
		}
		if text.add(out.next(next)) {
			reply.Stop = engine.StopEnd // the template's stop text, written out
			break
		}
		if max := s.opts.MaxTokens; max > 0 && len(reply.IDs) >= max {
			reply.Stop = engine.StopMaxTokens
			break
		}
		if ctx.Err() != nil {
			reply.Stop = engine.StopCanceled
			break
		}
		if len(s.tokens) >= s.capacity() {
			// run.c prints the token chosen at the last position but never feeds it.
			reply.Stop = engine.StopContextFull
			break
		}
		s.pending = -1
		logits = s.feed(next, true)
	}
	if reply.Stop != engine.StopEnd || !text.add(out.flush()) {
		text.finish()
	}
	reply.GenTime = time.Since(start)
	reply.Text = text.shown.String()
	if t := s.tmpl(); t != nil {
		s.history = append(append(s.history, s.turn...), t.Reply(string(text.raw)))
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

// replyText follows this turn's reply: the template's stop texts, and its think
// block hidden unless the options ask for it.
func (s *Session) replyText(emit func(string)) *replyText {
	r := &replyText{emit: emit}
	if t := s.tmpl(); t != nil {
		r.stops = t.Stops()
		if t.Thinks() {
			r.think = &chat.ThinkFilter{Show: s.opts.Think}
		}
	}
	return r
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
