package bpe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// tokenizer.bin holds a Tokenizer. All integers are little-endian uint32:
//
//	magic "BPET", version (1)
//	n_mergeable, n_special
//	pattern_len, pattern (UTF-8)
//	n_mergeable x (len, bytes)   token bytes in rank order: rank = id
//	n_special   x (id, len, text)
//
// and nothing after. docs/formats.md ("The GPT (nanochat) format") documents it too.
const (
	FileMagic   = "BPET"
	FileVersion = 1
)

// MarshalBinary encodes the tokenizer as tokenizer.bin.
func (t *Tokenizer) MarshalBinary() ([]byte, error) {
	n := len(t.ranks)
	out := []byte(FileMagic)
	u32 := func(v int) { out = binary.LittleEndian.AppendUint32(out, uint32(v)) }
	u32(FileVersion)
	u32(n)
	u32(len(t.specials))
	u32(len(t.pattern))
	out = append(out, t.pattern...)
	for id := 0; id < n; id++ {
		u32(len(t.tokens[id]))
		out = append(out, t.tokens[id]...)
	}
	for _, s := range t.specials {
		u32(s.ID)
		u32(len(s.Text))
		out = append(out, s.Text...)
	}
	return out, nil
}

// Parse reads tokenizer.bin. Errors start with "tokenizer.bin:" and say what is wrong.
func Parse(data []byte) (*Tokenizer, error) {
	t, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("tokenizer.bin: %w", err)
	}
	return t, nil
}

type reader struct {
	b   []byte
	off int
}

func (r *reader) u32(what string) (int, error) {
	if len(r.b)-r.off < 4 {
		return 0, fmt.Errorf("file ends at byte %d while reading %s", len(r.b), what)
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return int(v), nil
}

func (r *reader) bytes(n int, what string) ([]byte, error) {
	if n > len(r.b)-r.off {
		return nil, fmt.Errorf("%s needs %d bytes at offset %d, file has %d left (truncated?)", what, n, r.off, len(r.b)-r.off)
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b, nil
}

func parse(data []byte) (*Tokenizer, error) {
	if len(data) < 8 || string(data[:4]) != FileMagic {
		return nil, fmt.Errorf("not a BPE tokenizer file (want magic %q)", FileMagic)
	}
	r := &reader{b: data, off: 4}
	version, _ := r.u32("version")
	if version != FileVersion {
		return nil, fmt.Errorf("version %d, this build reads version %d", version, FileVersion)
	}
	nMerge, err := r.u32("the token count")
	if err != nil {
		return nil, err
	}
	nSpecial, err := r.u32("the special token count")
	if err != nil {
		return nil, err
	}
	// Each entry takes at least 4 (or 8) bytes: reject counts the file cannot hold
	// before allocating for them.
	if rest := len(data) - r.off; nMerge > rest/4 || nSpecial > rest/8 {
		return nil, fmt.Errorf("header claims %d tokens and %d special tokens, more than %d bytes can hold", nMerge, nSpecial, rest)
	}
	plen, err := r.u32("the pattern length")
	if err != nil {
		return nil, err
	}
	pattern, err := r.bytes(plen, "the split pattern")
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(pattern) {
		return nil, errors.New("split pattern is not UTF-8")
	}
	ranks := make([][]byte, nMerge)
	for id := range ranks {
		n, err := r.u32("a token length")
		if err != nil {
			return nil, fmt.Errorf("token %d: %v", id, err)
		}
		if n == 0 || n > MaxTokenBytes {
			return nil, fmt.Errorf("token %d has length %d", id, n)
		}
		if ranks[id], err = r.bytes(n, "its bytes"); err != nil {
			return nil, fmt.Errorf("token %d: %v", id, err)
		}
	}
	specials := make([]Special, nSpecial)
	for i := range specials {
		id, err := r.u32(fmt.Sprintf("the id of special token %d", i))
		if err != nil {
			return nil, err
		}
		n, err := r.u32(fmt.Sprintf("the length of special token %d", i))
		if err != nil {
			return nil, err
		}
		text, err := r.bytes(n, fmt.Sprintf("special token %d", i))
		if err != nil {
			return nil, err
		}
		if !utf8.Valid(text) {
			return nil, fmt.Errorf("special token %d is not UTF-8", id)
		}
		specials[i] = Special{Text: string(text), ID: id}
	}
	if r.off != len(data) {
		return nil, fmt.Errorf("%d unexpected bytes after the last special token", len(data)-r.off)
	}
	return New(ranks, specials, string(pattern))
}
