package bpe

import (
	"strings"
	"unicode/utf8"
)

// Decode returns the text of ids: their bytes joined (a special token gives its
// text), then read as UTF-8 with each invalid sequence replaced by U+FFFD exactly
// as Python's bytes.decode("utf-8", errors="replace") does, which is what
// tiktoken's decode returns. Ids outside the vocabulary are skipped.
func (t *Tokenizer) Decode(ids []int) string {
	var b []byte
	for _, id := range ids {
		b = append(b, t.TokenBytes(id)...)
	}
	s, _ := decodeUTF8(b, true)
	return s
}

// Decoder turns a stream of ids into text as soon as it is complete: a character
// whose bytes span several tokens comes out with the token that completes it.
// Joining everything Add and Flush return gives Decode of all the ids.
type Decoder struct {
	t       *Tokenizer
	pending []byte // the start of a character still missing bytes
}

// NewDecoder starts a stream.
func (t *Tokenizer) NewDecoder() *Decoder { return &Decoder{t: t} }

// Add takes the next id and returns the text it completes (possibly "").
func (d *Decoder) Add(id int) string {
	d.pending = append(d.pending, d.t.TokenBytes(id)...)
	s, used := decodeUTF8(d.pending, false)
	d.pending = append(d.pending[:0], d.pending[used:]...)
	return s
}

// Flush ends the stream: bytes of an unfinished character become U+FFFD.
func (d *Decoder) Flush() string {
	s, _ := decodeUTF8(d.pending, true)
	d.pending = d.pending[:0]
	return s
}

// decodeUTF8 decodes b, replacing each maximal invalid subpart (Unicode 15, §3.9,
// "U+FFFD Substitution of Maximal Subparts"; CPython follows it) with U+FFFD. When
// final is false, a valid but incomplete sequence at the end is left undecoded
// and used reports how many bytes were consumed.
func decodeUTF8(b []byte, final bool) (s string, used int) {
	var sb strings.Builder
	i := 0
	for i < len(b) {
		c := b[i]
		if c < utf8.RuneSelf {
			sb.WriteByte(c)
			i++
			continue
		}
		if r, w := utf8.DecodeRune(b[i:]); r != utf8.RuneError || w > 1 {
			sb.Write(b[i : i+w])
			i += w
			continue
		}
		n := validPrefix(b[i:])
		if i+n == len(b) && n > 0 && !final {
			break // may still be completed by the next token
		}
		sb.WriteRune(utf8.RuneError)
		i += max(n, 1)
	}
	return sb.String(), i
}

// validPrefix is the length of the longest prefix of b that starts a well-formed
// UTF-8 sequence without completing it (0 when b[0] cannot start one).
func validPrefix(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xbf) // allowed range of the second byte
	switch {
	case c >= 0xc2 && c <= 0xdf:
		need = 1
	case c == 0xe0:
		need, lo = 2, 0xa0
	case c == 0xed:
		need, hi = 2, 0x9f
	case c >= 0xe1 && c <= 0xef:
		need = 2
	case c == 0xf0:
		need, lo = 3, 0x90
	case c == 0xf4:
		need, hi = 3, 0x8f
	case c >= 0xf1 && c <= 0xf3:
		need = 3
	default:
		return 0
	}
	n := 1
	for k := 1; k <= need && k < len(b); k++ {
		if b[k] < lo || b[k] > hi {
			break
		}
		lo, hi = 0x80, 0xbf
		n++
	}
	if n == need+1 {
		return 0 // complete (DecodeRune handled it); not reached
	}
	return n
}
