package vocab

import "slices"

// Decoder prints a reply as it is generated: it takes the tokens one at a time
// and returns the bytes that are final, so that everything Add and Flush return,
// joined, is exactly Detokenize(all the tokens, removeSpecial, unparseSpecial).
// Printing each token's Piece instead differs in four ways, which the Decoder
// handles:
//
//   - SentencePiece vocabularies add a space before the first word when they
//     encode (add_space_prefix); Detokenize drops one leading space of the
//     first piece ("▁Hello" prints "Hello"), unless it drops a BOS first
//     (removeSpecial).
//   - A byte-level piece can end inside a UTF-8 character: an emoji is often
//     two to four tokens. The Decoder keeps an unfinished character until the
//     token that completes it (or shows it will not be completed; Detokenize
//     returns such bytes as they are).
//   - Most byte-level vocabularies remove the space before ? ! . , and some
//     around apostrophes (see Detokenize). A space waits until the bytes after
//     it show whether it stays, usually the next token.
//   - With removeSpecial and AddEOS, a final EOS is dropped: an EOS waits for
//     the token after it.
//
// A Decoder is for one goroutine. Flush ends the text; the Decoder can then
// start another.
type Decoder struct {
	v                             *Vocab
	removeSpecial, unparseSpecial bool

	started     bool // a token has come
	removeSpace bool // the next piece loses a leading space
	heldEOS     bool // an EOS came last

	raw  []byte // the text from the first byte not yet final on, and its context
	sent int    // with clean_spaces: bytes of the cleaned raw already returned

	out, work []byte // scratch: the returned bytes, the cleaning
	pos       []int  // scratch: where each cleaned byte was in raw
}

// NewDecoder starts a text that Detokenize(ids, removeSpecial, unparseSpecial)
// would give.
func (v *Vocab) NewDecoder(removeSpecial, unparseSpecial bool) *Decoder {
	return &Decoder{v: v, removeSpecial: removeSpecial, unparseSpecial: unparseSpecial}
}

// Add takes the next token and returns the bytes that are now final, possibly
// none. The slice is valid until the next call.
func (d *Decoder) Add(id int) []byte {
	v := d.v
	if !d.started {
		d.started = true
		d.removeSpace = v.addSpacePrefix
		if d.removeSpecial && v.addBOS && id == v.bos {
			d.removeSpace = false
			return nil
		}
	}
	if d.heldEOS {
		d.heldEOS = false
		d.appendPiece(v.eos)
	}
	if d.removeSpecial && v.addEOS && id == v.eos {
		d.heldEOS = true
	} else {
		d.appendPiece(id)
	}
	return d.emit(false)
}

// Flush ends the text and returns the bytes still held. The slice is valid
// until the next call.
func (d *Decoder) Flush() []byte {
	d.heldEOS = false // the text ends with it: Detokenize drops it
	out := d.emit(true)
	d.started, d.raw, d.sent = false, d.raw[:0], 0
	return out
}

func (d *Decoder) appendPiece(id int) {
	p := d.v.Piece(id, d.unparseSpecial)
	if d.removeSpace && len(p) > 0 && p[0] == ' ' {
		p = p[1:]
	}
	d.removeSpace = false
	d.raw = append(d.raw, p...)
}

// emit returns the bytes of raw that are final (all of them when final).
func (d *Decoder) emit(final bool) []byte {
	if !d.v.pre.cleanSpaces {
		n := len(d.raw)
		if !final {
			n = completeUTF8(d.raw)
		}
		d.out = append(d.out[:0], d.raw[:n]...)
		d.raw = append(d.raw[:0], d.raw[n:]...)
		return d.out
	}
	raw := d.raw
	d.pos = d.pos[:0]
	for i := range raw {
		d.pos = append(d.pos, i)
	}
	cleaned, pos := cleanSpaces(append(d.work[:0], raw...), d.pos)
	d.work, d.pos = cleaned, pos
	stable := len(cleaned)
	if !final {
		stable, _ = slices.BinarySearch(pos, firstUndecidedSpace(raw, cleanWindow))
		stable = max(d.sent, completeUTF8(cleaned[:stable]))
	}
	d.out = append(d.out[:0], cleaned[d.sent:stable]...)
	d.sent = stable
	d.trim()
	return d.out
}

// cleanWindow is how many bytes after a space always decide whether
// clean_spaces removes it: its passes look at most three characters past a
// space, in texts the passes before may have shortened. TestCleanWindow finds
// that 5 is enough on every short text of the bytes that matter and 4 is not;
// 8 leaves a margin.
const cleanWindow = 8

// firstUndecidedSpace returns the index of the first space in raw that more
// text could still remove or keep (len(raw) if none). Only spaces are ever
// removed. A space is decided when window bytes follow it, or when the
// byte after it is anything but a space or an apostrophe (before ? ! . , the
// first pass removes it, before anything else no pass does), or when the two
// bytes after it are a space and anything but an apostrophe (a space before a
// space goes only when that second space goes with an apostrophe after it).
func firstUndecidedSpace(raw []byte, window int) int {
	for p := max(0, len(raw)-window); p < len(raw); p++ {
		if raw[p] != ' ' {
			continue
		}
		if p+1 < len(raw) {
			switch raw[p+1] {
			case '\'':
			case ' ':
				if p+2 < len(raw) && raw[p+2] != '\'' {
					continue
				}
			default:
				continue
			}
		}
		return p
	}
	return len(raw)
}

// trim drops the start of raw once it is long and returned, cutting before a
// character that is neither a space nor an apostrophe: clean_spaces decides
// nothing after such a character by what comes before it, and never removes it.
func (d *Decoder) trim() {
	const keep = 32
	if len(d.raw) < 2*keep {
		return
	}
	limit := len(d.raw) // the first byte not yet returned
	if d.sent < len(d.pos) {
		limit = d.pos[d.sent]
	}
	for q := min(limit, len(d.raw)-keep); q > 0; q-- {
		if c := d.raw[q]; c != ' ' && c != '\'' {
			dropped, _ := slices.BinarySearch(d.pos, q)
			d.sent -= dropped
			d.raw = append(d.raw[:0], d.raw[q:]...)
			return
		}
	}
}

// completeUTF8 returns the length of b without a trailing start of a UTF-8
// sequence that more bytes could complete.
func completeUTF8(b []byte) int {
	for k := 1; k <= 3 && k <= len(b); k++ {
		c := b[len(b)-k]
		if c < 0x80 {
			return len(b)
		}
		if c < 0xc0 {
			continue // a continuation byte: look for its lead
		}
		if validUTF8Prefix(b[len(b)-k:]) {
			return len(b) - k
		}
		return len(b)
	}
	return len(b)
}

// validUTF8Prefix reports whether b, which starts with a lead byte, is a proper
// prefix of a well-formed UTF-8 sequence (Unicode table 3-7).
func validUTF8Prefix(b []byte) bool {
	c := b[0]
	need := 0
	lo, hi := byte(0x80), byte(0xbf) // the range of the second byte
	switch {
	case 0xc2 <= c && c <= 0xdf:
		need = 2
	case c == 0xe0:
		need, lo = 3, 0xa0
	case c == 0xed:
		need, hi = 3, 0x9f
	case 0xe1 <= c && c <= 0xef:
		need = 3
	case c == 0xf0:
		need, lo = 4, 0x90
	case c == 0xf4:
		need, hi = 4, 0x8f
	case 0xf1 <= c && c <= 0xf3:
		need = 4
	default:
		return false
	}
	if len(b) >= need {
		return false
	}
	for _, x := range b[1:] {
		if x < lo || x > hi {
			return false
		}
		lo, hi = 0x80, 0xbf
	}
	return true
}
