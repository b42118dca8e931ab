package engine

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/inferpi/inferpi/engine/chat"
)

// A stop text written as plain text ends the reply wherever the pieces split
// it, and no byte of it is shown; a think block is hidden unless asked; a
// character is shown whole, whichever pieces its bytes come in, and not at all
// when the reply ends inside it.
func TestReplyText(t *testing.T) {
	for _, c := range []struct {
		name, reply string
		stops       []string
		think       *chat.ThinkFilter
		shown, raw  string
		stopped     bool
	}{
		{"no stop", "Hello there.", []string{"<|im_end|>"}, nil, "Hello there.", "Hello there.", false},
		{"stop", "Paris.<|im_end|>ignored", []string{"<|im_end|>"}, nil, "Paris.", "Paris.", true},
		{"a stop's start that is not one", "a <|im x", []string{"<|im_end|>"}, nil, "a <|im x", "a <|im x", false},
		{"think hidden", "<think>\nhm\n</think>\n\nFour.", nil, &chat.ThinkFilter{}, "Four.", "<think>\nhm\n</think>\n\nFour.", false},
		{"characters split between pieces", "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x99\x82", nil, nil, "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x99\x82", "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x99\x82", false},
		{"cut inside a character", "ok \xe2\x80", nil, nil, "ok ", "ok \xe2\x80", false},
		{"bytes that are no character", "a\x80\x80\x80\x80b\xff", nil, nil, "a\x80\x80\x80\x80b\xff", "a\x80\x80\x80\x80b\xff", false},
		{"think shown", "<think>\nhm\n</think>\n\nFour.", nil, &chat.ThinkFilter{Show: true}, "<think>\nhm\n</think>\n\nFour.", "<think>\nhm\n</think>\n\nFour.", false},
	} {
		for split := 1; split <= len(c.reply); split++ {
			var emitted strings.Builder
			r := &replyText{stops: c.stops, emit: func(s string) {
				if utf8.ValidString(c.shown) && !utf8.ValidString(s) {
					t.Errorf("%s, pieces of %d: emitted %q, part of a character", c.name, split, s)
				}
				emitted.WriteString(s)
			}}
			if c.think != nil {
				f := *c.think
				r.filter = &f
			}
			stopped := false
			for i := 0; i < len(c.reply) && !stopped; i += split {
				stopped = r.add([]byte(c.reply[i:min(i+split, len(c.reply))]))
			}
			if !stopped {
				r.finish()
			}
			if stopped != c.stopped || r.shown.String() != c.shown || emitted.String() != c.shown || string(r.raw) != c.raw {
				t.Errorf("%s, pieces of %d: stopped %v, shown %q, emitted %q, raw %q", c.name, split, stopped, r.shown.String(), emitted.String(), r.raw)
			}
		}
	}
}
