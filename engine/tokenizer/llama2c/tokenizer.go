// Package llama2c reads (and writes) llama2.c's tokenizer.bin and encodes and
// decodes text exactly as llama2.c's run.c does (its encode, decode and
// safe_printf).
//
// tokenizer.bin, little-endian: uint32 max_token_length, then for each token id in
// order: float32 merge score, int32 byte length n, n bytes of the token string (no
// terminator). The vocabulary size is not in the file; it comes from model.bin.
package llama2c

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Special ids fixed by llama2.c's conventions (and SentencePiece's Llama vocabulary).
const (
	BOS = 1 // "\n<s>\n" in tokenizer.bin
	EOS = 2 // "\n</s>\n"
	// byteBase is the id of byte token <0x00>: byte b is id b+3.
	byteBase = 3
)

// maxTokenLength bounds the header's max_token_length: far above any real
// vocabulary (Llama 2: 27), low enough that a corrupt header is caught.
const maxTokenLength = 1 << 16

// Tokenizer is a loaded llama2.c vocabulary.
type Tokenizer struct {
	pieces []string
	scores []float32
	ids    map[string]int
	// space is the id of the one-space token run.c puts before any text (the
	// dummy prefix), or -1 when the vocabulary has none.
	space int
}

// Load parses tokenizer.bin for a model with vocabSize tokens. Errors name the file
// and say what is wrong; nothing is allocated before the sizes are checked.
func Load(data []byte, vocabSize int) (*Tokenizer, error) {
	if vocabSize <= EOS {
		return nil, fmt.Errorf("tokenizer.bin: the model's vocabulary has %d tokens, too few for <unk>, BOS and EOS", vocabSize)
	}
	if len(data) < 4 {
		return nil, fmt.Errorf("tokenizer.bin: file is %d bytes, too short for the 4-byte header", len(data))
	}
	maxLen := binary.LittleEndian.Uint32(data)
	if maxLen == 0 || maxLen > maxTokenLength {
		return nil, fmt.Errorf("tokenizer.bin: header says max_token_length %d, want 1..%d", maxLen, maxTokenLength)
	}
	// Every token needs at least its 8-byte score and length, so a file this short
	// cannot hold vocabSize tokens; checking first keeps a bad vocab size from
	// allocating anything.
	if min := 4 + 8*int64(vocabSize); int64(len(data)) < min {
		return nil, fmt.Errorf("tokenizer.bin: file is %d bytes, too short for %d tokens (at least %d bytes)", len(data), vocabSize, min)
	}
	t := &Tokenizer{
		pieces: make([]string, vocabSize),
		scores: make([]float32, vocabSize),
		ids:    make(map[string]int, vocabSize),
		space:  -1,
	}
	off := 4
	for id := 0; id < vocabSize; id++ {
		if len(data)-off < 8 {
			return nil, fmt.Errorf("tokenizer.bin: truncated at token %d of %d (offset %d)", id, vocabSize, off)
		}
		t.scores[id] = math.Float32frombits(binary.LittleEndian.Uint32(data[off:]))
		n := int32(binary.LittleEndian.Uint32(data[off+4:]))
		off += 8
		if n < 0 || uint32(n) > maxLen {
			return nil, fmt.Errorf("tokenizer.bin: token %d has length %d, outside 0..max_token_length %d", id, n, maxLen)
		}
		if len(data)-off < int(n) {
			return nil, fmt.Errorf("tokenizer.bin: token %d needs %d bytes at offset %d, file has %d", id, n, off, len(data)-off)
		}
		s := string(data[off : off+int(n)])
		off += int(n)
		t.pieces[id] = s
		// run.c finds strings by binary search over a sorted copy, so with duplicate
		// strings its choice is unspecified; keep the lowest id.
		if _, dup := t.ids[s]; !dup {
			t.ids[s] = id
		}
	}
	if off != len(data) {
		return nil, fmt.Errorf("tokenizer.bin: %d bytes left over after %d tokens (is it the tokenizer of another model?)", len(data)-off, vocabSize)
	}
	if id, ok := t.ids[" "]; ok {
		t.space = id
	}
	return t, nil
}

// VocabSize is the number of tokens.
func (t *Tokenizer) VocabSize() int { return len(t.pieces) }

// Token is the string of id as stored in tokenizer.bin.
func (t *Tokenizer) Token(id int) string { return t.pieces[id] }

// ID returns the id of a token string.
func (t *Tokenizer) ID(s string) (int, bool) {
	id, ok := t.ids[s]
	return id, ok
}
