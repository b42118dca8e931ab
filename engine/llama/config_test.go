package llama

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
)

func header(v ...int32) []byte {
	b := make([]byte, 0, HeaderSize)
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return b
}

// tinyHeader is the llama-tiny fixture's shape.
var tinyHeader = []int32{64, 172, 2, 4, 2, 32000, 128}

func TestParseConfigFixtureLayout(t *testing.T) {
	c, err := ParseConfig(header(tinyHeader...))
	if err != nil {
		t.Fatal(err)
	}
	// The fixture README's numbers.
	if c.HeadSize() != 16 || c.KVDim() != 32 || !c.SharedClassifier {
		t.Fatalf("derived sizes wrong: %+v", c)
	}
	if got := c.FileSize(kernels.F32); got != 8563996 {
		t.Fatalf("fp32 size %d, want 8563996", got)
	}
	if got := c.FileSize(kernels.F16); got != 28+(8563996-28)/2 {
		t.Fatalf("fp16 size %d", got)
	}
	// The demo README's parameter count.
	d, _ := ParseConfig(header(192, 512, 4, 6, 3, 1024, 512))
	if d.Params() != 1820352 || d.FileSize(kernels.F32) != 7346972 {
		t.Fatalf("demo: params %d size %d", d.Params(), d.FileSize(kernels.F32))
	}
	// A negative vocab_size means a classifier of its own at the end.
	u, _ := ParseConfig(header(64, 172, 2, 4, 2, -32000, 128))
	if u.SharedClassifier || u.VocabSize != 32000 || u.Floats() != c.Floats()+32000*64 {
		t.Fatalf("untied: %+v", u)
	}
}

func TestBadHeadersAreRefused(t *testing.T) {
	cases := []struct {
		name string
		h    []byte
		want string
	}{
		{"short", header(64, 172, 2), "too short for the 28-byte"},
		{"zero dim", header(0, 172, 2, 4, 2, 32000, 128), "dim 0"},
		{"negative layers", header(64, 172, -2, 4, 2, 32000, 128), "n_layers -2"},
		{"zero kv heads", header(64, 172, 2, 4, 0, 32000, 128), "n_kv_heads 0"},
		{"zero vocab", header(64, 172, 2, 4, 2, 0, 128), "vocab_size 0"},
		{"zero seq_len", header(64, 172, 2, 4, 2, 32000, 0), "seq_len 0"},
		{"dim not divisible", header(64, 172, 2, 5, 5, 32000, 128), "not divisible by n_heads 5"},
		{"kv not dividing", header(64, 172, 2, 4, 3, 32000, 128), "n_kv_heads 3, which does not divide n_heads 4"},
		{"more kv than q", header(64, 172, 2, 4, 8, 32000, 128), "n_kv_heads 8"},
		{"odd head", header(60, 172, 2, 4, 2, 32000, 128), "odd"},
		{"absurd dim", header(1<<30, 172, 2, 4, 2, 32000, 128), "dim 1073741824"},
		{"absurd vocab", header(64, 172, 2, 4, 2, -1<<31, 128), "vocab_size"},
		{"absurd seq_len", header(64, 172, 2, 4, 2, 32000, 1<<30), "seq_len 1073741824"},
	}
	for _, c := range cases {
		_, err := ParseConfig(c.h)
		if err == nil || !strings.HasPrefix(err.Error(), "model.bin: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming model.bin and containing %q", c.name, err, c.want)
		}
	}
}

func TestLoadRefusesWrongSizes(t *testing.T) {
	files := readFiles(t, tinyDir)
	good := files.Model
	for _, n := range []int{len(good) - 1, len(good) + 4, 100, 28} {
		f := files
		f.Model = make([]byte, n)
		copy(f.Model, good)
		_, err := Load(f)
		if err == nil || !strings.Contains(err.Error(), "needs 8563996 bytes as fp32 or 4282012 bytes as fp16") {
			t.Errorf("size %d: %v", n, err)
		}
	}
	// A huge header with a tiny file is refused from the header alone.
	f := files
	f.Model = header(1<<16, 1<<18, 1<<10, 1<<8, 1<<8, 1<<22, 1<<20)
	if _, err := Load(f); err == nil || !strings.Contains(err.Error(), "file has 28 bytes") {
		t.Errorf("absurd header: %v", err)
	}
	f = files
	f.Tokenizer = nil
	if _, err := Load(f); err == nil || !strings.HasPrefix(err.Error(), "tokenizer.bin: missing") {
		t.Errorf("missing tokenizer: %v", err)
	}
	f = files
	f.Tokenizer = f.Tokenizer[:1000]
	if _, err := Load(f); err == nil || !strings.HasPrefix(err.Error(), "tokenizer.bin: ") {
		t.Errorf("truncated tokenizer: %v", err)
	}
	if _, err := ConvertFP16(mustConvert(t, good)); err == nil || !strings.Contains(err.Error(), "already fp16") {
		t.Errorf("converting fp16 again: %v", err)
	}
}

func mustConvert(t *testing.T, b []byte) []byte {
	t.Helper()
	out, err := ConvertFP16(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDetect(t *testing.T) {
	var e Engine
	for _, h := range [][]byte{header(tinyHeader...), []byte("GGUF\x03\x00\x00\x00xxxxxxxx")} {
		if !e.Detect(h) {
			t.Errorf("not detected: %x", h)
		}
	}
	for _, h := range [][]byte{header(0, 1, 1, 1), header(64, 172), nil} {
		if e.Detect(h) {
			t.Errorf("detected %x", h)
		}
	}
	var _ engine.Engine = e
}

// FuzzParseConfig: any 28 bytes give a config or a model.bin error, and a config
// that parses has sizes that do not overflow.
func FuzzParseConfig(f *testing.F) {
	f.Add(header(tinyHeader...))
	f.Add(header(192, 512, 4, 6, 3, -1024, 512))
	f.Add(header(64, 172, 2, 4, 3, 32000, 128))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, h []byte) {
		c, err := ParseConfig(h)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "model.bin: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if c.Floats() <= 0 || c.FileSize(kernels.F32) <= c.FileSize(kernels.F16) || c.Params() > c.Floats() {
			t.Fatalf("%+v: sizes %d %d", c, c.Floats(), c.FileSize(kernels.F32))
		}
		// Loading the bare header must fail on the size, not panic or allocate.
		if _, err := Load(engine.Files{Model: h}); err == nil {
			t.Fatalf("loaded a %d-byte model", len(h))
		}
	})
}

// FuzzLoad: a small valid model with bytes changed anywhere loads or fails cleanly,
// and a model that loads can run a turn.
func FuzzLoad(f *testing.F) {
	model, tok := smallModel(f)
	f.Add(model[:HeaderSize], 0, byte(0))
	f.Add(model[:HeaderSize], 5, byte(0xff))
	f.Add(model[:HeaderSize], 22, byte(0x80))
	f.Fuzz(func(t *testing.T, head []byte, at int, b byte) {
		m := append([]byte(nil), model...)
		copy(m, head)
		if at >= 0 && at < len(m) {
			m[at] = b
		}
		if len(head) < len(m) && len(head) != HeaderSize {
			m = m[:len(m)-len(head)%7] // vary the size too
		}
		loaded, err := Load(engine.Files{Model: m, Tokenizer: tok})
		if err != nil {
			return
		}
		s, err := loaded.NewSession(engine.Options{Mode: engine.Completion, MaxTokens: 3})
		if err != nil {
			return
		}
		if _, err := s.Turn(t.Context(), "ab", nil); err != nil {
			t.Fatal(err)
		}
	})
}
