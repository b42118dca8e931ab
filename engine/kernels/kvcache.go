package kernels

import (
	"fmt"
	"runtime"
	"sync/atomic"
)

// KVChunk is how many positions a KVCache allocates at a time (the last chunk
// only up to its capacity). A conversation of a few tokens takes one chunk, whatever
// context the session may reach; a chunk's kernel calls (two per head and chunk)
// cost little against 256 positions of attention.
const KVChunk = 256

// KVCache is a session's attention cache: the keys and values of every layer and
// key/value head, held in chunks of positions that are allocated when a position
// of theirs is first used. Memory then follows the conversation: hosted a large
// allocation costs only the pages touched, but the firmware's heap commits every
// page the Go runtime maps, so an allocation for the whole context would take
// the whole context's memory at once.
//
// Chunk c holds positions [c·chunk, (c+1)·chunk) as [layer][head][position]
// [head size] (the last chunk only up to the capacity): within a chunk each head's
// keys and values are one sequential stream for the prefetchers, and attention
// reads a head's positions chunk after chunk with the bits of one stretch
// (Attend): the scores kernels take the keys in the groups of four a stretch
// would give them (a group that straddles two chunks is copied together first),
// and the weighted sums continue from one chunk to the next in order. Each chunk
// is advised into huge pages where it spans whole ones (NewKV).
type KVCache struct {
	enc                     Encoding
	layers, heads, headSize int
	chunk, capacity         int
	keys, values            []KV // one per allocated chunk

	// scores are attention's scratch, two rows of the allocated positions per
	// slot (AttendHeads runs two query heads at a time), and group four keys a
	// group that straddles two chunks gathers; a call claims a slot, and there are
	// as many as cores run kernels at once.
	scores [][]float32
	group  []KV
	busy   []paddedFlag
}

// paddedFlag keeps each slot's flag on a cache line of its own.
type paddedFlag struct {
	atomic.Bool
	_ [63]byte
}

// NewKVCache makes an empty cache of up to capacity positions of layers x heads
// x headSize values each, in enc (F32 or F16), allocated chunk positions at a
// time (chunk > 0 and a multiple of 4; KVChunk unless a test says otherwise).
func NewKVCache(layers, heads, headSize, capacity, chunk int, enc Encoding) *KVCache {
	if enc != F32 && enc != F16 {
		panic("kernels: a KV cache holds fp32 or fp16, not " + enc.String())
	}
	if layers <= 0 || heads <= 0 || headSize <= 0 || capacity <= 0 || chunk <= 0 || chunk%4 != 0 {
		panic(fmt.Sprintf("kernels: KV cache of %d layers, %d heads of %d, %d positions in chunks of %d", layers, heads, headSize, capacity, chunk))
	}
	c := &KVCache{enc: enc, layers: layers, heads: heads, headSize: headSize, chunk: chunk, capacity: capacity,
		busy: make([]paddedFlag, scoreSlots())}
	c.group = make([]KV, len(c.busy))
	for i := range c.group {
		c.group[i] = KV{enc: enc}
		if enc == F16 {
			c.group[i].f16 = make([]uint16, 4*headSize)
		} else {
			c.group[i].f32 = make([]float32, 4*headSize)
		}
	}
	return c
}

// scoreSlots is how many attention calls may run at once: one per core the
// kernels use (the default pool's, or the one it will have when started).
func scoreSlots() int {
	if p := defaultPool.Load(); p != nil {
		return max(p.Workers(), 1)
	}
	return max(runtime.GOMAXPROCS(0), 1)
}

// KVScoresBytes is the attention scratch of a cache of capacity positions of
// heads of headSize values (in enc) once all are allocated: two rows of scores
// and a group of four keys per slot.
func KVScoresBytes(capacity, headSize int, enc Encoding) int64 {
	return int64(scoreSlots()) * (2*4*int64(capacity) + KVBytes(4*int64(headSize), enc))
}

// Encoding is F32 or F16.
func (c *KVCache) Encoding() Encoding { return c.enc }

// Heads is the number of key/value heads of a layer.
func (c *KVCache) Heads() int { return c.heads }

// HeadSize is the number of values of a head's key or value.
func (c *KVCache) HeadSize() int { return c.headSize }

// Capacity is how many positions the cache may hold.
func (c *KVCache) Capacity() int { return c.capacity }

// Allocated is how many positions have memory: whole chunks.
func (c *KVCache) Allocated() int { return min(len(c.keys)*c.chunk, c.capacity) }

// Bytes is the memory the cache's keys and values take now: its chunks. Once
// every position is allocated it is the capacity times the bytes of a position.
func (c *KVCache) Bytes() int64 {
	n := int64(0)
	for i := range c.keys {
		n += 2 * KVBytes(int64(c.chunkValues(i)), c.enc)
	}
	return n
}

// ScratchBytes is the memory attention's scratch takes now: at most
// KVScoresBytes of the capacity, which it reaches when the cache is full.
func (c *KVCache) ScratchBytes() int64 {
	n := int64(0)
	for _, s := range c.scores {
		n += 4 * int64(len(s))
	}
	for _, g := range c.group {
		n += KVBytes(int64(g.Len()), c.enc)
	}
	return n
}

// chunkLen is how many positions chunk i holds.
func (c *KVCache) chunkLen(i int) int { return min(c.chunk, c.capacity-i*c.chunk) }

func (c *KVCache) chunkValues(i int) int { return c.layers * c.heads * c.chunkLen(i) * c.headSize }

// Reserve makes positions [0, n) usable, allocating the chunks they need; it
// allocates nothing when they have memory already. n beyond the capacity is a
// caller's bug.
func (c *KVCache) Reserve(n int) {
	if n > c.capacity {
		panic(fmt.Sprintf("kernels: %d positions reserved in a KV cache of %d", n, c.capacity))
	}
	if n <= len(c.keys)*c.chunk {
		return
	}
	for len(c.keys)*c.chunk < n {
		i := len(c.keys)
		c.keys = append(c.keys, NewKV(c.chunkValues(i), c.enc))
		c.values = append(c.values, NewKV(c.chunkValues(i), c.enc))
	}
	// The scratch grows with the chunks, at least doubling, so the rows it drops
	// add up to less than it holds; their contents need not survive.
	if c.scores == nil {
		c.scores = make([][]float32, len(c.busy))
	}
	if rows := 2 * c.Allocated(); len(c.scores[0]) < rows {
		rows = min(max(rows, 2*len(c.scores[0])), 2*c.capacity)
		for i := range c.scores {
			c.scores[i] = make([]float32, rows)
		}
	}
}

// at is the chunk holding pos and the offset of (layer, head, pos) in it.
func (c *KVCache) at(layer, head, pos int) (chunk, off int) {
	chunk, p := pos/c.chunk, pos%c.chunk
	return chunk, ((layer*c.heads+head)*c.chunkLen(chunk) + p) * c.headSize
}

// Store puts the key k and value v of a head at position pos of layer (rounded to
// fp16 in an F16 cache). pos must be reserved.
func (c *KVCache) Store(layer, head, pos int, k, v []float32) {
	ch, off := c.at(layer, head, pos)
	c.keys[ch].Store(off, k[:c.headSize])
	c.values[ch].Store(off, v[:c.headSize])
}

// Load reads the key and value of a head at position pos of layer into k and v.
func (c *KVCache) Load(layer, head, pos int, k, v []float32) {
	ch, off := c.at(layer, head, pos)
	c.keys[ch].Load(off, k[:c.headSize])
	c.values[ch].Load(off, v[:c.headSize])
}

// AttendHeads is the package's AttendHeads for query heads lo..hi-1 over key/value
// head head of layer, positions first .. first+n-1: head(h) gives query head h's
// output and query, and the scores are the cache's scratch. Each head's results
// are exactly what Attend gives it over the same positions in one stretch. Calls
// for different heads may run in parallel.
func (c *KVCache) AttendHeads(layer, head, first, n, lo, hi int, scale float32, fn func(h int) (out, q []float32)) {
	if n <= 0 || first < 0 || first+n > c.Allocated() {
		panic(fmt.Sprintf("kernels: attention over positions %d..%d of a KV cache with %d allocated", first, first+n-1, c.Allocated()))
	}
	slot := c.claim()
	rows := c.scores[slot]
	s0, s1 := rows[:n], rows[len(rows)/2:len(rows)/2+n]
	h := lo
	for ; h+1 < hi; h += 2 {
		out0, q0 := fn(h)
		out1, q1 := fn(h + 1)
		if c.enc == F16 {
			c.attend2(out0, out1, q0, q1, s0, s1, layer, head, first, scale, c.group[slot])
			continue
		}
		c.attend(out0, q0, s0, layer, head, first, scale, c.group[slot])
		c.attend(out1, q1, s1, layer, head, first, scale, c.group[slot])
	}
	if h < hi {
		out, q := fn(h)
		c.attend(out, q, s0, layer, head, first, scale, c.group[slot])
	}
	c.busy[slot].Store(false)
}

// claim takes a free scratch slot. There is one per core the kernels run on, so
// the first pass finds one unless the pool grew after the cache was made.
func (c *KVCache) claim() int {
	for {
		for i := range c.busy {
			if !c.busy[i].Load() && c.busy[i].CompareAndSwap(false, true) {
				return i
			}
		}
		runtime.Gosched()
	}
}

// stretch is the part of a head's positions [p, end) that lies in p's chunk:
// keys and values from p, and how many positions.
func (c *KVCache) stretch(layer, head, p, end int) (keys, values KV, m int) {
	ch, off := c.at(layer, head, p)
	m = min(end, (ch+1)*c.chunk) - p
	hi := off + m*c.headSize
	return c.keys[ch].Slice(off, hi), c.values[ch].Slice(off, hi), m
}

// score sets the scores of query q0 (and q1 into s1, over an fp16 cache, when
// s1 is not nil) for the keys in k, whose values v the kernels prefetch.
func (c *KVCache) score(s0, s1, q0, q1 []float32, k, v KV) {
	switch {
	case s1 != nil:
		kern.scoresF16x2(s0, s1, k.f16, q0, q1, v.f16)
	case c.enc == F16:
		kern.scoresF16(s0, k.f16, q0, v.f16)
	default:
		kern.scores(s0, k.f32, q0, v.f32)
	}
}

// scoreAll runs score over positions [first, first+len(s0)) of a head in the
// kernels' groups of four keys from first, as over one stretch: where a group
// straddles two chunks, its keys are copied into group together.
func (c *KVCache) scoreAll(s0, s1, q0, q1 []float32, layer, head, first int, group KV) {
	end, hd := first+len(s0), c.headSize
	part := func(s []float32, lo, hi int) []float32 {
		if s == nil {
			return nil
		}
		return s[lo-first : hi-first]
	}
	for p := first; p < end; {
		k, v, m := c.stretch(layer, head, p, end)
		body := m
		if p+m < end {
			body = m &^ 3 // whole groups; the rest straddles into the next chunk
		}
		if body > 0 {
			c.score(part(s0, p, p+body), part(s1, p, p+body), q0, q1, k.Slice(0, body*hd), v)
			p += body
			continue
		}
		g := min(4, end-p)
		for i := range g {
			kc, _, _ := c.stretch(layer, head, p+i, p+i+1)
			copyKV(group, i*hd, kc)
		}
		c.score(part(s0, p, p+g), part(s1, p, p+g), q0, q1, group.Slice(0, g*hd), v)
		p += g
	}
}

// copyKV copies src into dst at values [at, at+src.Len()); both are in one encoding.
func copyKV(dst KV, at int, src KV) {
	if src.enc == F16 {
		copy(dst.f16[at:], src.f16)
	} else {
		copy(dst.f32[at:], src.f32)
	}
}

// attend is Attend over positions [first, first+len(scores)) of a head.
func (c *KVCache) attend(out, q, scores []float32, layer, head, first int, scale float32, group KV) {
	end, hd := first+len(scores), c.headSize
	c.scoreAll(scores, nil, q, nil, layer, head, first, group)
	scaledSoftmax(scores, scale)
	clear(out[:hd])
	for p := first; p < end; {
		_, v, m := c.stretch(layer, head, p, end)
		w := scores[p-first : p-first+m]
		if c.enc == F16 {
			kern.mixF16(out[:hd], v.f16, w)
		} else {
			kern.mix(out[:hd], v.f32, w)
		}
		p += m
	}
}

// attend2 is Attend2 over positions [first, first+len(s0)) of a head of an fp16 cache.
func (c *KVCache) attend2(out0, out1, q0, q1, s0, s1 []float32, layer, head, first int, scale float32, group KV) {
	end, hd := first+len(s0), c.headSize
	c.scoreAll(s0, s1, q0, q1, layer, head, first, group)
	scaledSoftmax(s0, scale)
	scaledSoftmax(s1, scale)
	clear(out0[:hd])
	clear(out1[:hd])
	for p := first; p < end; {
		_, v, m := c.stretch(layer, head, p, end)
		kern.mixF16x2(out0[:hd], out1[:hd], v.f16, s0[p-first:p-first+m], s1[p-first:p-first+m])
		p += m
	}
}
