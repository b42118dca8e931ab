package quantize

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkRow: MB/s of float32 input, one row of 4096 weights at a time (Qwen2.5-1.5B
// has 1.5e9 of them: 6 GB of float32).
func BenchmarkRow(b *testing.B) {
	x := randomRow(rand.New(rand.NewPCG(11, 12)), 4096, 0.02)
	for _, typ := range allTypes {
		b.Run(typ.String(), func(b *testing.B) {
			n, _ := RowBytes(typ, len(x))
			dst := make([]byte, n)
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				if err := Row(typ, dst, x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
