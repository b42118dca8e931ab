package nanochat

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/convert/pickle"
	"github.com/inferpi/inferpi/engine/tokenizer/bpe"
)

// encodingPickle writes a tiktoken Encoding as pickle.dump does (protocol 2
// opcodes), with the 256 single bytes as mergeable ranks and one special token
// whose key and value the caller writes.
func encodingPickle(specialKey, specialValue func(*bytes.Buffer)) []byte {
	var b bytes.Buffer
	str := func(s string) {
		b.WriteByte('X')
		binary.Write(&b, binary.LittleEndian, uint32(len(s)))
		b.WriteString(s)
	}
	b.WriteString("\x80\x02ctiktoken.core\nEncoding\n)\x81}(")
	str("pat_str")
	str(bpe.NanochatPattern)
	str("mergeable_ranks")
	b.WriteString("}(")
	for i := range 256 {
		b.WriteString("C\x01")
		b.WriteByte(byte(i))
		b.WriteString("M")
		binary.Write(&b, binary.LittleEndian, uint16(i))
	}
	b.WriteString("u")
	str("special_tokens")
	b.WriteString("}(")
	specialKey(&b)
	specialValue(&b)
	b.WriteString("uub.")
	return b.Bytes()
}

func TestHostileTokenizerGivesShortErrors(t *testing.T) {
	bos := func(b *bytes.Buffer) { b.WriteString("X\x07\x00\x00\x00<|bos|>") }
	id := func(b *bytes.Buffer) { b.WriteString("M\x00\x01") }
	nested := func(depth int) func(*bytes.Buffer) {
		return func(b *bytes.Buffer) {
			b.WriteByte(')')
			b.Write(bytes.Repeat([]byte{0x85}, depth-1))
		}
	}
	if _, err := parseTokenizer(encodingPickle(bos, id)); err != nil {
		t.Fatalf("the well-formed Encoding: %v", err)
	}
	cases := []struct {
		name       string
		key, value func(*bytes.Buffer)
		want       string
	}{
		{"id nested to the limit", bos, nested(pickle.MaxDepth - 5),
			`special_tokens entry 0 is str "<|bos|>" -> tuple ((((((((`},
		{"id nested a million deep", bos, nested(1_000_000), "values nest deeper than 1000 levels"},
		{"2040-bit id", bos, func(b *bytes.Buffer) { b.Write(append([]byte{0x8a, 0xff}, bytes.Repeat([]byte{0x7f}, 255)...)) },
			`-> int 6287162639486056873760400336184258423677084925021241531986142569...`},
		{"megabyte bytes key", func(b *bytes.Buffer) {
			b.WriteString("B\x00\x00\x10\x00")
			b.Write(bytes.Repeat([]byte{'x'}, 1<<20))
		}, id, `special_tokens entry 0 is bytes b"xxxx`},
		{"megabyte special text", func(b *bytes.Buffer) {
			b.WriteString("X\x00\x00\x10\x00")
			b.Write(bytes.Repeat([]byte{'x'}, 1<<20))
		}, id, `overlong or repeated text "xxxx`},
	}
	for _, c := range cases {
		_, err := parseTokenizer(encodingPickle(c.key, c.value))
		if err == nil || !strings.Contains(err.Error(), c.want) || len(err.Error()) > 300 {
			t.Errorf("%s: error %.600v, want a short one containing %q", c.name, err, c.want)
		}
	}
}
