package llama

import "cmp"

// stepper is a session's cache as engine.Generate drives it.
type stepper struct {
	s     *Session
	saved int // positions filled at Save
}

func (c *stepper) Used() int               { return len(c.s.tokens) }
func (c *stepper) Capacity() int           { return c.s.capacity() }
func (c *stepper) PrefillBatch() int       { return cmp.Or(c.s.batch, prefillBatch) }
func (c *stepper) Prefill(ids []int)       { c.s.feedBatch(ids) }
func (c *stepper) Decode(id int) []float32 { return c.s.feed(id, true) }
func (c *stepper) Save()                   { c.saved = len(c.s.tokens) }

// Restore forgets the positions fed since Save: the cache keeps their entries,
// which later tokens overwrite.
func (c *stepper) Restore() { c.s.tokens = c.s.tokens[:c.saved] }

// replier is one reply's rules: run.c's sampling over the tokens fed so far,
// the vocabulary's end tokens, and its printer.
type replier struct {
	s   *Session
	out printer
}

func (r *replier) Next(logits []float32) int { return r.s.sampler.Next(logits, r.s.tokens) }
func (r *replier) Ends(id int) bool          { return r.s.m.vocab.ends(id) }
func (r *replier) Print(id int) []byte       { return r.out.next(id) }
func (r *replier) Flush() []byte             { return r.out.flush() }
