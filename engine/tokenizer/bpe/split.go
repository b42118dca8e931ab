package bpe

import (
	"unicode"
	"unicode/utf8"
)

// The split patterns this package implements by hand. Go's regexp (RE2) has
// neither possessive quantifiers nor look-ahead, so each alternative of the
// pattern is a small function below, tried in the pattern's order, which is how
// a backtracking engine (tiktoken uses fancy-regex) picks the match.
const (
	// NanochatPattern is SPLIT_PATTERN in nanochat/tokenizer.py: GPT-4's pattern
	// with numbers in groups of at most two digits.
	NanochatPattern = `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,2}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`
	// GPT4Pattern is tiktoken's cl100k_base pattern (groups of up to three digits).
	GPT4Pattern = `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`
)

// splitter cuts text into the pieces the pattern matches.
type splitter struct {
	maxDigits int // the n in \p{N}{1,n}
}

func splitterFor(pattern string) (splitter, bool) {
	switch pattern {
	case NanochatPattern:
		return splitter{maxDigits: 2}, true
	case GPT4Pattern:
		return splitter{maxDigits: 3}, true
	}
	return splitter{}, false
}

// \p{L}, \p{N} and \s (Unicode White_Space, as in Rust's regex crate).
func isLetter(r rune) bool { return unicode.IsLetter(r) }
func isNumber(r rune) bool { return unicode.IsNumber(r) }
func isSpace(r rune) bool  { return unicode.Is(unicode.White_Space, r) }

// at decodes the rune at i. A byte that is not valid UTF-8 counts as one
// character of none of the classes (it decodes as U+FFFD, a symbol).
func at(s string, i int) (rune, int) {
	if i >= len(s) {
		return -1, 0
	}
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// split calls piece for each match of the pattern in s, in order. The pieces
// cover s exactly: every character starts a match of some alternative.
func (sp splitter) split(s string, piece func(string)) {
	for i := 0; i < len(s); {
		end := sp.match(s, i)
		piece(s[i:end])
		i = end
	}
}

func (sp splitter) match(s string, i int) int {
	for _, alt := range [...]func(string, int) int{
		contraction, sp.letters, sp.numbers, punctuation, spaceThenNewline, spaceBeforeSpace, spaces,
	} {
		if end := alt(s, i); end > i {
			return end
		}
	}
	// Unreachable: every rune is a letter, a number, a space or something else, and
	// each of those starts some alternative. Kept so a bug cannot loop forever.
	_, w := at(s, i)
	return i + w
}

// contraction: '(?i:[sdmt]|ll|ve|re)
func contraction(s string, i int) int {
	if s[i] != '\'' {
		return -1
	}
	r1, w1 := at(s, i+1)
	for _, c := range "sdmt" {
		if foldEq(r1, c) {
			return i + 1 + w1
		}
	}
	r2, w2 := at(s, i+1+w1)
	for _, pair := range [][2]rune{{'l', 'l'}, {'v', 'e'}, {'r', 'e'}} {
		if foldEq(r1, pair[0]) && foldEq(r2, pair[1]) {
			return i + 1 + w1 + w2
		}
	}
	return -1
}

// foldEq reports whether r matches the lower-case letter c case-insensitively,
// with Unicode simple case folding as regex engines do ('ſ' matches 's').
func foldEq(r, c rune) bool {
	if r == c {
		return true
	}
	for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
		if f == r {
			return true
		}
	}
	return false
}

// letters: [^\r\n\p{L}\p{N}]?+\p{L}+
// The possessive ?+ never matters: the optional character cannot be a letter.
func (splitter) letters(s string, i int) int {
	j := i
	if r, w := at(s, j); r != '\r' && r != '\n' && !isLetter(r) && !isNumber(r) {
		j += w
	}
	k := j
	for {
		r, w := at(s, k)
		if w == 0 || !isLetter(r) {
			break
		}
		k += w
	}
	if k == j {
		return -1
	}
	return k
}

// numbers: \p{N}{1,maxDigits}
func (sp splitter) numbers(s string, i int) int {
	j := i
	for n := 0; n < sp.maxDigits; n++ {
		r, w := at(s, j)
		if w == 0 || !isNumber(r) {
			break
		}
		j += w
	}
	return j
}

// other is [^\s\p{L}\p{N}].
func other(r rune) bool { return !isSpace(r) && !isLetter(r) && !isNumber(r) }

// punctuation: " ?[^\s\p{L}\p{N}]++[\r\n]*". Taking the space and then finding no
// symbol would backtrack to not taking it, but a space is never a symbol, so that
// retry cannot match either.
func punctuation(s string, i int) int {
	j := i
	if s[j] == ' ' {
		j++
	}
	k := j
	for {
		r, w := at(s, k)
		if w == 0 || !other(r) {
			break
		}
		k += w
	}
	if k == j {
		return -1
	}
	for k < len(s) && (s[k] == '\r' || s[k] == '\n') {
		k++
	}
	return k
}

// spaceRun returns the end of the run of whitespace starting at i and the start of
// its last rune.
func spaceRun(s string, i int) (end, last int) {
	end, last = i, -1
	for {
		r, w := at(s, end)
		if w == 0 || !isSpace(r) {
			return end, last
		}
		last = end
		end += w
	}
}

// spaceThenNewline: \s*[\r\n]. Backtracking leaves the match at the last CR or LF
// of the whitespace run.
func spaceThenNewline(s string, i int) int {
	end, _ := spaceRun(s, i)
	for k := end - 1; k >= i; k-- {
		if s[k] == '\r' || s[k] == '\n' {
			return k + 1
		}
	}
	return -1
}

// spaceBeforeSpace: \s+(?!\S). The whole run at the end of the text; otherwise the
// run minus its last character, which then stays for the next piece (so " word"
// keeps its space), when that leaves at least one character.
func spaceBeforeSpace(s string, i int) int {
	end, last := spaceRun(s, i)
	if end == i {
		return -1
	}
	if end == len(s) {
		return end
	}
	if last > i {
		return last
	}
	return -1
}

// spaces: \s+
func spaces(s string, i int) int {
	end, _ := spaceRun(s, i)
	return end
}
