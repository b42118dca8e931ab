package llama

import (
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/kernels"
)

// TestCheckModelBin: the check of a model.bin's header, its tokenizer.bin and
// inferpi.json gives the loaded model's footprint, which is what a session
// allocates, for the legacy fp32 file and the container (q4_0: an fp16 cache).
func TestCheckModelBin(t *testing.T) {
	files := readFiles(t, tinyDir)
	q4 := files
	q4.Model = convert(t, files.Model, kernels.Q4_0)
	for name, files := range map[string]engine.Files{"fp32": files, "q4_0": q4} {
		m := loadModel(t, files)
		head := files
		head.Model = files.Model[:min(len(files.Model), engine.CheckHeadSize)]
		fp, err := Engine{}.Check(head, int64(len(files.Model)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if fp != m.Footprint() || fp.ModelBytes != int64(len(files.Model)) || fp.Context != m.cfg.SeqLen {
			t.Errorf("%s: Check says %+v, the loaded model %+v", name, fp, m.Footprint())
		}
		s, err := m.newSession(engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := runStateBytes(s.r); fp.SessionAt(m.cfg.SeqLen) != got {
			t.Errorf("%s: the footprint says a session takes %d bytes (KV %d per position), one has %d", name, fp.SessionAt(m.cfg.SeqLen), fp.KVBytesPerPosition, got)
		}
	}
	// llama-tiny's position: 2 (K, V) x 2 layers x 32 values (2 kv heads of
	// 16), fp32; q4_0 weights get an fp16 cache.
	if fp32, fp16 := mustCheck(t, files).KVBytesPerPosition, mustCheck(t, q4).KVBytesPerPosition; fp32 != 2*2*32*4 || fp16 != fp32/2 {
		t.Errorf("KV bytes per position: %d (fp32 weights), %d (q4_0)", fp32, fp16)
	}

	// What loading would refuse, the check refuses with the same message.
	short := files
	short.Model = files.Model[:HeaderSize]
	bad := map[string]struct {
		files engine.Files
		size  int64
	}{
		"truncated":        {short, int64(len(files.Model)) - 4},
		"no tokenizer.bin": {engine.Files{Model: files.Model}, int64(len(files.Model))},
		"cut tokenizer.bin": {engine.Files{Model: files.Model, Tokenizer: files.Tokenizer[:len(files.Tokenizer)/2]},
			int64(len(files.Model))},
		"bad inferpi.json": {engine.Files{Model: files.Model, Tokenizer: files.Tokenizer, Settings: []byte("{")}, int64(len(files.Model))},
		"bogus template": {engine.Files{Model: files.Model, Tokenizer: files.Tokenizer, Settings: []byte(`{"template":"bogus"}`)},
			int64(len(files.Model))},
	}
	for name, c := range bad {
		_, err := Engine{}.Check(c.files, c.size)
		full := c.files
		if name == "truncated" {
			full.Model = files.Model[:c.size]
		}
		_, lerr := Load(full)
		if err == nil || lerr == nil || err.Error() != lerr.Error() {
			t.Errorf("%s: Check says %v, Load %v", name, err, lerr)
		} else if !strings.HasPrefix(err.Error(), "model.bin: ") && !strings.HasPrefix(err.Error(), "tokenizer.bin: ") && !strings.HasPrefix(err.Error(), "inferpi.json: ") {
			t.Errorf("%s: %v names no file", name, err)
		}
	}
}

func mustCheck(t *testing.T, files engine.Files) engine.Footprint {
	t.Helper()
	fp, err := Engine{}.Check(files, int64(len(files.Model)))
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// TestGGUFFootprint: every fixture file's footprint from its header region
// (read through an io.ReaderAt that refuses to read past it) is the loaded
// model's, with the context the file declares, and what a session allocates;
// an inferpi.json beside the file is checked too.
func TestGGUFFootprint(t *testing.T) {
	for _, model := range ggufFixtureModels {
		for _, variant := range []string{"F32", "Q4_K_M", "pure-Q5_1"} {
			data, o := ggufFixture(t, model, variant)
			m, err := Load(engine.Files{Model: data, ModelName: o.File})
			if err != nil {
				t.Fatal(err)
			}
			f, err := gguf.Read(&headerOnly{data: data, end: int64(m.gguf.file.DataOffset)}, int64(len(data)), o.File)
			if err != nil {
				t.Fatal(err)
			}
			fp, err := GGUFFootprint(f, nil)
			if err != nil {
				t.Fatalf("%s: %v", o.File, err)
			}
			declared, _ := f.GetUint(m.gguf.arch + ".context_length")
			if fp != m.Footprint() || fp.ModelBytes != int64(len(data)) || uint64(fp.Context) != declared {
				t.Errorf("%s: GGUFFootprint says %+v, the loaded model %+v (%d bytes, %d positions declared)", o.File, fp, m.Footprint(), len(data), declared)
			}
			s, err := m.newSession(engine.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := runStateBytes(s.r); fp.SessionAt(m.cfg.SeqLen) != got {
				t.Errorf("%s: the footprint says a session of %d positions takes %d bytes, one has %d", o.File, m.cfg.SeqLen, fp.SessionAt(m.cfg.SeqLen), got)
			}
		}
	}
	data, o := trainedFixture(t, "Q8_0")
	f, err := gguf.Parse(data, o.File)
	if err != nil {
		t.Fatal(err)
	}
	// llama.cpp's conversion declares 128 positions; a position's KV cache is
	// 4 layers x 96 x 2 (K, V) x 2 bytes.
	if fp, err := GGUFFootprint(f, nil); err != nil || fp.Context != 128 || fp.KVBytesPerPosition != 4*96*2*2 {
		t.Errorf("%s: %+v, %v", o.File, fp, err)
	}
	if _, err := GGUFFootprint(f, []byte(`{"template": "bogus"}`)); err == nil || !strings.Contains(err.Error(), `template "bogus"`) {
		t.Errorf("%s with a bogus template: %v", o.File, err)
	}
}
