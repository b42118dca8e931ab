package sample

// RNG is run.c's random number generator: xorshift64* over a 64-bit state.
// The seed is the state itself, with no hashing or warm-up, exactly as run.c's
// `rng_state = seed`, so a seed given to run.c's -s gives the same numbers here.
type RNG struct{ state uint64 }

// NewRNG starts the generator at seed. A zero state would stay zero forever, so
// callers pick a non-zero seed (Sampler replaces 0 by the clock, as run.c does).
func NewRNG(seed uint64) *RNG { return &RNG{state: seed} }

// U32 is run.c's random_u32: xorshift (12, 25, 27) then the upper 32 bits of the
// product with 0x2545F4914F6CDD1D (Vigna's xorshift64*).
func (r *RNG) U32() uint32 {
	r.state ^= r.state >> 12
	r.state ^= r.state << 25
	r.state ^= r.state >> 27
	return uint32((r.state * 0x2545F4914F6CDD1D) >> 32)
}

// F32 is run.c's random_f32: 24 random bits scaled into [0, 1).
func (r *RNG) F32() float32 { return float32(r.U32()>>8) / 16777216.0 }
