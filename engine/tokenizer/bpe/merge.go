package bpe

import "math"

// merge appends the ids of one piece that is not itself a token, merging as
// tiktoken's byte_pair_merge does: start from single bytes and repeatedly join
// the adjacent pair whose joined bytes have the lowest rank (the leftmost such
// pair on ties), until no adjacent pair's bytes form a token.
//
// Each merge rescans the pairs, O(n²) in the piece's length like tiktoken; pieces
// are words, numbers or runs of spaces, so they are short.
func (t *Tokenizer) merge(dst []int, piece string) []int {
	const none = math.MaxInt
	// bounds[k] is where part k starts; the last entry is len(piece).
	var small [64]int
	bounds := small[:0]
	for i := 0; i <= len(piece); i++ {
		bounds = append(bounds, i)
	}
	// pairRank[k] is the rank of parts k and k+1 joined, or none.
	var smallRanks [64]int
	pairRank := smallRanks[:0]
	rank := func(k int) int {
		if k+2 >= len(bounds) {
			return none
		}
		if r, ok := t.ranks[piece[bounds[k]:bounds[k+2]]]; ok {
			return r
		}
		return none
	}
	for k := 0; k+1 < len(bounds); k++ {
		pairRank = append(pairRank, rank(k))
	}
	for {
		best, bestRank := -1, none
		for k, r := range pairRank[:len(pairRank)-1] {
			if r < bestRank {
				best, bestRank = k, r
			}
		}
		if best < 0 {
			break
		}
		// Join parts best and best+1: drop the boundary between them.
		bounds = append(bounds[:best+1], bounds[best+2:]...)
		pairRank = append(pairRank[:best+1], pairRank[best+2:]...)
		pairRank[best] = rank(best)
		if best > 0 {
			pairRank[best-1] = rank(best - 1)
		}
	}
	for k := 0; k+1 < len(bounds); k++ {
		dst = append(dst, t.ranks[piece[bounds[k]:bounds[k+1]]])
	}
	return dst
}
