package gpt

import (
	"cmp"

	"github.com/inferpi/inferpi/engine/sample"
	"github.com/inferpi/inferpi/engine/tokenizer/bpe"
)

// stepper is a session's cache as engine.Generate drives it.
type stepper struct {
	s *Session
	// At Save: the positions filled, the tokens fed, and the smear's state
	// (whether a token was fed, and its normed embedding).
	pos, seq int
	hasPrev  bool
	prev     []float32
}

func (c *stepper) Used() int               { return c.s.pos }
func (c *stepper) Capacity() int           { return c.s.capacity() }
func (c *stepper) PrefillBatch() int       { return cmp.Or(c.s.batch, prefillBatch) }
func (c *stepper) Prefill(ids []int)       { c.s.feed(ids, false) }
func (c *stepper) Decode(id int) []float32 { return c.s.feed([]int{id}, true) }

func (c *stepper) Save() {
	s := c.s
	c.pos, c.seq, c.hasPrev = s.pos, len(s.seq), s.st.hasPrev
	c.prev = append(c.prev[:0], s.st.prevEmbed...)
}

// Restore forgets the positions fed since Save: the cache keeps their entries,
// which later tokens overwrite.
func (c *stepper) Restore() {
	s := c.s
	s.pos, s.seq, s.st.hasPrev = c.pos, s.seq[:c.seq], c.hasPrev
	copy(s.st.prevEmbed, c.prev)
}

// replier is one reply's rules: nanochat engine.py's, with the calculator's
// results forced in chat, and its end tokens.
type replier struct {
	s       *Session
	sampler *sample.Sampler
	chat    bool
	calc    calculatorState
	dec     *bpe.Decoder
}

func (r *replier) Next(logits []float32) int {
	if r.s.onLogits != nil {
		r.s.onLogits(logits)
	}
	if id, forced := r.calc.next(); forced {
		return id
	}
	return r.sampler.Next(logits, r.s.seq)
}

// Ends: a reply ends at <|bos|>, the start of another document, and in chat at
// <|assistant_end|>.
func (r *replier) Ends(id int) bool {
	ids := r.s.m.ids
	return id == ids.bos || (r.chat && id == ids.assistantEnd)
}

func (r *replier) Print(id int) []byte {
	if r.chat {
		r.calc.observe(r.s.m, id)
	}
	return []byte(r.dec.Add(id))
}

func (r *replier) Flush() []byte { return []byte(r.dec.Flush()) }
