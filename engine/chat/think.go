package chat

import "strings"

// Qwen3 thinks in a <think>...</think> block before it answers. Its own template
// (enable_thinking=false) ends the generation prompt with an empty block so that
// the model answers at once; llama.cpp's ChatML rendering has no such switch.
const (
	thinkOpen  = "<think>"
	thinkClose = "</think>"
	emptyThink = thinkOpen + "\n\n" + thinkClose + "\n\n"
)

// prefill is what follows llama.cpp's generation prompt: the empty think block
// when NoThink applies.
func (t Template) prefill() string {
	if t.thinks && t.NoThink {
		return emptyThink
	}
	return ""
}

// A ThinkFilter hides a reply's think block from streamed text: a <think> at the
// start of the reply (after any white space), everything up to the </think> that
// closes it, and the newlines after that. Feed it the reply's text piece by piece
// (Next) and end the reply with Flush; tags split across pieces are recognised,
// and the text shown is the same however the reply is split. With Show set (before
// the first piece) the block is shown too.
type ThinkFilter struct {
	Show bool

	state thinkState
	held  string // text not yet shown: leading white space or part of a tag
}

type thinkState int

const (
	thinkStart  thinkState = iota // no text decided yet: a think block may open
	thinkInside                   // inside the block, looking for </think>
	thinkAfter                    // after </think>: newlines are dropped
	thinkPass                     // everything else is shown
)

// Next takes the next piece of the reply and returns the text to show now.
func (f *ThinkFilter) Next(piece string) string {
	if f.Show || f.state == thinkPass {
		return piece
	}
	s := f.held + piece
	f.held = ""
	for {
		switch f.state {
		case thinkStart:
			rest := strings.TrimLeft(s, " \t\r\n")
			if strings.HasPrefix(rest, thinkOpen) {
				f.state, s = thinkInside, rest[len(thinkOpen):]
				continue
			}
			if strings.HasPrefix(thinkOpen, rest) { // white space so far, or a tag begun
				f.held = s
				return ""
			}
			f.state = thinkPass
			return s
		case thinkInside:
			if i := strings.Index(s, thinkClose); i >= 0 {
				f.state, s = thinkAfter, s[i+len(thinkClose):]
				continue
			}
			f.held = s[len(s)-tagStart(s, thinkClose):]
			return ""
		case thinkAfter:
			s = strings.TrimLeft(s, "\n")
			if s == "" {
				return ""
			}
			f.state = thinkPass
			return s
		default:
			return s
		}
	}
}

// Flush ends the reply: it returns the text still held back (white space or a
// partial <think> that never completed; an unclosed block stays hidden) and
// readies the filter for the next reply.
func (f *ThinkFilter) Flush() string {
	s := ""
	if f.state == thinkStart {
		s = f.held
	}
	f.state, f.held = thinkStart, ""
	return s
}

// Thinking reports whether the reply is inside its think block, hidden (a console
// may say so while the model thinks).
func (f *ThinkFilter) Thinking() bool { return !f.Show && f.state == thinkInside }

// tagStart returns the length of the longest end of s that begins tag.
func tagStart(s, tag string) int {
	for n := min(len(s), len(tag)-1); n > 0; n-- {
		if strings.HasSuffix(s, tag[:n]) {
			return n
		}
	}
	return 0
}
