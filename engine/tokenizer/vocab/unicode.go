package vocab

import "unicode"

// llama.cpp reads text as code points with its own lax UTF-8 decoder
// (unicode.cpp: unicode_cpt_from_utf8, unicode_cpts_from_utf8) and classifies them
// with its own tables (unicode-data.cpp, generated from the Unicode 15.1 UCD).
// This file reproduces both.

// decodeRune decodes the code point at s[i] as unicode_cpt_from_utf8 does: the
// lead byte alone says how long the sequence is, the continuation bytes must be
// 10xxxxxx and present, and nothing else is checked, so overlong forms ("\xc0\xaf"
// is '/') and surrogates decode to their values. Anything else is U+FFFD for one
// byte, as unicode_cpts_from_utf8 substitutes.
//
// A four-byte sequence above U+10FFFF (lead bytes F4 90.. to F7) is U+FFFD for one
// byte as well: llama.cpp decodes it to its value and then throws when it encodes
// the word again (unicode_cpt_to_utf8), which ends llama_tokenize with an uncaught
// exception; there is no result to match.
func decodeRune(s string, i int) (r rune, size int) {
	c := s[i]
	var n int
	switch {
	case c < 0x80:
		return rune(c), 1
	case c&0x40 == 0:
		return unicode.ReplacementChar, 1
	case c&0x20 == 0:
		n, r = 2, rune(c&0x1f)
	case c&0x10 == 0:
		n, r = 3, rune(c&0x0f)
	case c&0x08 == 0:
		n, r = 4, rune(c&0x07)
	default:
		return unicode.ReplacementChar, 1
	}
	if i+n > len(s) {
		return unicode.ReplacementChar, 1
	}
	for k := 1; k < n; k++ {
		b := s[i+k]
		if b&0xc0 != 0x80 {
			return unicode.ReplacementChar, 1
		}
		r = r<<6 | rune(b&0x3f)
	}
	if r > unicode.MaxRune {
		return unicode.ReplacementChar, 1
	}
	return r, n
}

// appendRune appends the UTF-8 bytes of r as unicode_cpt_to_utf8 writes them: the
// shortest form, surrogates included (utf8.AppendRune would write U+FFFD for
// those, and llama.cpp gives back the three bytes it decoded).
func appendRune(b []byte, r rune) []byte {
	switch {
	case r < 0x80:
		return append(b, byte(r))
	case r < 0x800:
		return append(b, 0xc0|byte(r>>6), 0x80|byte(r)&0x3f)
	case r < 0x10000:
		return append(b, 0xe0|byte(r>>12), 0x80|byte(r>>6)&0x3f, 0x80|byte(r)&0x3f)
	}
	return append(b, 0xf0|byte(r>>18), 0x80|byte(r>>12)&0x3f, 0x80|byte(r>>6)&0x3f, 0x80|byte(r)&0x3f)
}

// utf8Len is unicode_len_utf8: the sequence length the lead byte announces (1 for
// a continuation byte), which is how both tokenizers cut text into symbols.
func utf8Len(c byte) int {
	switch {
	case c < 0xc0:
		return 1
	case c < 0xe0:
		return 2
	case c < 0xf0:
		return 3
	}
	return 4
}

// Character classes of a code point, as the pre-tokenizers test them. Every code
// point has classAny; a position outside the piece being split has no bits (what
// llama.cpp's splitters get from an out-of-range position).
const (
	classAny   uint8 = 1 << iota
	classL           // \p{L}
	classN           // \p{N}
	classSpace       // \s
	classP           // \p{P}
)

// asciiClass holds the classes of the ASCII code points.
var asciiClass = func() (t [128]uint8) {
	for c := range t {
		t[c] = classOf(rune(c))
	}
	return t
}()

// class returns the classes of r (asciiClass for ASCII).
func class(r rune) uint8 {
	if r < 128 {
		return asciiClass[r]
	}
	return classOf(r)
}

// classOf classifies r by Go's unicode tables where they agree with llama.cpp's.
// Go's are Unicode 15.0, llama.cpp's unicode-data.cpp is Unicode 15.1; on every
// code point the two give the same \s (White_Space), \p{N}, \p{P} and lower-case
// mapping, and the same \p{L} except for the 622 ideographs of CJK Unified
// Ideographs Extension I (U+2EBF0..U+2EE5D), new in 15.1, which llama.cpp counts
// as letters and Go does not know. (Checked by comparing the tables code point
// by code point; TestUnicodeVersion fails when Go's tables change version, so
// that the comparison is made again.)
func classOf(r rune) uint8 {
	c := classAny
	switch {
	case unicode.IsLetter(r) || 0x2ebf0 <= r && r <= 0x2ee5d:
		c |= classL
	case unicode.IsNumber(r):
		c |= classN
	case unicode.IsPunct(r):
		c |= classP
	}
	if unicode.Is(unicode.White_Space, r) {
		c |= classSpace
	}
	return c
}

// GPT-2's byte-level alphabet (unicode.cpp: unicode_byte_to_utf8_map): the bytes
// '!'..'~', '¡'..'¬' and '®'..'ÿ' stand for themselves as code points; the other
// 68 bytes, in increasing order, are U+0100, U+0101, ..., U+0143. A byte-level
// BPE token's text is its bytes written in this alphabet. symbolByte maps back
// (-1: no byte's symbol).
var byteRune, symbolByte = func() (br [256]rune, sb [0x144]int16) {
	for r := range sb {
		sb[r] = -1
	}
	n := rune(0)
	for b := 0; b < 256; b++ {
		if '!' <= b && b <= '~' || 0xa1 <= b && b <= 0xac || 0xae <= b {
			br[b] = rune(b)
		} else {
			br[b] = 256 + n
			n++
		}
		sb[br[b]] = int16(b)
	}
	return br, sb
}()
