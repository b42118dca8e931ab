// Package sample chooses the next token from a model's logits.
//
// Its core is llama2.c run.c's sampler, reproduced operation for operation so that
// a run.c seed gives the same tokens: argmax for temperature 0, otherwise
// temperature, float32 softmax, one coin from run.c's xorshift64* generator, then
// either a multinomial walk over all ids or run.c's top-p (nucleus) selection.
// InferPi adds top-k and a repetition penalty, both off by default; when they are
// off nothing about run.c's path changes.
//
// Order of operations in Next, for each generated token:
//
//  1. Repetition penalty (only if RepeatPenalty > 0 and != 1): every distinct id in
//     the last RepeatLastN entries of history (all of history if RepeatLastN <= 0)
//     has its logit divided by the penalty when positive, multiplied when negative
//     (llama.cpp's rule). The logits slice is modified in place.
//  2. Temperature 0: return the lowest index holding the largest logit. No coin is
//     drawn, so the generator's state does not move.
//  3. Divide every logit by the temperature (float32), softmax in float32 (subtract
//     the maximum, exp, sum from index 0 upward, divide by the sum).
//  4. Draw exactly one coin = random_f32.
//  5. Top-k off (TopK <= 0 or >= vocab size):
//     a. top-p off (TopP <= 0 or >= 1): walk ids 0, 1, ... adding probabilities into
//     a float32 sum; pick the first id where coin < sum (the last id if none).
//     b. top-p on: run.c's sample_topp: cutoff = (1-topp)/(n-1); keep ids with
//     prob >= cutoff; sort by probability, largest first; add them in that order
//     until the sum exceeds topp (that id is kept); r = coin * kept sum; walk the
//     kept ids in order and pick the first where r < running sum (the last kept if none).
//  6. Top-k on: the k most probable ids, largest first (equal probabilities: lower id
//     first); with top-p on, keep them until their running sum exceeds topp times
//     their total (the ids beyond k do not count); then r = coin * kept sum and walk
//     as in 5b.
//
// run.c sorts with qsort, which is not stable; here equal probabilities are ordered
// by id, so results agree whenever run.c's order is determined.
package sample

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
)

// Sampler picks tokens with fixed settings and its own random state.
type Sampler struct {
	cfg  engine.Sampling
	rng  *RNG
	cand []candidate // scratch for top-p/top-k, grown once to the vocabulary size
	seen map[int]bool
}

type candidate struct {
	id   int
	prob float32
}

// New returns a sampler for s. Seed 0 means "from the clock" (ClockSeed), as in run.c.
func New(s engine.Sampling) *Sampler {
	seed := s.Seed
	if seed == 0 {
		seed = ClockSeed()
	}
	return &Sampler{cfg: s, rng: NewRNG(seed)}
}

// ClockSeed is a seed taken from the clock, never 0 (the generator's all-zero
// state never leaves zero). Front ends pick one with it for a random seed they
// can show, so that a reply can be repeated.
func ClockSeed() uint64 { return uint64(time.Now().UnixNano()) | 1 }

// Settings are the sampler's settings as given to New.
func (s *Sampler) Settings() engine.Sampling { return s.cfg }

// Next chooses a token from logits (which it may overwrite). history holds the
// recent token ids, oldest first; only the repetition penalty reads it.
func (s *Sampler) Next(logits []float32, history []int) int {
	if p := s.cfg.RepeatPenalty; p > 0 && p != 1 {
		s.penalize(logits, history, p)
	}
	if s.cfg.Temperature == 0 {
		return Argmax(logits)
	}
	for i := range logits {
		logits[i] /= s.cfg.Temperature
	}
	Softmax(logits)
	coin := s.rng.F32()
	topp := s.cfg.TopP
	if k := s.cfg.TopK; k > 0 && k < len(logits) {
		return s.topK(logits, k, topp, coin)
	}
	if topp <= 0 || topp >= 1 {
		return multinomial(logits, coin)
	}
	return s.topP(logits, topp, coin)
}

func (s *Sampler) penalize(logits []float32, history []int, penalty float32) {
	if n := s.cfg.RepeatLastN; n > 0 && len(history) > n {
		history = history[len(history)-n:]
	}
	if s.seen == nil {
		s.seen = make(map[int]bool)
	}
	clear(s.seen)
	for _, id := range history {
		if id < 0 || id >= len(logits) || s.seen[id] {
			continue
		}
		s.seen[id] = true
		if logits[id] > 0 {
			logits[id] /= penalty
		} else {
			logits[id] *= penalty
		}
	}
}

// Argmax is the lowest index holding the largest value (run.c's sample_argmax),
// with SIMD kernels (kernels.Argmax): greedy decoding runs it over the whole
// vocabulary for every token.
func Argmax(x []float32) int { return kernels.Argmax(x) }

// Softmax turns x into probabilities in place, in float32 as run.c does.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	max := x[0]
	for _, v := range x[1:] {
		if v > max {
			max = v
		}
	}
	var sum float32
	for i, v := range x {
		e := float32(math.Exp(float64(v - max)))
		x[i] = e
		sum += e
	}
	for i := range x {
		x[i] /= sum
	}
}

// multinomial is run.c's sample_mult.
func multinomial(probs []float32, coin float32) int {
	var cdf float32
	for i, p := range probs {
		cdf += p
		if coin < cdf {
			return i
		}
	}
	return len(probs) - 1
}

// topP is run.c's sample_topp.
func (s *Sampler) topP(probs []float32, topp, coin float32) int {
	// Ids below the cutoff cannot be in the nucleus: with n-1 others each at most
	// cutoff, they sum to at most 1-topp. Dropping them first keeps the sort short.
	cutoff := (1 - topp) / float32(len(probs)-1)
	cand := s.cand[:0]
	for i, p := range probs {
		if p >= cutoff {
			cand = append(cand, candidate{i, p})
		}
	}
	s.cand = cand
	if len(cand) == 0 { // only with NaN logits or a one-token vocabulary
		return Argmax(probs)
	}
	sortByProb(cand)
	return pickNucleus(cand, topp, coin)
}

// topK keeps the k most probable ids, then applies top-p within them.
func (s *Sampler) topK(probs []float32, k int, topp, coin float32) int {
	// Insertion into a short sorted list: most ids lose to the k-th best at once,
	// so this is one pass over the vocabulary instead of sorting all of it.
	cand := s.cand[:0]
	for i, p := range probs {
		if len(cand) == k && !(p > cand[k-1].prob) {
			continue
		}
		if len(cand) < k {
			cand = append(cand, candidate{})
		}
		j := len(cand) - 1
		for j > 0 && p > cand[j-1].prob {
			cand[j] = cand[j-1]
			j--
		}
		cand[j] = candidate{i, p}
	}
	s.cand = cand
	if len(cand) == 0 {
		return Argmax(probs)
	}
	var mass float32
	for _, c := range cand {
		mass += c.prob
	}
	if topp <= 0 || topp >= 1 {
		topp = 1
	}
	return pickNucleus(cand, topp*mass, coin)
}

// pickNucleus keeps the sorted candidates up to the first whose running sum exceeds
// limit, then picks one with the coin scaled to the kept mass.
func pickNucleus(cand []candidate, limit, coin float32) int {
	var sum float32
	last := len(cand) - 1
	for i, c := range cand {
		sum += c.prob
		if sum > limit {
			last = i
			break
		}
	}
	r := coin * sum
	var cdf float32
	for i := 0; i <= last; i++ {
		cdf += cand[i].prob
		if r < cdf {
			return cand[i].id
		}
	}
	return cand[last].id
}

// sortByProb orders candidates largest probability first, equal ones by id.
func sortByProb(c []candidate) {
	slices.SortFunc(c, func(a, b candidate) int {
		switch {
		case a.prob > b.prob:
			return -1
		case a.prob < b.prob:
			return 1
		}
		return cmp.Compare(a.id, b.id)
	})
}
