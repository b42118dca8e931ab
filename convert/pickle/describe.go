package pickle

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DescribeLimit bounds the text Describe and Quote give of a value.
const DescribeLimit = 64

// Describe formats v for an error message: its Python type and the start of its
// repr, at most DescribeLimit bytes of it, "..." marking a cut (`tuple (1, "a",
// (2, 3))`, `str "abcd"...`). Errors quote input values only through Describe and
// Quote, so a hostile value (a huge integer or string, values nested a million
// deep, a structure that holds itself) gives a short message at once.
func Describe(v any) string {
	var w reprWriter
	w.repr(v)
	return TypeName(v) + " " + w.String()
}

// Quote is strconv.Quote of s, cut when longer so that the quoted text is at
// most DescribeLimit bytes between its quotes, with "..." after it: for names
// and keys taken from a file.
func Quote(s string) string {
	n := min(len(s), DescribeLimit)
	q := strconv.Quote(cutUTF8(s, n))
	for len(q) > DescribeLimit+2 { // escapes take up to 10 bytes a character
		n--
		q = strconv.Quote(cutUTF8(s, n))
	}
	if len(cutUTF8(s, n)) < len(s) {
		return q + "..."
	}
	return q
}

// cutUTF8 is s cut to at most n bytes, not inside a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// reprWriter builds a Python-like repr that stops at DescribeLimit bytes. Each
// level of nesting writes a bracket before it recurses, so the recursion is no
// deeper than the limit either.
type reprWriter struct {
	b   strings.Builder
	cut bool
}

func (w *reprWriter) String() string {
	if w.cut {
		return w.b.String() + "..."
	}
	return w.b.String()
}

func (w *reprWriter) full() bool { return w.cut || w.b.Len() >= DescribeLimit }

// write appends s, or as much of it as the limit leaves.
func (w *reprWriter) write(s string) {
	if w.cut {
		return
	}
	room := DescribeLimit - w.b.Len()
	if len(s) > room {
		s = cutUTF8(s, room)
		w.cut = true
	}
	w.b.WriteString(s)
}

// quoted writes s quoted after prefix, quoting no more of it than can show.
func (w *reprWriter) quoted(prefix, s string) {
	short := cutUTF8(s, DescribeLimit)
	w.write(prefix + strconv.Quote(short))
	if len(short) < len(s) {
		w.cut = true
	}
}

func (w *reprWriter) repr(v any) {
	if w.full() {
		w.cut = true
		return
	}
	switch v := v.(type) {
	case None:
		w.write("None")
	case bool:
		if v {
			w.write("True")
		} else {
			w.write("False")
		}
	case int64:
		w.write(strconv.FormatInt(v, 10))
	case *big.Int:
		if v.BitLen() > 8*MaxLongBytes {
			w.write(fmt.Sprintf("<%d bits>", v.BitLen())) // decimal digits would cost time
		} else {
			w.write(v.String())
		}
	case float64:
		w.write(strconv.FormatFloat(v, 'g', -1, 64))
	case string:
		w.quoted("", v)
	case []byte:
		w.quoted("b", string(v[:min(len(v), DescribeLimit+utf8.UTFMax)]))
		if len(v) > DescribeLimit {
			w.cut = true
		}
	case Tuple:
		w.seq("(", []any(v), ")")
	case *List:
		w.seq("[", v.Items, "]")
	case *Set:
		w.seq("{", v.Items, "}")
	case *Dict:
		w.write("{")
		for i := range v.Len() {
			if w.full() {
				w.cut = true
				return
			}
			if i > 0 {
				w.write(", ")
			}
			w.repr(v.Key(i))
			w.write(": ")
			w.repr(v.Value(i))
		}
		w.write("}")
	case Global:
		w.write(v.String())
	case *Object:
		if g, ok := v.Class.(Global); ok {
			w.write(g.String())
		} else {
			w.write("object")
		}
		w.seq("(", v.Args, ")")
	default:
		w.write(fmt.Sprintf("<%T>", v)) // a value a Callable made: its type only
	}
}

func (w *reprWriter) seq(open string, items []any, close string) {
	w.write(open)
	for i, x := range items {
		if w.full() {
			w.cut = true
			return
		}
		if i > 0 {
			w.write(", ")
		}
		w.repr(x)
	}
	w.write(close)
}
