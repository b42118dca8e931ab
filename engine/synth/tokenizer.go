package synth

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/inferpi/inferpi/engine/tokenizer/bpe"
	"github.com/inferpi/inferpi/engine/tokenizer/llama2c"
)

// Tokenizers of the right size for the random models, so that chat and bench load
// them. Their tokens are made by merging pairs of earlier tokens (as BPE training
// does), drawn from lower-case letters with or without a leading space, so text
// encodes into a realistic number of tokens; what they mean is irrelevant.

// mergedPieces returns n distinct strings, each the concatenation of two strings
// made before it (starting from base), word-like: letters, with an optional
// leading space only on the left part.
func mergedPieces(base []string, n int, rng *rand.Rand) []string {
	seen := map[string]bool{}
	for _, b := range base {
		seen[b] = true
	}
	var out []string
	words := []string{}     // pieces usable on the left: " x..." or "x..."
	fragments := []string{} // pieces usable on the right: letters only
	for c := 'a'; c <= 'z'; c++ {
		words = append(words, string(c), " "+string(c))
		fragments = append(fragments, string(c))
	}
	for _, w := range words {
		if !seen[w] && len(out) < n {
			seen[w] = true
			out = append(out, w)
		}
	}
	for len(out) < n {
		// Favour short, early pieces, as frequent merges come first in real vocabularies.
		l := words[int(float64(len(words))*math.Pow(rng.Float64(), 2))]
		r := fragments[int(float64(len(fragments))*math.Pow(rng.Float64(), 2))]
		s := l + r
		if len(s) > 16 || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
		words = append(words, s)
		if s[0] != ' ' {
			fragments = append(fragments, s)
		}
	}
	return out
}

// nanochatTokenizer is a tokenizer.bin for the GPT engine with vocab tokens: the
// 256 bytes, merged pieces, and nanochat's special tokens last.
func nanochatTokenizer(vocab int, seed uint64) ([]byte, error) {
	nMerge := vocab - len(nanochatSpecials)
	if nMerge < 256 {
		return nil, fmt.Errorf("synth: a vocabulary of %d leaves no room for the 256 byte tokens", vocab)
	}
	ranks := make([][]byte, 0, nMerge)
	var base []string
	for b := range 256 {
		ranks = append(ranks, []byte{byte(b)})
		base = append(base, string([]byte{byte(b)}))
	}
	for _, p := range mergedPieces(base, nMerge-256, rand.New(rand.NewPCG(seed, 0xB9E))) {
		ranks = append(ranks, []byte(p))
	}
	specials := make([]bpe.Special, len(nanochatSpecials))
	for i, s := range nanochatSpecials {
		specials[i] = bpe.Special{Text: s, ID: nMerge + i}
	}
	tok, err := bpe.New(ranks, specials, bpe.NanochatPattern)
	if err != nil {
		return nil, err
	}
	return tok.MarshalBinary()
}

// llamaPieces are the tokens of the Llama presets' vocabulary of vocab tokens and
// their scores: <unk>, BOS and EOS (as llama2.c's tokenizer.bin spells them, "\n<s>\n"
// and "\n</s>\n"), the 256 byte tokens <0x00>..<0xFF>, the printable ASCII
// characters, then merged pieces with falling scores (run.c merges the
// best-scoring pair first).
func llamaPieces(vocab int, seed uint64) ([]string, []float32) {
	pieces := []string{"<unk>", "\n<s>\n", "\n</s>\n"}
	for b := range 256 {
		pieces = append(pieces, fmt.Sprintf("<0x%02X>", b))
	}
	for c := byte(' '); c <= '~'; c++ {
		pieces = append(pieces, string(c))
	}
	if len(pieces) < vocab {
		pieces = append(pieces, mergedPieces(pieces, vocab-len(pieces), rand.New(rand.NewPCG(seed, 0x11A)))...)
	}
	pieces = pieces[:vocab]
	scores := make([]float32, vocab)
	for i := 3 + 256; i < vocab; i++ {
		scores[i] = -float32(i)
	}
	return pieces, scores
}

// llamaTokenizer is llamaPieces as a llama2.c tokenizer.bin.
func llamaTokenizer(vocab int, seed uint64) []byte {
	return llama2c.Marshal(llamaPieces(vocab, seed))
}
