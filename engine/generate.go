package engine

import (
	"context"
	"time"
)

// Generate is the generation loop of every engine's Session.Turn: it feeds a
// turn's prompt, then chooses, prints and feeds reply tokens until a stop, so
// that stop reasons, cancellation, the text shown and the timing mean the same
// whatever the engine. The engine brings its model and cache (Stepper), its
// rules for one reply (Replier), and the turn's prompt and settings (Generation);
// Generate fills in the Reply's IDs, Text, Stop and times, and returns raw, the
// reply's text as the model wrote it (before g.Filter, without a stop text),
// which is what a chat history keeps.
//
// The prompt goes in batches of s.PrefillBatch tokens, all but its last token;
// the last token's forward pass produces the logits of the first reply token.
// Then, as run.c's generate loop: choose a token, stop if it ends the reply,
// print it, stop at a stop text, at MaxTokens, on a cancel, or when the cache is
// full, else feed it and choose again. The reply's last token is never fed: an
// engine feeds it at the start of its next turn (or drops it), which is why a
// reply can take every position the cache has left, plus one.
//
// Nothing is fed when the prompt does not fit the cache (StopContextFull), and
// a cancel before the prompt's last forward pass restores the cache to what it
// was (StopCanceled): in both cases the reply has no IDs and the conversation is
// as it was. Once the prompt is fed, at least one token is chosen. An empty
// prompt leaves nothing to continue from: the reply ends at once (StopEnd).
//
// Times: PromptTime covers the prompt's forward passes except the last token's;
// GenTime covers the rest, one forward pass per reply token (the prompt's last
// token's pass produced the first), with choosing and printing; see Reply.
func Generate(ctx context.Context, s Stepper, r Replier, g Generation) (reply Reply, raw string) {
	prompt := g.Prompt
	if s.Used()+len(prompt) > s.Capacity() {
		reply.Stop = StopContextFull
		return reply, ""
	}
	if len(prompt) == 0 {
		reply.Stop = StopEnd
		return reply, ""
	}
	start := now()
	s.Save()
	last := len(prompt) - 1
	for rest := prompt[:last]; ; {
		if ctx.Err() != nil {
			s.Restore()
			reply.Stop = StopCanceled
			reply.PromptTime = now().Sub(start)
			return reply, ""
		}
		if len(rest) == 0 {
			break
		}
		n := min(len(rest), s.PrefillBatch())
		s.Prefill(rest[:n])
		rest = rest[n:]
	}
	genStart := now()
	reply.PromptTime = genStart.Sub(start)

	logits := s.Decode(prompt[last])
	text := replyText{stops: g.Stops, filter: g.Filter, emit: g.Emit}
	stopText := false
	for {
		id := r.Next(logits)
		reply.IDs = append(reply.IDs, id)
		if r.Ends(id) {
			reply.Stop = StopEnd
			break
		}
		if stopText = text.add(r.Print(id)); stopText {
			reply.Stop = StopEnd
			break
		}
		if g.MaxTokens > 0 && len(reply.IDs) >= g.MaxTokens {
			reply.Stop = StopMaxTokens
			break
		}
		if ctx.Err() != nil {
			reply.Stop = StopCanceled
			break
		}
		if s.Used() >= s.Capacity() {
			reply.Stop = StopContextFull
			break
		}
		logits = s.Decode(id)
	}
	if !stopText {
		// What the printer holds (a character whose bytes span tokens) may
		// still complete a stop text.
		text.add(r.Flush())
	}
	text.finish()
	reply.GenTime = now().Sub(genStart)
	reply.Text = text.shown.String()
	return reply, string(text.raw)
}

// now is Generate's clock (tests count forward passes with it).
var now = time.Now

// Stepper is a session's model and KV cache as Generate drives them.
type Stepper interface {
	// Used is how many positions of the cache are filled.
	Used() int
	// Capacity is how many positions the cache holds.
	Capacity() int
	// PrefillBatch is the most tokens one Prefill takes.
	PrefillBatch() int
	// Prefill runs ids in one forward pass at the next positions, without logits.
	Prefill(ids []int)
	// Decode runs id at the next position and returns the logits after it,
	// valid until the next call.
	Decode(id int) []float32
	// Save remembers the cache's state; Restore returns to it, forgetting the
	// positions fed since (a prompt canceled halfway).
	Save()
	Restore()
}

// Replier is what an engine decides in one reply.
type Replier interface {
	// Next chooses the token that follows logits: sampled, or forced by a tool
	// (nanochat's calculator). It may change logits.
	Next(logits []float32) int
	// Ends reports whether the model ends its reply by choosing id; such an id
	// is not printed.
	Ends(id int) bool
	// Print returns the bytes id adds to the reply's text (a view valid until
	// the next call). It may hold some back until a later token completes them.
	Print(id int) []byte
	// Flush returns the bytes Print still holds when the reply ends.
	Flush() []byte
}

// TextFilter hides part of a reply from the text shown (chat.ThinkFilter hides
// a think block).
type TextFilter interface {
	// Next takes the next piece of the reply and returns the text to show now.
	Next(piece string) string
	// Flush ends the reply and returns the text still held back.
	Flush() string
}

// Generation is one turn's work for Generate.
type Generation struct {
	// Prompt is everything the turn feeds before the reply: what closes the
	// last reply (its last token, never fed, and what a template adds after
	// it), then Reply.PromptIDs.
	Prompt []int
	// MaxTokens limits the reply's IDs; 0 means no limit (Options.MaxTokens).
	MaxTokens int
	// Stops are texts that end the reply when the model writes them out (a chat
	// template's end marker as plain text); no byte of one is shown.
	Stops []string
	// Filter, when set, decides what of the reply is shown (nil: all of it).
	Filter TextFilter
	// Emit gets each piece shown as soon as it is decoded (nil: nobody).
	Emit func(piece string)
}
