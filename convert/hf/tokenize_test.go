package hf

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/inferpi/inferpi/engine/quantize"
	"github.com/inferpi/inferpi/engine/tokenizer/vocab"
)

// llama.cpp's tokenizer on each converted file gives llama.cpp's ids for the
// fixture's prompts and tokenizer cases: the vocabulary, its types, scores or
// merges, special tokens and pre-tokenizer all came through. The SentencePiece-
// style tokenizer.json without tokenizer.model gives Hugging Face's ids (which
// llama.cpp's own conversion does not, see the fixture README).
func TestConvertedVocabTokenizesLikeLlamaCpp(t *testing.T) {
	type variant struct {
		fixture string
		noSPM   bool
	}
	var variants []variant
	for _, fx := range fixtures {
		variants = append(variants, variant{fx, false})
	}
	variants = append(variants, variant{"llama-spm-bf16", true}, variant{"llama-tied-sharded-f32", true})
	for _, c := range variants {
		dir := copyFixture(t, c.fixture)
		if c.noSPM {
			os.Remove(filepath.Join(dir, "tokenizer.model"))
		}
		f, _ := writeGGUF(t, dir, quantize.FileQ8_0)
		v, err := vocab.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		o := readOracle(t, c.fixture)
		name := fmt.Sprintf("%s (tokenizer.model %v)", c.fixture, !c.noSPM)
		for _, p := range o.Prompts {
			if got := v.Encode(p.Text, p.AddSpecial, p.ParseSpecial); fmt.Sprint(got) != fmt.Sprint(p.PromptIDs) {
				t.Errorf("%s: prompt %s: %v\nllama.cpp: %v", name, p.Name, got, p.PromptIDs)
			}
		}
		for _, tc := range o.TokenizerCases {
			want := tc.LlamaCppIDs
			if c.noSPM && tc.HFIDs != nil {
				want = tc.HFIDs
			}
			if got := v.Encode(tc.Text, tc.AddSpecial, tc.ParseSpecial); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: %q (add_special %v, parse_special %v): %v\nwant %v", name, tc.Text, tc.AddSpecial, tc.ParseSpecial, got, want)
			}
		}
	}
}
