package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestKVCacheAttendsLikeOneStretch: attention over a cache held in chunks gives
// every query head exactly Attend's output over the same keys and values in one
// stretch, with the reference kernels and this machine's, fp16 and fp32, over head
// sizes with and without the kernels' tails, chunks of 4 to more than the
// positions, stretches that start and end inside a chunk or at its edges (a
// sliding window's, whose groups of four keys straddle chunks).
func TestKVCacheAttendsLikeOneStretch(t *testing.T) {
	rng := rand.New(rand.NewPCG(68, 69))
	defer func(k *impl) { kern = k }(kern)
	const layers, heads, capacity = 2, 3, 301
	for _, ref := range []bool{true, false} {
		UseReference(ref)
		for _, enc := range []Encoding{F16, F32} {
			for _, hd := range []int{64, 40, 6} {
				// Every (layer, head)'s keys and values, position after position.
				keys, values := NewKV(layers*heads*capacity*hd, enc), NewKV(layers*heads*capacity*hd, enc)
				keys.Store(0, randVec(rng, keys.Len(), 1))
				values.Store(0, randVec(rng, values.Len(), 1))
				stretch := func(kv KV, l, h, first, n int) KV {
					at := ((l*heads+h)*capacity + first) * hd
					return kv.Slice(at, at+n*hd)
				}
				q := [3][]float32{randVec(rng, hd, 1), randVec(rng, hd, 1), randVec(rng, hd, 1)}
				scale := float32(1 / math.Sqrt(float64(hd)))
				for _, chunk := range []int{4, 12, 128, 512} {
					c := NewKVCache(layers, heads, hd, capacity, chunk, enc)
					if c.Bytes() != 0 || c.Allocated() != 0 {
						t.Fatalf("an empty cache holds %d bytes, %d positions", c.Bytes(), c.Allocated())
					}
					c.Reserve(capacity)
					k, v := make([]float32, hd), make([]float32, hd)
					for l := range layers {
						for h := range heads {
							for p := range capacity {
								stretch(keys, l, h, p, 1).Load(0, k)
								stretch(values, l, h, p, 1).Load(0, v)
								c.Store(l, h, p, k, v)
							}
						}
					}
					if want := int64(capacity) * 2 * KVBytes(int64(layers*heads*hd), enc); c.Bytes() != want || c.ScratchBytes() != KVScoresBytes(capacity, hd, enc) {
						t.Fatalf("a full cache holds %d bytes and %d of scratch, want %d and %d", c.Bytes(), c.ScratchBytes(), want, KVScoresBytes(capacity, hd, enc))
					}
					for _, span := range [][2]int{{0, 1}, {0, 7}, {0, 128}, {0, 301}, {8, 150}, {200, 101}, {1, 5}, {3, 200}, {126, 9}, {130, 171}, {299, 2}} {
						first, n := span[0], span[1]
						for l := range layers {
							for h := range heads {
								var got [3][]float32
								for i := range got {
									got[i] = make([]float32, hd)
								}
								c.AttendHeads(l, h, first, n, 0, 3, scale, func(i int) (out, qi []float32) { return got[i], q[i] })
								for i := range 3 {
									want, scores := make([]float32, hd), make([]float32, n)
									Attend(want, q[i], stretch(keys, l, h, first, n), stretch(values, l, h, first, n), scores, scale)
									for j := range want {
										if math.Float32bits(got[i][j]) != math.Float32bits(want[j]) {
											t.Fatalf("reference %v, %v, hd=%d, chunks of %d, positions %d..%d of layer %d head %d: query %d out[%d] = %v, in one stretch %v",
												ref, enc, hd, chunk, first, first+n-1, l, h, i, j, got[i][j], want[j])
										}
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestKVCacheGrows: chunks are allocated when positions are reserved, the last
// one only up to the capacity, and the scratch grows with them, to the size
// KVScoresBytes says once full.
func TestKVCacheGrows(t *testing.T) {
	per := 2 * KVBytes(2*3*8, F16)
	c := NewKVCache(2, 3, 8, 300, 128, F16)
	for _, s := range []struct{ reserve, allocated int }{{1, 128}, {128, 128}, {129, 256}, {2, 256}, {300, 300}} {
		c.Reserve(s.reserve)
		if c.Allocated() != s.allocated || c.Bytes() != int64(s.allocated)*per {
			t.Errorf("after reserving %d: %d positions, %d bytes; want %d, %d", s.reserve, c.Allocated(), c.Bytes(), s.allocated, int64(s.allocated)*per)
		}
		if n := c.ScratchBytes(); n < KVScoresBytes(s.allocated, 8, F16) || n > KVScoresBytes(300, 8, F16) {
			t.Errorf("after reserving %d: %d bytes of scratch, want %d to %d", s.reserve, n, KVScoresBytes(s.allocated, 8, F16), KVScoresBytes(300, 8, F16))
		}
	}
	if c.ScratchBytes() != KVScoresBytes(300, 8, F16) {
		t.Errorf("a full cache has %d bytes of scratch, want %d", c.ScratchBytes(), KVScoresBytes(300, 8, F16))
	}
	defer func() {
		if recover() == nil {
			t.Fatal("reserving past the capacity did not panic")
		}
	}()
	c.Reserve(301)
}

// BenchmarkKVCacheAttend is one kv head's attention (two query heads of 64) over
// n positions of a cache in chunks of KVChunk positions, against AttendHeads over
// the same positions in one stretch: what reading the cache chunk after chunk
// costs.
func BenchmarkKVCacheAttend(b *testing.B) {
	rng := rand.New(rand.NewPCG(70, 71))
	const hd = 64
	for _, enc := range []Encoding{F32, F16} {
		for _, n := range []int{64, 1000} {
			c := NewKVCache(1, 1, hd, n, KVChunk, enc)
			c.Reserve(n)
			keys, values := NewKV(n*hd, enc), NewKV(n*hd, enc)
			keys.Store(0, randVec(rng, n*hd, 1))
			values.Store(0, randVec(rng, n*hd, 1))
			k, v := make([]float32, hd), make([]float32, hd)
			for p := range n {
				keys.Load(p*hd, k)
				values.Load(p*hd, v)
				c.Store(0, 0, p, k, v)
			}
			q := [2][]float32{randVec(rng, hd, 1), randVec(rng, hd, 1)}
			out := [2][]float32{make([]float32, hd), make([]float32, hd)}
			scores := [2][]float32{make([]float32, n), make([]float32, n)}
			b.Run(fmt.Sprintf("%v/n=%d/stretch", enc, n), func(b *testing.B) {
				for b.Loop() {
					AttendHeads(0, 2, keys, values, 0.125, func(h int) (o, qh, s []float32) { return out[h], q[h], scores[h] })
				}
			})
			b.Run(fmt.Sprintf("%v/n=%d/chunks", enc, n), func(b *testing.B) {
				for b.Loop() {
					c.AttendHeads(0, 0, 0, n, 0, 2, 0.125, func(h int) (o, qh []float32) { return out[h], q[h] })
				}
			})
		}
	}
}
