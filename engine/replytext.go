package engine

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// replyText follows a reply's text as it is decoded. It ends the reply at a
// template's stop text that the model writes as plain text rather than as its
// special token, holds back the bytes that may be the start of one so that no
// part of it is printed, holds back a character that tokens split until its last
// byte comes (and drops it if the reply ends first), and passes the rest through
// the filter (a think block hidden unless asked); what is left goes to emit as it
// comes.
type replyText struct {
	stops  []string
	filter TextFilter   // nil: nothing hidden
	emit   func(string) // may be nil

	raw    []byte // the reply as generated, without a stop text: what a chat history keeps
	passed int    // bytes of raw passed on; the rest may start a stop text
	shown  strings.Builder
}

// add takes the next decoded bytes and reports whether they complete a stop text.
func (r *replyText) add(piece []byte) (stopped bool) {
	from := r.passed
	r.raw = append(r.raw, piece...)
	for _, s := range r.stops {
		if i := bytes.Index(r.raw[from:], []byte(s)); i >= 0 {
			r.raw = r.raw[:from+i]
			r.pass(len(r.raw) - r.partial())
			return true
		}
	}
	r.pass(len(r.raw) - max(r.held(), r.partial()))
	return false
}

// partial is how many bytes at the end of raw, not yet passed, begin a UTF-8
// character without its last byte.
func (r *replyText) partial() int {
	tail := r.raw[r.passed:]
	for i := len(tail) - 1; i >= 0 && i > len(tail)-utf8.UTFMax; i-- {
		if utf8.RuneStart(tail[i]) {
			if utf8.FullRune(tail[i:]) {
				return 0
			}
			return len(tail) - i
		}
	}
	return 0
}

// held is how many bytes at the end of raw are the beginning of a stop text.
func (r *replyText) held() int {
	most := 0
	for _, s := range r.stops {
		for n := min(len(s)-1, len(r.raw)-r.passed); n > most; n-- {
			if bytes.HasSuffix(r.raw, []byte(s[:n])) {
				most = n
				break
			}
		}
	}
	return most
}

// pass hands raw up to end on to the filter and emit.
func (r *replyText) pass(end int) {
	if end <= r.passed {
		return
	}
	text := string(r.raw[r.passed:end])
	r.passed = end
	if r.filter != nil {
		text = r.filter.Next(text)
	}
	r.show(text)
}

func (r *replyText) show(text string) {
	if text == "" {
		return
	}
	r.shown.WriteString(text)
	if r.emit != nil {
		r.emit(text)
	}
}

// finish passes on what is still held when the reply ends: the start of a
// stop text that did not come, and what the filter holds back. A character cut
// short (the reply ended at its token limit, a cancel or a full context) stays
// in raw but is not shown.
func (r *replyText) finish() {
	r.pass(len(r.raw) - r.partial())
	if r.filter != nil {
		r.show(r.filter.Flush())
	}
}
