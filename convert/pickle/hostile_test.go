package pickle

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/big"
	"strings"
	"testing"
)

// maxMessage bounds the error messages of hostile pickles: an offset, an opcode,
// a limit and at most a described value.
const maxMessage = 200

// nestedTuples is a pickle of depth levels of one-element tuples around ():
// EMPTY_TUPLE, then TUPLE1 depth-1 times.
func nestedTuples(depth int) []byte {
	b := []byte("\x80\x02)")
	b = append(b, bytes.Repeat([]byte{opTuple1}, depth-1)...)
	return append(b, opStop)
}

func TestDepthLimit(t *testing.T) {
	v, err := Load(nestedTuples(MaxDepth))
	if err != nil {
		t.Fatalf("%d levels: %v", MaxDepth, err)
	}
	if got := Describe(v); !strings.HasPrefix(got, "tuple ((((") || len(got) > 80 {
		t.Errorf("Describe of %d nested tuples = %q", MaxDepth, got)
	}
	want := fmt.Sprintf("values nest deeper than %d levels", MaxDepth)
	_, err = Load(nestedTuples(MaxDepth + 1))
	if err == nil || !strings.Contains(err.Error(), want) || len(err.Error()) > maxMessage {
		t.Fatalf("%d levels: error %v, want a short one saying %q", MaxDepth+1, err, want)
	}
}

// TestDepthLimitEveryContainer nests each kind of container one level too deep.
func TestDepthLimitEveryContainer(t *testing.T) {
	repeat := func(s string) string { return strings.Repeat(s, MaxDepth) }
	cases := map[string]string{
		"list":      "\x80\x02" + repeat("(") + "]" + repeat("l") + ".",
		"append":    "\x80\x02]" + repeat("]") + repeat("a") + ".",
		"appends":   "\x80\x02]" + repeat("(]") + repeat("e") + ".",
		"dict":      "\x80\x02" + repeat("(K\x01") + "}" + repeat("d") + ".",
		"setitem":   "\x80\x02}" + repeat("K\x01}") + repeat("s") + ".",
		"frozenset": "\x80\x04" + repeat("(") + "\x8f" + repeat("\x91") + ".",
		"additems":  "\x80\x04\x8f" + repeat("(\x8f") + repeat("\x90") + ".",
		"marks":     "\x80\x02" + repeat("(") + ")" + repeat("t") + ".",
		"object":    "\x80\x02" + repeat("cm\nf\n") + ")" + repeat("\x85R") + ".",
		"build":     "\x80\x02" + repeat("cm\nf\n)R") + "N" + repeat("b") + ".",
	}
	for name, data := range cases {
		_, err := Load([]byte(data))
		if err == nil || !strings.Contains(err.Error(), "deeper than") {
			t.Errorf("%s: error %v, want the depth limit", name, err)
		}
	}
}

// TestHostileNestingAtScale is the scale: a million nested tuples (which
// made error messages overflow Go's stack) and 100,000 nested through MARKs
// (which gave a 400 KB message from 230 MB).
func TestHostileNestingAtScale(t *testing.T) {
	marks := "\x80\x02" + strings.Repeat("(", 100_000) + strings.Repeat("t", 100_000) + "."
	for name, data := range map[string][]byte{
		"TUPLE1": nestedTuples(1_000_000),
		"MARK":   []byte(marks),
	} {
		_, err := Load(data)
		if err == nil || !strings.Contains(err.Error(), "deeper than") || len(err.Error()) > maxMessage {
			t.Errorf("%s: error %v, want a short one naming the depth limit", name, err)
		}
	}
}

func TestSelfReferenceRefused(t *testing.T) {
	cases := []struct{ name, data, want string }{
		// EMPTY_LIST DUP APPEND: l.append(l)
		{"list holds itself", "\x80\x02]2a.", "adds a list to itself"},
		// a = [], b = []; a.append(b); b.append(a)
		{"cycle through the memo", "\x80\x02]q\x00]q\x01h\x00h\x01a0h\x01h\x00a.", "changes a list after placing it inside another value"},
		// d = {}; (d,); d[1] = 2
		{"dict changed after nesting", "\x80\x02}q\x00\x85h\x00K\x01K\x02s.", "changes a dict after"},
		// BUILD gives an object itself as its state.
		{"object state is itself", "\x80\x02cm\nf\n)R2b.", "adds a m.f object to itself"},
	}
	for _, c := range cases {
		_, err := Load([]byte(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	// Sharing a finished value through the memo is not a cycle.
	v, err := Load([]byte("\x80\x02(]q\x00K\x01ah\x00t."))
	if err != nil || Describe(v) != "tuple ([1], [1])" {
		t.Errorf("shared list: %v, %v", v, err)
	}
}

func TestHugeIntegerRefusedQuickly(t *testing.T) {
	const n = 4 << 20
	data := []byte{0x80, 0x02, opLong4}
	data = binary.LittleEndian.AppendUint32(data, n)
	data = append(data, bytes.Repeat([]byte{0x5a}, n)...)
	data = append(data, opStop)
	_, err := Load(data)
	if err == nil || !strings.Contains(err.Error(), "LONG4 integer of 4194304 bytes, longer than the 255") {
		t.Fatalf("error %v, want the length refused", err)
	}
	// The longest integer LONG1 holds still loads, and describes in a few bytes.
	long1 := append([]byte{0x80, 0x02, opLong1, MaxLongBytes}, bytes.Repeat([]byte{0x7f}, MaxLongBytes)...)
	v, err := Load(append(long1, opStop))
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := v.(*big.Int); !ok || b.BitLen() != 8*MaxLongBytes-1 {
		t.Fatalf("LONG1 of %d bytes: %#v", MaxLongBytes, v)
	}
	if d := Describe(v); !strings.HasPrefix(d, "int ") || !strings.HasSuffix(d, "...") || len(d) > 80 {
		t.Errorf("Describe = %q", d)
	}
}

func TestDescribeIsBounded(t *testing.T) {
	var deep any = Tuple{}
	for range 1_000_000 {
		deep = Tuple{deep}
	}
	self := &List{}
	self.Items = append(self.Items, int64(1), self)
	huge := new(big.Int).Lsh(big.NewInt(1), 32<<20)
	d := NewDict()
	d.Set("k", []byte("\x00\xffvalue"))
	cases := []struct {
		v    any
		want string
	}{
		{None{}, "None None"},
		{int64(-7), "int -7"},
		{1.5, "float 1.5"},
		{"a\nb", `str "a\nb"`},
		{strings.Repeat("x", 1<<22), `str "` + strings.Repeat("x", DescribeLimit-1) + "..."},
		{bytes.Repeat([]byte{0}, 1<<22), `bytes b"\x00\x00\x00`},
		{Tuple{int64(1), "a", Tuple{int64(2), int64(3)}}, `tuple (1, "a", (2, 3))`},
		{d, `dict {"k": b"\x00\xffvalue"}`},
		{&Set{Items: []any{true}}, "set {True}"},
		{&Object{Class: Global{"m", "f"}, Args: Tuple{None{}}}, "m.f object m.f(None)"},
		{Global{"torch", strings.Repeat("S", 1<<20)}, "global torch." + strings.Repeat("S", DescribeLimit-6)},
		{self, "list [1, [1, [1, [1, "},
		{deep, "tuple " + strings.Repeat("(", DescribeLimit) + "..."},
		{huge, "int <33554433 bits>"},
		{struct{ x []int }{}, "struct { x []int } <struct { x []int }>"},
	}
	for _, c := range cases {
		got := Describe(c.v)
		if !strings.HasPrefix(got, c.want) || len(got) > 2*DescribeLimit+20 {
			t.Errorf("Describe(%T) = %q, want it to start with %q", c.v, got, c.want)
		}
	}
	if q := Quote(strings.Repeat("é", 1000)); q != `"`+strings.Repeat("é", DescribeLimit/2)+`"...` {
		t.Errorf("Quote = %q", q)
	}
	if q := Quote(strings.Repeat("\x01", 100)); q != `"`+strings.Repeat(`\x01`, DescribeLimit/4)+`"...` {
		t.Errorf("Quote = %q", q)
	}
	if q := Quote("short"); q != `"short"` {
		t.Errorf("Quote = %q", q)
	}
}
