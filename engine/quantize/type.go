package quantize

import (
	"fmt"

	"github.com/inferpi/inferpi/engine/gguf"
)

// writable reports whether Row writes t.
func writable(t gguf.Type) bool {
	switch t {
	case gguf.F32, gguf.F16, gguf.BF16, gguf.Q8_0, gguf.Q4_0, gguf.Q4_1, gguf.Q5_0, gguf.Q5_1,
		gguf.Q4_K, gguf.Q5_K, gguf.Q6_K:
		return true
	}
	return false
}

// RowBytes returns the size of a row of n weights in t. t must be a type Row writes
// and n a positive multiple of its block size.
func RowBytes(t gguf.Type, n int) (int, error) {
	if !writable(t) {
		return 0, fmt.Errorf("quantize: %v is not a type this package writes", t)
	}
	size, ok := t.RowBytes(int64(n))
	if n <= 0 || !ok {
		return 0, fmt.Errorf("quantize: a %v row of %d weights: the length must be a positive multiple of %d", t, n, t.BlockSize())
	}
	return int(size), nil
}
