package models

import (
	"errors"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

func readDemo(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../models/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDiscover(t *testing.T) {
	llama, llamaTok := readDemo(t, "llama-demo/model.bin"), readDemo(t, "llama-demo/tokenizer.bin")
	gpt, gptTok := readDemo(t, "nanochat-demo/model.bin"), readDemo(t, "nanochat-demo/tokenizer.bin")
	fsys := fstest.MapFS{
		"llama-demo/model.bin":         {Data: llama},
		"llama-demo/tokenizer.bin":     {Data: llamaTok},
		"llama-demo/README.md":         {Data: []byte("not counted")},
		"nanochat-demo/model.bin":      {Data: gpt},
		"nanochat-demo/tokenizer.bin":  {Data: gptTok},
		"nanochat-demo/inferpi.json":   {Data: []byte(`{"template":"nanochat"}`)},
		"broken/model.bin":             {Data: gpt[:len(gpt)/2]}, // truncated: only loading can tell
		"broken/tokenizer.bin":         {Data: gptTok},
		"notes/readme.txt":             {Data: []byte("hello")},
		".Trashes/model.bin":           {Data: gpt},
		"model.bin":                    {Data: gpt}, // a file at the top, not a directory
		"garbage/model.bin":            {Data: []byte("this is not a model, it is text")},
		"short/model.bin":              {Data: []byte("NCHT")},
		"notok/model.bin":              {Data: gpt},
		"tokdir/model.bin":             {Data: gpt},
		"tokdir/tokenizer.bin/x":       {Data: []byte("x")},
		"modeldir/model.bin/weights":   {Data: []byte("x")},
		"deep/sub/model.bin":           {Data: gpt}, // only top-level directories are models
		"System Volume Information/IX": {Data: []byte("x")},
	}
	got, err := Discover(fsys)
	if err != nil {
		t.Fatal(err)
	}
	gptBytes := int64(len(gpt) + len(gptTok))
	want := []Model{
		{Dir: "broken", Engine: "GPT", Bytes: int64(len(gpt)/2 + len(gptTok)), ModelBytes: int64(len(gpt) / 2)},
		{Dir: "garbage", Bytes: 31, ModelBytes: 31, Problem: "model.bin: no engine recognises this file (engines: GPT, Llama)"},
		{Dir: "llama-demo", Engine: "Llama", Bytes: int64(len(llama) + len(llamaTok)), ModelBytes: int64(len(llama))},
		{Dir: "modeldir", Problem: "model.bin is a directory, not a file"},
		{Dir: "nanochat-demo", Engine: "GPT", Bytes: gptBytes + 23, ModelBytes: int64(len(gpt))},
		{Dir: "notok", Engine: "GPT", Bytes: int64(len(gpt)), ModelBytes: int64(len(gpt)), Problem: "no tokenizer.bin beside model.bin (copy the model's tokenizer.bin into the directory)"},
		{Dir: "short", Bytes: 4, ModelBytes: 4, Problem: "model.bin is 4 bytes, too short to be a model"},
		{Dir: "tokdir", Engine: "GPT", Bytes: int64(len(gpt)), ModelBytes: int64(len(gpt)), Problem: "tokenizer.bin is a directory, not a file"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Discover:\n got %+v\nwant %+v", got, want)
	}
	for _, m := range got {
		if m.OK() != (m.Problem == "") || m.OK() && m.Engine == "" {
			t.Errorf("%s: OK()=%v with engine %q, problem %q", m.Dir, m.OK(), m.Engine, m.Problem)
		}
	}
}

// failingFS fails reads of one file, as a volume with a broken cluster chain does.
// Only Open is offered, so every read goes through it.
type failingFS struct {
	files fstest.MapFS
	bad   string
}

func (f failingFS) Open(name string) (fs.File, error) {
	if name == f.bad {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("cluster chain ends after 0 of 3 clusters")}
	}
	return f.files.Open(name)
}

func TestUnreadableModelIsListedWithTheReason(t *testing.T) {
	fsys := failingFS{fstest.MapFS{"m/model.bin": {Data: make([]byte, 100)}, "m/tokenizer.bin": {Data: []byte("t")}}, "m/model.bin"}
	got, err := Discover(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Problem != "model.bin: cluster chain ends after 0 of 3 clusters" {
		t.Fatalf("got %+v", got)
	}
}

func TestEmptyAndUnreadableRoot(t *testing.T) {
	got, err := Discover(fstest.MapFS{"notes/a.txt": {Data: []byte("a")}})
	if err != nil || len(got) != 0 {
		t.Fatalf("a volume without models: %v, %v", got, err)
	}
	_, err = Discover(failingFS{fstest.MapFS{}, "."})
	if err == nil || !strings.Contains(err.Error(), "reading the volume's top directory") {
		t.Fatalf("unreadable root: %v", err)
	}
}

// FuzzDiscover: whatever a model.bin starts with and whatever a directory is
// called, discovery returns without panicking, and every model it lists either
// names its engine or says what is wrong.
func FuzzDiscover(f *testing.F) {
	f.Add("m", []byte("NCHT\x01\x00\x00\x00"), true)
	f.Add("llama", []byte{192, 0, 0, 0, 0, 2, 0, 0, 4, 0, 0, 0, 6, 0, 0, 0, 6, 0, 0, 0}, false)
	f.Add("x y", []byte{}, true)
	f.Fuzz(func(t *testing.T, dir string, model []byte, withTokenizer bool) {
		if !fs.ValidPath(dir) || strings.Contains(dir, "/") || dir == "." {
			return
		}
		fsys := fstest.MapFS{dir + "/model.bin": {Data: model}}
		if withTokenizer {
			fsys[dir+"/tokenizer.bin"] = &fstest.MapFile{Data: []byte("tok")}
		}
		got, err := Discover(fsys)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range got {
			if m.Engine == "" && m.Problem == "" {
				t.Fatalf("%+v: neither an engine nor a problem", m)
			}
			if m.ModelBytes != int64(len(model)) {
				t.Fatalf("%+v: model.bin is %d bytes", m, len(model))
			}
		}
	})
}
