package sample

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/inferpi/inferpi/engine"
)

// The oracle's rng_check: run.c's first ten random_u32 and random_f32 per seed.
func TestRNGMatchesRunC(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/llama-tiny/oracle.json")
	if err != nil {
		t.Fatal(err)
	}
	var oracle struct {
		RNGCheck []struct {
			Seed uint64    `json:"seed"`
			U32  []uint32  `json:"random_u32_first10"`
			F32  []float32 `json:"random_f32_first10"`
		} `json:"rng_check"`
	}
	if err := json.Unmarshal(raw, &oracle); err != nil {
		t.Fatal(err)
	}
	if len(oracle.RNGCheck) == 0 {
		t.Fatal("oracle has no rng_check")
	}
	for _, c := range oracle.RNGCheck {
		r := NewRNG(c.Seed)
		for i, want := range c.U32 {
			if got := r.U32(); got != want {
				t.Fatalf("seed %d: random_u32 #%d = %d, want %d", c.Seed, i, got, want)
			}
		}
		// random_f32 runs on a fresh generator in the oracle.
		r = NewRNG(c.Seed)
		for i, want := range c.F32 {
			if got := r.F32(); got != want {
				t.Fatalf("seed %d: random_f32 #%d = %.9g, want %.9g", c.Seed, i, got, want)
			}
		}
	}
}

func TestArgmaxTakesLowestIndexOfMaximum(t *testing.T) {
	if got := Argmax([]float32{1, 3, 2, 3}); got != 1 {
		t.Fatalf("Argmax = %d, want 1", got)
	}
}

func TestGreedyDoesNotDrawCoins(t *testing.T) {
	s := New(engine.Sampling{Seed: 7})
	for i := 0; i < 3; i++ {
		if got := s.Next([]float32{0, 5, 1}, nil); got != 1 {
			t.Fatalf("greedy picked %d, want 1", got)
		}
	}
	if got, want := s.rng.U32(), NewRNG(7).U32(); got != want {
		t.Fatalf("greedy moved the RNG: next u32 %d, fresh %d", got, want)
	}
}

// coinsFor returns the first n coins a sampler with this seed draws.
func coinsFor(seed uint64, n int) []float32 {
	r := NewRNG(seed)
	c := make([]float32, n)
	for i := range c {
		c[i] = r.F32()
	}
	return c
}

// logitsFor gives logits whose softmax at temperature 1 is (close to) probs.
func logitsFor(probs ...float64) []float32 {
	l := make([]float32, len(probs))
	for i, p := range probs {
		l[i] = float32(math.Log(p))
	}
	return l
}

func TestMultinomialWalksIDsInOrder(t *testing.T) {
	// Seed 7's first coins are 0.820, 0.928, 0.089, 0.108: with probabilities
	// 0.1, 0.2, 0.3, 0.4 (cdf 0.1, 0.3, 0.6, 1.0) they pick 3, 3, 0, 1.
	s := New(engine.Sampling{Temperature: 1, Seed: 7})
	want := []int{3, 3, 0, 1}
	for i, w := range want {
		if got := s.Next(logitsFor(0.1, 0.2, 0.3, 0.4), nil); got != w {
			t.Fatalf("draw %d (coin %.3f): got %d, want %d", i, coinsFor(7, 4)[i], got, w)
		}
	}
}

func TestTopPKeepsNucleusSortedByProbability(t *testing.T) {
	// probs 0.05, 0.5, 0.15, 0.3; sorted: 1 (0.5), 3 (0.3), 2 (0.15), 0 (0.05).
	// topp 0.7: sums 0.5, 0.8 > 0.7 so ids 1 and 3 are kept, mass 0.8.
	// r = coin*0.8; id 1 if r < 0.5, else id 3.
	s := New(engine.Sampling{Temperature: 1, TopP: 0.7, Seed: 42})
	for i, coin := range coinsFor(42, 6) {
		want := 1
		if coin*0.8 >= 0.5 {
			want = 3
		}
		if got := s.Next(logitsFor(0.05, 0.5, 0.15, 0.3), nil); got != want {
			t.Fatalf("draw %d (coin %.3f): got %d, want %d", i, coin, got, want)
		}
	}
}

func TestTopKLimitsCandidates(t *testing.T) {
	s := New(engine.Sampling{Temperature: 1, TopK: 2, Seed: 7})
	counts := map[int]int{}
	for i := 0; i < 200; i++ {
		counts[s.Next(logitsFor(0.3, 0.1, 0.35, 0.25), nil)]++
	}
	if counts[1] != 0 || counts[3] != 0 || counts[0] == 0 || counts[2] == 0 {
		t.Fatalf("top-k 2 should pick only ids 0 and 2, got %v", counts)
	}
	// top-k 1 is greedy whatever the coin.
	s = New(engine.Sampling{Temperature: 1, TopK: 1, Seed: 7})
	for i := 0; i < 20; i++ {
		if got := s.Next(logitsFor(0.3, 0.1, 0.35, 0.25), nil); got != 2 {
			t.Fatalf("top-k 1 picked %d, want 2", got)
		}
	}
}

func TestTopKWithTopP(t *testing.T) {
	// k=3 keeps 0.4, 0.3, 0.2 (mass 0.9); topp 0.5 of that is 0.45: 0.4, then 0.7 > 0.45,
	// so ids 3 and 2 are kept.
	s := New(engine.Sampling{Temperature: 1, TopK: 3, TopP: 0.5, Seed: 42})
	for i := 0; i < 50; i++ {
		got := s.Next(logitsFor(0.1, 0.2, 0.3, 0.4), nil)
		if got != 3 && got != 2 {
			t.Fatalf("draw %d picked %d, want 2 or 3", i, got)
		}
	}
}

func TestRepetitionPenalty(t *testing.T) {
	// Token 0 leads by a little; penalising it (it is in the last 2 ids) hands the
	// argmax to token 1. Token 0 outside the window is not penalised.
	s := New(engine.Sampling{RepeatPenalty: 1.3, RepeatLastN: 2})
	if got := s.Next([]float32{2, 1.8, -1}, []int{2, 0, 0}); got != 1 {
		t.Fatalf("penalised argmax = %d, want 1", got)
	}
	if got := s.Next([]float32{2, 1.8, -1}, []int{0, 2, 2}); got != 0 {
		t.Fatalf("argmax with 0 outside the window = %d, want 0", got)
	}
	// Negative logits are multiplied (pushed further down), each id once.
	l := []float32{-1, 0.5, 2}
	s.penalize(l, []int{0, 0, 2}, 2)
	if l[0] != -2 || l[1] != 0.5 || l[2] != 1 {
		t.Fatalf("penalised logits %v, want [-2 0.5 1]", l)
	}
	// Off by default: the same history changes nothing.
	s = New(engine.Sampling{})
	if got := s.Next([]float32{2, 1.8, -1}, []int{0, 0}); got != 0 {
		t.Fatalf("argmax without penalty = %d, want 0", got)
	}
}

func TestSameSeedSameTokens(t *testing.T) {
	cfg := engine.Sampling{Temperature: 0.9, TopP: 0.95, Seed: 1234}
	a, b := New(cfg), New(cfg)
	for i := 0; i < 100; i++ {
		x, y := a.Next(logitsFor(0.2, 0.2, 0.3, 0.3), nil), b.Next(logitsFor(0.2, 0.2, 0.3, 0.3), nil)
		if x != y {
			t.Fatalf("draw %d differs: %d vs %d", i, x, y)
		}
	}
}

func TestDegenerateInputsDoNotPanic(t *testing.T) {
	nan := float32(math.NaN())
	for _, cfg := range []engine.Sampling{{Temperature: 1, TopP: 0.9, Seed: 1}, {Temperature: 1, TopK: 2, Seed: 1}, {Temperature: 1, Seed: 1}} {
		s := New(cfg)
		for _, l := range [][]float32{{1}, {nan, nan, nan}} {
			if got := s.Next(append([]float32(nil), l...), nil); got < 0 || got >= len(l) {
				t.Fatalf("%+v on %v: id %d out of range", cfg, l, got)
			}
		}
	}
}
