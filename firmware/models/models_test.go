package models

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/all"
	"github.com/inferpi/inferpi/engine/gguf"
	gptengine "github.com/inferpi/inferpi/engine/gpt"
	llamaengine "github.com/inferpi/inferpi/engine/llama"
	"github.com/inferpi/inferpi/engine/quantize"
	"github.com/inferpi/inferpi/firmware/sdimage"
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
		"cuttok/model.bin":             {Data: llama},
		"cuttok/tokenizer.bin":         {Data: llamaTok[:len(llamaTok)/2]},
		"othertok/model.bin":           {Data: gpt},
		"othertok/tokenizer.bin":       {Data: llamaTok},
		"badjson/model.bin":            {Data: llama},
		"badjson/tokenizer.bin":        {Data: llamaTok},
		"badjson/inferpi.json":         {Data: []byte(`{"template": "alpaca",}`)},
	}
	got, err := Discover(fsys)
	if err != nil {
		t.Fatal(err)
	}
	gptBytes := int64(len(gpt) + len(gptTok))
	llamaFootprint, err := llamaengine.Engine{}.Check(engine.Files{Model: llama, Tokenizer: llamaTok}, int64(len(llama)))
	if err != nil {
		t.Fatal(err)
	}
	gptFootprint, err := gptengine.Engine{}.Check(engine.Files{Model: gpt, Tokenizer: gptTok}, int64(len(gpt)))
	if err != nil {
		t.Fatal(err)
	}
	// The problems found in the files beside model.bin are loading's.
	loadErr := func(files engine.Files) string {
		_, err := all.Load(files)
		if err == nil {
			t.Fatal("loaded")
		}
		return err.Error()
	}
	want := []Model{
		{Name: "badjson", Weights: "badjson/model.bin", Engine: "Llama", Bytes: int64(len(llama) + len(llamaTok) + 23), ModelBytes: int64(len(llama)),
			Problem: loadErr(engine.Files{Model: llama, Tokenizer: llamaTok, Settings: []byte(`{"template": "alpaca",}`)})},
		{Name: "broken", Weights: "broken/model.bin", Engine: "GPT", Bytes: int64(len(gpt)/2 + len(gptTok)), ModelBytes: int64(len(gpt) / 2),
			Problem: fmt.Sprintf("model.bin: file is %d bytes, the header's layout needs exactly %d: truncated", len(gpt)/2, len(gpt))},
		{Name: "cuttok", Weights: "cuttok/model.bin", Engine: "Llama", Bytes: int64(len(llama) + len(llamaTok)/2), ModelBytes: int64(len(llama)),
			Problem: loadErr(engine.Files{Model: llama, Tokenizer: llamaTok[:len(llamaTok)/2]})},
		{Name: "garbage", Weights: "garbage/model.bin", Bytes: 31, ModelBytes: 31, Problem: "model.bin: no engine recognises this file (engines: GPT, Llama)"},
		{Name: "llama-demo", Weights: "llama-demo/model.bin", Engine: "Llama", Bytes: int64(len(llama) + len(llamaTok)), ModelBytes: int64(len(llama)), Footprint: llamaFootprint},
		{Name: "modeldir", Weights: "modeldir/model.bin", Problem: "model.bin is a directory, not a file"},
		{Name: "nanochat-demo", Weights: "nanochat-demo/model.bin", Engine: "GPT", Bytes: gptBytes + 23, ModelBytes: int64(len(gpt)), Footprint: gptFootprint},
		{Name: "notok", Weights: "notok/model.bin", Engine: "GPT", Bytes: int64(len(gpt)), ModelBytes: int64(len(gpt)), Problem: "no tokenizer.bin beside model.bin (copy the model's tokenizer.bin into the directory)"},
		{Name: "othertok", Weights: "othertok/model.bin", Engine: "GPT", Bytes: int64(len(gpt) + len(llamaTok)), ModelBytes: int64(len(gpt)), Problem: loadErr(engine.Files{Model: gpt, Tokenizer: llamaTok})},
		{Name: "short", Weights: "short/model.bin", Bytes: 4, ModelBytes: 4, Problem: "model.bin is 4 bytes, too short to be a model"},
		{Name: "tokdir", Weights: "tokdir/model.bin", Engine: "GPT", Bytes: int64(len(gpt)), ModelBytes: int64(len(gpt)), Problem: "tokenizer.bin is a directory, not a file"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Discover:\n got %+v\nwant %+v", got, want)
	}
	for _, m := range got {
		if m.OK() != (m.Problem == "") || m.OK() && m.Engine == "" {
			t.Errorf("%s: OK()=%v with engine %q, problem %q", m.Name, m.OK(), m.Engine, m.Problem)
		}
	}
}

// demoGGUF is llama-demo as the demo card's Q8_0 GGUF file.
func demoGGUF(t testing.TB) []byte {
	t.Helper()
	f, err := sdimage.LlamaGGUF("../../models/llama-demo", sdimage.DemoGGUF, quantize.FileQ8_0)
	if err != nil {
		t.Fatal(err)
	}
	return f.Data
}

// withKVs rewrites a GGUF file with the metadata values given set (added, or
// replacing those of the same keys).
func withKVs(t testing.TB, data []byte, kvs ...gguf.KV) []byte {
	t.Helper()
	f, err := gguf.Parse(data, "x.gguf")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := gguf.NewWriter(&b)
	set := map[string]any{}
	for _, kv := range kvs {
		set[kv.Key] = kv.Value
	}
	for _, kv := range f.KVs {
		if v, ok := set[kv.Key]; ok {
			kv.Value = v
			delete(set, kv.Key)
		}
		if err := w.AddKV(kv.Key, kv.Value); err != nil {
			t.Fatal(err)
		}
	}
	for _, kv := range kvs {
		if _, ok := set[kv.Key]; ok {
			if err := w.AddKV(kv.Key, kv.Value); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, ten := range f.Tensors {
		if err := w.AddTensor(ten.Name, ten.Type, ten.Dims); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	for i := range f.Tensors {
		d, _ := f.Data(data, &f.Tensors[i])
		if err := w.WriteTensorData(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDiscoverGGUF: GGUF files at the top and in directories are listed with
// their architecture, tensor types, sizes and the memory a chat takes; one
// whose header or tensor table cannot load is listed with the reason, before
// any weight is read, and so is a part of a split model.
func TestDiscoverGGUF(t *testing.T) {
	demo := demoGGUF(t)
	f, err := gguf.Parse(demo, "demo.gguf")
	if err != nil {
		t.Fatal(err)
	}
	footprint, err := llamaengine.GGUFFootprint(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(demo))
	settings := []byte(`{"template":"none"}`)
	fsys := fstest.MapFS{
		"demo.gguf":                 {Data: demo},
		"._demo.gguf":               {Data: []byte("macOS resource fork")},
		"qwen/weights.GGUF":         {Data: demo},
		"qwen/inferpi.json":         {Data: settings},
		"qwen/README.md":            {Data: []byte("not counted")},
		"two/a.gguf":                {Data: demo},
		"two/b.gguf":                {Data: demo},
		"cut.gguf":                  {Data: demo[:n/2]},
		"dircut/x.gguf":             {Data: demo[:n/2]},
		"text.gguf":                 {Data: []byte("hello")},
		"gemma.gguf":                {Data: withKVs(t, demo, gguf.KV{Key: "general.architecture", Value: "gemma3"})},
		"big-00001-of-00003.gguf":   {Data: []byte("not read")},
		"split.gguf":                {Data: withKVs(t, demo, gguf.KV{Key: "split.count", Value: uint16(2)})},
		"whole-00001-of-00001.gguf": {Data: demo},
		"photos/cat.jpg":            {Data: []byte("jpeg")},
	}
	got, err := Discover(fsys)
	if err != nil {
		t.Fatal(err)
	}
	ok := Model{Engine: "Llama", Arch: "llama", Types: "Q8_0", Bytes: n, ModelBytes: n, Footprint: footprint}
	named := func(m Model, name, weights string) Model { m.Name, m.Weights = name, weights; return m }
	qwen := named(ok, "qwen", "qwen/weights.GGUF")
	qwen.Bytes += int64(len(settings))
	splitFile := withKVs(t, demo, gguf.KV{Key: "split.count", Value: uint16(2)})
	splitProblem := "InferPi loads a model from one file, and a FAT32 file holds at most 4 GiB (merge the parts with llama-gguf-split --merge if the model is smaller)"
	want := []Model{
		{Name: "big-00001-of-00003.gguf", Weights: "big-00001-of-00003.gguf", Bytes: 8, ModelBytes: 8, Problem: "part 1 of a model split in 3 files: " + splitProblem},
		{Name: "cut.gguf", Weights: "cut.gguf", Bytes: n / 2, ModelBytes: n / 2},
		named(ok, "demo.gguf", "demo.gguf"),
		{Name: "dircut", Weights: "dircut/x.gguf", Bytes: n / 2, ModelBytes: n / 2},
		{Name: "gemma.gguf", Weights: "gemma.gguf", Engine: "Llama", Arch: "gemma3", Types: "Q8_0", Bytes: n, ModelBytes: n,
			Problem: `architecture "gemma3" is not supported; supported: llama, qwen2, qwen3`},
		qwen,
		{Name: "split.gguf", Weights: "split.gguf", Engine: "Llama", Arch: "llama", Types: "Q8_0", Bytes: int64(len(splitFile)), ModelBytes: int64(len(splitFile)),
			Problem: "one part of a model split in 2 files: " + splitProblem},
		{Name: "text.gguf", Weights: "text.gguf", Bytes: 5, ModelBytes: 5},
		{Name: "two", Problem: "2 .gguf files (a.gguf, b.gguf): a model directory holds one; put the others at the top level or in directories of their own"},
		named(ok, "whole-00001-of-00001.gguf", "whole-00001-of-00001.gguf"),
	}
	// The problems gguf.Read finds are its own words, checked by their start.
	problems := map[string]string{
		"cut.gguf":  "tensor blk.",
		"dircut":    "x.gguf: tensor blk.",
		"text.gguf": "",
	}
	for i := range got {
		if p, ok := problems[got[i].Name]; ok {
			if !strings.HasPrefix(got[i].Problem, p) || got[i].Problem == "" || strings.HasPrefix(got[i].Problem, got[i].Name+": ") {
				t.Errorf("%s: problem %q, want one starting %q", got[i].Name, got[i].Problem, p)
			}
			t.Logf("%s: %s", got[i].Name, got[i].Problem)
			got[i].Problem = ""
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Discover:\n got %+v\nwant %+v", got, want)
	}
	if k := got[2].Kind(); k != "llama Q8_0" {
		t.Errorf("Kind %q", k)
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

// FuzzDiscover: whatever a model.bin or a GGUF file holds and whatever a
// directory is called, discovery returns without panicking, every model it
// lists either names its engine or says what is wrong, and planning a loadable
// one gives it a context.
func FuzzDiscover(f *testing.F) {
	f.Add("m", []byte("NCHT\x01\x00\x00\x00"), true)
	f.Add("llama", []byte{192, 0, 0, 0, 0, 2, 0, 0, 4, 0, 0, 0, 6, 0, 0, 0, 6, 0, 0, 0}, false)
	f.Add("x y", []byte{}, true)
	demo := demoGGUF(f)
	f.Add("gguf", demo, false)
	f.Add("gguf", demo[:4000], true)
	f.Fuzz(func(t *testing.T, dir string, model []byte, withTokenizer bool) {
		if !fs.ValidPath(dir) || strings.Contains(dir, "/") || dir == "." {
			return
		}
		fsys := fstest.MapFS{dir + "/model.bin": {Data: model}, "top.gguf": {Data: model}, "d/in.gguf": {Data: model}}
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
				t.Fatalf("%+v: the weights file is %d bytes", m, len(model))
			}
			// A model that checks out is planned, or refused with the numbers.
			var full *engine.NoRoomError
			if err := m.Fit(0, 1<<30); m.OK() && err == nil && (m.Plan.Context <= 0 || m.Plan.Context > m.Footprint.Context) ||
				err != nil && !errors.As(err, &full) {
				t.Fatalf("%+v: planned %+v, %v", m, m.Plan, err)
			}
		}
	})
}

// TestFit: a loadable model gets the context its footprint fits in memory, and
// loading the bytes a chat at that context takes beyond the weights file; one
// that cannot hold a small context gets the numbers.
func TestFit(t *testing.T) {
	fp := engine.Footprint{Context: 131072, ModelBytes: 10 << 20, KVBytesPerPosition: 1 << 10, PositionBytes: 2 << 10, SessionBytes: 1 << 20}
	m := Model{Name: "long.gguf", ModelBytes: 9 << 20, Footprint: fp}
	if err := m.Fit(0, 1<<30); err != nil || m.Plan.Context != engine.DefaultLongContext || m.SessionBytes != 1<<20+4096*2<<10+1<<20 {
		t.Errorf("1 GiB: %+v, %v", m, err)
	}
	if err := m.Fit(65536, 1<<30); err != nil || m.Plan.Context != 65536 {
		t.Errorf("1 GiB, 65536 asked for: %+v, %v", m.Plan, err)
	}
	var full *engine.NoRoomError
	if err := m.Fit(0, 70<<20); !errors.As(err, &full) || full.Memory != 70<<20 {
		t.Errorf("70 MiB: %v", err)
	}
	bad := Model{Problem: "broken"}
	if err := bad.Fit(0, 0); err != nil || bad.Plan.Context != 0 {
		t.Errorf("a model with a problem was planned: %+v, %v", bad, err)
	}
}
