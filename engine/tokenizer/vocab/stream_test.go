package vocab

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/inferpi/inferpi/internal/testfile"
)

// checkStream feeds ids to a Decoder one at a time: what it prints must be
// Detokenize's text, and never stop inside a UTF-8 character that the text
// completes.
func checkStream(t testing.TB, v *Vocab, ids []int) {
	t.Helper()
	for _, f := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
		want := v.Detokenize(ids, f[0], f[1])
		d := v.NewDecoder(f[0], f[1])
		var got []byte
		for _, id := range ids {
			chunk := d.Add(id)
			if len(got)+len(chunk) > len(want) || !bytes.Equal(want[len(got):len(got)+len(chunk)], chunk) {
				got = append(got, chunk...)
				break
			}
			got = append(got, chunk...)
			if k := len(got) - completeUTF8(got); k > 0 {
				if r, n := utf8.DecodeRune(want[len(got)-k:]); r != utf8.RuneError && n > k {
					t.Fatalf("%v: after %d, printed %q, which ends inside %q", ids, id, got, string(r))
				}
			}
		}
		if got = append(got, d.Flush()...); !bytes.Equal(got, want) {
			t.Fatalf("%v (remove special %v, unparse special %v): stream printed %q, Detokenize gives %q", ids, f[0], f[1], got, want)
		}
	}
}

// The Decoder prints what Detokenize gives for every fixture case.
func TestDecoderFixtures(t *testing.T) {
	check := func(t *testing.T, v *Vocab, cases []oracleCase) {
		for _, c := range cases {
			for _, f := range flagNames {
				checkStream(t, v, c.Flags[f].IDs)
			}
		}
	}
	for _, name := range []string{"ggml-vocab-llama-spm", "ggml-vocab-gpt-2"} {
		v := loadFile(t, tokDir+name+".gguf")
		var o vocabOracle
		testfile.JSON(t, tokDir+name+".llama-cpp.json", &o)
		check(t, v, o.Inp)
		check(t, v, o.Extra)
	}
	for _, model := range []string{"llama-spm", "llama3-bpe", "qwen2-bpe", "qwen3-bpe"} {
		dir := modelDir + model + "/"
		v := loadFile(t, dir+model+".F32.gguf")
		var o vocabOracle
		testfile.JSON(t, dir+"oracle/tokenizer.json", &o)
		check(t, v, o.Cases)
		var m modelOracle
		testfile.JSON(t, dir+"oracle/F32.json", &m)
		for _, g := range m.Greedy {
			checkStream(t, v, g.IDs)
		}
	}
}

func TestDecoderHolds(t *testing.T) {
	gpt2 := loadFile(t, tokDir+"ggml-vocab-gpt-2.gguf")
	type step struct {
		id   int
		want string
	}
	for _, c := range []struct {
		name  string
		v     *Vocab
		steps []step
		flush string
	}{
		// 🙂 is two tokens, F0 9F and 99 82.
		{"split emoji", gpt2, []step{{8582, ""}, {25081, "🙂"}}, ""},
		// An unfinished character is printed once it cannot be completed.
		{"broken character", gpt2, []step{{8582, ""}, {64, "\xf0\x9fa"}}, ""},
		{"unfinished at the end", gpt2, []step{{8582, ""}}, "\xf0\x9f"},
		// clean_spaces: " ," loses its space at once; " '" waits for what follows.
		{"space before comma", gpt2, []step{{15496, "Hello"}, {837, ","}, {995, " world"}}, ""},
		{"space before apostrophe", gpt2, []step{{15496, "Hello"}, {705, ""}, {82, ""}, {995, "'s world"}}, ""},
		{"apostrophe at the end", gpt2, []step{{15496, "Hello"}, {705, ""}}, " '"},
	} {
		d := c.v.NewDecoder(false, false)
		var ids []int
		for _, s := range c.steps {
			ids = append(ids, s.id)
			if got := string(d.Add(s.id)); got != s.want {
				t.Errorf("%s: after %v printed %q, want %q", c.name, ids, got, s.want)
			}
		}
		if got := string(d.Flush()); got != c.flush {
			t.Errorf("%s: Flush printed %q, want %q", c.name, got, c.flush)
		}
	}
}

// With removeSpecial, a leading BOS and a trailing EOS print nothing; an EOS
// inside the text prints when the next token comes.
func TestDecoderSpecial(t *testing.T) {
	s := sentencePiece([]string{"\u2581", "a", "\u2581a"}, []float32{-2, -2, -1})
	s.AddEOS = ptr(true)
	v := mustNew(t, s)
	for _, ids := range [][]int{{1, 261, 2}, {261, 2, 261}, {2}, {1}, {1, 1}, {2, 2}, {261, 1, 2, 260}} {
		checkStream(t, v, ids)
	}
	d := v.NewDecoder(true, true)
	if got := string(d.Add(1)) + string(d.Add(261)) + string(d.Add(2)); got != " a" {
		t.Errorf("BOS ▁a EOS printed %q before Flush", got)
	}
	if got := string(d.Flush()); got != "" {
		t.Errorf("Flush printed %q", got)
	}
	// After Flush the Decoder starts a new text: the first space goes again.
	if got := string(d.Add(261)); got != "a" {
		t.Errorf("new text printed %q", got)
	}
}

// A long text goes through the Decoder's trimming many times.
func TestDecoderLongText(t *testing.T) {
	gpt2 := loadFile(t, tokDir+"ggml-vocab-gpt-2.gguf")
	text := bytes.Repeat([]byte("It 's a test , isn 't it ? Yes ' no '  ' . 🙂 x  y   "), 60)
	ids := gpt2.Encode(string(text), false, false)
	checkStream(t, gpt2, ids)
	if !slices.Equal(gpt2.Encode(string(text), false, false), ids) {
		t.Fatal("Encode is not deterministic")
	}
}

// stableUnder reports whether, for every string over alphabet of at most n
// bytes, what the Decoder would print of each prefix with the given window is
// a prefix of the whole string's cleaning.
func stableUnder(alphabet string, n, window int) (bad string) {
	var rec func(s []byte) string
	rec = func(s []byte) string {
		full, _ := cleanSpaces(slices.Clone(s), nil)
		for k := 1; k <= len(s); k++ {
			pos := make([]int, k)
			for i := range pos {
				pos[i] = i
			}
			cleaned, pos := cleanSpaces(slices.Clone(s[:k]), pos)
			stable, _ := slices.BinarySearch(pos, firstUndecidedSpace(s[:k], window))
			if !bytes.HasPrefix(full, cleaned[:stable]) {
				return string(s)
			}
		}
		if len(s) < n {
			for i := range alphabet {
				if bad := rec(append(s, alphabet[i])); bad != "" {
					return bad
				}
			}
		}
		return ""
	}
	return rec(nil)
}

// The rules of firstUndecidedSpace hold on every short text made of the bytes
// clean_spaces looks at. A window of 5 bytes is the least that does (the
// Decoder uses cleanWindow, 8).
func TestCleanWindow(t *testing.T) {
	const alphabet = " 'sre.x"
	if bad := stableUnder(alphabet, 7, 5); bad != "" {
		t.Errorf("window 5 fails on %q", bad)
	}
	if bad := stableUnder(alphabet, 6, 4); bad == "" {
		t.Error("window 4 does not fail: the test proves nothing")
	}
	if cleanWindow < 5 {
		t.Errorf("cleanWindow %d", cleanWindow)
	}
}

// A Vocab serves several goroutines at once (run with -race).
func TestConcurrentEncode(t *testing.T) {
	v := loadFile(t, tokDir+"ggml-vocab-gpt-2.gguf")
	var o vocabOracle
	testfile.JSON(t, tokDir+"ggml-vocab-gpt-2.llama-cpp.json", &o)
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func() {
			for _, c := range o.Extra {
				want := c.Flags["add_special_parse_special"].IDs
				if got := v.Encode(c.Text, true, true); !slices.Equal(got, want) && len(want) > 0 {
					done <- fmt.Errorf("%s: %v, want %v", c.Name, got, want)
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
