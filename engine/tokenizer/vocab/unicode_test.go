package vocab

import (
	"testing"
	"unicode"
)

// classOf relies on Go's Unicode tables agreeing with llama.cpp's
// unicode-data.cpp (Unicode 15.1) everywhere but CJK Extension I. That was
// checked for Go's Unicode 15.0.0; a Go release with other tables needs the
// comparison made again (TestPreTokenizerSplits covers only some code points).
func TestUnicodeVersion(t *testing.T) {
	if unicode.Version != "15.0.0" {
		t.Fatalf("Go's Unicode tables are %s: compare them with llama.cpp's unicode-data.cpp again and update classOf", unicode.Version)
	}
	for _, c := range []struct {
		r    rune
		want uint8
	}{
		{'a', classAny | classL}, {'7', classAny | classN}, {' ', classAny | classSpace}, {'\n', classAny | classSpace},
		{'!', classAny | classP}, {'$', classAny}, {0x2ebf0, classAny | classL}, {0x2ee5d, classAny | classL},
		{0x2ee5e, classAny}, {0xa0, classAny | classSpace}, {0x3000, classAny | classSpace}, {0x85, classAny | classSpace},
		{0x1c, classAny}, {0xb2, classAny | classN}, {0x2026, classAny | classP}, {0x301, classAny}, {0x378, classAny},
	} {
		if got := class(c.r); got != c.want {
			t.Errorf("class(%U) = %05b, want %05b", c.r, got, c.want)
		}
	}
}

func TestDecodeRune(t *testing.T) {
	for _, c := range []struct {
		in   string
		r    rune
		size int
	}{
		{"a", 'a', 1},
		{"é", 'é', 2},
		{"\xc0\xaf", '/', 2},        // overlong, read as its value
		{"\xed\xa0\x80", 0xd800, 3}, // a surrogate, likewise
		{"\xe2\x82", unicode.ReplacementChar, 1},
		{"\xe2\x82a", unicode.ReplacementChar, 1},
		{"\x80", unicode.ReplacementChar, 1},
		{"\xff", unicode.ReplacementChar, 1},
		{"\xf0\x9f\x99\x82", 0x1f642, 4},
		{"\xf4\x90\x80\x80", unicode.ReplacementChar, 1}, // above U+10FFFF
		{"\xf7\xbf\xbf\xbf", unicode.ReplacementChar, 1},
	} {
		if r, n := decodeRune(c.in, 0); r != c.r || n != c.size {
			t.Errorf("decodeRune(%q) = %U, %d; want %U, %d", c.in, r, n, c.r, c.size)
		}
	}
	if got := string(appendRune(nil, 0xd800)); got != "\xed\xa0\x80" {
		t.Errorf("appendRune(U+D800) = %q", got)
	}
}

func TestByteAlphabet(t *testing.T) {
	for b, want := range map[byte]rune{' ': 'Ġ', '\n': 'Ċ', 0: 0x100, '!': '!', 0x7f: 0x121, 0xa0: 0x142, 0xad: 0x143, 0xff: 0xff} {
		if byteRune[b] != want || symbolByte[want] != int16(b) {
			t.Errorf("byte %#x: symbol %U, want %U", b, byteRune[b], want)
		}
	}
}
