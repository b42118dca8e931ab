package gpt

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/sample"
)

// Session is one conversation. Its KV cache is kept between turns, so a turn
// feeds only the tokens that are new, in batches; every token, the first of a batch
// or of a turn included, is smeared with the token before it, which gives exactly
// the full-sequence forward (nanochat's own chunked prefill at position > 0 would
// not: it skips the smear of a chunk's first token).
//
// Chat follows nanochat's scripts/chat_cli.py and engine.py:
//
//	<|bos|> <|user_start|> text <|user_end|> <|assistant_start|> reply <|assistant_end|> <|user_start|> ...
//
// A reply ends at <|assistant_end|> or <|bos|>; when it ends otherwise (token limit,
// cancel, or on <|bos|>), <|assistant_end|> is appended before the next user turn.
// The calculator tool runs between <|python_start|> and <|python_end|>.
//
// Completion feeds <|bos|> and the text on the first turn (just the text later)
// and continues it with no tool; it stops only at <|bos|>, the start of another
// document, as llama2.c's run.c does.
type Session struct {
	m    *Model
	opts engine.Options
	st   *RunState
	pos  int   // positions filled in the KV cache
	seq  []int // every token of the conversation fed so far
	// pending are conversation tokens not yet fed: the last token of the last
	// reply (it only needs the cache when the next turn starts).
	pending []int

	sampler    *sample.Sampler
	samplerFor engine.Sampling

	// batch is how many prompt tokens go through the model together: prefillBatch
	// when 0 (tests set 1 to compare with feeding one token at a time).
	batch int

	// onLogits, when set (by tests), sees the logits of every generated token
	// before sampling, including steps whose token the calculator forces.
	onLogits func(logits []float32)
}

func (m *Model) newSession(opts engine.Options, context int) *Session {
	return &Session{m: m, opts: opts, st: newRunState(m.h, context)}
}

// Options implements engine.Session.
func (s *Session) Options() *engine.Options { return &s.opts }

// Used implements engine.Session.
func (s *Session) Used() int { return s.pos }

// capacity is how many positions the session may hold (Options.Context).
func (s *Session) capacity() int { return s.st.cache.Capacity() }

// Reset implements engine.Session: the cache is reused from position 0 (the
// chunks it allocated stay for the next conversation, which is planned for the
// same context, and are not allocated and zeroed again).
func (s *Session) Reset() {
	s.pos = 0
	s.seq = s.seq[:0]
	s.pending = nil
	s.st.hasPrev = false
}

// last is the conversation's last token (fed or pending), or -1.
func (s *Session) last() int {
	if n := len(s.pending); n > 0 {
		return s.pending[n-1]
	}
	if n := len(s.seq); n > 0 {
		return s.seq[n-1]
	}
	return -1
}

// prompt builds the tokens this turn adds to the conversation.
func (s *Session) prompt(input string) []int {
	ids := s.m.ids
	empty := s.last() < 0
	var p []int
	if s.opts.Mode == engine.Completion || s.m.template == "none" {
		if empty {
			p = append(p, ids.bos)
		}
		return s.m.tok.Encode(p, input)
	}
	if empty {
		p = append(p, ids.bos)
	} else if s.last() != ids.assistantEnd {
		p = append(p, ids.assistantEnd)
	}
	p = append(p, ids.userStart)
	p = s.m.tok.Encode(p, input)
	return append(p, ids.userEnd, ids.assistantStart)
}

// Turn implements engine.Session: it builds the turn's prompt and runs
// engine.Generate over the session's cache (generate.go).
func (s *Session) Turn(ctx context.Context, input string, emit func(piece string)) (engine.Reply, error) {
	chat := s.opts.Mode == engine.Chat && s.m.template == "nanochat"
	if chat {
		input = strings.TrimSpace(input) // chat_cli.py strips what the user types
	}
	prompt := s.prompt(input)
	feed := append(slices.Clone(s.pending), prompt...)
	r := &replier{s: s, sampler: s.samplerNow(), chat: chat, dec: s.m.tok.NewDecoder()}
	g := engine.Generation{Prompt: feed, MaxTokens: s.opts.MaxTokens, Emit: emit}
	reply, _ := engine.Generate(ctx, &stepper{s: s}, r, g)
	reply.PromptIDs = prompt
	if n := len(reply.IDs); n > 0 {
		// The prompt is in the cache, and the reply's last token waits for the
		// next turn, which may never come.
		s.pending = append(s.pending[:0], reply.IDs[n-1])
	}
	return reply, nil
}

// feed runs tokens (at most prefillBatch) at the next positions, records them,
// and returns the last one's logits (nil without wantLogits).
func (s *Session) feed(toks []int, wantLogits bool) []float32 {
	logits := s.m.forwardBatch(s.st, toks, s.pos, wantLogits)
	s.pos += len(toks)
	s.seq = append(s.seq, toks...)
	return logits
}

// FeedTokens runs ids at the next positions of the cache, in batches, and returns
// the logits after the last one (a view into the run state, valid until the next
// call). It is for tools that work in token ids, such as `inferpi bench`; Turn is
// the chat interface. Tokens the last reply left pending are dropped.
func (s *Session) FeedTokens(ids []int) ([]float32, error) {
	h := s.m.h
	switch {
	case len(ids) == 0:
		return nil, errors.New("gpt: no tokens to feed")
	case s.pos+len(ids) > s.capacity():
		return nil, fmt.Errorf("gpt: %d tokens after %d do not fit the context of %d", len(ids), s.pos, s.capacity())
	}
	for _, id := range ids {
		if id < 0 || id >= h.VocabSize {
			return nil, fmt.Errorf("gpt: token %d is outside the vocabulary of %d", id, h.VocabSize)
		}
	}
	s.pending = nil
	var logits []float32
	for len(ids) > 0 {
		n := min(len(ids), cmp.Or(s.batch, prefillBatch))
		logits = s.feed(ids[:n], n == len(ids))
		ids = ids[n:]
	}
	return logits, nil
}

// samplerNow returns a sampler for the current settings, keeping its random
// state across turns while the settings stay the same.
func (s *Session) samplerNow() *sample.Sampler {
	if s.sampler == nil || s.samplerFor != s.opts.Sampling {
		s.sampler = sample.New(s.opts.Sampling)
		s.samplerFor = s.opts.Sampling
	}
	return s.sampler
}

// calculatorState is nanochat engine.py's tool state machine for one reply.
type calculatorState struct {
	inPython bool
	expr     []int // tokens between <|python_start|> and <|python_end|>
	forced   []int // tokens to feed instead of sampling
}

// next returns the next forced token, if any.
func (c *calculatorState) next() (int, bool) {
	if len(c.forced) == 0 {
		return 0, false
	}
	tok := c.forced[0]
	c.forced = c.forced[1:]
	return tok, true
}

// observe follows a token of the reply; after <|python_end|> it evaluates the
// expression and queues <|output_start|> result <|output_end|>.
func (c *calculatorState) observe(m *Model, tok int) {
	ids := m.ids
	switch {
	case tok == ids.pythonStart:
		c.inPython, c.expr = true, c.expr[:0]
	case tok == ids.pythonEnd && c.inPython:
		c.inPython = false
		if len(c.expr) > 0 {
			if result, ok := Calculate(m.tok.Decode(c.expr)); ok {
				c.forced = append(c.forced, ids.outputStart)
				c.forced = m.tok.Encode(c.forced, result)
				c.forced = append(c.forced, ids.outputEnd)
			}
		}
		c.expr = c.expr[:0]
	case c.inPython:
		c.expr = append(c.expr, tok)
	}
}
