package llama2c

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

const fixtureDir = "../../../testdata/llama-tiny/"

func loadFixture(t testing.TB) *Tokenizer {
	t.Helper()
	data, err := os.ReadFile(fixtureDir + "tokenizer.bin")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Load(data, 32000)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type oracle struct {
	TokenizerCases []struct {
		Name    string `json:"name"`
		TextHex string `json:"text_hex"`
		RunCIDs []int  `json:"runc_ids"`
	} `json:"tokenizer_cases"`
	DecodeCases []struct {
		Name       string `json:"name"`
		IDs        []int  `json:"ids"`
		PrintedHex string `json:"printed_hex"`
	} `json:"decode_cases"`
}

func loadOracle(t *testing.T) oracle {
	t.Helper()
	raw, err := os.ReadFile(fixtureDir + "oracle.json")
	if err != nil {
		t.Fatal(err)
	}
	var o oracle
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	if len(o.TokenizerCases) == 0 || len(o.DecodeCases) == 0 {
		t.Fatal("oracle.json has no tokenizer or decode cases")
	}
	return o
}

func unhex(t *testing.T, s string) string {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEncodeMatchesRunC(t *testing.T) {
	tok := loadFixture(t)
	for _, c := range loadOracle(t).TokenizerCases {
		got := tok.Encode(unhex(t, c.TextHex), true, false)
		if !slices.Equal(got, c.RunCIDs) {
			t.Errorf("%s: Encode(%q) = %v, run.c gives %v", c.Name, unhex(t, c.TextHex), got, c.RunCIDs)
		}
	}
}

func TestDecodeMatchesRunC(t *testing.T) {
	tok := loadFixture(t)
	for _, c := range loadOracle(t).DecodeCases {
		want := unhex(t, c.PrintedHex)
		if got := tok.Decode(c.IDs); string(got) != want {
			t.Errorf("%s: Decode(%v) = %q, run.c prints %q", c.Name, c.IDs, got, want)
		}
	}
}

func TestEncodeFlags(t *testing.T) {
	tok := loadFixture(t)
	if got := tok.Encode("", false, false); len(got) != 0 {
		t.Errorf("Encode(\"\") without BOS = %v, want []", got)
	}
	if got := tok.Encode("", true, true); !slices.Equal(got, []int{BOS, EOS}) {
		t.Errorf("Encode(\"\", bos, eos) = %v, want [1 2]", got)
	}
	// Text ends at NUL, as in C.
	if a, b := tok.Encode("Hello\x00world", true, false), tok.Encode("Hello", true, false); !slices.Equal(a, b) {
		t.Errorf("NUL did not end the text: %v vs %v", a, b)
	}
}

// buildTokenizer writes a tokenizer.bin: the 259 llama2.c specials and byte
// tokens, then extra pieces with the given scores.
func buildTokenizer(extra map[string]float32, order []string) []byte {
	var b bytes.Buffer
	put := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	put(uint32(16))
	tok := func(s string, score float32) { put(score); put(int32(len(s))); b.WriteString(s) }
	tok("<unk>", 0)
	tok("\n<s>\n", 0)
	tok("\n</s>\n", 0)
	for i := 0; i < 256; i++ {
		tok("<0x"+strings.ToUpper(hex.EncodeToString([]byte{byte(i)}))+">", 0)
	}
	for _, s := range order {
		tok(s, extra[s])
	}
	return b.Bytes()
}

func TestMergePrefersHighestScoreThenLeftmost(t *testing.T) {
	order := []string{" ", "a", "b", "ab", "ba", " a", "aa"}
	scores := map[string]float32{" ": -1, "a": -1, "b": -1, "ab": -5, "ba": -2, " a": -9, "aa": -3}
	data := buildTokenizer(scores, order)
	tok, err := Load(data, 259+len(order))
	if err != nil {
		t.Fatal(err)
	}
	id := func(s string) int { i, _ := tok.ID(s); return i }
	// [" " a b a]: pairs " a" -9, "ab" -5, "ba" -2: "ba" merges first, then " a".
	if got, want := tok.Encode("aba", false, false), []int{id(" a"), id("ba")}; !slices.Equal(got, want) {
		t.Fatalf("Encode(aba) = %v, want %v", got, want)
	}
	// [" " a a a]: "aa" (-3) beats " a" (-9) and is found at two places; the
	// leftmost merges. Then " aa" and "aaa" are not tokens, so nothing more merges.
	if got, want := tok.Encode("aaa", false, false), []int{id(" "), id("aa"), id("a")}; !slices.Equal(got, want) {
		t.Fatalf("Encode(aaa) = %v, want %v", got, want)
	}
	// Byte fallback for a character not in the vocabulary, and the BOS flag.
	if got, want := tok.Encode("é", true, false), []int{BOS, id(" "), 0xc3 + 3, 0xa9 + 3}; !slices.Equal(got, want) {
		t.Fatalf("Encode(é) = %v, want %v", got, want)
	}
}

func TestLoadRejectsBadFiles(t *testing.T) {
	good := buildTokenizer(nil, nil)
	cases := map[string]struct {
		data  []byte
		vocab int
		want  string
	}{
		"empty":          {nil, 259, "too short for the 4-byte header"},
		"zero max len":   {append([]byte{0, 0, 0, 0}, good[4:]...), 259, "max_token_length 0"},
		"huge vocab":     {good, 1 << 30, "too short for 1073741824 tokens"},
		"zero vocab":     {good, 0, "has 0 tokens"},
		"truncated":      {good[:len(good)-3], 259, "token 258 needs"},
		"trailing bytes": {append(slices.Clone(good), 1, 2), 259, "2 bytes left over"},
		"negative len":   {patchLen(good, -1), 259, "token 0 has length -1"},
		"len above max":  {patchLen(good, 17), 259, "token 0 has length 17"},
		"missing tokens": {good, 300, "truncated at token 259"},
	}
	for name, c := range cases {
		_, err := Load(c.data, c.vocab)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "tokenizer.bin: ") {
			t.Errorf("%s: error %v, want one naming tokenizer.bin and containing %q", name, err, c.want)
		}
	}
	if _, err := Load(good, 259); err != nil {
		t.Fatalf("good file: %v", err)
	}
}

// patchLen sets token 0's length field.
func patchLen(data []byte, n int32) []byte {
	d := slices.Clone(data)
	binary.LittleEndian.PutUint32(d[8:], uint32(n))
	return d
}

func TestPieceOfOutOfRangeID(t *testing.T) {
	tok := loadFixture(t)
	if p := tok.Piece(BOS, 32000); p != nil {
		t.Fatalf("Piece(out of range) = %q", p)
	}
	if b, ok := byteToken("<0x4"); !ok || b != 4 {
		t.Fatalf("sscanf-like byte parse of <0x4 = %d %v", b, ok)
	}
}

func FuzzLoad(f *testing.F) {
	// Small seeds keep the fuzzer fast; the full 259-token layout is covered by the
	// unit tests above.
	small := []byte{8, 0, 0, 0}
	for _, s := range []string{"<unk>", "\n<s>\n", "\n</s>\n", " ", "a", "b", "ab"} {
		small = binary.LittleEndian.AppendUint32(small, math.Float32bits(float32(-len(s))))
		small = binary.LittleEndian.AppendUint32(small, uint32(len(s)))
		small = append(small, s...)
	}
	f.Add(small, 7)
	f.Add(small, 8)
	f.Add(small[:20], 7)
	f.Add([]byte{1, 0, 0, 0}, 259)
	f.Fuzz(func(t *testing.T, data []byte, vocab int) {
		if vocab > 1<<20 {
			vocab = 1 << 20
		}
		tok, err := Load(data, vocab)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "tokenizer.bin: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		// A loaded tokenizer must encode and decode anything without panicking.
		ids := tok.Encode(string(data[:min(len(data), 64)]), true, true)
		for _, id := range ids {
			if id < 0 || id >= tok.VocabSize() {
				t.Fatalf("Encode produced id %d outside the vocabulary of %d", id, tok.VocabSize())
			}
		}
		tok.Decode(ids)
	})
}

func FuzzEncode(f *testing.F) {
	tok := loadFixture(f)
	for _, s := range []string{"", "Hello world", "café 🙂", "x\x80\x80", "\xff\xfe", "a\u2581b", "  \t\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Encode(s, true, false)
		for _, id := range ids {
			if id < 0 || id >= tok.VocabSize() {
				t.Fatalf("Encode(%q) produced id %d", s, id)
			}
		}
		// Valid printable ASCII text survives the round trip (the dummy prefix is
		// dropped after BOS), as run.c's own output shows.
		if isPlainASCII(s) && string(tok.Decode(ids)) != s {
			t.Fatalf("Decode(Encode(%q)) = %q", s, tok.Decode(ids))
		}
	})
}

func isPlainASCII(s string) bool {
	if s == "" || s[0] == ' ' {
		return false // a leading space merges with the dummy prefix into a longer token
	}
	for i := 0; i < len(s); i++ {
		if !isPrint(s[i]) {
			return false
		}
	}
	return true
}
