package vocab

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// A byte-level BPE vocabulary splits text into words before merging, with the
// regular expressions llama.cpp lists for its pre-tokenizer type
// (llama-vocab.cpp: llm_tokenizer_bpe), applied in order, each to the pieces the
// one before left (unicode.cpp: unicode_regex_split). llama.cpp runs the GPT-2 and
// Llama 3 expressions through hand-written splitters (unicode_regex_split_custom_gpt2
// and _llama3) and every other one through std::regex on a "collapsed" text in
// which each code point above 127 is one byte standing for its class. Go's regexp
// has no look-ahead, so each expression is a small function here: the two
// hand-written splitters as llama.cpp writes them, the others as std::regex
// (ECMAScript: the first alternative that matches, greedy) finds its matches.
// The text between two matches of an expression is a piece of its own.

// A stage is one regular expression of a pre-tokenizer: it appends to ends the
// end of each piece it cuts cps[start:end] into.
type stage func(cps []rune, cls []uint8, start, end int, ends []int) []int

// preTokenizer is what a tokenizer.ggml.pre name selects in llama.cpp
// (llama_vocab::impl::load): the expressions, and the defaults that come with it.
type preTokenizer struct {
	stages       []stage
	ignoreMerges bool // a word that is a token is not merged (Llama 3)
	addBOS       bool // BOS by default
	cleanSpaces  bool // Detokenize removes spaces before punctuation
	noBOS        bool // no default BOS id (chatglm-bpe)
}

// The expressions this package implements, named after what they match.
var (
	gpt2Stage    stage = splitGPT2         // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
	llama3Stage  stage = splitLlama3(3)    // (?:'[sS]|...|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
	qwen2Stage   stage = splitLlama3(1)    // the same with \p{N} for \p{N}{1,3}
	digitStage   stage = matches(digit)    // \p{N}
	digitsStage  stage = matches(digits)   // \p{N}+
	punctStage   stage = matches(punct)    // [\p{P}\$\+<=>\^~\|]+
	triplesStage stage = matches(triple)   // [0-9][0-9][0-9]
	bloomStage   stage = matches(bloomRun) // " ?[^(\s|.,!?…。，、।۔،)]+"
)

// preTokenizers maps every tokenizer.ggml.pre name this package supports to
// llama.cpp's settings for it ("" is a file without the key, which llama.cpp
// reads as "default" with a warning).
var preTokenizers = func() map[string]preTokenizer {
	def := preTokenizer{stages: []stage{punctStage, gpt2Stage, digitsStage, triplesStage}, cleanSpaces: true}
	gpt2 := preTokenizer{stages: []stage{gpt2Stage}, cleanSpaces: true}
	llama3 := preTokenizer{stages: []stage{llama3Stage}, cleanSpaces: true}
	qwen2 := preTokenizer{stages: []stage{qwen2Stage}}
	digitsFirst := preTokenizer{stages: []stage{digitStage, gpt2Stage}, cleanSpaces: true}
	bloom := preTokenizer{stages: []stage{bloomStage}, cleanSpaces: true}
	m := map[string]preTokenizer{"": def, "default": def}
	set := func(p preTokenizer, names ...string) {
		for _, n := range names {
			m[n] = p
		}
	}
	// LLAMA_VOCAB_PRE_TYPE_LLAMA3: ignore_merges and BOS by default.
	set(preTokenizer{stages: llama3.stages, ignoreMerges: true, addBOS: true, cleanSpaces: true},
		"llama3", "llama-v3", "llama-bpe", "falcon3")
	set(llama3, "dbrx", "smaug-bpe")
	set(preTokenizer{stages: llama3.stages, cleanSpaces: true, noBOS: true}, "chatglm-bpe")
	set(gpt2, "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es",
		"jina-v2-de", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais")
	set(qwen2, "qwen2", "deepseek-r1-qwen")
	set(preTokenizer{stages: qwen2.stages, cleanSpaces: true}, "stablelm2", "megrez")
	set(digitsFirst, "starcoder", "refact", "codeshell", "exaone", "minerva-7b")
	set(preTokenizer{stages: digitsFirst.stages}, "smollm", "command-r")
	set(preTokenizer{stages: []stage{punctStage, gpt2Stage, triplesStage}, cleanSpaces: true}, "falcon")
	set(bloom, "bloom", "gpt3-finnish")
	set(preTokenizer{stages: bloom.stages}, "poro-chat")
	set(preTokenizer{stages: []stage{bloomStage, digitStage}}, "viking")
	return m
}()

// SupportedPre lists the tokenizer.ggml.pre names New accepts for byte-level BPE
// vocabularies, sorted. llama.cpp also knows deepseek-llm, deepseek-coder,
// deepseek-v3, tekken and chameleon, whose expressions use classes and look-aheads
// this package does not implement; New refuses them, as llama.cpp refuses names
// it does not know.
func SupportedPre() []string {
	var names []string
	for n := range preTokenizers {
		if n != "" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

func unsupportedPre(name string) error {
	return fmt.Errorf("unknown pre-tokenizer %q (tokenizer.ggml.pre; supported: %s)", name, strings.Join(SupportedPre(), ", "))
}

// split decodes text into e.cps and cuts it into words: word i is
// e.cps[e.ends[i-1]:e.ends[i]].
func (p preTokenizer) split(e *encoder, text string) {
	e.cps, e.cls = splitRunes(text, e.cps, e.cls)
	ends := append(e.ends[:0], len(e.cps))
	for _, st := range p.stages {
		next := e.spareEnds[:0]
		start := 0
		for _, end := range ends {
			next = st(e.cps, e.cls, start, end, next)
			start = end
		}
		ends, e.spareEnds = next, ends
	}
	e.ends = ends
}

// splitRunes decodes text as llama.cpp does and classifies each code point.
func splitRunes(text string, cps []rune, cls []uint8) ([]rune, []uint8) {
	cps, cls = cps[:0], cls[:0]
	for i := 0; i < len(text); {
		r, n := decodeRune(text, i)
		cps = append(cps, r)
		cls = append(cls, class(r))
		i += n
	}
	return cps, cls
}

// at returns the code point and classes at pos, or (-1, 0) outside [start, end).
func at(cps []rune, cls []uint8, start, end, pos int) (rune, uint8) {
	if pos < start || pos >= end {
		return -1, 0
	}
	return cps[pos], cls[pos]
}

func isLetter(c uint8) bool { return c&classL != 0 }
func isNumber(c uint8) bool { return c&classN != 0 }

// isOther is [^\s\p{L}\p{N}] at a position inside the piece.
func isOther(c uint8) bool { return c != 0 && c&(classSpace|classL|classN) == 0 }

// splitGPT2 is unicode_regex_split_custom_gpt2.
func splitGPT2(cps []rune, cls []uint8, start, end int, ends []int) []int {
	classAt := func(pos int) uint8 { _, c := at(cps, cls, start, end, pos); return c }
	for pos := start; pos < end; {
		c, f := cps[pos], cls[pos]
		// 's|'t|'re|'ve|'m|'ll|'d (case-sensitive)
		if c == '\'' && pos+1 < end {
			if n := cps[pos+1]; n == 's' || n == 't' || n == 'm' || n == 'd' {
				pos += 2
				ends = append(ends, pos)
				continue
			}
			if pos+2 < end {
				n, nn := cps[pos+1], cps[pos+2]
				if n == 'r' && nn == 'e' || n == 'v' && nn == 'e' || n == 'l' && nn == 'l' {
					pos += 3
					ends = append(ends, pos)
					continue
				}
			}
		}
		// " ?\p{L}+", " ?\p{N}+" and " ?[^\s\p{L}\p{N}]+": one optional space,
		// then a run of letters, of numbers, or of other code points.
		f2 := f
		if c == ' ' {
			f2 = classAt(pos + 1)
		}
		var in func(uint8) bool
		switch {
		case f2&classL != 0:
			in = isLetter
		case f2&classN != 0:
			in = isNumber
		case isOther(f2):
			in = isOther
		}
		if in != nil {
			if c == ' ' {
				pos++
			}
			for in(classAt(pos)) {
				pos++
			}
			ends = append(ends, pos)
			continue
		}
		n := 0
		for classAt(pos+n)&classSpace != 0 {
			n++
		}
		switch {
		case n > 1 && pos+n < end: // \s+(?!\S): the run but its last character
			pos += n - 1
		case n > 0: // \s+
			pos += n
		default: // no alternative matches (not reached: every code point has a class)
			pos++
		}
		ends = append(ends, pos)
	}
	return ends
}

// splitLlama3 is unicode_regex_split_custom_llama3 with numbers in groups of at
// most maxDigits. With maxDigits 1 it is also what std::regex does with qwen2's
// expression, which llama.cpp does not recognise as the Llama 3 one (\p{N} for
// \p{N}{1,3}): every alternative of that expression matches here exactly what the
// hand-written splitter takes, because it was written to the same expression
// (TestPreTokenizerSplits checks this against llama.cpp's splits).
func splitLlama3(maxDigits int) stage {
	return func(cps []rune, cls []uint8, start, end int, ends []int) []int {
		return splitLlama3Piece(cps, cls, start, end, ends, maxDigits)
	}
}

func splitLlama3Piece(cps []rune, cls []uint8, start, end int, ends []int, maxDigits int) []int {
	classAt := func(pos int) uint8 { _, c := at(cps, cls, start, end, pos); return c }
	runeAt := func(pos int) rune { r, _ := at(cps, cls, start, end, pos); return r }
	for pos := start; pos < end; {
		c, f := cps[pos], cls[pos]
		// (?i:'s|'t|'re|'ve|'m|'ll|'d), lower-cased as unicode_tolower does
		if c == '\'' && pos+1 < end {
			if n := unicode.ToLower(cps[pos+1]); n == 's' || n == 't' || n == 'm' || n == 'd' {
				pos += 2
				ends = append(ends, pos)
				continue
			}
			if pos+2 < end {
				n, nn := unicode.ToLower(cps[pos+1]), unicode.ToLower(cps[pos+2])
				if n == 'r' && nn == 'e' || n == 'v' && nn == 'e' || n == 'l' && nn == 'l' {
					pos += 3
					ends = append(ends, pos)
					continue
				}
			}
		}
		// [^\r\n\p{L}\p{N}]?\p{L}+
		if c != '\r' && c != '\n' && f&classN == 0 && (f&classL != 0 || classAt(pos+1)&classL != 0) {
			pos++
			for classAt(pos)&classL != 0 {
				pos++
			}
			ends = append(ends, pos)
			continue
		}
		// \p{N}{1,maxDigits}
		if f&classN != 0 {
			first := pos
			for classAt(pos)&classN != 0 {
				pos++
				if pos-first == maxDigits {
					ends = append(ends, pos)
					first = pos
				}
			}
			if pos > first {
				ends = append(ends, pos)
			}
			continue
		}
		// " ?[^\s\p{L}\p{N}]+[\r\n]*". llama.cpp tests the class of the current
		// code point, not of the one after the space, for being in the piece; both
		// are, except a space at the end of the piece, which this alternative then
		// takes alone, as \s+ would.
		f2 := f
		if c == ' ' {
			f2 = classAt(pos + 1)
		}
		if f2&(classSpace|classL|classN) == 0 {
			if c == ' ' {
				pos++
			}
			for isOther(classAt(pos)) {
				pos++
			}
			for r := runeAt(pos); r == '\r' || r == '\n'; r = runeAt(pos) {
				pos++
			}
			ends = append(ends, pos)
			continue
		}
		n, lastNewline := 0, -1
		for classAt(pos+n)&classSpace != 0 {
			if r := cps[pos+n]; r == '\r' || r == '\n' {
				lastNewline = pos + n + 1
			}
			n++
		}
		switch {
		case lastNewline >= 0: // \s*[\r\n]+: up to the last CR or LF of the run
			pos = lastNewline
		case n > 1 && pos+n < end: // \s+(?!\S)
			pos += n - 1
		case n > 0: // \s+
			pos += n
		default:
			pos++
		}
		ends = append(ends, pos)
	}
	return ends
}

// matches returns the stage of an expression that std::regex runs: match(pos)
// is the length of its match at pos (0: none). Unmatched code points between two
// matches form a piece, as unicode_regex_split_stl keeps them.
func matches(match func(cps []rune, cls []uint8, pos, end int) int) stage {
	return func(cps []rune, cls []uint8, start, end int, ends []int) []int {
		gap := start
		for pos := start; pos < end; {
			n := match(cps, cls, pos, end)
			if n == 0 {
				pos++
				continue
			}
			if pos > gap {
				ends = append(ends, pos)
			}
			pos += n
			ends = append(ends, pos)
			gap = pos
		}
		if gap < end {
			ends = append(ends, end)
		}
		return ends
	}
}

// In llama.cpp's collapsed text, \p{N}, \p{L} and \p{P} match the code points of
// that class, and an ASCII code point matches by its own class, which is the same.

// digit is \p{N}.
func digit(cps []rune, cls []uint8, pos, end int) int {
	if cls[pos]&classN != 0 {
		return 1
	}
	return 0
}

// digits is \p{N}+.
func digits(cps []rune, cls []uint8, pos, end int) int {
	n := pos
	for n < end && cls[n]&classN != 0 {
		n++
	}
	return n - pos
}

// punct is [\p{P}\$\+<=>\^~\|]+.
func punct(cps []rune, cls []uint8, pos, end int) int {
	n := pos
	for n < end && (cls[n]&classP != 0 || strings.ContainsRune("$+<=>^~|", cps[n])) {
		n++
	}
	return n - pos
}

// triple is [0-9][0-9][0-9] (ASCII digits only).
func triple(cps []rune, cls []uint8, pos, end int) int {
	if pos+3 > end {
		return 0
	}
	for _, r := range cps[pos : pos+3] {
		if r < '0' || r > '9' {
			return 0
		}
	}
	return 3
}

// bloomRun is " ?[^(\s|.,!?…。，、।۔،)]+": inside the brackets "(", "|" and ")"
// are characters too.
func bloomRun(cps []rune, cls []uint8, pos, end int) int {
	in := func(p int) bool {
		return p < end && cls[p]&classSpace == 0 && !strings.ContainsRune("(|.,!?…。，、।۔،)", cps[p])
	}
	n := pos
	if cps[n] == ' ' && in(n+1) {
		n++
	}
	for in(n) {
		n++
	}
	return n - pos
}
