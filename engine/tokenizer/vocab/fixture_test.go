package vocab

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/internal/testfile"
)

const tokDir = "../../../testdata/gguf/tokenizer/"

// openFile reads a GGUF file's header.
func openFile(path string) (*gguf.File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return gguf.Parse(data, filepath.Base(path))
}

// fileSpec returns what Load reads from a GGUF file, for tests that change it.
func fileSpec(t testing.TB, path string) Spec {
	t.Helper()
	f, err := openFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := readSpec(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// loadFile is Load of a GGUF file.
func loadFile(t testing.TB, path string) *Vocab {
	t.Helper()
	f, err := openFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// flagResult is llama.cpp's output for one case and one pair of flags.
type flagResult struct {
	IDs        []int     `json:"ids"`
	Pieces     []*string `json:"pieces"`
	PiecesHex  []string  `json:"pieces_hex"`
	Detok      string    `json:"detok"`
	DetokHex   string    `json:"detok_hex"`
	DetokRS    string    `json:"detok_remove_special"`
	DetokRSHex string    `json:"detok_remove_special_hex"`
}

type oracleCase struct {
	Name    string                `json:"name"`
	Text    string                `json:"text"`
	TextHex string                `json:"text_hex"`
	Flags   map[string]flagResult `json:"-"`
	raw     map[string]json.RawMessage
}

func (c *oracleCase) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &c.raw); err != nil {
		return err
	}
	json.Unmarshal(c.raw["name"], &c.Name)
	json.Unmarshal(c.raw["text"], &c.Text)
	json.Unmarshal(c.raw["text_hex"], &c.TextHex)
	c.Flags = map[string]flagResult{}
	for _, k := range flagNames {
		var r flagResult
		if err := json.Unmarshal(c.raw[k], &r); err != nil {
			return err
		}
		c.Flags[k] = r
	}
	return nil
}

var flagNames = []string{"plain", "add_special", "parse_special", "add_special_parse_special"}

type vocabOracle struct {
	NVocab int            `json:"n_vocab"`
	BOS    int            `json:"bos"`
	EOS    int            `json:"eos"`
	EOT    int            `json:"eot"`
	EOG    []int          `json:"eog"`
	AddBOS bool           `json:"add_bos"`
	AddEOS bool           `json:"add_eos"`
	Attrs  map[string]int `json:"non_normal_token_attrs_except_byte"`
	Inp    []oracleCase   `json:"inp_cases"`
	Extra  []oracleCase   `json:"extra_cases"`
	Cases  []oracleCase   `json:"cases"`
}

func unhex(t testing.TB, s string) string {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkCases runs every case with the four flag pairs against llama.cpp's output.
func checkCases(t *testing.T, v *Vocab, cases []oracleCase) {
	t.Helper()
	for _, c := range cases {
		text := unhex(t, c.TextHex)
		for fi, fname := range flagNames {
			want := c.Flags[fname]
			addSpecial, parseSpecial := fi&1 != 0, fi&2 != 0
			got := v.Encode(text, addSpecial, parseSpecial)
			if !slices.Equal(got, want.IDs) && !(len(got) == 0 && len(want.IDs) == 0) {
				t.Errorf("%s %s: Encode(%q) =\n %v\nwant\n %v", c.Name, fname, text, got, want.IDs)
				continue
			}
			for i, id := range want.IDs {
				wp := ""
				if want.PiecesHex != nil {
					wp = unhex(t, want.PiecesHex[i])
				} else {
					wp = *want.Pieces[i]
				}
				if p := string(v.Piece(id, true)); p != wp {
					t.Errorf("%s %s: Piece(%d) = %q, want %q", c.Name, fname, id, p, wp)
				}
			}
			wd, wrs := want.Detok, want.DetokRS
			if want.DetokHex != "" {
				wd = unhex(t, want.DetokHex)
			}
			if want.DetokRSHex != "" {
				wrs = unhex(t, want.DetokRSHex)
			}
			if d := string(v.Detokenize(want.IDs, false, true)); d != wd {
				t.Errorf("%s %s: Detokenize(%v, false, true) = %q, want %q", c.Name, fname, want.IDs, d, wd)
			}
			if d := string(v.Detokenize(want.IDs, true, false)); d != wrs {
				t.Errorf("%s %s: Detokenize(%v, true, false) = %q, want %q", c.Name, fname, want.IDs, d, wrs)
			}
		}
	}
}

// checkVocab compares the vocabulary's special tokens with llama.cpp's.
func checkVocab(t *testing.T, v *Vocab, o *vocabOracle) {
	t.Helper()
	if v.Size() != o.NVocab || v.BOS() != o.BOS || v.EOS() != o.EOS || v.EOT() != o.EOT ||
		v.AddBOS() != o.AddBOS || v.AddEOS() != o.AddEOS || !slices.Equal(v.EOG(), o.EOG) {
		t.Errorf("size %d BOS %d EOS %d EOT %d add BOS %v EOS %v EOG %v; llama.cpp: %d %d %d %d %v %v %v",
			v.Size(), v.BOS(), v.EOS(), v.EOT(), v.AddBOS(), v.AddEOS(), v.EOG(),
			o.NVocab, o.BOS, o.EOS, o.EOT, o.AddBOS, o.AddEOS, o.EOG)
	}
	for id, a := range v.attrs {
		want := attrNormal
		if w, ok := o.Attrs[strconv.Itoa(id)]; ok {
			want = attr(w)
		}
		if a != want && a != attrByte {
			t.Errorf("token %d %q has attributes %#x, llama.cpp %#x", id, v.tokens[id], a, want)
		}
	}
}

// The vocabularies llama.cpp ships with test-tokenizer-0's vectors, and the GPT-2
// one re-labelled with other pre-tokenizers (only tokenizer.ggml.pre changes).
func TestVocabFixtures(t *testing.T) {
	for _, c := range []struct{ file, pre, oracle string }{
		{"ggml-vocab-llama-spm", "", "ggml-vocab-llama-spm"},
		{"ggml-vocab-gpt-2", "", "ggml-vocab-gpt-2"},
		{"ggml-vocab-gpt-2", "llama-bpe", "ggml-vocab-gpt-2-pre-llama-bpe"},
		{"ggml-vocab-gpt-2", "qwen2", "ggml-vocab-gpt-2-pre-qwen2"},
		{"ggml-vocab-gpt-2", "smollm", "ggml-vocab-gpt-2-pre-smollm"},
	} {
		t.Run(c.oracle, func(t *testing.T) {
			v := loadFile(t, tokDir+c.file+".gguf")
			if c.pre != "" {
				// Only tokenizer.ggml.pre changes.
				spec := fileSpec(t, tokDir+c.file+".gguf")
				spec.Pre = c.pre
				v = mustNew(t, spec)
			}
			var o vocabOracle
			testfile.JSON(t, tokDir+c.oracle+".llama-cpp.json", &o)
			if len(o.Inp) != 46 || len(o.Extra) != 48 {
				t.Fatalf("%d + %d cases", len(o.Inp), len(o.Extra))
			}
			checkVocab(t, v, &o)
			checkCases(t, v, o.Inp)
			checkCases(t, v, o.Extra)
		})
	}
}

// test-tokenizer-0's own vectors: the .inp strings and the ids in .out.
func TestTokenizer0Vectors(t *testing.T) {
	for _, name := range []string{"ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf"} {
		v := loadFile(t, tokDir+name)
		inp, err := os.ReadFile(tokDir + name + ".inp")
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.ReadFile(tokDir + name + ".out")
		if err != nil {
			t.Fatal(err)
		}
		const sep = "\n__ggml_vocab_test__\n"
		texts := strings.Split(strings.TrimSuffix(string(inp), sep), sep)
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if len(texts) != len(lines) || len(texts) != 46 {
			t.Fatalf("%s: %d strings, %d lines", name, len(texts), len(lines))
		}
		for i, text := range texts {
			var want []int
			for _, f := range strings.Fields(lines[i]) {
				id, err := strconv.Atoi(f)
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, id)
			}
			if got := v.Encode(text, false, false); !slices.Equal(got, want) {
				t.Errorf("%s: Encode(%q) = %v, want %v", name, text, got, want)
			}
		}
	}
}

const modelDir = "../../../testdata/gguf/models/"

type modelOracle struct {
	Prompts []struct {
		Name         string `json:"name"`
		Text         string `json:"text"`
		TextHex      string `json:"text_hex"`
		AddSpecial   bool   `json:"add_special"`
		ParseSpecial bool   `json:"parse_special"`
		IDs          []int  `json:"ids"`
	} `json:"prompts"`
	Greedy []struct {
		IDs     []int  `json:"ids"`
		TextHex string `json:"text_hex"`
	} `json:"greedy"`
	Meta struct {
		NVocab int            `json:"n_vocab"`
		BOS    int            `json:"bos"`
		EOS    int            `json:"eos"`
		EOT    int            `json:"eot"`
		EOG    []int          `json:"eog"`
		AddBOS bool           `json:"add_bos"`
		AddEOS bool           `json:"add_eos"`
		Attrs  map[string]int `json:"non_normal_token_attrs"`
	} `json:"meta"`
}

// The four fixture models' vocabularies (the same in every variant; the F32 and
// Q8_0 files are read): llama.cpp's tokenization of 48 cases, the prompts and
// greedy replies of every variant's oracle, and the special tokens llama.cpp
// derived.
func TestModelVocabularies(t *testing.T) {
	for _, model := range []string{"llama-spm", "llama3-bpe", "qwen2-bpe", "qwen3-bpe"} {
		t.Run(model, func(t *testing.T) {
			dir := modelDir + model + "/"
			var o vocabOracle
			testfile.JSON(t, dir+"oracle/tokenizer.json", &o)
			if len(o.Cases) != 48 {
				t.Fatalf("%d cases", len(o.Cases))
			}
			oracles, err := filepath.Glob(dir + "oracle/*.json")
			if err != nil {
				t.Fatal(err)
			}
			for _, variant := range []string{"F32", "Q8_0"} {
				v := loadFile(t, dir+model+"."+variant+".gguf")
				checkCases(t, v, o.Cases)
				var m modelOracle
				testfile.JSON(t, dir+"oracle/F32.json", &m)
				attrs := map[string]int{}
				for id, a := range m.Meta.Attrs {
					if a != int(attrByte) {
						attrs[id] = a
					}
				}
				checkVocab(t, v, &vocabOracle{NVocab: m.Meta.NVocab, BOS: m.Meta.BOS, EOS: m.Meta.EOS, EOT: m.Meta.EOT,
					EOG: m.Meta.EOG, AddBOS: m.Meta.AddBOS, AddEOS: m.Meta.AddEOS, Attrs: attrs})
				n := 0
				for _, path := range oracles {
					var m modelOracle
					testfile.JSON(t, path, &m)
					for _, p := range m.Prompts {
						n++
						if got := v.Encode(unhex(t, p.TextHex), p.AddSpecial, p.ParseSpecial); !slices.Equal(got, p.IDs) {
							t.Errorf("%s prompt %s: %v, want %v", filepath.Base(path), p.Name, got, p.IDs)
						}
					}
					for _, g := range m.Greedy {
						if got, want := string(v.Detokenize(g.IDs, false, false)), unhex(t, g.TextHex); got != want {
							t.Errorf("%s: Detokenize(%v) = %q, want %q", filepath.Base(path), g.IDs, got, want)
						}
					}
				}
				if n < 13*2 {
					t.Errorf("only %d prompts", n)
				}
			}
		})
	}
}

// The pre-tokenizers split as llama.cpp's unicode_regex_split does
// (testdata/README.md).
func TestPreTokenizerSplits(t *testing.T) {
	var doc struct {
		Cases []struct {
			TextHex string              `json:"text_hex"`
			Words   map[string][]string `json:"words_hex"`
		} `json:"cases"`
	}
	testfile.JSON(t, "testdata/pretokenize.json.gz", &doc)
	if len(doc.Cases) != 400 {
		t.Fatalf("%d cases", len(doc.Cases))
	}
	e := new(encoder)
	for _, c := range doc.Cases {
		text := unhex(t, c.TextHex)
		if len(c.Words) != 8 {
			t.Fatalf("%q: %d pre-tokenizers", text, len(c.Words))
		}
		for pre, want := range c.Words {
			preTokenizers[pre].split(e, text)
			var got []string
			start := 0
			for _, end := range e.ends {
				var w []byte
				for _, r := range e.cps[start:end] {
					w = appendRune(w, r)
				}
				got = append(got, hex.EncodeToString(w))
				start = end
			}
			if !slices.Equal(got, want) && len(got)+len(want) > 0 {
				t.Errorf("%s: %q splits into %q, llama.cpp %q", pre, text, got, want)
			}
		}
	}
}

// llama-demo converted by llama.cpp's llama2.c converter: its padding and
// separator ids are 4294967295, it has no add_* keys, and llama.cpp's Alpaca
// prompts and greedy replies come with it.
func TestTrainedModel(t *testing.T) {
	const dir = "../../../testdata/gguf/trained/"
	const preamble = "Below is an instruction that describes a task. Write a response that appropriately completes the request."
	for _, variant := range []string{"Q8_0", "Q4_0"} {
		v := loadFile(t, dir+"llama-demo."+variant+".gguf")
		var o struct {
			modelOracle
			Turns []struct {
				Turn      int    `json:"turn"`
				User      string `json:"user"`
				PromptID  []int  `json:"llama_cpp_prompt_ids"`
				FromLlama *struct {
					ReplyIDs []int  `json:"reply_ids"`
					Reply    string `json:"reply"`
				} `json:"from_llama_cpp_tokens"`
				FromRunC struct {
					ReplyIDs []int  `json:"reply_ids"`
					Reply    string `json:"reply"`
				} `json:"from_run_c_ids"`
			} `json:"turns"`
		}
		testfile.JSON(t, dir+"oracle/"+variant+".json", &o)
		checkVocab(t, v, &vocabOracle{NVocab: o.Meta.NVocab, BOS: o.Meta.BOS, EOS: o.Meta.EOS, EOT: o.Meta.EOT,
			EOG: o.Meta.EOG, AddBOS: o.Meta.AddBOS, AddEOS: o.Meta.AddEOS, Attrs: map[string]int{"0": 1, "1": 8, "2": 8}})
		for _, p := range o.Prompts {
			if p.TextHex != "" || p.Text == "" {
				t.Fatalf("prompt %s: text %q, text_hex %q", p.Name, p.Text, p.TextHex)
			}
			if got := v.Encode(p.Text, p.AddSpecial, p.ParseSpecial); !slices.Equal(got, p.IDs) {
				t.Errorf("%s prompt %s: %v, want %v", variant, p.Name, got, p.IDs)
			}
		}
		if len(o.Turns) != 14 {
			t.Fatalf("%d turns", len(o.Turns))
		}
		for _, turn := range o.Turns {
			segment := "\n\n### Instruction:\n" + turn.User + "\n\n### Response:\n"
			if turn.Turn == 0 {
				segment = preamble + segment
			}
			if got := v.Encode(segment, turn.Turn == 0, false); !slices.Equal(got, turn.PromptID) {
				t.Errorf("%s: Encode(%q) = %v, want %v", variant, segment, got, turn.PromptID)
			}
			replies := []struct {
				ReplyIDs []int
				Reply    string
			}{{turn.FromRunC.ReplyIDs, turn.FromRunC.Reply}}
			if turn.FromLlama != nil {
				replies = append(replies, struct {
					ReplyIDs []int
					Reply    string
				}{turn.FromLlama.ReplyIDs, turn.FromLlama.Reply})
			}
			for _, r := range replies {
				if got := string(v.Detokenize(r.ReplyIDs, false, false)); got != r.Reply {
					t.Errorf("%s: Detokenize(%v) = %q, want %q", variant, r.ReplyIDs, got, r.Reply)
				}
				checkStream(t, v, r.ReplyIDs)
			}
		}
	}
}
