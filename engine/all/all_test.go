package all

import (
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine"
)

// header is a llama2.c header with these first fields and plausible others.
func header(fields ...int32) []byte {
	var b []byte
	for _, v := range append(fields, 8, 64, 512)[:7] {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return b
}

func TestDetect(t *testing.T) {
	llama, err := os.ReadFile("../../models/llama-demo/model.bin")
	if err != nil {
		t.Fatal(err)
	}
	gpt, err := os.ReadFile("../../models/nanochat-demo/model.bin")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		head   []byte
		engine string // or the error's text
	}{
		{"llama2.c", llama[:engine.HeadSize], "Llama"},
		{"nanochat", gpt[:engine.HeadSize], "GPT"},
		{"plausible header", header(64, 256, 2, 8), "Llama"},
		{"dim 2^30", header(1<<30, 256, 2, 8), "model.bin: looks like a llama2.c header but says dim 1073741824, want 1..65536"},
		{"negative hidden_dim", header(64, -1, 2, 8), "model.bin: looks like a llama2.c header but says hidden_dim -1, want 1..262144"},
		{"n_layers 0", header(64, 256, 0, 8), "model.bin: looks like a llama2.c header but says n_layers 0, want 1..1024"},
		{"n_heads 2^20, 16 bytes", header(64, 256, 2, 1<<20)[:engine.HeadSize], "model.bin: looks like a llama2.c header but says n_heads 1048576, want 1..65536"},
		{"two fields implausible", header(1<<30, 1<<30, 2, 8), ErrNoEngine.Error()},
		{"text", []byte("this is not a model at all"), ErrNoEngine.Error()},
		{"zeros", make([]byte, 28), ErrNoEngine.Error()},
		{"too short", header(1<<30, 256, 2, 8)[:12], ErrNoEngine.Error()},
	}
	for _, c := range cases {
		e, err := Detect(c.head)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = e.Name()
		}
		if got != c.engine {
			t.Errorf("%s: got %q, want %q", c.name, got, c.engine)
		}
		if err != nil && errors.Is(err, ErrNoEngine) != (c.engine == ErrNoEngine.Error()) {
			t.Errorf("%s: errors.Is(err, ErrNoEngine) is %v", c.name, errors.Is(err, ErrNoEngine))
		}
	}
}

func FuzzDetect(f *testing.F) {
	f.Add(header(64, 256, 2, 8))
	f.Add(header(1<<30, 256, 2, 8))
	f.Add([]byte("NCHT\x01\x00\x00\x00"))
	f.Add([]byte("GGUF\x03\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, head []byte) {
		e, err := Detect(head)
		switch {
		case err == nil && e == nil:
			t.Fatal("no engine and no error")
		case err != nil && !errors.Is(err, ErrNoEngine) && !strings.HasPrefix(err.Error(), "model.bin: looks like a llama2.c header but says "):
			t.Fatalf("error %v", err)
		}
	})
}
