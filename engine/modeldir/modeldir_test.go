package modeldir

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/inferpi/inferpi/engine"
)

const demo = "../../models/llama-demo"

func TestOpenDemo(t *testing.T) {
	m, err := Open(demo, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	info := m.Info()
	if info.Engine != "Llama" || info.Template != "alpaca" || info.Params != 1820352 || info.Encoding != "fp32" {
		t.Fatalf("demo info: %+v", info)
	}
	m, err = Open(demo, Overrides{Template: "none"})
	if err != nil || m.Info().Template != "none" {
		t.Fatalf("template override: %v", err)
	}
}

func TestErrorsNameTheDirectoryAndProblem(t *testing.T) {
	model, _ := os.ReadFile(filepath.Join(demo, "model.bin"))
	tok, _ := os.ReadFile(filepath.Join(demo, "tokenizer.bin"))
	fsys := fstest.MapFS{
		"empty/readme.txt":        {Data: []byte("hi")},
		"garbage/model.bin":       {Data: []byte("this is not a model at all")},
		"notok/model.bin":         {Data: model},
		"badjson/model.bin":       {Data: model},
		"badjson/tokenizer.bin":   {Data: tok},
		"badjson/inferpi.json":    {Data: []byte("{")},
		"truncated/model.bin":     {Data: model[:len(model)-10]},
		"truncated/tokenizer.bin": {Data: tok},
		"hostile/model.bin":       {Data: append(binary.LittleEndian.AppendUint32(nil, 1<<30), model[4:]...)},
		"good/model.bin":          {Data: model},
		"good/tokenizer.bin":      {Data: tok},
		"good/inferpi.json":       {Data: []byte(`{"template":"none","other":1}`)},
	}
	cases := map[string]string{
		"empty":     "empty: no model.bin here",
		"garbage":   "garbage: model.bin: no engine recognises this file (engines: GPT, Llama)",
		"notok":     "notok: tokenizer.bin: missing",
		"badjson":   "badjson: inferpi.json: unexpected end of JSON input",
		"truncated": "truncated: model.bin: header (dim=192",
		"missing":   "missing: no model.bin here",
		"hostile":   "hostile: model.bin: looks like a llama2.c header but says dim 1073741824, want 1..65536",
	}
	for dir, want := range cases {
		_, err := Load(fsys, dir, Overrides{})
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: error %v, want it to start with %q", dir, err, want)
		}
	}
	m, err := Load(fsys, "good", Overrides{})
	if err != nil || m.Info().Template != "none" {
		t.Fatalf("good: %v", err)
	}
	m, err = Load(fsys, "good", Overrides{Template: "alpaca"})
	if err != nil || m.Info().Template != "alpaca" {
		t.Fatalf("override beats inferpi.json: %v", err)
	}
	if _, err := Load(fsys, "good", Overrides{Template: "vicuna"}); err == nil || !strings.Contains(err.Error(), `good: inferpi.json: template "vicuna"`) {
		t.Fatalf("unknown template: %v", err)
	}
}

func TestOpenHostPaths(t *testing.T) {
	if _, err := Open(filepath.Join(demo, "nope"), Overrides{}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing dir: %v", err)
	}
	if _, err := Open(filepath.Join(demo, "model.bin"), Overrides{}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("file: %v", err)
	}
	dir := t.TempDir()
	if _, err := Open(dir, Overrides{}); err == nil || !strings.HasPrefix(err.Error(), dir+": no model.bin here") {
		t.Fatalf("empty dir: %v", err)
	}
}

func TestReadFindsTheGGUFFile(t *testing.T) {
	fsys := fstest.MapFS{
		"one/tiny-q8_0.GGUF":  {Data: []byte("GGUF...")},
		"one/inferpi.json":    {Data: []byte(`{}`)},
		"two/a.gguf":          {Data: []byte("GGUF")},
		"two/b.gguf":          {Data: []byte("GGUF")},
		"both/model.bin":      {Data: []byte("llama2.c")},
		"both/extra.gguf":     {Data: []byte("GGUF")},
		"dir.gguf/readme.txt": {Data: []byte("a directory named like a file")},
	}
	f, err := Read(fsys, "one")
	if err != nil || f.ModelName != "tiny-q8_0.GGUF" || string(f.Model) != "GGUF..." || string(f.Settings) != "{}" {
		t.Fatalf("one: %+v, %v", f, err)
	}
	if f, err := Read(fsys, "both"); err != nil || f.ModelName != "" || string(f.Model) != "llama2.c" {
		t.Fatalf("both: model.bin must win: %+v, %v", f, err)
	}
	if _, err := Read(fsys, "two"); err == nil || err.Error() != "two: 2 .gguf files here (a.gguf, b.gguf): give the file to load" {
		t.Fatalf("two: %v", err)
	}
	if _, err := Read(fsys, "dir.gguf"); err == nil || !strings.HasPrefix(err.Error(), "dir.gguf: no model.bin here") {
		t.Fatalf("dir.gguf: %v", err)
	}
}

// TestCheck: the footprint from the headers is the loaded model's, for a
// model directory and a GGUF file; a model that cannot load is refused by both.
func TestCheck(t *testing.T) {
	for _, path := range []string{demo, "../../testdata/gguf/models/qwen2-bpe/qwen2-bpe.Q8_0.gguf", "../../models/nanochat-demo"} {
		fp, err := Check(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		m, err := Open(path, Overrides{})
		if err != nil {
			t.Fatal(err)
		}
		if loaded := m.(interface{ Footprint() engine.Footprint }).Footprint(); fp != loaded {
			t.Errorf("%s: Check says %+v, the loaded model %+v", path, fp, loaded)
		}
	}
	dir := t.TempDir()
	model, _ := os.ReadFile(filepath.Join(demo, "model.bin"))
	os.WriteFile(filepath.Join(dir, "model.bin"), model[:len(model)-8], 0o644)
	os.WriteFile(filepath.Join(dir, "tokenizer.bin"), []byte("short"), 0o644)
	if _, err := Check(dir); err == nil || !strings.HasPrefix(err.Error(), dir+": model.bin: header") {
		t.Errorf("truncated model.bin: %v", err)
	}
	if _, err := Check(filepath.Join(dir, "nothing")); err == nil {
		t.Error("a missing path was checked")
	}
}
