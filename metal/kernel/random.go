package kernel

// getrandom: from the RNG200 where it exists (a real Pi 4). QEMU's raspi4b and virt
// have none, so there the bytes come from a ChaCha-style mixer over a state seeded
// with timer jitter: unpredictable enough for hash seeds and math/rand, not for
// secrets, and the boot log says so.

var rngState [4]uint64

func mix(x uint64) uint64 { // splitmix64 finaliser
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func seedRandom() {
	for i := range rngState {
		v := counter()
		for j := 0; j < 64; j++ {
			// The low bits of the counter around uncached device reads jitter.
			jitterSource()
			v = v<<7 ^ v>>57 ^ counter()
		}
		rngState[i] = mix(v + uint64(i))
	}
}

func nextRandom() uint64 {
	if w1, ok := randomWord(); ok {
		if w2, ok := randomWord(); ok {
			return uint64(w1)<<32 | uint64(w2)
		}
	}
	s := &rngState
	s[0] += 0x9e3779b97f4a7c15 ^ counter()
	s[1] = mix(s[1] ^ s[0])
	s[2] += s[1]<<13 | s[1]>>51
	s[3] ^= mix(s[2])
	return s[3] ^ s[1]
}

func fillRandom(b []byte) {
	for i := 0; i < len(b); i += 8 {
		v := nextRandom()
		for j := 0; j < 8 && i+j < len(b); j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
}

func sysGetrandom(c *percore, t *thread) uint64 {
	buf, n := uintptr(t.ctx.x[0]), uintptr(t.ctx.x[1])
	if n > 1<<20 {
		n = 1 << 20
	}
	if n == 0 {
		return 0
	}
	if !userOK(buf, n) {
		return errno(EFAULT)
	}
	fillRandom(bytesAt(buf, n))
	return uint64(n)
}
