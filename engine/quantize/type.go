package quantize

import "fmt"

// Type is a ggml tensor type, numbered as ggml.h's enum ggml_type (the numbers GGUF
// files store). Only the types this package writes are named.
type Type uint32

const (
	F32  Type = 0
	F16  Type = 1
	Q4_0 Type = 2
	Q4_1 Type = 3
	Q5_0 Type = 6
	Q5_1 Type = 7
	Q8_0 Type = 8
	Q4_K Type = 12
	Q5_K Type = 13
	Q6_K Type = 14
	BF16 Type = 30
)

// layout is a type's block: weights per block and bytes per block.
type layout struct {
	name        string
	block, size int
}

// layouts: ggml/src/ggml-common.h (block_q4_0 ... block_q6_K).
var layouts = map[Type]layout{
	F32:  {"F32", 1, 4},
	F16:  {"F16", 1, 2},
	BF16: {"BF16", 1, 2},
	Q4_0: {"Q4_0", 32, 18},
	Q4_1: {"Q4_1", 32, 20},
	Q5_0: {"Q5_0", 32, 22},
	Q5_1: {"Q5_1", 32, 24},
	Q8_0: {"Q8_0", 32, 34},
	Q4_K: {"Q4_K", 256, 144},
	Q5_K: {"Q5_K", 256, 176},
	Q6_K: {"Q6_K", 256, 210},
}

func (t Type) String() string {
	if l, ok := layouts[t]; ok {
		return l.name
	}
	return fmt.Sprintf("type %d", uint32(t))
}

// BlockSize is the number of weights in one block of t (1 for F32, F16, BF16), 0 for
// a type this package does not write.
func (t Type) BlockSize() int { return layouts[t].block }

// RowBytes returns the size of a row of n weights in t. n must be a positive
// multiple of t's block size.
func RowBytes(t Type, n int) (int, error) {
	l, ok := layouts[t]
	if !ok {
		return 0, fmt.Errorf("quantize: %v is not a type this package writes", t)
	}
	if n <= 0 || n%l.block != 0 {
		return 0, fmt.Errorf("quantize: a %v row of %d weights: the length must be a positive multiple of %d", t, n, l.block)
	}
	return n / l.block * l.size, nil
}
