// Package bpe is a byte-level BPE tokenizer that gives the same ids as tiktoken
// (the encoder nanochat uses for inference): split the text with the model's
// pattern, then merge the bytes of each piece by rank. Special tokens are never
// produced by Encode (like tiktoken's encode_ordinary, which nanochat calls);
// the chat template adds them by id.
package bpe

import (
	"fmt"
	"math"
	"unicode/utf8"
)

// Special is a special token: its text and id.
type Special struct {
	Text string
	ID   int
}

// Tokenizer encodes and decodes text. It is immutable and safe for concurrent use.
type Tokenizer struct {
	tokens   [][]byte       // bytes of every id; a special token's are its text
	special  []bool         // by id
	ranks    map[string]int // mergeable token bytes -> rank (= id)
	specials []Special
	pattern  string
	split    splitter
}

// MaxTokenBytes bounds one token's bytes: tiktoken's vocabularies stay far below.
const MaxTokenBytes = 1 << 16

// New builds a tokenizer from the mergeable tokens in rank order (ranks[i] has
// rank i and id i), the special tokens, and the split pattern. The ids must be
// exactly 0..n-1 with no gaps, every single byte must be a token (so any text can
// be encoded), and the pattern must be one this package implements.
func New(ranks [][]byte, specials []Special, pattern string) (*Tokenizer, error) {
	sp, ok := splitterFor(pattern)
	if !ok {
		return nil, fmt.Errorf("unsupported split pattern %s (supported: nanochat's and GPT-4's)", quote(pattern))
	}
	n := len(ranks) + len(specials)
	if n > math.MaxInt32 {
		return nil, fmt.Errorf("vocabulary of %d tokens is too large", n)
	}
	t := &Tokenizer{
		tokens:   make([][]byte, n),
		special:  make([]bool, n),
		ranks:    make(map[string]int, len(ranks)),
		specials: append([]Special(nil), specials...),
		pattern:  pattern,
		split:    sp,
	}
	for id, b := range ranks {
		if len(b) == 0 || len(b) > MaxTokenBytes {
			return nil, fmt.Errorf("token %d has %d bytes", id, len(b))
		}
		if prev, dup := t.ranks[string(b)]; dup {
			return nil, fmt.Errorf("tokens %d and %d have the same bytes %s", prev, id, quote(string(b)))
		}
		t.ranks[string(b)] = id
		t.tokens[id] = append([]byte(nil), b...) // not a view: callers may reuse their buffer
	}
	for b := 0; b < 256; b++ {
		if _, ok := t.ranks[string([]byte{byte(b)})]; !ok {
			return nil, fmt.Errorf("byte 0x%02x has no token, so some text could not be encoded", b)
		}
	}
	seen := map[string]bool{}
	for _, s := range specials {
		if s.ID < len(ranks) || s.ID >= n {
			return nil, fmt.Errorf("special token %s has id %d, want one of %d..%d after the %d mergeable tokens", quote(s.Text), s.ID, len(ranks), n-1, len(ranks))
		}
		if t.special[s.ID] {
			return nil, fmt.Errorf("special tokens share id %d", s.ID)
		}
		if s.Text == "" || len(s.Text) > MaxTokenBytes || seen[s.Text] {
			return nil, fmt.Errorf("special token %d has an empty, overlong or repeated text %s", s.ID, quote(s.Text))
		}
		seen[s.Text] = true
		t.special[s.ID] = true
		t.tokens[s.ID] = []byte(s.Text)
	}
	return t, nil
}

// VocabSize is the number of ids (mergeable and special).
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// Pattern is the split pattern.
func (t *Tokenizer) Pattern() string { return t.pattern }

// Specials lists the special tokens in the order given to New.
func (t *Tokenizer) Specials() []Special { return t.specials }

// NumMergeable is the number of mergeable (ordinary) tokens.
func (t *Tokenizer) NumMergeable() int { return len(t.ranks) }

// SpecialID returns the id of the special token with this text.
func (t *Tokenizer) SpecialID(text string) (int, bool) {
	for _, s := range t.specials {
		if s.Text == text {
			return s.ID, true
		}
	}
	return 0, false
}

// IsSpecial reports whether id is a special token.
func (t *Tokenizer) IsSpecial(id int) bool { return id >= 0 && id < len(t.special) && t.special[id] }

// TokenBytes returns the bytes of id (a special token's text), or nil for an id
// outside the vocabulary. The slice must not be modified.
func (t *Tokenizer) TokenBytes(id int) []byte {
	if id < 0 || id >= len(t.tokens) {
		return nil
	}
	return t.tokens[id]
}

// Encode appends the ids of text to dst (tiktoken's encode_ordinary: text that
// looks like a special token is encoded as ordinary text).
func (t *Tokenizer) Encode(dst []int, text string) []int {
	t.split.split(text, func(piece string) {
		if id, ok := t.ranks[piece]; ok {
			dst = append(dst, id)
			return
		}
		dst = t.merge(dst, piece)
	})
	return dst
}

// Pieces returns the pre-tokenizer's split of text (for tests and tools).
func (t *Tokenizer) Pieces(text string) []string {
	var out []string
	t.split.split(text, func(p string) { out = append(out, p) })
	return out
}

// quoteLimit bounds the bytes of a text an error message quotes.
const quoteLimit = 64

// quote quotes s for an error message, cut to quoteLimit bytes ("..." marks the
// cut): a pattern or token text comes from the input and may be megabytes long.
func quote(s string) string {
	if len(s) <= quoteLimit {
		return fmt.Sprintf("%q", s)
	}
	n := quoteLimit
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return fmt.Sprintf("%q...", s[:n])
}
