package gpt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
)

// TestCheckFootprint: the check of the demo's model.bin header, tokenizer.bin
// and inferpi.json gives the loaded model's footprint, which is what its
// rotary tables and a session's run state allocate; what loading refuses,
// the check refuses with the same message.
func TestCheckFootprint(t *testing.T) {
	var files engine.Files
	var err error
	if files.Model, err = os.ReadFile(filepath.Join("../../models/nanochat-demo", "model.bin")); err != nil {
		t.Fatal(err)
	}
	if files.Tokenizer, err = os.ReadFile(filepath.Join("../../models/nanochat-demo", "tokenizer.bin")); err != nil {
		t.Fatal(err)
	}
	m, err := Load(files)
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(files.Model))
	head := files
	head.Model = files.Model[:m.h.HeaderSize()]
	fp, err := Engine{}.Check(head, size)
	if err != nil {
		t.Fatal(err)
	}
	if fp != m.Footprint() || fp.Context != m.h.SeqLen {
		t.Errorf("Check says %+v, the loaded model %+v", fp, m.Footprint())
	}
	if tables := 4 * int64(len(m.rope.cos)+len(m.rope.sin)); fp.ModelBytes != size+tables {
		t.Errorf("model bytes %d, want the file's %d and the rotary tables' %d", fp.ModelBytes, size, tables)
	}
	s := m.newSession(engine.Options{})
	if got := runStateBytes(s.st); got != fp.SessionAt(m.h.SeqLen) {
		t.Errorf("the footprint says a session takes %d bytes, one has %d", fp.SessionAt(m.h.SeqLen), got)
	}
	if kv := kernels.KVBytes(int64(s.st.keys[0].Len()), s.st.keys[0].Encoding()); 2*int64(m.h.NLayer)*kv != fp.KVBytesPerPosition*int64(m.h.SeqLen) {
		t.Errorf("KV cache %d bytes per layer, the footprint %d per position", kv, fp.KVBytesPerPosition)
	}

	bad := map[string]engine.Files{
		"truncated":         {Model: files.Model[:size-1], Tokenizer: files.Tokenizer},
		"no tokenizer.bin":  {Model: files.Model},
		"cut tokenizer.bin": {Model: files.Model, Tokenizer: files.Tokenizer[:len(files.Tokenizer)/2]},
		"bad inferpi.json":  {Model: files.Model, Tokenizer: files.Tokenizer, Settings: []byte("{")},
		"bogus template":    {Model: files.Model, Tokenizer: files.Tokenizer, Settings: []byte(`{"template":"alpaca"}`)},
	}
	for name, f := range bad {
		_, lerr := Load(f)
		n := int64(len(f.Model))
		f.Model = f.Model[:m.h.HeaderSize()]
		_, err := Engine{}.Check(f, n)
		if err == nil || lerr == nil || err.Error() != lerr.Error() {
			t.Errorf("%s: Check says %v, Load %v", name, err, lerr)
		} else if !strings.HasPrefix(err.Error(), "model.bin: ") && !strings.HasPrefix(err.Error(), "tokenizer.bin: ") && !strings.HasPrefix(err.Error(), "inferpi.json: ") {
			t.Errorf("%s: %v names no file", name, err)
		}
	}
}

// runStateBytes adds up the buffers of s.
func runStateBytes(s *RunState) int64 {
	n := int64(0)
	for _, b := range [][]float32{s.x, s.x0, s.xBackout, s.xn, s.q, s.k, s.v, s.attn, s.proj, s.hidden, s.gate, s.valueEmbed, s.scores, s.logits, s.prevEmbed, s.embed} {
		n += 4 * int64(len(b))
	}
	for _, kv := range append(s.keys, s.values...) {
		n += kernels.KVBytes(int64(kv.Len()), kv.Encoding())
	}
	return n
}
