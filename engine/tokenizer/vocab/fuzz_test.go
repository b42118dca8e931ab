package vocab

import (
	"bytes"
	"encoding/binary"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/inferpi/inferpi/internal/testfile"
)

// The vocabularies the fuzz targets use, loaded once per process.
var fuzzVocabs = sync.OnceValue(func() (vs struct{ spm, gpt2, llama3, qwen3 *Vocab }) {
	load := func(path, pre string) *Vocab {
		f, err := openFile(path)
		if err != nil {
			panic(err)
		}
		s, err := readSpec(f)
		if err != nil {
			panic(err)
		}
		if pre != "" {
			s.Pre = pre
		}
		v, err := New(s)
		if err != nil {
			panic(err)
		}
		return v
	}
	vs.spm = load(tokDir+"ggml-vocab-llama-spm.gguf", "")
	vs.gpt2 = load(tokDir+"ggml-vocab-gpt-2.gguf", "")
	vs.llama3 = load(tokDir+"ggml-vocab-gpt-2.gguf", "llama-bpe")
	vs.qwen3 = load(modelDir+"qwen3-bpe/qwen3-bpe.F32.gguf", "")
	return vs
})

// llamaText is the text llama.cpp's byte-level tokenizers see: the code points
// its decoder reads, written in UTF-8 again (invalid bytes become U+FFFD).
func llamaText(s string) string {
	var b []byte
	for i := 0; i < len(s); {
		r, n := decodeRune(s, i)
		b = appendRune(b, r)
		i += n
	}
	return string(b)
}

func joinPieces(v *Vocab, ids []int) string {
	var b []byte
	for _, id := range ids {
		if id < 0 || id >= v.Size() {
			panic("id outside the vocabulary")
		}
		b = append(b, v.Piece(id, true)...)
	}
	return string(b)
}

// FuzzEncode: Encode and Detokenize never panic, and give the text back where
// the vocabulary can represent it. The exceptions are llama.cpp's:
//
//   - SentencePiece: U+2581 in the text is its space marker and comes back as a
//     space; the space put before the text comes back when a BOS was put first
//     (Detokenize removes one space from the first piece only); with
//     parse_special, so does the space put after each special token. In text
//     that is not UTF-8, a lead byte takes the bytes after it as its character
//     (llama.cpp cuts by lead bytes alone), which can take part of the U+2581
//     that a space after it became: that space comes back as U+2581.
//   - Byte-level BPE: text that is not UTF-8 comes back as llama.cpp reads it
//     (llamaText: U+FFFD for each invalid byte, overlong forms shortened,
//     surrogates kept); most pre-tokenizers (gpt-2, llama-bpe) have Detokenize
//     remove spaces before ? ! . , and around apostrophes (clean_spaces).
//
// Every byte has a token in these vocabularies, so nothing is lost.
func FuzzEncode(f *testing.F) {
	var o vocabOracle
	testfile.JSON(f, tokDir+"ggml-vocab-gpt-2.llama-cpp.json", &o)
	for _, c := range append(o.Inp, o.Extra...) {
		f.Add(unhex(f, c.TextHex))
	}
	for _, s := range []string{"\xc0\xaf\xed\xa0\x80\xf5\x80\x80\x80\xe2\x82", "a\u2581 b", "<s><think></think><|im_end|> x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		vs := fuzzVocabs()
		for fl := 0; fl < 4; fl++ {
			addSpecial, parseSpecial := fl&1 != 0, fl&2 != 0
			// SentencePiece
			ids := vs.spm.Encode(text, addSpecial, parseSpecial)
			want := strings.ReplaceAll(text, "\u2581", " ")
			if !parseSpecial && utf8.ValidString(text) {
				if text != "" {
					if got := joinPieces(vs.spm, ids); got != " "+want && got != "<s> "+want {
						t.Fatalf("spm %q: pieces %q", text, got)
					}
				}
				// Without BOS the first piece loses its space; a BOS dropped by
				// removeSpecial takes that rule with it.
				if addSpecial && text != "" {
					want = " " + want
				}
				if got := string(vs.spm.Detokenize(ids, addSpecial, true)); got != want {
					t.Fatalf("spm %q: Detokenize %q, want %q", text, got, want)
				}
			}
			checkStream(t, vs.spm, ids)
			// Byte-level BPE, with and without clean_spaces.
			for _, c := range []struct {
				name string
				v    *Vocab
			}{{"gpt-2", vs.gpt2}, {"llama-bpe", vs.llama3}, {"qwen3", vs.qwen3}} {
				v := c.v
				ids := v.Encode(text, addSpecial, parseSpecial)
				start := 0
				if addSpecial && v.AddBOS() {
					start = 1
				}
				want := llamaText(text)
				if utf8.ValidString(text) && want != text {
					t.Fatalf("%q is UTF-8 but llama.cpp reads %q", text, want)
				}
				if got := joinPieces(v, ids[start:]); got != want {
					t.Fatalf("%s %q: pieces %q", c.name, text, got)
				}
				if v.pre.cleanSpaces {
					want = string(must(cleanSpaces([]byte(want), nil)))
				}
				if got := string(v.Detokenize(ids, addSpecial, true)); got != want {
					t.Fatalf("%s %q: Detokenize %q, want %q", c.name, text, got, want)
				}
				checkStream(t, v, ids)
			}
		}
	})
}

func must(b []byte, _ []int) []byte { return b }

// FuzzDecoder: any sequence of tokens streams to Detokenize's text. Half the
// bytes pick tokens that clean_spaces and UTF-8 care about.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5})
	f.Add([]byte{6, 7, 8, 3, 200, 1, 9})
	f.Add([]byte{5, 5, 1, 2, 1, 0, 3, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		vs := fuzzVocabs()
		for _, v := range []*Vocab{vs.spm, vs.gpt2, vs.qwen3} {
			var interesting []int
			for _, s := range []string{" ", "'", " '", "s", "re", ",", ".", "?", "  ", "\u2581", "\u2581'", "\u2581\u2581"} {
				if id, ok := v.Find(s); ok {
					interesting = append(interesting, id)
				}
			}
			interesting = append(interesting, v.Encode("🙂é", false, false)...)
			interesting = append(interesting, v.EOG()...)
			if v.BOS() >= 0 {
				interesting = append(interesting, v.BOS())
			}
			var ids []int
			for i := 0; i < len(data); i++ {
				if c := data[i]; c < 128 {
					ids = append(ids, interesting[int(c)%len(interesting)])
				} else if i+2 < len(data) {
					ids = append(ids, int(binary.LittleEndian.Uint16(data[i+1:]))%v.Size())
					i += 2
				}
			}
			checkStream(t, v, ids)
		}
	})
}

// FuzzNew: New checks any Spec without panicking, and what it accepts encodes
// and decodes any text.
func FuzzNew(f *testing.F) {
	f.Add(uint8(0), "<unk>\n<s>\n</s>\n<0x41>\n\u2581a\na\n\u2581", "", []byte{2, 3, 3, 6, 1, 1, 1}, "Hello a aa <s>")
	f.Add(uint8(1), "a\nb\nab\nĠ\nĠa\n<|endoftext|>", "a b\nĠ a", []byte{1, 1, 1, 1, 1, 3}, "ab a ba<|endoftext|>")
	f.Add(uint8(3), "a\nb\nab\n\n<think>", "a b\nb a", []byte{}, "ab<think>ba 12")
	f.Fuzz(func(t *testing.T, sel uint8, tokens, merges string, types []byte, text string) {
		pres := []string{"", "gpt-2", "llama-bpe", "qwen2", "smollm", "default", "falcon", "bloom", "viking", "chatglm-bpe", "jina-v2-code"}
		s := spec("llama", strings.Split(tokens, "\n")...)
		if sel&1 != 0 {
			s.Model = "gpt2"
			s.Pre = pres[int(sel>>1)%len(pres)]
		}
		if len(s.Tokens) > 1000 || len(merges) > 10000 {
			return
		}
		if merges != "" {
			s.Merges = strings.Split(merges, "\n")
		}
		if len(types) > 0 {
			s.Types = make([]int32, len(s.Tokens))
			for i := range s.Types {
				s.Types[i] = int32(types[i%len(types)] % 8)
			}
			s.BOS, s.EOS, s.EOT = int(types[0]), int(types[len(types)-1]), int(types[len(types)/2])-128
		}
		if sel&0x40 != 0 {
			s.AddEOS = ptr(true)
			s.Name = "phi-3"
		}
		v, err := New(s)
		if err != nil {
			return
		}
		for fl := 0; fl < 4; fl++ {
			ids := v.Encode(text, fl&1 != 0, fl&2 != 0)
			for _, id := range ids {
				if id < 0 || id >= v.Size() {
					t.Fatalf("id %d outside the vocabulary of %d", id, v.Size())
				}
			}
			checkStream(t, v, ids)
			if !bytes.Equal(v.Detokenize(ids, false, true), []byte(joinPieces(v, ids))) && !v.addSpacePrefix && !v.pre.cleanSpaces {
				t.Fatalf("Detokenize differs from the pieces")
			}
		}
	})
}
