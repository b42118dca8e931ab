package nanochat

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/inferpi/inferpi/convert/pickle"
	"github.com/inferpi/inferpi/engine/gpt"
)

const (
	tinyDir  = "../../testdata/nanochat-tiny"
	tinyPT   = "base_checkpoints/d4/model_001000.pt"
	tinyMeta = "base_checkpoints/d4/meta_001000.json"
	demoDir  = "../../testdata/nanochat-demo"
)

func exportBytes(t *testing.T, opts Options) ([]byte, []byte, *Result, error) {
	t.Helper()
	files, err := Locate(opts)
	if err != nil {
		return nil, nil, nil, err
	}
	var m, tok bytes.Buffer
	res, err := Export(files, opts.DType, &m, &tok)
	return m.Bytes(), tok.Bytes(), res, err
}

func TestLocateLikeNanochat(t *testing.T) {
	base := t.TempDir()
	touch := func(p string) {
		p = filepath.Join(base, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
	}
	touch("tokenizer/tokenizer.pkl")
	for _, p := range []string{"d4/model_000100.pt", "d4/meta_000100.json", "d12/model_000900.pt",
		"d12/meta_000900.json", "d12/model_002000.pt", "d12/meta_002000.json", "d12/model_002000.pt.bak",
		"d3extra/model_000001.pt", "d3extra/meta_000001.json", "zz/model_000001.pt"} {
		touch("base_checkpoints/" + p)
	}
	f, err := Locate(Options{BaseDir: base, Step: -1})
	if err != nil {
		t.Fatal(err)
	}
	if f.Tag != "d12" || f.Step != 2000 || filepath.Base(f.Model) != "model_002000.pt" || filepath.Base(f.Meta) != "meta_002000.json" {
		t.Errorf("picked %+v, want the largest depth d12 at its last step 2000", f)
	}
	if f, err = Locate(Options{BaseDir: base, ModelTag: "d12", Step: 900}); err != nil || f.Step != 900 {
		t.Errorf("explicit step: %+v %v", f, err)
	}
	if _, err = Locate(Options{BaseDir: base, ModelTag: "d4", Step: 5}); err == nil || !strings.Contains(err.Error(), "model_000005.pt: no such file") {
		t.Errorf("missing step: %v", err)
	}
	if _, err = Locate(Options{BaseDir: base, Source: "sft", Step: -1}); err == nil || !strings.Contains(err.Error(), "chatsft_checkpoints") {
		t.Errorf("missing sft dir: %v", err)
	}
	if _, err = Locate(Options{BaseDir: base, Source: "mid"}); err == nil || !strings.Contains(err.Error(), "unknown source") {
		t.Errorf("bad source: %v", err)
	}

	// Without d<N> tags, the most recently modified directory wins.
	base2 := t.TempDir()
	for i, tag := range []string{"newest", "older"} {
		p := filepath.Join(base2, "chatsft_checkpoints", tag)
		os.MkdirAll(p, 0o755)
		os.WriteFile(filepath.Join(p, "model_000007.pt"), nil, 0o644)
		os.WriteFile(filepath.Join(p, "meta_000007.json"), nil, 0o644)
		when := time.Now().Add(-time.Duration(i) * time.Hour)
		os.Chtimes(p, when, when)
	}
	os.MkdirAll(filepath.Join(base2, "tokenizer"), 0o755)
	os.WriteFile(filepath.Join(base2, "tokenizer", "tokenizer.pkl"), nil, 0o644)
	if f, err := Locate(Options{BaseDir: base2, Source: "sft", Step: -1}); err != nil || f.Tag != "newest" {
		t.Errorf("mtime fallback picked %+v, %v", f, err)
	}
}

func TestWindowSizes(t *testing.T) {
	// gpt.py's _compute_window_sizes: S = -(-n // 4 // 128) * 128, last layer L.
	for _, c := range []struct {
		seq     int
		pattern string
		want    []int
	}{
		{256, "SSSL", []int{128, 128, 128, 256}},
		{2048, "SSSL", []int{512, 512, 512, 2048, 512, 512, 512, 2048, 512, 512, 512, 2048}},
		{514, "S", []int{256, 256, 514}},
		{512, "ssl", []int{128, 128, 512, 128, 512}},
		{1000, "L", []int{1000, 1000}},
	} {
		h, err := Config{SequenceLen: c.seq, VocabSize: 100, NLayer: len(c.want), NHead: 2, NKVHead: 1, NEmbd: 32, WindowPattern: c.pattern}.header(gpt.EncF32)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(h.Windows, c.want) {
			t.Errorf("seq %d %q: windows %v, want %v", c.seq, c.pattern, h.Windows, c.want)
		}
	}
	if _, err := (Config{SequenceLen: 8, VocabSize: 1, NLayer: 1, NHead: 1, NKVHead: 1, NEmbd: 32, WindowPattern: "SX"}).header(gpt.EncF32); err == nil {
		t.Error("pattern SX accepted")
	}
}

// entry is one tensor of a state-dict pickle, as torch wrote it.
type entry struct {
	key     string
	storage pickle.Tuple // ('storage', class, key, location, numel)
	args    pickle.Tuple // _rebuild_tensor_v2's arguments after the storage
}

// readEntries reads the fixture checkpoint's state dict without building tensors.
func readEntries(t *testing.T, pt []byte) (entries []entry, records map[string][]byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pt), int64(len(pt)))
	if err != nil {
		t.Fatal(err)
	}
	records = map[string][]byte{}
	for _, f := range zr.File {
		r, _ := f.Open()
		b, _ := io.ReadAll(r)
		r.Close()
		_, rest, _ := strings.Cut(f.Name, "/")
		records[rest] = b
	}
	v, err := (&pickle.Unpickler{PersistentLoad: func(pid any) (any, error) { return pid, nil }}).Load(records["data.pkl"])
	if err != nil {
		t.Fatal(err)
	}
	d := v.(*pickle.Object).Items
	for i := range d.Len() {
		call := d.Value(i).(*pickle.Object)
		entries = append(entries, entry{key: d.Key(i).(string), storage: call.Args[0].(pickle.Tuple), args: call.Args[1:]})
	}
	return entries, records
}

// pw writes protocol-2 pickle opcodes.
type pw struct{ bytes.Buffer }

func (p *pw) global(g pickle.Global) { p.WriteString("c" + g.Module + "\n" + g.Name + "\n") }
func (p *pw) value(v any) {
	switch v := v.(type) {
	case string:
		p.WriteByte('X')
		binary.Write(p, binary.LittleEndian, uint32(len(v)))
		p.WriteString(v)
	case int64:
		p.WriteByte('J')
		binary.Write(p, binary.LittleEndian, int32(v))
	case bool:
		p.WriteByte(map[bool]byte{true: 0x88, false: 0x89}[v])
	case pickle.Global:
		p.global(v)
	case pickle.Tuple:
		p.WriteByte('(')
		for _, x := range v {
			p.value(x)
		}
		p.WriteByte('t')
	case *pickle.Dict: // backward hooks: an empty OrderedDict
		p.global(pickle.Global{Module: "collections", Name: "OrderedDict"})
		p.WriteString(")R")
	default:
		panic("pw: cannot write " + pickle.TypeName(v))
	}
}

// writeCheckpoint writes entries as a torch 2.x style zip (archive name
// "archive", the extra records torch 2 adds, storages copied from records).
func writeCheckpoint(t *testing.T, path string, entries []entry, records map[string][]byte) {
	t.Helper()
	p := &pw{}
	p.WriteString("\x80\x02")
	p.global(pickle.Global{Module: "collections", Name: "OrderedDict"})
	p.WriteString(")R(")
	for _, e := range entries {
		p.value(e.key)
		p.global(pickle.Global{Module: "torch._utils", Name: "_rebuild_tensor_v2"})
		p.WriteByte('(')
		p.value(e.storage)
		p.WriteByte('Q')
		for _, a := range e.args {
			if _, ok := a.(*pickle.Object); ok { // hooks: OrderedDict() was recorded as an object
				a = pickle.NewDict()
			}
			p.value(a)
		}
		p.WriteString("tR")
	}
	p.WriteString("u.")
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	add := func(name string, b []byte) {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: "archive/" + name, Method: zip.Store})
		w.Write(b)
	}
	add("data.pkl", p.Bytes())
	add("byteorder", []byte("little"))
	for name, b := range records {
		if strings.HasPrefix(name, "data/") {
			add(name, b)
		}
	}
	add("version", []byte("3\n"))
	add(".data/serialization_id", []byte("0123456789"))
	add(".format_version", []byte("1"))
	add(".storage_alignment", []byte("64"))
	zw.Close()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// rewriteTiny copies the fixture base dir, passing its entries through edit, and
// its meta file through editMeta.
func rewriteTiny(t *testing.T, edit func([]entry) []entry, editMeta func(string) string) string {
	t.Helper()
	pt, err := os.ReadFile(filepath.Join(tinyDir, tinyPT))
	if err != nil {
		t.Fatal(err)
	}
	entries, records := readEntries(t, pt)
	dir := t.TempDir()
	writeCheckpoint(t, filepath.Join(dir, tinyPT), edit(entries), records)
	meta, _ := os.ReadFile(filepath.Join(tinyDir, tinyMeta))
	os.WriteFile(filepath.Join(dir, tinyMeta), []byte(editMeta(string(meta))), 0o644)
	tok, _ := os.ReadFile(filepath.Join(tinyDir, "tokenizer/tokenizer.pkl"))
	os.MkdirAll(filepath.Join(dir, "tokenizer"), 0o755)
	os.WriteFile(filepath.Join(dir, "tokenizer/tokenizer.pkl"), tok, 0o644)
	return dir
}

func same(s string) string { return s }

// TestOrigModPrefix rewrites the checkpoint's pickle so that every key carries
// torch.compile's "_orig_mod." prefix, in a torch 2.x zip, and checks that the
// export is byte for byte the plain one.
func TestOrigModPrefix(t *testing.T) {
	want, _, _, err := exportBytes(t, Options{BaseDir: tinyDir, DType: "fp32", Step: -1})
	if err != nil {
		t.Fatal(err)
	}
	dir := rewriteTiny(t, func(es []entry) []entry {
		for i := range es {
			es[i].key = orig + es[i].key
		}
		return es
	}, same)
	got, _, _, err := exportBytes(t, Options{BaseDir: dir, DType: "fp32", Step: -1})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("the _orig_mod. checkpoint exports differently")
	}
}

// TestOldCheckpointDefaults drops what older nanochat checkpoints lack and checks
// the defaults checkpoint_manager fills in.
func TestOldCheckpointDefaults(t *testing.T) {
	dir := rewriteTiny(t, func(es []entry) []entry {
		var kept []entry
		for _, e := range es {
			if e.key != "resid_lambdas" && e.key != "x0_lambdas" {
				kept = append(kept, e)
			}
		}
		return kept
	}, func(meta string) string {
		return strings.Replace(meta, `"window_pattern": "SSSL"`, `"n_embd_unused_placeholder": 0`, 1)
	})
	// The placeholder is not a GPTConfig field: nanochat would refuse it, and so do we.
	if _, _, _, err := exportBytes(t, Options{BaseDir: dir, Step: -1}); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Fatalf("unknown model_config key: %v", err)
	}
	meta, _ := os.ReadFile(filepath.Join(tinyDir, tinyMeta))
	os.WriteFile(filepath.Join(dir, tinyMeta), []byte(strings.Replace(string(meta), `,
    "window_pattern": "SSSL"`, "", 1)), 0o644)
	model, _, res, err := exportBytes(t, Options{BaseDir: dir, DType: "fp32", Step: -1})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"window_pattern=L", "resid_lambdas=1", "x0_lambdas=0"}; !reflect.DeepEqual(res.Patched, want) {
		t.Errorf("patched %v, want %v", res.Patched, want)
	}
	h, err := gpt.ParseHeader(model)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(h.Windows, []int{256, 256, 256, 256}) {
		t.Errorf("windows %v, want full context everywhere (pattern L)", h.Windows)
	}
	specs, _, _ := h.Layout()
	for _, s := range specs[:2] {
		want := map[string]float32{"resid_lambdas": 1, "x0_lambdas": 0}[s.Name]
		for i := range s.Cols {
			if v := math.Float32frombits(binary.LittleEndian.Uint32(model[s.Offset+4*int64(i):])); v != want {
				t.Errorf("%s[%d] = %v, want %v", s.Name, i, v, want)
			}
		}
	}
}

func TestBadInputs(t *testing.T) {
	drop := func(key string) func([]entry) []entry {
		return func(es []entry) []entry {
			var kept []entry
			for _, e := range es {
				if e.key != key {
					kept = append(kept, e)
				}
			}
			return kept
		}
	}
	rename := func(from, to string) func([]entry) []entry {
		return func(es []entry) []entry {
			for i := range es {
				if es[i].key == from {
					es[i].key = to
				}
			}
			return es
		}
	}
	cases := []struct {
		name string
		dir  func() string
		opts Options
		want string
	}{
		{"missing tensor", func() string { return rewriteTiny(t, drop("transformer.h.2.attn.c_q.weight"), same) }, Options{}, "missing transformer.h.2.attn.c_q.weight"},
		{"unexpected key", func() string { return rewriteTiny(t, rename("lm_head.weight", "lm_head.bias"), same) }, Options{}, `unexpected key "lm_head.bias"`},
		{"wrong shape", func() string {
			return rewriteTiny(t, func(e []entry) []entry { return e }, func(m string) string {
				return strings.Replace(m, `"n_kv_head": 2`, `"n_kv_head": 4`, 1)
			})
		}, Options{}, "transformer.h.0.attn.c_k.weight has shape [32 64], the model_config implies [64 64]"},
		{"vocab mismatch", func() string {
			return rewriteTiny(t, func(e []entry) []entry { return e }, func(m string) string {
				return strings.Replace(m, `"vocab_size": 521`, `"vocab_size": 520`, 1)
			})
		}, Options{}, "has 521 tokens but"},
		{"dtype", func() string { return tinyDir }, Options{DType: "q3_k"},
			`--dtype "q3_k": want fp16, fp32, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k or q6_k`},
		{"no checkpoint", func() string { return demoDir }, Options{Source: "base"}, "base_checkpoints"},
	}
	for _, c := range cases {
		c.opts.BaseDir, c.opts.Step = c.dir(), -1
		_, _, _, err := exportBytes(t, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestExportDirWritesBothFiles(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	res, err := ExportDir(Options{BaseDir: tinyDir, Step: -1}, out)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := os.ReadFile(filepath.Join(out, "model.bin"))
	tok, _ := os.ReadFile(filepath.Join(out, "tokenizer.bin"))
	wantM, wantTok, _, _ := exportBytes(t, Options{BaseDir: tinyDir, Step: -1})
	if !bytes.Equal(m, wantM) || !bytes.Equal(tok, wantTok) || res.ModelBytes != int64(len(m)) {
		t.Error("ExportDir wrote different files than Export")
	}
	left, _ := filepath.Glob(filepath.Join(out, "*.tmp"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
