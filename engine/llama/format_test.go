package llama

import (
	"bytes"
	"encoding/binary"
	"io"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/tokenizer/llama2c"
)

// convert is Convert for tests: a fixture re-encoded, or the test fails.
func convert(t testing.TB, src []byte, enc kernels.Encoding) []byte {
	t.Helper()
	b, err := Convert(src, enc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestContainerLayoutOfTheFixture(t *testing.T) {
	src := readFiles(t, tinyDir).Model
	q8 := convert(t, src, kernels.Q8_0)
	// The header: magic, version, encoding, narrow encoding, llama2.c's config, zeros.
	want := append([]byte("IPLM"), 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0)
	want = append(want, src[:HeaderSize]...)
	want = append(want, make([]byte, 64-len(want))...)
	if !bytes.Equal(q8[:64], want) {
		t.Fatalf("header\n% x\nwant\n% x", q8[:64], want)
	}
	cfg, l, err := ParseModel(q8)
	if err != nil {
		t.Fatal(err)
	}
	if !l.Container || l.Enc != kernels.Q8_0 || l.Narrow != kernels.F16 || cfg.String() != "dim=64 hidden=172 layers=2 heads=4 kv_heads=2 vocab=32000 seq_len=128 classifier=shared" {
		t.Fatalf("parsed %v %+v", cfg, l)
	}
	// llama-tiny's hidden_dim 172 is not a multiple of 32: w2's rows stay fp16.
	wantEnc := map[string]kernels.Encoding{
		"token_embedding": kernels.Q8_0, "rms_att": kernels.F32, "wq": kernels.Q8_0, "wk": kernels.Q8_0,
		"wv": kernels.Q8_0, "wo": kernels.Q8_0, "rms_ffn": kernels.F32, "w1": kernels.Q8_0,
		"w2": kernels.F16, "w3": kernels.Q8_0, "rms_final": kernels.F32,
	}
	end := int64(64)
	for _, p := range l.Tensors {
		e, ok := wantEnc[p.Name]
		if !ok || p.Enc != e {
			t.Errorf("%s stored as %v, want %v (present: %v)", p.Name, p.Enc, e, ok)
		}
		if p.Offset%64 != 0 || p.Offset < end || p.Offset-end >= 64 {
			t.Errorf("%s at %d after the previous tensor ends at %d", p.Name, p.Offset, end)
		}
		end = p.Offset + p.Bytes
		delete(wantEnc, p.Name)
	}
	if len(wantEnc) != 0 || end != int64(len(q8)) {
		t.Errorf("missing %v; tensors end at %d of %d", wantEnc, end, len(q8))
	}
	// 32000x64 q8_0 embedding = 32000 rows of 2 blocks of 34 bytes.
	if p := l.Tensors[0]; p.Bytes != 32000*68 {
		t.Errorf("embedding takes %d bytes", p.Bytes)
	}
	m := loadModel(t, engine.Files{Model: q8, Tokenizer: readFiles(t, tinyDir).Tokenizer})
	info := m.Info()
	if info.Encoding != "q8_0" || info.Params != cfg.Params() {
		t.Errorf("info %+v", info)
	}
	for _, kv := range info.Details {
		switch kv.Key {
		case "format":
			if kv.Value != "InferPi Llama container (IPLM version 1)" {
				t.Errorf("format %q", kv.Value)
			}
		case "tensors by encoding":
			if kv.Value != "q8_0 2.1 MB, fp16 43.0 KB, fp32 1.2 KB" {
				t.Errorf("tensors by encoding %q", kv.Value)
			}
		}
	}
	if !(Engine{}).Detect(q8[:engine.HeadSize]) {
		t.Error("Detect does not claim the container")
	}
}

// An fp32 container holds exactly the legacy file's numbers in another place:
// the logits must be bit for bit the same, which checks every offset.
func TestFP32ContainerMatchesLegacy(t *testing.T) {
	files := readFiles(t, untiedDir) // untied: the classifier is placed too
	cfg, legacy, err := ParseModel(files.Model)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	l := cfg.ContainerLayout(kernels.F32, kernels.F16)
	placed := map[string]Placed{}
	for _, p := range legacy.Tensors {
		placed[p.Name] = p
	}
	if _, err := writeLayout(&b, cfg, l, func(t Tensor) ([]float32, error) { return decodeTensor(files.Model, placed[t.Name]), nil }); err != nil {
		t.Fatal(err)
	}
	a := loadModel(t, files)
	files.Model = b.Bytes()
	c := loadModel(t, files)
	if c.layout.Enc != kernels.F32 || !c.layout.Container || len(files.Model) >= int(legacy.Size) {
		t.Fatalf("container %+v, %d bytes (legacy %d)", c.layout, len(files.Model), legacy.Size)
	}
	ra, rc := a.runState(), c.runState()
	for pos, tok := range []int{llama2c.BOS, 300, 500, 1000, 7} {
		la := forward(a.w, a.cfg, ra, tok, pos, true)
		lc := forward(c.w, c.cfg, rc, tok, pos, true)
		if d := maxAbsDiff(la, lc); d != 0 {
			t.Fatalf("position %d: logits differ by %g", pos, d)
		}
	}
}

func TestConvertKeepsTheModel(t *testing.T) {
	src := readFiles(t, untiedDir).Model
	cfg, _, _ := ParseModel(src)
	for _, enc := range kernels.Encodings {
		b := convert(t, src, enc)
		got, l, err := ParseModel(b)
		if err != nil || got != cfg || l.Enc != enc || l.Container != (enc != kernels.F32 && enc != kernels.F16) {
			t.Errorf("%v: %v %+v %v", enc, got, l, err)
		}
	}
	// fp32 -> fp32 is the identity; back from a container, the freq_cis tables
	// are computed as llama2.c's export writes them (within float32 rounding).
	if !bytes.Equal(convert(t, src, kernels.F32), src) {
		t.Error("fp32 to fp32 changed the file")
	}
	back := convert(t, convert(t, src, kernels.Q8_0), kernels.F32)
	l := cfg.LegacyLayout(kernels.F32)
	for _, p := range l.Tensors {
		if p.isRopeTable() {
			if d := maxAbsDiff(decodeTensor(back, p), decodeTensor(src, p)); d > 1e-5 {
				t.Errorf("%s recomputed differs by %g", p.Name, d)
			}
		}
	}
	// The weights come back as q8_0 rounded them: close to, not equal to, fp32.
	w := l.Tensors[2] // wq
	if d := maxAbsDiff(decodeTensor(back, w), decodeTensor(src, w)); d == 0 || d > 0.02 {
		t.Errorf("wq after q8_0 and back differs by %g", d)
	}
}

func TestConvertFP16RefusesOtherInputs(t *testing.T) {
	src := readFiles(t, tinyDir).Model
	for _, enc := range []kernels.Encoding{kernels.F16, kernels.Q4_0} {
		if _, err := ConvertFP16(convert(t, src, enc)); err == nil || !strings.Contains(err.Error(), "already "+enc.String()) {
			t.Errorf("%v: %v", enc, err)
		}
	}
}

// containerHead is the tiny fixture converted to q4_0 (small), for patching.
func containerHead(t testing.TB) []byte {
	return convert(t, readFiles(t, tinyDir).Model, kernels.Q4_0)
}

func TestBadContainersAreRefused(t *testing.T) {
	good := containerHead(t)
	put := func(off int, v uint32) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	cases := []struct {
		name  string
		model []byte
		want  string
	}{
		{"magic only", []byte("IPLM"), "file is 4 bytes, too short for the 64-byte IPLM header"},
		{"cut header", good[:40], "too short for the 64-byte IPLM header"},
		{"version", put(4, 2), "IPLM format version 2, this build reads version 1"},
		{"encoding", put(8, 11), "unknown weight encoding 11 in the IPLM header (0 fp32, 1 fp16, 2 q8_0, 3 q4_0, 4 bf16, 5 q4_1, 6 q5_0, 7 q5_1, 8 q4_k, 9 q5_k, 10 q6_k)"},
		{"huge encoding", put(8, 1<<31), "unknown weight encoding 2147483648"},
		{"narrow", put(12, 2), "narrow-width encoding 2 in the IPLM header, want 0 (fp32) or 1 (fp16)"},
		{"padding", put(60, 1), "header padding (bytes 44-63) is not zero"},
		{"dim", put(16, 0), "header says dim 0"},
		{"kv heads", put(32, 3), "n_kv_heads 3, which does not divide n_heads 4"},
		{"huge vocab", put(36, 1<<30), "vocab_size 1073741824"},
		{"truncated", good[:len(good)-1], "needs exactly 1236032 bytes, file has 1236031 (truncated)"},
		{"trailing", append(bytes.Clone(good), 0), "file has 1236033 (trailing bytes)"},
		{"q8 header on q4 weights", put(8, 2), "(truncated)"},
		{"q4_k header on q4 weights", put(8, 8), "seq_len=128 classifier=shared, q4_k) needs exactly 1500608 bytes"},
		{"narrow fp32", put(12, 0), "needs exactly 1280064 bytes"},
		{"legacy size", readFiles(t, tinyDir).Model[:1000], "needs 8563996 bytes as fp32 or 4282012 bytes as fp16, file has 1000"},
	}
	tok := readFiles(t, tinyDir).Tokenizer
	for _, c := range cases {
		_, err := Load(engine.Files{Model: c.model, Tokenizer: tok})
		if err == nil || !strings.HasPrefix(err.Error(), "model.bin: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming model.bin and containing %q", c.name, err, c.want)
		}
	}
}

// FuzzParseModel: any bytes give a model or an error naming model.bin, never a
// panic; what parses also loads and runs a token.
func FuzzParseModel(f *testing.F) {
	good := containerHead(f)
	f.Add(good[:64])
	f.Add(good[:200])
	f.Add(header(tinyHeader...))
	model, tok := smallModel(f)
	f.Add(model)
	f.Add(convert(f, model, kernels.Q8_0))
	f.Add(convert(f, model, kernels.Q4_0))
	f.Add(convert(f, compatSource(), kernels.Q4_K)) // q4_k's fallback q5_0, vocab 260
	f.Add(convert(f, compatSource(), kernels.BF16))
	f.Add([]byte("IPLM\x01\x00\x00\x00\x03"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, l, err := ParseModel(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "model.bin: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if l.Size != int64(len(data)) {
			t.Fatalf("layout of %d bytes accepted for a %d-byte file", l.Size, len(data))
		}
		if cfg.VocabSize != 260 {
			return // only smallModel's tokenizer fits; the rest was checked above
		}
		m, err := Load(engine.Files{Model: data, Tokenizer: tok})
		if err != nil {
			t.Fatalf("parsed but does not load: %v", err)
		}
		if int64(m.cfg.SeqLen)*kvBytesPerPosition(m.cfg, m.kvEnc()) < 1<<24 {
			forward(m.w, m.cfg, m.runState(), 1, 0, true)
		}
	})
}

func TestWriteModelRefusesBadConfigs(t *testing.T) {
	bad := Config{Dim: 64, HiddenDim: 172, NLayers: 2, NHeads: 5, NKVHeads: 5, VocabSize: 300, SeqLen: 16, SharedClassifier: true}
	_, err := WriteModel(io.Discard, bad, kernels.Q8_0, func(Tensor) ([]float32, error) { return nil, nil })
	if err == nil || !strings.Contains(err.Error(), "not divisible by n_heads 5") {
		t.Errorf("dim 64 with 5 heads: %v", err)
	}
	good := bad
	good.NHeads, good.NKVHeads = 4, 2
	_, err = WriteModel(io.Discard, good, kernels.Q8_0, func(t Tensor) ([]float32, error) { return make([]float32, t.Floats()-1), nil })
	if err == nil || !strings.Contains(err.Error(), "token_embedding: 19199 values for 1 matrices of 300x64") {
		t.Errorf("short tensor: %v", err)
	}
}
