package llama2c

import (
	"encoding/binary"
	"math"
)

// Marshal returns the tokenizer.bin of a vocabulary, token id i being pieces[i]
// with merge score scores[i], as llama2.c's tokenizer.py writes it (export):
// max_token_length is the longest piece's length in bytes.
func Marshal(pieces []string, scores []float32) []byte {
	size, maxLen := 4, 0
	for _, p := range pieces {
		size += 8 + len(p)
		maxLen = max(maxLen, len(p))
	}
	b := make([]byte, 0, size)
	b = binary.LittleEndian.AppendUint32(b, uint32(maxLen))
	for id, p := range pieces {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(scores[id]))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}
