package vocab

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// spec returns a Spec with no special-token keys.
func spec(model string, tokens ...string) Spec {
	return Spec{Model: model, Tokens: tokens, BOS: -1, EOS: -1, EOT: -1, EOM: -1, UNK: -1,
		FIMPre: -1, FIMSuf: -1, FIMMid: -1, FIMPad: -1, FIMRep: -1, FIMSep: -1}
}

// byteLevel returns a byte-level BPE Spec with the 256 byte symbols as tokens
// 0..255 (in byte order), then extra, with merges.
func byteLevel(pre string, extra []string, merges ...string) Spec {
	var toks []string
	for b := 0; b < 256; b++ {
		toks = append(toks, string(byteRune[b]))
	}
	s := spec("gpt2", append(toks, extra...)...)
	s.Pre, s.Merges = pre, merges
	return s
}

// sentencePiece returns a SentencePiece Spec: <unk>, <s>, </s>, the 256 byte
// tokens, then extra with scores, all NORMAL.
func sentencePiece(extra []string, scores []float32) Spec {
	toks := []string{"<unk>", "<s>", "</s>"}
	types := []int32{TypeUnknown, TypeControl, TypeControl}
	for b := 0; b < 256; b++ {
		toks = append(toks, fmt.Sprintf("<0x%02X>", b))
		types = append(types, TypeByte)
	}
	s := spec("llama", append(toks, extra...)...)
	s.Scores = append(make([]float32, len(toks)), scores...)
	for range extra {
		types = append(types, TypeNormal)
	}
	s.Types = types
	return s
}

func mustNew(t *testing.T, s Spec) *Vocab {
	t.Helper()
	v, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func ptr(b bool) *bool { return &b }

func TestNewRejects(t *testing.T) {
	bl := func(f func(*Spec)) Spec { s := byteLevel("gpt-2", []string{"ab"}, "a b"); f(&s); return s }
	cases := []struct {
		name string
		spec Spec
		want string
	}{
		{"unknown model", spec("wordpiece", "a"), `unknown tokenizer.ggml.model "wordpiece"`},
		{"unsupported model", spec("bert", "a"), `tokenizer.ggml.model "bert" is not supported`},
		{"unknown pre", bl(func(s *Spec) { s.Pre = "gpt-5" }), `unknown pre-tokenizer "gpt-5" (tokenizer.ggml.pre; supported: `},
		{"deepseek pre", bl(func(s *Spec) { s.Pre = "deepseek-llm" }), `unknown pre-tokenizer "deepseek-llm"`},
		{"no tokens", spec("llama"), "tokenizer.ggml.tokens has 0 tokens"},
		{"scores", bl(func(s *Spec) { s.Scores = []float32{1} }), "tokenizer.ggml.scores has 1 values for 257 tokens"},
		{"types", bl(func(s *Spec) { s.Types = make([]int32, 3) }), "tokenizer.ggml.token_type has 3 values for 257 tokens"},
		{"duplicate", bl(func(s *Spec) { s.Tokens[256] = "a" }), `tokens 97 and 256 are both "a"`},
		{"duplicate empty", spec("llama", "[EMPTY_1]", ""), `tokens 0 and 1 are both "[EMPTY_1]"`},
		{"merge without space", bl(func(s *Spec) { s.Merges = []string{"ab"} }), `tokenizer.ggml.merges[0] "ab" is not two tokens`},
		{"merge leading space only", bl(func(s *Spec) { s.Merges = []string{" ab"} }), `tokenizer.ggml.merges[0] " ab" is not two tokens`},
		{"merge unknown left", bl(func(s *Spec) { s.Merges = []string{"a b", "xy b"} }), `tokenizer.ggml.merges[1] "xy b": "xy" is not a token`},
		{"merge unknown right", bl(func(s *Spec) { s.Merges = []string{"a bc"} }), `tokenizer.ggml.merges[0] "a bc": "bc" is not a token`},
		{"merge unknown result", bl(func(s *Spec) { s.Merges = []string{"b a"} }), `tokenizer.ggml.merges[0] "b a": the merged "ba" is not a token`},
		{"NaN score", func() Spec { s := sentencePiece([]string{"a"}, []float32{0}); s.Scores[259] = float32NaN(); return s }(), `token 259 "a" has score NaN`},
		{"byte token text", func() Spec { s := sentencePiece([]string{"a"}, []float32{0}); s.Types[259] = TypeByte; return s }(), `token 259 "a" is of type BYTE but not written <0xXX>`},
		{"add BOS without BOS", bl(func(s *Spec) { s.Pre = "chatglm-bpe"; s.AddBOS = ptr(true) }), "BOS is to be added"},
		{"add EOS without EOS", func() Spec { s := spec("gpt2", "a"); s.Merges = []string{}; s.AddEOS = ptr(true); return s }(), "EOS is to be added"},
		{"phi-3 without <|endoftext|>", func() Spec { s := sentencePiece(nil, nil); s.Name = "Phi-3 mini"; return s }(), `tokenizer.ggml.tokens has no "<|endoftext|>"`},
		{"jina without <mask>", bl(func(s *Spec) { s.Pre = "jina-v2-code" }), `tokenizer.ggml.tokens has no "<mask>"`},
		{"long token", spec("llama", strings.Repeat("x", maxTokenBytes+1)), "token 0 is 65537 bytes long"},
		{"piece too long", func() Spec {
			s := spec("gpt2", strings.Repeat("\u0400", 400))
			s.Merges = []string{}
			return s
		}(), "not in GPT-2's byte alphabet and its piece would be"},
	}
	for _, c := range cases {
		_, err := New(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func float32NaN() float32 {
	z := float32(0)
	return z / z
}

func TestSupportedPre(t *testing.T) {
	want := []string{"bloom", "chatglm-bpe", "codeshell", "command-r", "dbrx", "deepseek-r1-qwen", "default",
		"exaone", "falcon", "falcon3", "gigachat", "gpt-2", "gpt3-finnish", "jais", "jina-de", "jina-es",
		"jina-v1-en", "jina-v2-code", "jina-v2-de", "jina-v2-es", "llama-bpe", "llama-v3", "llama3", "megrez",
		"minerva-7b", "mpt", "olmo", "phi-2", "poro-chat", "qwen2", "refact", "roberta-bpe", "smaug-bpe",
		"smollm", "stablelm2", "starcoder", "viking"}
	if got := SupportedPre(); !slices.Equal(got, want) {
		t.Errorf("SupportedPre() = %v", got)
	}
}

// llama.cpp's defaults: special ids, out-of-range ids, BOS by pre-tokenizer.
func TestSpecialDefaults(t *testing.T) {
	// A byte-level vocabulary without id keys: BOS = EOS = 11 (',').
	s := byteLevel("gpt-2", nil)
	v := mustNew(t, s)
	if v.BOS() != 11 || v.EOS() != 11 || v.EOT() != -1 || v.AddBOS() || v.AddEOS() || !slices.Equal(v.EOG(), []int{11}) {
		t.Errorf("defaults: BOS %d EOS %d EOT %d add %v %v EOG %v", v.BOS(), v.EOS(), v.EOT(), v.AddBOS(), v.AddEOS(), v.EOG())
	}
	// Out-of-range ids are ignored: the default stays.
	s.BOS, s.EOS, s.EOT = 4294967295, 256, 300
	v = mustNew(t, s)
	if v.BOS() != 11 || v.EOS() != 11 || v.EOT() != -1 {
		t.Errorf("out of range ids: BOS %d EOS %d EOT %d", v.BOS(), v.EOS(), v.EOT())
	}
	// Llama 3's pre-tokenizer adds BOS unless the file says not to.
	s = byteLevel("llama-bpe", nil)
	if v := mustNew(t, s); !v.AddBOS() || !slices.Equal(v.Encode("a", true, false), []int{11, 'a'}) {
		t.Errorf("llama-bpe: AddBOS %v, Encode %v", v.AddBOS(), v.Encode("a", true, false))
	}
	s.AddBOS = ptr(false)
	if v := mustNew(t, s); v.AddBOS() {
		t.Error("add_bos_token false did not override")
	}
	// chatglm-bpe has no default BOS.
	if v := mustNew(t, byteLevel("chatglm-bpe", nil)); v.BOS() != -1 {
		t.Errorf("chatglm-bpe BOS %d", v.BOS())
	}
	// SentencePiece: BOS 1, EOS 2, UNK 0, BOS added, EOS on request.
	sp := sentencePiece(nil, nil)
	sp.AddEOS = ptr(true)
	v = mustNew(t, sp)
	if v.BOS() != 1 || v.EOS() != 2 || v.unk != 0 || !v.AddBOS() || !v.AddEOS() {
		t.Errorf("SentencePiece defaults: BOS %d EOS %d UNK %d", v.BOS(), v.EOS(), v.unk)
	}
	if got := v.Encode("", true, false); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("Encode(\"\", add special) = %v", got)
	}
	if got := string(v.Detokenize([]int{1, 2}, true, true)); got != "" {
		t.Errorf("Detokenize(BOS EOS, remove special) = %q", got)
	}
}

// Tokens found by their text: EOT, EOM, FIM; the end-of-generation set; CONTROL.
func TestSpecialByText(t *testing.T) {
	extra := []string{"<|im_end|>", "<|endoftext|>", "<|eom_id|>", "<|fim_pad|>", "<|repo_name|>", "<|fim_repo|>", "<|file_sep|>", "<|fim_prefix|>", "<|end_of_text|>"}
	s := byteLevel("qwen2", extra)
	s.EOS = 256
	s.Types = make([]int32, len(s.Tokens))
	for i := range s.Types {
		s.Types[i] = TypeNormal
	}
	s.Types[257] = TypeUserDefined
	v := mustNew(t, s)
	// EOT: the lowest id of <|im_end|> and <|endoftext|>. EOG: the FIM pad, repo
	// and file separator tokens, the EOG texts, EOS, EOT, EOM.
	if v.EOT() != 256 || v.eom != 258 {
		t.Errorf("EOT %d EOM %d", v.EOT(), v.eom)
	}
	if want := []int{256, 257, 258, 259, 260, 262}; !slices.Equal(v.EOG(), want) {
		t.Errorf("EOG %v, want %v", v.EOG(), want)
	}
	for id := 256; id <= 264; id++ {
		// <|fim_repo|> lost to <|repo_name|> (lower id); <|end_of_text|> is no
		// special text.
		if want := id != 261 && id != 264; v.IsControl(id) != want {
			t.Errorf("token %d %q: control %v", id, v.Text(id), v.IsControl(id))
		}
	}
	// The type USER_DEFINED of <|endoftext|> gave way to CONTROL: it is text
	// unless parse_special.
	if got := v.Encode("<|endoftext|>", false, true); !slices.Equal(got, []int{257}) {
		t.Errorf("parse_special: %v", got)
	}
	if got := v.Encode("<|endoftext|>", false, false); len(got) == 1 {
		t.Errorf("without parse_special: %v", got)
	}
	// An EOT key wins over the texts.
	s.EOT = 258
	if v := mustNew(t, s); v.EOT() != 258 {
		t.Errorf("EOT key: %d", v.EOT())
	}
}

// The special-token partition: USER_DEFINED always, CONTROL with parse_special,
// longest first, Phi-3's right-stripping, SentencePiece's space prefix.
func TestPartition(t *testing.T) {
	s := sentencePiece([]string{"\u2581", "a", "b", "<tool>", "<t>"}, []float32{-1, -1, -1, 0, 0})
	s.Types[len(s.Types)-2] = TypeUserDefined // <tool>
	s.Types[len(s.Types)-1] = TypeControl     // <t>
	v := mustNew(t, s)
	sp, a, b, tool, ctl := 259, 260, 261, 262, 263
	cases := []struct {
		text         string
		parseSpecial bool
		want         []int
	}{
		{"a<tool>b", false, []int{sp, a, tool, sp, b}},
		{"<tool>", false, []int{tool}},
		{"a <t>b", true, []int{sp, a, sp, ctl, sp, b}},
		{"<t>", false, []int{sp, 3 + '<', 3 + 't', 3 + '>'}},
		{"<tool><t>", true, []int{tool, ctl}},
		{"", true, nil},
	}
	for _, c := range cases {
		if got := v.Encode(c.text, false, c.parseSpecial); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q, parse_special %v) = %v, want %v", c.text, c.parseSpecial, got, c.want)
		}
	}
	// Phi-3: spaces after special tokens (not <s>, <unk>) are stripped.
	s = sentencePiece([]string{"\u2581", "a", "<|end|>", "<|endoftext|>"}, []float32{-1, -1, 0, 0})
	s.Types[len(s.Types)-2] = TypeControl
	s.Name = "Phi3"
	v = mustNew(t, s)
	if got := v.Encode("<|end|>  a</s> a<s> a", false, true); !slices.Equal(got, []int{261, 259, 260, 2, 259, 260, 1, 259, 259, 260}) {
		t.Errorf("Phi-3 right-strip: %v", got)
	}
}

// Pieces and Detokenize of each token type, llama.cpp's [UNK_BYTE_...] form, and
// the removal of the leading space.
func TestPieces(t *testing.T) {
	s := byteLevel("gpt-2", []string{"Ġa", "<|x|>", "u\u0400v", "[EMPTY]"}, "Ġ a")
	s.Types = make([]int32, len(s.Tokens))
	for i := range s.Types {
		s.Types[i] = TypeNormal
	}
	s.Types[257] = TypeControl
	s.Types[259] = TypeUnused
	v := mustNew(t, s)
	for _, c := range []struct {
		id      int
		special bool
		want    string
	}{
		{256, false, " a"},
		{257, true, "<|x|>"},
		{257, false, ""},
		{258, true, "u[UNK_BYTE_0xd080u\u0400v]v"},
		{259, true, ""},
		{9999, true, ""},
		{-1, true, ""},
	} {
		if got := string(v.Piece(c.id, c.special)); got != c.want {
			t.Errorf("Piece(%d, %v) = %q, want %q", c.id, c.special, got, c.want)
		}
	}
	if got := v.Encode(" a", false, false); !slices.Equal(got, []int{256}) {
		t.Errorf("Encode(\" a\") = %v", got)
	}
	// SentencePiece: the first piece loses one space, unless BOS is removed
	// before it.
	sp := mustNew(t, sentencePiece([]string{"\u2581", "a", "\u2581a"}, []float32{-2, -2, -1}))
	ids := sp.Encode(" a", true, false)
	if !slices.Equal(ids, []int{1, 259, 261}) {
		t.Fatalf("Encode(\" a\") = %v", ids)
	}
	for _, c := range []struct {
		ids                           []int
		removeSpecial, unparseSpecial bool
		want                          string
	}{
		{ids, false, true, "<s>  a"},
		{ids, true, false, "  a"},
		{ids[1:], false, false, " a"},
		{ids, false, false, "  a"}, // BOS gives nothing, but takes the space removal
	} {
		if got := string(sp.Detokenize(c.ids, c.removeSpecial, c.unparseSpecial)); got != c.want {
			t.Errorf("Detokenize(%v, %v, %v) = %q, want %q", c.ids, c.removeSpecial, c.unparseSpecial, got, c.want)
		}
	}
}

func TestCleanSpaces(t *testing.T) {
	for in, want := range map[string]string{
		"a , b . c ? d !":    "a, b. c? d!",
		" ,":                 ",",
		"a ' b":              "a'b",
		"he 's she 'm":       "he's she'm",
		"we 're they 've":    "we're they've",
		"don 't I 'd we 'll": "don 't I 'd we 'll",
		" ' ' '":             "'' '",
		"a 's":               "a's",
		"a '":                "a '",
		"x 'r":               "x 'r",
		"":                   "",
	} {
		if got, _ := cleanSpaces([]byte(in), nil); string(got) != want {
			t.Errorf("cleanSpaces(%q) = %q, want %q", in, got, want)
		}
	}
}
