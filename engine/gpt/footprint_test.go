package gpt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine"
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
	s := m.newSession(engine.Options{}, m.h.SeqLen)
	if got := runStateBytes(s.st); got != fp.SessionAt(m.h.SeqLen) {
		t.Errorf("the footprint says a session takes %d bytes, one has %d", fp.SessionAt(m.h.SeqLen), got)
	}
	if kv := s.st.cache.Bytes(); kv != fp.KVBytesPerPosition*int64(m.h.SeqLen) {
		t.Errorf("a full KV cache takes %d bytes, the footprint %d per position", kv, fp.KVBytesPerPosition)
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

// runStateBytes adds up the buffers of s once its cache is full.
func runStateBytes(s *RunState) int64 {
	n := int64(0)
	for _, b := range [][]float32{s.x, s.x0, s.xBackout, s.xn, s.q, s.k, s.v, s.attn, s.proj, s.hidden, s.gate, s.valueEmbed, s.logits, s.prevEmbed, s.embed} {
		n += 4 * int64(len(b))
	}
	s.cache.Reserve(s.cache.Capacity())
	return n + s.cache.Bytes() + s.cache.ScratchBytes()
}
