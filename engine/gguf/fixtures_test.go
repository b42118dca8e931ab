package gguf_test

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/internal/testfile"
)

// fixtures holds llama.cpp's GGUF files with what llama.cpp says about each.
const fixtures = "../../testdata/gguf"

// oracle is the part of a fixture's oracle JSON that describes the file.
type oracle struct {
	File        string            `json:"file"`
	SHA256      string            `json:"sha256"`
	Bytes       int64             `json:"bytes"`
	TensorTypes map[string]string `json:"tensor_types"`
	Meta        struct {
		NVocab    int               `json:"n_vocab"`
		NEmbd     int64             `json:"n_embd"`
		NParams   int64             `json:"n_params"`
		SizeBytes int64             `json:"size_bytes"`
		Metadata  map[string]string `json:"metadata_as_llama_cpp_prints_it"`
	} `json:"meta"`
	path string // of the GGUF file
}

// oracles returns the oracle of every model file the fixtures describe, keyed by
// file name, whether the file is in the repository or not (F16 and BF16 are made
// by the tests; llama-demo's F32 is not kept).
func oracles(t *testing.T) map[string]*oracle {
	t.Helper()
	paths, _ := filepath.Glob(fixtures + "/models/*/oracle/*.json")
	more, _ := filepath.Glob(fixtures + "/trained/oracle/*.json")
	out := map[string]*oracle{}
	for _, p := range append(paths, more...) {
		var o oracle
		testfile.JSON(t, p, &o)
		if o.File == "" {
			continue // measurements, probes, tokenizer cases
		}
		o.path = filepath.Join(filepath.Dir(p), "..", o.File)
		out[o.File] = &o
	}
	if len(out) != 4*13+3 {
		t.Fatalf("found %d model oracles, want 55", len(out))
	}
	return out
}

// shapeTable is a model README's table of tensors: name -> dims, and the tensor
// type in each variant (column name such as "Q4_K_M" or "pure-Q5_0").
type shapeTable struct {
	dims  map[string][]int64
	types map[string]map[string]string // variant -> tensor -> type
}

var tableRow = regexp.MustCompile("^\\| `([^`]+)` \\| \\[([0-9, ]+)\\] \\|(.*)\\|$")

func readShapeTable(t *testing.T, readme string) shapeTable {
	t.Helper()
	f, err := os.Open(readme)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st := shapeTable{dims: map[string][]int64{}, types: map[string]map[string]string{}}
	var variants []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "| tensor | ne (GGUF order) |") {
			for _, v := range strings.Split(strings.Trim(line, "| "), "|")[2:] {
				variants = append(variants, strings.TrimSpace(v))
			}
			continue
		}
		m := tableRow.FindStringSubmatch(line)
		if m == nil || variants == nil {
			continue
		}
		for _, d := range strings.Split(m[2], ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(d), 10, 64)
			if err != nil {
				t.Fatalf("%s: %q: %v", readme, line, err)
			}
			st.dims[m[1]] = append(st.dims[m[1]], n)
		}
		for i, typ := range strings.Split(m[3], "|") {
			if st.types[variants[i]] == nil {
				st.types[variants[i]] = map[string]string{}
			}
			st.types[variants[i]][m[1]] = strings.TrimSpace(typ)
		}
	}
	if len(st.dims) == 0 {
		t.Fatalf("%s: no tensor table", readme)
	}
	return st
}

// llamaCppString formats a scalar value as llama.cpp's gguf_kv_to_str does
// (llama-impl.cpp): numbers with std::to_string, bools as true/false.
func llamaCppString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case float32:
		return fmt.Sprintf("%f", x), true
	case float64:
		return fmt.Sprintf("%f", x), true
	case uint8, int8, uint16, int16, uint32, int32, uint64, int64:
		return fmt.Sprint(x), true
	}
	return "", false // an array: llama.cpp's model metadata leaves them out
}

// checkAgainstOracle compares a parsed model file with llama.cpp's description of it.
func checkAgainstOracle(t *testing.T, f *gguf.File, data []byte, o *oracle, table *shapeTable, variant string) {
	t.Helper()
	if got := testfile.SHA256(data); got != o.SHA256 || int64(len(data)) != o.Bytes {
		t.Fatalf("%s: %d bytes, sha256 %s; the oracle is for %d bytes, %s", o.File, len(data), got, o.Bytes, o.SHA256)
	}
	if f.Version != 3 || f.Alignment != 32 || f.Size != o.Bytes {
		t.Errorf("%s: version %d, alignment %d, size %d", o.File, f.Version, f.Alignment, f.Size)
	}

	got := map[string]string{}
	var params, bytes int64
	for _, ten := range f.Tensors {
		got[ten.Name] = ten.Type.String()
		params += ten.Elements()
		bytes += ten.Bytes
		if table != nil && !slices.Equal(ten.Dims, table.dims[ten.Name]) {
			t.Errorf("%s: %s dims %v, README says %v", o.File, ten.Name, ten.Dims, table.dims[ten.Name])
		}
		if ten.Offset%32 != 0 || ten.Offset < f.DataOffset || ten.Offset+ten.Bytes > f.Size {
			t.Errorf("%s: %s at %d..%d, data from %d", o.File, ten.Name, ten.Offset, ten.Offset+ten.Bytes, f.DataOffset)
		}
	}
	if !maps.Equal(got, o.TensorTypes) {
		t.Errorf("%s: tensor types\n%v\nllama.cpp says\n%v", o.File, got, o.TensorTypes)
	}
	if table != nil && !maps.Equal(got, table.types[variant]) {
		t.Errorf("%s: tensor types\n%v\nREADME says\n%v", o.File, got, table.types[variant])
	}
	if params != o.Meta.NParams {
		t.Errorf("%s: %d weights, llama.cpp counts %d", o.File, params, o.Meta.NParams)
	}
	if o.Meta.SizeBytes != 0 && bytes != o.Meta.SizeBytes {
		t.Errorf("%s: %d bytes of tensor data, llama.cpp counts %d", o.File, bytes, o.Meta.SizeBytes)
	}

	for key, want := range o.Meta.Metadata {
		v, ok := f.Lookup(key)
		if !ok {
			t.Errorf("%s: no key %s (llama.cpp prints %q)", o.File, key, want)
			continue
		}
		if s, _ := llamaCppString(v); s != want {
			t.Errorf("%s: %s = %q (%T), llama.cpp prints %q", o.File, key, s, v, want)
		}
	}
	tokens, err := f.GetStrings("tokenizer.ggml.tokens")
	if err != nil || len(tokens) != o.Meta.NVocab {
		t.Errorf("%s: %d tokens (%v), llama.cpp's n_vocab is %d", o.File, len(tokens), err, o.Meta.NVocab)
	}
	embd, ok := f.Tensor("token_embd.weight")
	if !ok || embd.Rows() != int64(o.Meta.NVocab) || o.Meta.NEmbd != 0 && embd.Dims[0] != o.Meta.NEmbd {
		t.Errorf("%s: token_embd.weight %+v, want %d rows of %d", o.File, embd, o.Meta.NVocab, o.Meta.NEmbd)
	}
}

// parseBoth parses a file with Parse and with Read (through the file itself) and
// checks that they agree.
func parseBoth(t *testing.T, path string) (*gguf.File, []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(path)
	f, err := gguf.Parse(data, name)
	if err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r, err := gguf.Read(fh, int64(len(data)), name)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f, r) {
		t.Fatalf("%s: Parse and Read disagree", name)
	}
	return f, data
}

// variantOf returns the variant part of a model file name: "Q4_K_M" of
// "llama-spm.Q4_K_M.gguf".
func variantOf(file string) string {
	_, v, _ := strings.Cut(strings.TrimSuffix(file, ".gguf"), ".")
	return v
}

func TestModelFixtures(t *testing.T) {
	tables := map[string]*shapeTable{}
	tested := 0
	for file, o := range oracles(t) {
		if _, err := os.Stat(o.path); err != nil {
			continue // written by TestWriteF16AndBF16, or not kept
		}
		t.Run(file, func(t *testing.T) {
			model := filepath.Base(filepath.Dir(o.path))
			var table *shapeTable
			if model != "trained" {
				if tables[model] == nil {
					st := readShapeTable(t, filepath.Join(filepath.Dir(o.path), "README.md"))
					tables[model] = &st
				}
				table = tables[model]
			}
			f, data := parseBoth(t, o.path)
			checkAgainstOracle(t, f, data, o, table, variantOf(file))
		})
		tested++
	}
	if tested != 4*11+2 {
		t.Errorf("tested %d model files, want 46", tested)
	}
}

// TestVocabFixtures reads llama.cpp's vocab-only files: no tensors, and no
// padding after the key-value pairs (gguf-py's vocab-only layout).
func TestVocabFixtures(t *testing.T) {
	for _, c := range []struct {
		file   string
		arrays map[string]int
	}{
		{"ggml-vocab-gpt-2", map[string]int{"tokenizer.ggml.tokens": 50257, "tokenizer.ggml.token_type": 50257, "tokenizer.ggml.merges": 50000}},
		{"ggml-vocab-llama-spm", map[string]int{"tokenizer.ggml.tokens": 32000, "tokenizer.ggml.token_type": 32000, "tokenizer.ggml.scores": 32000}},
	} {
		t.Run(c.file, func(t *testing.T) {
			f, _ := parseBoth(t, filepath.Join(fixtures, "tokenizer", c.file+".gguf"))
			var o struct {
				NVocab   int               `json:"n_vocab"`
				Metadata map[string]string `json:"metadata"`
			}
			testfile.JSON(t, filepath.Join(fixtures, "tokenizer", c.file+".llama-cpp.json"), &o)
			checkVocab(t, f, o.NVocab, o.Metadata, c.arrays)
			if len(f.Tensors) != 0 || f.DataOffset < f.Size || f.DataOffset%32 != 0 {
				t.Errorf("%d tensors, data at %d of %d bytes", len(f.Tensors), f.DataOffset, f.Size)
			}
			if got := f.FileType(); got != "F16" {
				t.Errorf("FileType %q, want F16", got)
			}
		})
	}
}

// checkVocab compares a vocab file's scalars with what llama.cpp prints (all of
// them) and its arrays' lengths with what they should be.
func checkVocab(t *testing.T, f *gguf.File, nVocab int, metadata map[string]string, arrays map[string]int) {
	t.Helper()
	scalars := 0
	for _, kv := range f.KVs {
		s, scalar := llamaCppString(kv.Value)
		if !scalar {
			if n := reflect.ValueOf(kv.Value).Len(); n != arrays[kv.Key] {
				t.Errorf("%s: %d elements, want %d", kv.Key, n, arrays[kv.Key])
			}
			continue
		}
		scalars++
		if want, ok := metadata[kv.Key]; !ok || s != want {
			t.Errorf("%s = %q, llama.cpp prints %q", kv.Key, s, want)
		}
	}
	if scalars != len(metadata) || len(f.KVs) != scalars+len(arrays) {
		t.Errorf("%d scalar keys and %d in all; llama.cpp prints %d scalars, and %d arrays are expected", scalars, len(f.KVs), len(metadata), len(arrays))
	}
	if tokens, _ := f.GetStrings("tokenizer.ggml.tokens"); len(tokens) != nVocab {
		t.Errorf("%d tokens, llama.cpp's n_vocab is %d", len(tokens), nVocab)
	}
}

// countingReader records the ReadAt calls Read makes.
type countingReader struct {
	r     *bytes.Reader
	calls int
	end   int64 // furthest byte read
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.calls++
	c.end = max(c.end, off+int64(len(p)))
	return c.r.ReadAt(p, off)
}

// TestReadReadsOnlyTheHeader checks that Read fetches the header region in large
// pieces and stops before the tensor data (give or take one window).
func TestReadReadsOnlyTheHeader(t *testing.T) {
	for _, path := range []string{
		"models/llama-spm/llama-spm.F32.gguf",
		"trained/llama-demo.Q4_0.gguf",
		"tokenizer/ggml-vocab-gpt-2.gguf",
	} {
		data, err := os.ReadFile(filepath.Join(fixtures, path))
		if err != nil {
			t.Fatal(err)
		}
		cr := &countingReader{r: bytes.NewReader(data)}
		f, err := gguf.Read(cr, int64(len(data)), path)
		if err != nil {
			t.Fatal(err)
		}
		window := int64(64 << 10)
		if maxCalls := int(f.DataOffset/window) + 2; cr.calls > maxCalls {
			t.Errorf("%s: %d ReadAt calls for a %d-byte header, want at most %d", path, cr.calls, f.DataOffset, maxCalls)
		}
		if cr.end > f.DataOffset+window {
			t.Errorf("%s: read up to byte %d; the data starts at %d", path, cr.end, f.DataOffset)
		}
		t.Logf("%s: %d-byte header in %d reads, up to byte %d", path, f.DataOffset, cr.calls, cr.end)
	}
}
