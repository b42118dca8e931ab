package bpe

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/inferpi/inferpi/convert/pickle"
)

const tinyDir = "../../../testdata/nanochat-tiny/"

// fixtureTokenizer reads the fixture's tokenizer.pkl (a pickled tiktoken Encoding).
func fixtureTokenizer(t testing.TB, path string) *Tokenizer {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := pickle.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	state := v.(*pickle.Object).State.(*pickle.Dict)
	get := func(k string) any { x, _ := state.Get(k); return x }
	rd := get("mergeable_ranks").(*pickle.Dict)
	ranks := make([][]byte, rd.Len())
	for i := 0; i < rd.Len(); i++ {
		r, _ := pickle.Int(rd.Value(i))
		ranks[r] = rd.Key(i).([]byte)
	}
	sd := get("special_tokens").(*pickle.Dict)
	var specials []Special
	for i := 0; i < sd.Len(); i++ {
		id, _ := pickle.Int(sd.Value(i))
		specials = append(specials, Special{Text: sd.Key(i).(string), ID: int(id)})
	}
	tok, err := New(ranks, specials, get("pat_str").(string))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type oracle struct {
	Tokenizer struct {
		PatStr   string         `json:"pat_str"`
		NVocab   int            `json:"n_vocab"`
		Specials map[string]int `json:"special_tokens"`
	} `json:"tokenizer"`
	Cases []struct {
		Text    string   `json:"text"`
		Hex     string   `json:"text_utf8_hex"`
		Pieces  []string `json:"pieces"`
		IDs     []int    `json:"ids"`
		Decodes bool     `json:"decoded_equals_text"`
	} `json:"tokenizer_cases"`
	Chats []struct {
		Turns []struct {
			Response []int  `json:"response_ids"`
			Text     string `json:"response_text"`
		} `json:"turns"`
	} `json:"chat_cases"`
	Completions []struct {
		Greedy struct {
			IDs  []int  `json:"ids"`
			Text string `json:"text"`
		} `json:"greedy"`
	} `json:"completion_cases"`
}

func loadOracle(t testing.TB) *oracle {
	t.Helper()
	b, err := os.ReadFile(tinyDir + "oracle.json")
	if err != nil {
		t.Fatal(err)
	}
	var o oracle
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	return &o
}

func TestFixtureCases(t *testing.T) {
	o := loadOracle(t)
	tok := fixtureTokenizer(t, tinyDir+"tokenizer/tokenizer.pkl")
	if tok.Pattern() != o.Tokenizer.PatStr || tok.Pattern() != NanochatPattern {
		t.Fatalf("pattern %q", tok.Pattern())
	}
	if tok.VocabSize() != o.Tokenizer.NVocab {
		t.Errorf("vocab %d, want %d", tok.VocabSize(), o.Tokenizer.NVocab)
	}
	for text, id := range o.Tokenizer.Specials {
		if got, ok := tok.SpecialID(text); !ok || got != id || !tok.IsSpecial(id) {
			t.Errorf("special %s = %d %v, want %d", text, got, ok, id)
		}
	}
	if len(o.Cases) < 30 {
		t.Fatalf("only %d tokenizer cases", len(o.Cases))
	}
	for _, c := range o.Cases {
		raw, _ := hex.DecodeString(c.Hex)
		if string(raw) != c.Text {
			t.Fatalf("case %q: text and hex disagree", c.Text)
		}
		pieces := tok.Pieces(c.Text)
		if len(pieces) != len(c.Pieces) || (len(pieces) > 0 && !reflect.DeepEqual(pieces, c.Pieces)) {
			t.Errorf("split %q:\n got %q\nwant %q", c.Text, pieces, c.Pieces)
		}
		ids := tok.Encode(nil, c.Text)
		if len(ids) != len(c.IDs) || (len(ids) > 0 && !reflect.DeepEqual(ids, c.IDs)) {
			t.Errorf("encode %q:\n got %v\nwant %v", c.Text, ids, c.IDs)
		}
		if got := tok.Decode(c.IDs); (got == c.Text) != c.Decodes {
			t.Errorf("decode %v = %q, want %q", c.IDs, got, c.Text)
		}
		checkStream(t, tok, c.IDs)
	}
}

// checkStream feeds ids one at a time: every emitted piece is valid UTF-8 and the
// pieces join to Decode of all ids.
func checkStream(t *testing.T, tok *Tokenizer, ids []int) {
	t.Helper()
	d := tok.NewDecoder()
	var sb strings.Builder
	for _, id := range ids {
		p := d.Add(id)
		if !utf8.ValidString(p) {
			t.Fatalf("stream piece %q is not valid UTF-8", p)
		}
		sb.WriteString(p)
	}
	sb.WriteString(d.Flush())
	if want := tok.Decode(ids); sb.String() != want {
		t.Errorf("stream of %v gave %q, Decode gives %q", ids, sb.String(), want)
	}
}

// TestDecodeReplacement checks Python's errors="replace" on the model outputs the
// oracle decoded with tiktoken (random weights: partial UTF-8 everywhere).
func TestDecodeReplacement(t *testing.T) {
	o := loadOracle(t)
	tok := fixtureTokenizer(t, tinyDir+"tokenizer/tokenizer.pkl")
	n := 0
	for _, c := range o.Chats {
		for _, turn := range c.Turns {
			if got := tok.Decode(turn.Response); got != turn.Text {
				t.Errorf("decode %v:\n got %q\nwant %q", turn.Response, got, turn.Text)
			}
			n += strings.Count(turn.Text, "\ufffd")
			checkStream(t, tok, turn.Response)
		}
	}
	for _, c := range o.Completions {
		if got := tok.Decode(c.Greedy.IDs); got != c.Greedy.Text {
			t.Errorf("decode %v:\n got %q\nwant %q", c.Greedy.IDs, got, c.Greedy.Text)
		}
		n += strings.Count(c.Greedy.Text, "\ufffd")
		checkStream(t, tok, c.Greedy.IDs)
	}
	if n == 0 {
		t.Fatal("no replacement characters in the oracle texts: the test proves nothing")
	}
}

func TestMaximalSubparts(t *testing.T) {
	// Python: bytes.decode("utf-8", "replace") on each input.
	cases := []struct{ in, want string }{
		{"\xe2\x82", "\ufffd"},
		{"\xe2\x82a", "\ufffda"},
		{"\xf0\x80\x80", "\ufffd\ufffd\ufffd"},
		{"\xed\xa0\x80", "\ufffd\ufffd\ufffd"},
		{"\xf4\x90", "\ufffd\ufffd"},
		{"\xc0\xaf", "\ufffd\ufffd"},
		{"\xf0\x9f\x98", "\ufffd"},
		{"a\xffb", "a\ufffdb"},
		{"\xf0\x9f\x98\x80", "😀"},
	}
	for _, c := range cases {
		if got, _ := decodeUTF8([]byte(c.in), true); got != c.want {
			t.Errorf("decode %q = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestStreamHoldsSplitCharacter(t *testing.T) {
	// The three single-byte tokens of "€" (E2 82 AC): nothing until the last one.
	tok := fixtureTokenizer(t, tinyDir+"tokenizer/tokenizer.pkl")
	d := tok.NewDecoder()
	if p := d.Add(0xe2); p != "" {
		t.Errorf("first byte gave %q", p)
	}
	if p := d.Add(0x82); p != "" {
		t.Errorf("second byte gave %q", p)
	}
	if p := d.Add(0xac); p != "€" {
		t.Errorf("third byte gave %q", p)
	}
	d.Add(0xe2)
	if p := d.Add(int('a')); p != "\ufffda" {
		t.Errorf("broken sequence gave %q", p)
	}
	d.Add(0xf0)
	if p := d.Flush(); p != "\ufffd" {
		t.Errorf("flush gave %q", p)
	}
}

func TestFileRoundTrip(t *testing.T) {
	tok := fixtureTokenizer(t, tinyDir+"tokenizer/tokenizer.pkl")
	b, err := tok.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.tokens, tok.tokens) || !reflect.DeepEqual(back.Specials(), tok.Specials()) || back.Pattern() != tok.Pattern() {
		t.Error("tokenizer.bin does not round-trip")
	}
}

func TestBadFiles(t *testing.T) {
	tok := fixtureTokenizer(t, tinyDir+"tokenizer/tokenizer.pkl")
	good, _ := tok.MarshalBinary()
	patch := func(off int, v ...byte) []byte {
		b := append([]byte(nil), good...)
		copy(b[off:], v)
		return b
	}
	// Offsets: magic 0, version 4, counts 8 and 12, pattern length 16, pattern 20.
	plen := len(NanochatPattern)
	firstToken := 20 + plen
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a BPE tokenizer file"},
		{"llama2.c file", []byte{0x10, 0, 0, 0, 1, 2, 3, 4}, "not a BPE tokenizer file"},
		{"version", patch(4, 2), "version 2"},
		{"huge count", patch(8, 0xff, 0xff, 0xff, 0x7f), "more than"},
		{"truncated", good[:len(good)-5], "truncated"},
		{"trailing", append(append([]byte(nil), good...), 0), "unexpected bytes"},
		{"pattern", patch(20, 'X'), "unsupported split pattern"},
		{"duplicate token", patch(firstToken+9, 0), "same bytes"},
		{"zero-length token", patch(firstToken, 0, 0, 0, 0), "has length 0"},
		{"special id clash", patch(len(good)-4-len("<|output_end|>")-4, 0, 0, 0, 0), "special token"},
	}
	for _, c := range cases {
		_, err := Parse(c.data)
		if err == nil || !strings.HasPrefix(err.Error(), "tokenizer.bin: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestMissingByteToken(t *testing.T) {
	ranks := make([][]byte, 255)
	for i := range ranks {
		ranks[i] = []byte{byte(i)}
	}
	if _, err := New(ranks, nil, NanochatPattern); err == nil || !strings.Contains(err.Error(), "byte 0xff has no token") {
		t.Errorf("error %v", err)
	}
}

func FuzzParse(f *testing.F) {
	tok := fixtureTokenizer(f, tinyDir+"tokenizer/tokenizer.pkl")
	good, _ := tok.MarshalBinary()
	f.Add(good)
	f.Add(good[:100])
	f.Add([]byte("BPET\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tk, err := Parse(data)
		if err != nil {
			return
		}
		ids := tk.Encode(nil, "Hello, world! 123")
		for _, id := range ids {
			if id < 0 || id >= tk.VocabSize() {
				t.Fatalf("id %d outside the vocabulary", id)
			}
		}
	})
}

// FuzzEncode checks that the split covers the text and that Encode/Decode
// round-trip any valid UTF-8 text.
func FuzzEncode(f *testing.F) {
	o := loadOracle(f)
	for _, c := range o.Cases {
		f.Add(c.Text)
	}
	tok := fixtureTokenizer(f, tinyDir+"tokenizer/tokenizer.pkl")
	f.Fuzz(func(t *testing.T, text string) {
		if strings.Join(tok.Pieces(text), "") != text {
			t.Fatalf("pieces of %q do not join to it", text)
		}
		ids := tok.Encode(nil, text)
		if utf8.ValidString(text) && tok.Decode(ids) != text {
			t.Fatalf("%q encodes to %v which decodes to %q", text, ids, tok.Decode(ids))
		}
	})
}

// TestErrorsQuoteAShortPrefix gives New megabyte texts where it quotes them.
func TestErrorsQuoteAShortPrefix(t *testing.T) {
	ranks := make([][]byte, 256)
	for i := range ranks {
		ranks[i] = []byte{byte(i)}
	}
	long := strings.Repeat("é", 1<<20)
	cut := `"` + strings.Repeat("é", quoteLimit/2) + `"...`
	cases := []struct {
		name     string
		ranks    [][]byte
		specials []Special
		pattern  string
		want     string
	}{
		{"pattern", ranks, nil, long, "unsupported split pattern " + cut},
		{"special id", ranks, []Special{{long, 5}}, NanochatPattern, "special token " + cut + " has id 5"},
		{"overlong special", ranks, []Special{{long, 256}}, NanochatPattern, "overlong or repeated text " + cut},
		{"same bytes", append(ranks[:256:256], []byte(long[:MaxTokenBytes]), []byte(long[:MaxTokenBytes])), nil, NanochatPattern,
			"tokens 256 and 257 have the same bytes " + cut},
	}
	for _, c := range cases {
		_, err := New(c.ranks, c.specials, c.pattern)
		if err == nil || !strings.Contains(err.Error(), c.want) || len(err.Error()) > 200 {
			t.Errorf("%s: error %.300v, want a short one containing %q", c.name, err, c.want)
		}
	}
}
