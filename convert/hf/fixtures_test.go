package hf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/internal/testfile"
)

// The Hugging Face fixtures: small model directories with llama.cpp's
// conversion of each (summarised in gguf/NAME-f32.gguf.json) and its outputs.
const hfDir = "../../testdata/hf"

var fixtures = []string{"llama-spm-bf16", "llama-tied-sharded-f32", "qwen2-bpe-fp16", "qwen3-bf16"}

// copyFixture copies a fixture's Hugging Face files into a temporary directory
// of the same name, gunzipping *.gz, and returns its path. The gguf/ and
// oracle/ folders stay behind.
func copyFixture(t testing.TB, fixture string) string {
	return testfile.CopyDir(t, filepath.Join(hfDir, fixture))
}

func openFixture(t testing.TB, dir string) *Model {
	t.Helper()
	m, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// ggufSummary is gguf/NAME-f32.gguf.json: llama.cpp's metadata in file order
// and its tensor table.
type ggufSummary struct {
	keys    []string
	kv      map[string]json.RawMessage
	Tensors []struct {
		Name   string  `json:"name"`
		Type   string  `json:"type"`
		Ne     []int64 `json:"ne"`
		Bytes  int64   `json:"n_bytes"`
		SHA256 string  `json:"sha256"`
	} `json:"tensors"`
}

func readSummary(t testing.TB, fixture string) *ggufSummary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(hfDir, fixture, "gguf", fixture+"-f32.gguf.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s ggufSummary
	var top struct {
		KV json.RawMessage `json:"kv"`
	}
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(top.KV, &s.kv); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(top.KV))
	dec.Token() // {
	for dec.More() {
		k, _ := dec.Token()
		s.keys = append(s.keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	return &s
}

// arraySummary is how the .gguf.json gives a long array.
type arraySummary struct {
	Length    int            `json:"array_length"`
	First     []any          `json:"first"`
	Last      []any          `json:"last"`
	SHA256    string         `json:"sha256_of_json_list"`
	Histogram map[string]int `json:"histogram"`
}

// pyJSON writes a list as Python's json.dumps(list, ensure_ascii=False) does,
// the text whose sha256 the summaries give.
func pyJSON(v any) string {
	var b strings.Builder
	b.WriteByte('[')
	n := 0
	item := func(s string) {
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s)
		n++
	}
	switch x := v.(type) {
	case []string:
		for _, s := range x {
			item(pyString(s))
		}
	case []int32:
		for _, i := range x {
			item(strconv.Itoa(int(i)))
		}
	case []float32:
		for _, f := range x {
			item(pyFloat(float64(f)))
		}
	default:
		panic(fmt.Sprintf("pyJSON(%T)", v))
	}
	b.WriteByte(']')
	return b.String()
}

func pyString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// pyFloat is Python's repr of a float: the shortest digits, in positional
// notation with ".0" for whole numbers unless the exponent is below -4 or
// at least 16.
func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	e, _ := strconv.Atoi(exp)
	neg := strings.HasPrefix(mant, "-")
	digits := strings.Replace(strings.TrimPrefix(mant, "-"), ".", "", 1)
	sign := ""
	if neg {
		sign = "-"
	}
	if e < -4 || e >= 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		return fmt.Sprintf("%s%se%+03d", sign, m, e)
	}
	if e < 0 {
		return sign + "0." + strings.Repeat("0", -e-1) + digits
	}
	if len(digits) <= e+1 {
		return sign + digits + strings.Repeat("0", e+1-len(digits)) + ".0"
	}
	return sign + digits[:e+1] + "." + digits[e+1:]
}

func TestPyFloat(t *testing.T) {
	for f, want := range map[float64]string{
		-1000: "-1000.0", 0: "0.0", 1e-5: "1e-05", 0.5: "0.5", -31740: "-31740.0",
		1e16: "1e+16", 123456789012345.6: "123456789012345.6", 0.0001: "0.0001", float64(float32(0.1)): "0.10000000149011612",
		-2.5e-7: "-2.5e-07",
	} {
		if got := pyFloat(f); got != want {
			t.Errorf("pyFloat(%v) = %s, want %s", f, got, want)
		}
	}
}

// checkMetadata compares the converter's metadata with llama.cpp's: the same
// keys in the same order and the same values (general.name, which llama.cpp
// derives from the directory name by its own heuristics, aside).
func checkMetadata(t *testing.T, fixture string, kvs []KV) {
	t.Helper()
	s := readSummary(t, fixture)
	var keys []string
	for _, kv := range kvs {
		keys = append(keys, kv.Key)
	}
	if strings.Join(keys, " ") != strings.Join(s.keys, " ") {
		t.Errorf("%s: keys\n%v\nllama.cpp's\n%v", fixture, keys, s.keys)
	}
	for _, kv := range kvs {
		raw, ok := s.kv[kv.Key]
		if !ok || kv.Key == "general.name" {
			continue
		}
		if err := sameValue(kv.Value, raw); err != nil {
			t.Errorf("%s: %s: %v", fixture, kv.Key, err)
		}
	}
}

// sameValue compares a metadata value with the summary's JSON for it.
func sameValue(v any, raw json.RawMessage) error {
	switch x := v.(type) {
	case []string, []int32, []float32:
		var a arraySummary
		if err := json.Unmarshal(raw, &a); err != nil {
			return err
		}
		text := pyJSON(x)
		var list []any
		json.Unmarshal([]byte(text), &list)
		switch {
		case len(list) != a.Length:
			return fmt.Errorf("%d entries, llama.cpp has %d", len(list), a.Length)
		case testfile.SHA256([]byte(text)) != a.SHA256:
			first, _ := json.Marshal(list[:min(len(list), 12)])
			want, _ := json.Marshal(a.First)
			return fmt.Errorf("the list differs: first %s, llama.cpp's %s", first, want)
		}
		if a.Histogram != nil {
			h := map[string]int{}
			for _, e := range x.([]int32) {
				h[strconv.Itoa(int(e))]++
			}
			if fmt.Sprint(h) != fmt.Sprint(a.Histogram) {
				return fmt.Errorf("histogram %v, llama.cpp's %v", h, a.Histogram)
			}
		}
		return nil
	case float32:
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil {
			return err
		}
		if f != float64(x) {
			return fmt.Errorf("%v, llama.cpp's %v", x, f)
		}
		return nil
	case uint32:
		var u uint32
		if err := json.Unmarshal(raw, &u); err != nil {
			return err
		}
		if u != x {
			return fmt.Errorf("%d, llama.cpp's %d", x, u)
		}
		return nil
	}
	want, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var a, b any
	json.Unmarshal(want, &a)
	json.Unmarshal(raw, &b)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		return fmt.Errorf("%v, llama.cpp's %v", a, b)
	}
	return nil
}

// tensorSum is the sha256 of a tensor's values as little-endian float32.
func tensorSum(t *testing.T, x *Tensor) string {
	t.Helper()
	v := make([]float32, x.Elements())
	if err := x.Read(0, v); err != nil {
		t.Fatal(err)
	}
	return testfile.SHA256Float32s(v)
}

// Each fixture converts to llama.cpp's GGUF: the same metadata (architecture
// values, vocabulary, special tokens, template) and the same tensors, in the
// same order, with the same float32 values (q and k permuted for Llama).
func TestFixturesLikeLlamaCpp(t *testing.T) {
	for _, fixture := range fixtures {
		m := openFixture(t, copyFixture(t, fixture))
		checkMetadata(t, fixture, m.Metadata(0))
		s := readSummary(t, fixture)
		if len(m.Tensors) != len(s.Tensors) {
			t.Errorf("%s: %d tensors, llama.cpp's %d", fixture, len(m.Tensors), len(s.Tensors))
			continue
		}
		for i, x := range m.Tensors {
			want := s.Tensors[i]
			if x.Name != want.Name || fmt.Sprint(x.Dims) != fmt.Sprint(want.Ne) {
				t.Errorf("%s: tensor %d is %s %v, llama.cpp's %s %v", fixture, i, x.Name, x.Dims, want.Name, want.Ne)
				continue
			}
			if got := tensorSum(t, x); got != want.SHA256 {
				t.Errorf("%s: %s (from %s) differs from llama.cpp's", fixture, x.Name, x.Source)
			}
		}
	}
}
