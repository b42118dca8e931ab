package loader

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/quantize"
	"github.com/inferpi/inferpi/firmware/models"
	"github.com/inferpi/inferpi/firmware/sdimage"
)

// fakeAlloc is an Allocator with a fixed amount of free memory that can be told
// to refuse; it counts what is outstanding so leaks show.
type fakeAlloc struct {
	free    int64
	refuse  error
	live    map[*byte]int
	allocs  int
	freeErr error
}

func newFakeAlloc(free int64) *fakeAlloc { return &fakeAlloc{free: free, live: map[*byte]int{}} }

func (a *fakeAlloc) Available() int64 { return a.free }

func (a *fakeAlloc) Alloc(size int) ([]byte, error) {
	if a.refuse != nil {
		return nil, a.refuse
	}
	if int64(size) > a.free {
		return nil, errors.New("out of memory")
	}
	b := make([]byte, size)
	a.live[&b[0]] = size
	a.free -= int64(size)
	a.allocs++
	return b, nil
}

func (a *fakeAlloc) Free(b []byte) error {
	size, ok := a.live[&b[0]]
	if !ok {
		return errors.New("freeing a buffer that is not allocated")
	}
	delete(a.live, &b[0])
	a.free += int64(size)
	return a.freeErr
}

// dirModel is the model directory dir with its model.bin, as models.Discover
// lists it.
func dirModel(dir string) models.Model {
	return models.Model{Name: dir, Weights: dir + "/model.bin"}
}

// stepClock advances by step at every reading.
func stepClock(step time.Duration) func() time.Time {
	t := time.Unix(1700000000, 0)
	return func() time.Time { t = t.Add(step); return t }
}

func demoFS(t testing.TB) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, name := range []string{"llama-demo/model.bin", "llama-demo/tokenizer.bin", "nanochat-demo/model.bin", "nanochat-demo/tokenizer.bin"} {
		b, err := os.ReadFile("../../models/" + name)
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: b}
	}
	return fsys
}

var totals = regexp.MustCompile(`(?m)^(model\.bin|tokenizer\.bin): ([\d.]+ [KM]B) in (\d+) ms \(([\d.]+) MB/s\)$`)

func TestLoadDemoModels(t *testing.T) {
	fsys := demoFS(t)
	fsys["llama-demo/inferpi.json"] = &fstest.MapFile{Data: []byte(`{"template":"none"}`)}
	for _, tc := range []struct{ dir, engine, template, modelSize string }{
		{"llama-demo", "Llama", "none", "7.0 MB"},
		{"nanochat-demo", "GPT", "nanochat", "5.3 MB"},
	} {
		alloc := newFakeAlloc(1 << 30)
		var out strings.Builder
		l := &Loader{FS: fsys, Alloc: alloc, Out: &out, Reserve: DefaultReserve, Now: stepClock(time.Millisecond)}
		m, err := l.Load(dirModel(tc.dir))
		if err != nil {
			t.Fatal(err)
		}
		info := m.Model.Info()
		if info.Engine != tc.engine || info.Template != tc.template || m.ModelBytes != int64(len(fsys[tc.dir+"/model.bin"].Data)) {
			t.Errorf("%s: %+v, %d bytes", tc.dir, info, m.ModelBytes)
		}
		// The model is backed by the allocator's buffer, not a copy on the heap.
		if alloc.allocs != 1 || len(alloc.live) != 1 {
			t.Errorf("%s: %d allocations, %d live", tc.dir, alloc.allocs, len(alloc.live))
		}
		got := totals.FindAllStringSubmatch(out.String(), -1)
		if len(got) != 2 || got[0][1] != "model.bin" || got[0][2] != tc.modelSize || got[1][1] != "tokenizer.bin" || !strings.HasSuffix(got[1][2], " KB") {
			t.Errorf("%s: totals %q in output:\n%s", tc.dir, got, out.String())
		}
		if !strings.Contains(out.String(), "] 100%") {
			t.Errorf("%s: no finished progress bar:\n%s", tc.dir, out.String())
		}
		if err := m.Release(); err != nil || len(alloc.live) != 0 || alloc.free != 1<<30 {
			t.Errorf("%s: release: %v, %d live, %d free", tc.dir, err, len(alloc.live), alloc.free)
		}
		if err := m.Release(); err != nil {
			t.Errorf("second release: %v", err)
		}
	}
}

func TestRefusesWhatDoesNotFitUpFront(t *testing.T) {
	fsys := demoFS(t)
	size := int64(len(fsys["llama-demo/model.bin"].Data)) // 7,346,972 bytes
	alloc := newFakeAlloc(size + 4*MB - 1)
	var out strings.Builder
	l := &Loader{FS: fsys, Alloc: alloc, Out: &out, Reserve: 4 * MB}
	_, err := l.Load(dirModel("llama-demo"))
	var noRoom *NoRoomError
	if !errors.As(err, &noRoom) {
		t.Fatalf("error %v, want a NoRoomError", err)
	}
	want := "llama-demo does not fit in memory: model.bin needs 7.0 MB, 7.0 MB is free for models (11 MB free, 4.0 MB kept for the chat's working memory)"
	if err.Error() != want {
		t.Errorf("error:\n %s\nwant\n %s", err, want)
	}
	if alloc.allocs != 0 || out.Len() != 0 {
		t.Errorf("refused after %d allocations and output %q: should refuse before reading", alloc.allocs, out.String())
	}
	// One byte more and it fits.
	alloc.free++
	m, err := l.Load(dirModel("llama-demo"))
	if err != nil {
		t.Fatal(err)
	}
	m.Release()

	// Less free than the reserve: nothing is free for models.
	alloc = newFakeAlloc(MB)
	l.Alloc = alloc
	if _, err := l.Load(dirModel("nanochat-demo")); err == nil || !strings.Contains(err.Error(), "model.bin needs 5.3 MB, 0 KB is free for models (1.0 MB free, 4.0 MB kept") {
		t.Errorf("reserve larger than free memory: %v", err)
	}
}

func TestAllocatorRefusal(t *testing.T) {
	alloc := newFakeAlloc(1 << 30)
	alloc.refuse = errors.New("out of memory: need 6 MiB, 5 MiB free")
	l := &Loader{FS: demoFS(t), Alloc: alloc, Out: io.Discard}
	_, err := l.Load(dirModel("nanochat-demo"))
	if err == nil || err.Error() != "nanochat-demo: memory for model.bin (5.3 MB): out of memory: need 6 MiB, 5 MiB free" {
		t.Fatalf("error: %v", err)
	}
}

// readFailFS fails reads of one file after some bytes, as a card that stops answering does.
type readFailFS struct {
	fstest.MapFS
	bad string
}

func (f readFailFS) Open(name string) (fs.File, error) {
	file, err := f.MapFS.Open(name)
	if name != f.bad || err != nil {
		return file, err
	}
	return &failingFile{File: file, left: 1000}, nil
}

type failingFile struct {
	fs.File
	left int
}

func (f *failingFile) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, errors.New("SD card: data timeout")
	}
	n, _ := f.File.Read(p[:min(len(p), f.left)])
	f.left -= n
	return n, nil
}

func TestErrorsNameTheFileAndFreeTheMemory(t *testing.T) {
	fsys := demoFS(t)
	gpt := fsys["nanochat-demo/model.bin"].Data
	gptTok := fsys["nanochat-demo/tokenizer.bin"].Data
	fsys["truncated/model.bin"] = &fstest.MapFile{Data: gpt[:len(gpt)/2]}
	fsys["truncated/tokenizer.bin"] = &fstest.MapFile{Data: gptTok}
	fsys["notok/model.bin"] = &fstest.MapFile{Data: gpt}
	fsys["badjson/model.bin"] = &fstest.MapFile{Data: gpt}
	fsys["badjson/tokenizer.bin"] = &fstest.MapFile{Data: gptTok}
	fsys["badjson/inferpi.json"] = &fstest.MapFile{Data: []byte("{")}
	fsys["tiny/model.bin"] = &fstest.MapFile{Data: []byte("NCHT")}
	fsys["dir/model.bin/x"] = &fstest.MapFile{Data: []byte("x")}
	fsys["failing/model.bin"] = &fstest.MapFile{Data: gpt}
	fsys["failing/tokenizer.bin"] = &fstest.MapFile{Data: gptTok}
	cases := map[string]string{
		"truncated": "truncated: model.bin: ",
		"notok":     "notok: tokenizer.bin: missing",
		"badjson":   "badjson: inferpi.json: ",
		"tiny":      "tiny: model.bin is 4 bytes, too short to be a model",
		"dir":       "dir: model.bin is a directory, not a file",
		"missing":   "missing: model.bin: missing",
		"failing":   "failing: model.bin: SD card: data timeout",
	}
	for dir, want := range cases {
		alloc := newFakeAlloc(1 << 30)
		var out strings.Builder
		l := &Loader{FS: readFailFS{fsys, "failing/model.bin"}, Alloc: alloc, Out: &out}
		m, err := l.Load(dirModel(dir))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: error %v, want it to start with %q", dir, err, want)
		}
		if m != nil || len(alloc.live) != 0 {
			t.Errorf("%s: %d buffers still allocated after the error", dir, len(alloc.live))
		}
	}
}

func TestFreeErrorIsReported(t *testing.T) {
	alloc := newFakeAlloc(1 << 30)
	l := &Loader{FS: demoFS(t), Alloc: alloc, Out: io.Discard}
	m, err := l.Load(dirModel("nanochat-demo"))
	if err != nil {
		t.Fatal(err)
	}
	alloc.freeErr = errors.New("not a buffer")
	if err := m.Release(); err == nil || err.Error() != "nanochat-demo: freeing the model's memory: not a buffer" {
		t.Fatalf("release error: %v", err)
	}
}

func TestProgressBar(t *testing.T) {
	var out strings.Builder
	now := time.Unix(0, 0)
	clock := func() time.Time { return now }
	p := newProgressBar(&out, "model.bin", clock)
	total := int64(20 * MB)
	steps := []struct {
		at   time.Duration
		done int64
	}{
		{10 * time.Millisecond, 0},        // first report: drawn
		{50 * time.Millisecond, 2 * MB},   // 10%, but too soon after the last: skipped
		{200 * time.Millisecond, 5 * MB},  // 25%: drawn
		{250 * time.Millisecond, 5 * MB},  // same percent: skipped
		{400 * time.Millisecond, 10 * MB}, // 50%: drawn
	}
	for _, s := range steps {
		now = time.Unix(0, 0).Add(s.at)
		p.update(s.done, total)
	}
	now = time.Unix(0, 0).Add(800 * time.Millisecond)
	d := p.finish(total)
	want := "\rmodel.bin     [........................]   0%  0 / 20 MB  0.0 MB/s  " +
		"\rmodel.bin     [######..................]  25%  5 / 20 MB  25 MB/s  " +
		"\rmodel.bin     [############............]  50%  10 / 20 MB  25 MB/s  " +
		"\rmodel.bin     [########################] 100%  20 / 20 MB  25 MB/s  " +
		"\nmodel.bin: 20 MB in 800 ms (25 MB/s)\n"
	if out.String() != want || d != 800*time.Millisecond {
		t.Errorf("progress output:\n%q\nwant\n%q", out.String(), want)
	}
}

func TestUnits(t *testing.T) {
	for n, want := range map[int64]string{0: "0 KB", 1: "1 KB", 12680: "13 KB", MB - 1: "1024 KB", MB: "1.0 MB", 7346972: "7.0 MB", 572_000_000: "546 MB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
	if got := Rate(572_000_000, 7122*time.Millisecond); got != "77 MB/s" {
		t.Errorf("Rate = %q", got)
	}
	if got := Rate(3*MB, time.Second); got != "3.0 MB/s" {
		t.Errorf("Rate = %q", got)
	}
	if got := Rate(MB, 0); got != "" {
		t.Errorf("Rate over no time = %q", got)
	}
}

// TestLoadGGUF: a GGUF file at the top of the volume and one in a directory
// load into one buffer each, with the same progress bar and totals; only the
// directory's inferpi.json is read beside it, no tokenizer.bin.
func TestLoadGGUF(t *testing.T) {
	demo, err := sdimage.LlamaGGUF("../../models/llama-demo", sdimage.DemoGGUF, quantize.FileQ8_0)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		demo.Path:          {Data: demo.Data},
		"inferpi.json":     {Data: []byte("{not json")}, // beside the top-level file: not its settings
		"g/x.gguf":         {Data: demo.Data},
		"g/inferpi.json":   {Data: []byte(`{"template":"none"}`)},
		"g/tokenizer.bin":  {Data: []byte("garbage")},
		"cut/x.gguf":       {Data: demo.Data[:len(demo.Data)/2]},
		"cut.gguf":         {Data: demo.Data[:len(demo.Data)/2]},
		"notes/readme.txt": {Data: []byte("hi")},
	}
	found, err := models.Discover(fsys)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]models.Model{}
	for _, m := range found {
		byName[m.Name] = m
	}
	for _, tc := range []struct{ name, template, total string }{
		{demo.Path, "alpaca", "llama-demo-q8_0.gguf: 1.9 MB in "},
		{"g", "none", "x.gguf: 1.9 MB in "},
	} {
		alloc := newFakeAlloc(1 << 30)
		var out strings.Builder
		l := &Loader{FS: fsys, Alloc: alloc, Out: &out, Reserve: DefaultReserve, Now: stepClock(time.Millisecond)}
		m, err := l.Load(byName[tc.name])
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if info := m.Model.Info(); info.Template != tc.template || m.ModelBytes != int64(len(demo.Data)) || alloc.allocs != 1 {
			t.Errorf("%s: template %s, %d bytes, %d allocations", tc.name, info.Template, m.ModelBytes, alloc.allocs)
		}
		if !strings.Contains(out.String(), "] 100%") || !strings.Contains(out.String(), "\n"+tc.total) || strings.Contains(out.String(), "tokenizer.bin") {
			t.Errorf("%s: output\n%s", tc.name, out.String())
		}
		m.Release()
	}

	// Files cut after the menu read them: the error names the file, once.
	for name, want := range map[string]string{
		"cut.gguf": "cut.gguf: tensor blk.",
		"cut":      "cut: x.gguf: tensor blk.",
	} {
		m := byName[demo.Path]
		m.Name, m.Weights = name, name
		if name == "cut" {
			m.Weights = "cut/x.gguf"
		}
		alloc := newFakeAlloc(1 << 30)
		l := &Loader{FS: fsys, Alloc: alloc, Out: io.Discard}
		if _, err := l.Load(m); err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "past the end of the file") || len(alloc.live) != 0 {
			t.Errorf("%s: %v, %d buffers left; want an error starting %q", name, err, len(alloc.live), want)
		}
	}

	// What a chat takes beyond the file counts, as the menu planned it.
	m := byName[demo.Path]
	if err := m.Fit(0, 1<<30); err != nil {
		t.Fatal(err)
	}
	size := int64(len(demo.Data))
	l := &Loader{FS: fsys, Alloc: newFakeAlloc(size + m.SessionBytes + 4*MB - 1), Out: io.Discard, Reserve: 4 * MB}
	_, err = l.Load(m)
	want := fmt.Sprintf("llama-demo-q8_0.gguf does not fit in memory: llama-demo-q8_0.gguf needs 1.9 MB and its chat %s more, %s is free for models (%s free, 4.0 MB kept for the chat's working memory)",
		engine.FormatBytes(m.SessionBytes), engine.FormatBytes(size+m.SessionBytes-1), engine.FormatBytes(size+m.SessionBytes+4*MB-1))
	if err == nil || err.Error() != want {
		t.Errorf("error:\n %v\nwant\n %s", err, want)
	}
}

// A long file name (a GGUF file's) is cut in the bar, so the redrawn line fits
// an 80-column terminal; the totals line names the whole file.
func TestProgressBarLongName(t *testing.T) {
	var out strings.Builder
	now := time.Unix(0, 0)
	name := "qwen2.5-0.5b-instruct-q4_k_m.gguf"
	p := newProgressBar(&out, name, func() time.Time { return now })
	total := int64(4000 * MB)
	p.update(total/2, total)
	now = now.Add(50 * time.Second)
	p.finish(total)
	lines := strings.Split(out.String(), "\r")
	for _, l := range lines {
		if bar, _, _ := strings.Cut(l, "\n"); len(bar) > 79 {
			t.Errorf("a bar line of %d columns: %q", len(bar), bar)
		}
	}
	if !strings.HasPrefix(lines[1], "qwen2.5-0.5b-inst... [") || !strings.HasSuffix(out.String(), "\n"+name+": 4000 MB in 50000 ms (80 MB/s)\n") {
		t.Errorf("output %q", out.String())
	}
}
