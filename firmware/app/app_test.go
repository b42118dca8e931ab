package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inferpi/inferpi/console/serial"
	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/modeldir"
	"github.com/inferpi/inferpi/engine/quantize"
	"github.com/inferpi/inferpi/firmware/loader"
	"github.com/inferpi/inferpi/firmware/models"
	"github.com/inferpi/inferpi/firmware/mount"
	"github.com/inferpi/inferpi/firmware/sdimage"
	"github.com/inferpi/inferpi/storage/block"
	"github.com/inferpi/inferpi/storage/imagetest"
)

const MB = loader.MB

// fakeAlloc is the kernel's model-buffer allocator: a fixed amount of free
// memory that a test can shrink, with outstanding buffers counted.
type fakeAlloc struct {
	mu   sync.Mutex
	free int64
	live map[*byte]int
}

func newFakeAlloc(free int64) *fakeAlloc { return &fakeAlloc{free: free, live: map[*byte]int{}} }

func (a *fakeAlloc) Available() int64 { a.mu.Lock(); defer a.mu.Unlock(); return a.free }

func (a *fakeAlloc) set(free int64) { a.mu.Lock(); a.free = free; a.mu.Unlock() }

func (a *fakeAlloc) Alloc(size int) ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if int64(size) > a.free {
		return nil, fmt.Errorf("out of memory: need %d MiB, %d MiB free", size>>20, a.free>>20)
	}
	b := make([]byte, size)
	a.live[&b[0]] = size
	a.free -= int64(size)
	return b, nil
}

func (a *fakeAlloc) Free(b []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	size, ok := a.live[&b[0]]
	if !ok {
		return errors.New("not an allocated buffer")
	}
	delete(a.live, &b[0])
	a.free += int64(size)
	return nil
}

func (a *fakeAlloc) outstanding() int { a.mu.Lock(); defer a.mu.Unlock(); return len(a.live) }

func failingSource(name, why string) mount.Source {
	return mount.Source{Name: name, Open: func(io.Writer) (block.Device, error) { return nil, errors.New(why) }}
}

// longGGUF is the GGUF demo as a file declaring 131072 positions (as Llama 3.2
// does): a chat gets the default long context's 4096.
const longGGUF = "context-131072.gguf"

// demoCard makes the SD card of the tests: the demo card (both demo model
// directories and the GGUF demo), the GGUF demo declaring 131072 positions, a
// GPT model whose model.bin lost its second half, a directory whose model.bin
// is no model, the GGUF demo cut in half, a part of a split GGUF model, and a
// directory that is not a model at all.
func demoCard(t *testing.T) (img string, sizes map[string]int64) {
	t.Helper()
	imagetest.NeedTools(t, sdimage.Tools...)
	files, err := sdimage.Demo("../../models")
	if err != nil {
		t.Fatal(err)
	}
	sizes = map[string]int64{}
	var demo []byte
	for _, f := range files {
		n := int64(len(f.Data))
		if f.Local != "" {
			st, _ := os.Stat(f.Local)
			n = st.Size()
		}
		sizes[strings.Split(f.Path, "/")[0]] += n
		if f.Path == sdimage.DemoGGUF {
			demo = f.Data
		}
	}
	long, err := sdimage.WithContext(sdimage.File{Path: sdimage.DemoGGUF, Data: demo}, longGGUF, 131072)
	if err != nil {
		t.Fatal(err)
	}
	sizes[longGGUF] = int64(len(long.Data))
	gpt, _ := os.ReadFile("../../models/nanochat-demo/model.bin")
	tok, _ := os.ReadFile("../../models/nanochat-demo/tokenizer.bin")
	files = append(files, long,
		sdimage.File{Path: "broken/model.bin", Data: gpt[:len(gpt)/2]},
		sdimage.File{Path: "broken/tokenizer.bin", Data: tok},
		sdimage.File{Path: "junk/model.bin", Data: []byte("just some text, not a model")},
		sdimage.File{Path: "cut.gguf", Data: demo[:len(demo)/2]},
		sdimage.File{Path: "big-00001-of-00002.gguf", Data: demo},
		sdimage.File{Path: "notes/readme.txt", Data: []byte("hello")})
	sizes["broken"] = int64(len(gpt)/2 + len(tok))
	img = filepath.Join(t.TempDir(), "sd.img")
	if err := sdimage.Build(img, files, sdimage.Options{}); err != nil {
		t.Fatal(err)
	}
	return img, sizes
}

// demoGGUF writes the card's GGUF demo into a file and returns its path.
func demoGGUF(t *testing.T) string {
	t.Helper()
	f, err := sdimage.LlamaGGUF("../../models/llama-demo", sdimage.DemoGGUF, quantize.FileQ8_0)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), f.Path)
	if err := os.WriteFile(path, f.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// hosted runs the same turns through the engine directly, greedy: the replies
// the firmware must print. model is a model directory or a GGUF file.
func hosted(t *testing.T, model string, inputs ...string) []string {
	t.Helper()
	m, err := modeldir.Open(model, modeldir.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.NewSession(DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	var replies []string
	for _, in := range inputs {
		r, err := s.Turn(context.Background(), in, nil)
		if err != nil {
			t.Fatal(err)
		}
		replies = append(replies, r.Text)
	}
	return replies
}

// examples are the demo models' oracle conversations (greedy replies computed by
// llama2.c's run.c and nanochat's own engine), by first question.
func examples(t *testing.T, path string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Conversations []struct {
			Turns []struct {
				User          string
				Reply         string // llama-demo
				ReplyRendered string `json:"reply_rendered"` // nanochat-demo
			}
		}
	}
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatal(err)
	}
	byFirst := map[string][]string{}
	for _, c := range ex.Conversations {
		var replies []string
		for _, turn := range c.Turns {
			r := turn.Reply
			if r == "" {
				r = strings.TrimSuffix(turn.ReplyRendered, "<|assistant_end|>")
			}
			replies = append(replies, r)
		}
		byFirst[c.Turns[0].User] = replies
	}
	return byFirst
}

type run struct {
	*person
	alloc *fakeAlloc
	done  chan error
}

func start(t *testing.T, sources []mount.Source, alloc *fakeAlloc) *run {
	return startApp(t, sources, alloc, nil)
}

// startApp is start with a /diag.
func startApp(t *testing.T, sources []mount.Source, alloc *fakeAlloc, diag func(io.Writer, *mount.Volume)) *run {
	scr := newScreen()
	keysR, keysW := io.Pipe()
	in, ended := WatchEnd(keysR)
	ed := serial.New(in, scr)
	a := &App{
		Term: ed, Out: scr, InputEnded: ended,
		Sources: sources, Alloc: alloc, Reserve: 8 * MB,
		Banner:  "InferPi firmware (host test)",
		Options: DefaultOptions,
		Info:    func(w io.Writer) { fmt.Fprintln(w, "Board:      test bench\nCores:      2") },
		Diag:    diag,
	}
	r := &run{person: &person{t: t, keys: keysW, screen: scr}, alloc: alloc, done: make(chan error, 1)}
	go func() { r.done <- a.Run() }()
	t.Cleanup(func() {
		keysW.Close()
		if t.Failed() || testing.Verbose() {
			t.Logf("%s", r.person)
		}
	})
	return r
}

// finish ends the input and checks that the app returns and freed its memory.
func (r *run) finish() {
	r.t.Helper()
	r.keys.Close()
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Fatalf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		r.t.Fatal("Run did not return after the input ended")
	}
	if n := r.alloc.outstanding(); n != 0 {
		r.t.Errorf("%d model buffers still allocated", n)
	}
}

func crlfToLF(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

func TestWholeFlowOnADiskImage(t *testing.T) {
	img, sizes := demoCard(t)
	alloc := newFakeAlloc(512 * MB)
	r := start(t, []mount.Source{failingSource("USB", "no USB mass-storage device"), mount.ImageSource("SD card", img)}, alloc)
	gptEx := examples(t, "../../testdata/nanochat-demo/examples.json")
	llamaEx := examples(t, "../../models/llama-demo/examples.json")
	size := func(name string) string { return loader.Size(sizes[name]) }

	// Boot: banner, storage start-up (USB first, then the SD card), the menu
	// with the context each chat gets (the file declaring 131072 positions
	// gets 4096): the models that cannot load are listed as such at once.
	menu := `Available models:
  1. context-131072.gguf      [llama Q8_0]  ` + size(longGGUF) + `  context 4096 of 131072 (KV 6.0 MB)
  2. llama-demo               [Llama]       ` + size("llama-demo") + `  context 512 (KV 1.5 MB)
  3. llama-demo-q8_0.gguf     [llama Q8_0]  ` + size(sdimage.DemoGGUF) + `  context 512 (KV 768 KB)
  4. nanochat-demo            [GPT]         ` + size("nanochat-demo") + `  context 512 (KV 1.5 MB)
Not loadable:
     big-00001-of-00002.gguf  part 1 of a model split in 2 files: InferPi loads a model from one file, and a FAT32 file holds at most 4 GiB (merge the parts with llama-gguf-split --merge if the model is smaller)
     broken                   model.bin: file is 2779552 bytes, the header's layout needs exactly 5559104: truncated
     cut.gguf                 tensor blk.2.ffn_gate.weight: 104448 bytes at data offset 893952 run past the end of the file (956992 bytes of data from offset 25216)
     junk                     model.bin: no engine recognises this file (engines: GPT, Llama)
Memory for models: %s free.
Type a model's number or name, /context N for chats of up to N positions, /rescan to read the storage again, /info to describe the machine.
Select model (1-4): `
	storageLog := `storage: USB: starting
storage: USB: no USB mass-storage device
storage: SD card: starting
storage: SD card: 64 MB device, MBR partition 1: FAT32 volume "INFERPI" of 63 MB, 512-byte clusters
storage: reading models from the SD card

`
	boot := r.expect(`Select model \(1-4\): `)
	if want := "InferPi firmware (host test)\n" + storageLog + fmt.Sprintf(menu, "448 MB"); crlfToLF(boot) != want {
		t.Fatalf("boot screen:\n%s\nwant:\n%s", crlfToLF(boot), want)
	}
	if strings.Contains(strings.ReplaceAll(boot, "\r\n", ""), "\n") {
		t.Errorf("a bare LF reached the serial terminal:\n%q", boot)
	}

	// Bad answers at the menu: each is named and the question asked again.
	reask := `is not a model's number or name: type a number from 1 to 4, or the start of a name\.\r\nSelect model \(1-4\): `
	r.typ("\x00\x01\xfe\xff\x1b[A\x07bogus\x80\r\n") // binary noise, an arrow key, a bell
	if got := r.expect(reask); !strings.Contains(got, "\"\ufffd\ufffdbogus\ufffd\" is not a model's number") {
		t.Errorf("garbage at the menu: %q", got)
	}
	r.typ(strings.Repeat("7", 10240) + "\r") // a 10 KB line
	if got := r.expect(reask); !strings.Contains(got, `"777777777777777777777777"... is not`) {
		t.Errorf("10 KB line at the menu: %q", got)
	}
	for _, bad := range []string{"0", "5", "-1", "2x", "1 2", "99999999999999999999"} {
		r.typ(bad + "\r")
		r.expect(regexp.QuoteMeta(fmt.Sprintf("%q", bad)) + " " + reask)
	}
	r.typ("12\x03") // Ctrl-C drops the line being typed
	r.expect(`12\^C\r\n\r?\n?Select model \(1-4\): `)
	r.typ("/info\r")
	r.expect(`Board:      test bench\r\nCores:      2\r\nSelect model \(1-4\): `)

	// /context asks for longer chats: the menu again, the long model's column
	// with the new context (the others keep the 512 they declare); a bad
	// number is named, one beyond a model's context gives it all of it, and
	// /context default goes back.
	r.typ("/context 8192\r")
	longer := strings.Replace(menu, "context 4096 of 131072 (KV 6.0 MB)", "context 8192 of 131072 (KV 12 MB)", 1)
	r.expect(regexp.QuoteMeta(strings.ReplaceAll(fmt.Sprintf(longer, "448 MB"), "\n", "\r\n")))
	r.typ("/context lots\r")
	r.expect(regexp.QuoteMeta(`"lots" is not a whole number >= 0. /context N gives each chat up to N positions`))
	r.typ("/context 99999999\r")
	whole := strings.Replace(menu, "context 4096 of 131072 (KV 6.0 MB)", "context 131072 (KV 192 MB)", 1)
	r.expect(regexp.QuoteMeta(strings.ReplaceAll(fmt.Sprintf(whole, "448 MB"), "\n", "\r\n")))
	r.typ("/context default\r")
	r.expect(regexp.QuoteMeta(strings.ReplaceAll(fmt.Sprintf(menu, "448 MB"), "\n", "\r\n")))

	// A model that does not fit is refused before loading, with the numbers;
	// the menu then lists every model as too large, until memory is back.
	alloc.set(9 * MB)
	r.typ("2\r")
	r.expect(regexp.QuoteMeta("Loading llama-demo [Llama] from the SD card...\r\n" +
		"Could not load llama-demo: llama-demo does not fit in memory: model.bin needs 7.0 MB and its chat 2.0 MB more, 1.0 MB is free for models (9.0 MB free, 8.0 MB kept for the chat's working memory)\r\n" +
		"Back to the model menu.\r\n"))
	full := r.expect(`Copy a smaller model onto it \(a smaller size or a smaller quantization\) and press ENTER to look again\.\r\n`)
	for _, want := range []string{
		"     context-131072.gguf      needs 2.7 MB of memory (1.9 MB of weights, 897 KB for a chat of 256 positions) and 64 MB kept free, 9.0 MB is free: too large for this Pi\r\n",
		"     llama-demo               needs 8.3 MB of memory (7.0 MB of weights, 1.3 MB for a chat of 256 positions) and 64 MB kept free, 9.0 MB is free: too large for this Pi\r\n",
		"No model here fits in this Pi's memory.\r\n",
	} {
		if !strings.Contains(full, want) {
			t.Errorf("the menu without memory lacks %q:\n%s", want, full)
		}
	}
	alloc.set(512 * MB)
	r.typ("\r")
	r.expect(regexp.QuoteMeta(strings.ReplaceAll(storageLog+fmt.Sprintf(menu, "448 MB"), "\n", "\r\n")))

	// The model declaring 131072 positions, picked by the start of its name
	// in capitals: a chat of 4096 positions, as the menu said, with the
	// replies of the model declaring 512.
	r.typ("llama\r")
	r.expect(regexp.QuoteMeta(`"llama" starts llama-demo and llama-demo-q8_0.gguf: type more of the name, or its number.`))
	r.typ("CONTEXT\r")
	r.expect(regexp.QuoteMeta("Loading context-131072.gguf [llama Q8_0] from the SD card...\r\n"))
	r.expect(`\r\nLlama: dim=192 [^\r\n]*seq_len=4096 [^\r\n]*\r\nContext: 4096 positions \(KV cache 6\.0 MB when full\)\.\r\nReady!`)
	r.expect(`> `)
	r.typ("/settings\r")
	r.expect(`context +0 of 4096 tokens used\r\n`)
	want := hosted(t, demoGGUF(t), "What is the capital of Japan?")
	if got := crlfToLF(r.say("What is the capital of Japan?", "\r")); got != want[0] {
		t.Errorf("the long-context GGUF: %q, want %q", got, want[0])
	}
	r.typ("/exit\r")
	r.expect(`Unloaded context-131072\.gguf: 1\.9 MB of memory returned\.\r\n`)
	r.expect(`Select model \(1-4\): `)

	// The GPT model, typed with a slip: 3, backspace, 4, CRLF.
	r.typ("3\b4\r\n")
	load := r.expect(`Ready! Type your prompt and press ENTER\.\r\n`)
	for _, re := range []string{
		`^3\x08 \x084\r\nLoading nanochat-demo \[GPT\] from the SD card\.\.\.\r\n`,
		`\rmodel\.bin     \[#+\] 100%  5\.3 / 5\.3 MB  [\d.]* ?(MB/s)?  \r\nmodel\.bin: 5\.3 MB in \d+ ms( \([\d.]+ MB/s\))?\r\n`,
		`\rtokenizer\.bin \[#+\] 100%  17 / 17 KB  [\d.]* ?(MB/s)?  \r\ntokenizer\.bin: 17 KB in \d+ ms( \([\d.]+ MB/s\))?\r\n`,
		`\r\nGPT: dim=\d+ layers=\d+ [^\r\n]*\r\nContext: 512 positions \(KV cache 1\.5 MB when full\)\.\r\nReady!`,
	} {
		if !regexp.MustCompile(re).MatchString(load) {
			t.Errorf("loading screen does not match %q:\n%q", re, load)
		}
	}
	r.expect(`Type a message, or /help for commands\. Ctrl-C stops a reply\.\r\n> `)
	r.typ("/temp 0\r")
	r.expect(`temp = 0\r\n> `)

	want = hosted(t, "../../models/nanochat-demo", "What is the capital of Japan?", "And Kenya?", "Tell me a story about a cat.")
	for i, q := range []string{"What is the capital of Japan?", "And Kenya?"} {
		got := crlfToLF(r.say(q, []string{"\r", "\n"}[i]))
		if got != want[i] || got != gptEx["What is the capital of Japan?"][i] {
			t.Errorf("GPT turn %d: %q\nhosted engine: %q\noracle: %q", i+1, got, want[i], gptEx["What is the capital of Japan?"][i])
		}
	}
	// Ctrl-C in the middle of a reply stops it; the chat goes on.
	r.screen.onOutput(`Once upon a time`, func() {
		io.WriteString(r.keys, "\x03")
		time.Sleep(300 * time.Millisecond) // the reply cannot go on meanwhile: this write is inside it
	})
	r.typ("Tell me a story about a cat.\r")
	story := r.expect(`\r\n\[stopped\]\r\n---\r\nGeneration: \d+ tokens`)
	story = story[strings.Index(story, "Once upon a time"):strings.Index(story, "\r\n[stopped]")]
	if !strings.HasPrefix(want[2], story) || len(story) >= len(want[2]) {
		t.Errorf("stopped story %q is not a proper beginning of %q", story, want[2])
	}
	// A 10 KB line does not fit the context: said so (without offering /reset,
	// which cannot make room for it), and the chat goes on.
	r.typ(strings.Repeat("hello ", 1700) + "\r")
	r.expect(`\[message too long: it is \d+ tokens and the context holds 512; the conversation goes on without it\]\r\n> `)
	r.typ("/reset\r")
	r.expect(`\[new conversation\]\r\n> `)
	// Ctrl-U clears a line typed wrong.
	r.typ("What colour is\x15")
	if got := crlfToLF(r.say("What color is a banana?", "\r")); got != gptEx["What color is a banana?"][0] {
		t.Errorf("after Ctrl-U: %q, want %q", got, gptEx["What color is a banana?"][0])
	}
	// Two questions pasted at once: the second waits, typed ahead, while the
	// first is answered, and is not lost.
	r.typ("What sound does a cow make?\rHow many legs does a spider have?\r")
	for _, q := range []string{"What sound does a cow make?", "How many legs does a spider have?"} {
		r.expect(regexp.QuoteMeta(q) + "\r\n")
		got := r.expect(`\r\n---\r\nGeneration: \d+ tokens[^\r]*\r\n> `)
		if got = crlfToLF(got[:strings.Index(got, "\r\n---")]); got != gptEx[q][0] {
			t.Errorf("pasted %q: %q, want %q", q, got, gptEx[q][0])
		}
	}
	r.typ("/topk\r")
	r.expect(`topk = 0\r\n> `)
	r.typ("/max 3\r")
	r.expect(`max = 3\r\n> `)
	r.typ("/max 0\r")
	r.expect(`max = 0\r\n> `)

	// /exit: memory returned, storage started again, the menu.
	r.typ("/exit\r")
	r.expect(regexp.QuoteMeta("Unloaded nanochat-demo: 5.3 MB of memory returned.\r\n" + strings.ReplaceAll(storageLog, "\n", "\r\n")))
	r.expect(`Memory for models: 448 MB free\.\r\n`)
	r.expect(`Select model \(1-4\): `)
	if alloc.outstanding() != 0 {
		t.Errorf("the GPT model's buffer was not freed at /exit")
	}

	// The Llama model; the settings chosen before carry over.
	r.typ("2\r")
	r.expect(`Llama: [^\r\n]+\r\nContext: 512 positions \(KV cache 1\.5 MB when full\)\.\r\nReady! Type your prompt and press ENTER\.\r\n`)
	r.typ("/temp\r")
	r.expect(`temp = 0\r\n> `)
	want = hosted(t, "../../models/llama-demo", "What is the capital of Japan?", "And Kenya?")
	for i, q := range []string{"What is the capital of Japan?", "And Kenya?"} {
		got := crlfToLF(r.say(q, "\r\n"))
		if got != want[i] || got != llamaEx["What is the capital of Japan?"][i] {
			t.Errorf("Llama turn %d: %q\nhosted engine: %q\noracle: %q", i+1, got, want[i], llamaEx["What is the capital of Japan?"][i])
		}
	}
	r.typ("/exit\r")
	r.expect(`Unloaded llama-demo: 7\.0 MB of memory returned\.\r\n`)
	r.expect(`Select model \(1-4\): `)

	// The GGUF demo: the same progress bar, its own chat template, the same
	// replies as hosted and as the model was trained to give.
	r.typ("3\r")
	load = r.expect(`Ready! Type your prompt and press ENTER\.\r\n`)
	for _, re := range []string{
		`^3\r\nLoading llama-demo-q8_0\.gguf \[llama Q8_0\] from the SD card\.\.\.\r\n`,
		`\rllama-demo-q8_0\.gguf \[#+\] 100%  1\.9 / 1\.9 MB  [\d.]* ?(MB/s)?  \r\nllama-demo-q8_0\.gguf: 1\.9 MB in \d+ ms( \([\d.]+ MB/s\))?\r\n`,
		`\r\nLlama: dim=192 [^\r\n]*seq_len=512 [^\r\n]*\r\nContext: 512 positions \(KV cache 768 KB when full\)\.\r\nReady!`,
	} {
		if !regexp.MustCompile(re).MatchString(load) {
			t.Errorf("loading screen does not match %q:\n%q", re, load)
		}
	}
	if strings.Contains(load, "tokenizer.bin") {
		t.Errorf("a GGUF model reads a tokenizer.bin:\n%s", load)
	}
	r.typ("/settings\r")
	r.expect(`template *alpaca`)
	want = hosted(t, demoGGUF(t), "What is the capital of Japan?", "And Kenya?")
	for i, q := range []string{"What is the capital of Japan?", "And Kenya?"} {
		got := crlfToLF(r.say(q, "\r"))
		if got != want[i] || got != llamaEx["What is the capital of Japan?"][i] {
			t.Errorf("GGUF turn %d: %q\nhosted engine: %q\noracle: %q", i+1, got, want[i], llamaEx["What is the capital of Japan?"][i])
		}
	}
	r.typ("/exit\r")
	r.expect(`Unloaded llama-demo-q8_0\.gguf: 1\.9 MB of memory returned\.\r\n`)
	r.expect(`Select model \(1-4\): `)
	r.finish()
}

// A GGUF file cut after the menu read its header (the card rewritten under the
// firmware) is picked: loading gives an error naming the file (here the file
// system's: its cached view of the FAT meets the rewrite), the memory is
// returned, and the menu, read again, lists the file as not loadable.
func TestGGUFCutAfterTheMenu(t *testing.T) {
	img, _ := demoCard(t)
	alloc := newFakeAlloc(512 * MB)
	r := start(t, []mount.Source{mount.ImageSource("SD card", img)}, alloc)
	r.expect(`3\. llama-demo-q8_0\.gguf  `)
	r.expect(`Select model \(1-4\): `)
	demo, err := os.ReadFile(demoGGUF(t))
	if err != nil {
		t.Fatal(err)
	}
	imagetest.Volume{Image: img, Offset: 1 << 20}.Put(t, sdimage.DemoGGUF, demo[:len(demo)/3])
	r.typ("3\r")
	r.expect(`Loading llama-demo-q8_0\.gguf \[llama Q8_0\] from the SD card\.\.\.\r\n`)
	r.expect(`\r\nCould not load llama-demo-q8_0\.gguf: llama-demo-q8_0\.gguf: [^\r\n]+\r\nBack to the model menu\.\r\n`)
	menu := r.expect(`Select model \(1-3\): `)
	if !regexp.MustCompile(`\r\n     llama-demo-q8_0\.gguf     tensor blk\.[^\r\n]*past the end of the file`).MatchString(menu) {
		t.Errorf("the cut file is not listed as not loadable:\n%s", menu)
	}
	if alloc.outstanding() != 0 {
		t.Errorf("the failed load kept its buffer")
	}
	r.finish()
}

// Twenty load and /exit cycles alternating the three demo models: every model's
// buffer is returned, the memory free for models is the same at every menu, and
// the Go heap does not grow from cycle to cycle.
func TestLoadExitCycles(t *testing.T) {
	img, _ := demoCard(t)
	alloc := newFakeAlloc(512 * MB)
	r := start(t, []mount.Source{mount.ImageSource("SD card", img)}, alloc)
	r.expect(`Select model \(1-4\): `)
	names := map[string]string{"2": "llama-demo", "3": "llama-demo-q8_0.gguf", "4": "nanochat-demo"}
	var heap []uint64
	for cycle := 0; cycle < 20; cycle++ {
		n := []string{"2", "3", "4"}[cycle%3]
		r.typ(n + "\r")
		r.expect(`Ready! Type your prompt and press ENTER\.\r\n[^>]*> `)
		r.typ("/exit\r")
		r.expect(regexp.QuoteMeta("Unloaded " + names[n] + ": "))
		r.expect(`Memory for models: 448 MB free\.\r\n`)
		r.expect(`Select model \(1-4\): `)
		if alloc.outstanding() != 0 || alloc.Available() != 512*MB {
			t.Fatalf("cycle %d: %d buffers outstanding, %d bytes free", cycle+1, alloc.outstanding(), alloc.Available())
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap = append(heap, ms.HeapAlloc)
	}
	// The first cycles warm up (the engines' worker pools, the tokenizers'
	// tables); from then on the heap stays put, but for the screen's text.
	if grown := int64(heap[19]) - int64(heap[3]); grown > MB {
		t.Errorf("the Go heap grew by %d KB from cycle 4 to cycle 20: %v", grown>>10, heap)
	}
	r.finish()
}

func TestNoStorageThenACard(t *testing.T) {
	img, _ := demoCard(t)
	tries := 0
	flaky := mount.Source{Name: "SD card", Open: func(log io.Writer) (block.Device, error) {
		tries++
		if tries == 1 {
			return nil, errors.New("no card in the slot")
		}
		return mount.ImageSource("SD card", img).Open(log)
	}}
	r := start(t, []mount.Source{flaky}, newFakeAlloc(512*MB))
	r.expect(regexp.QuoteMeta("storage: SD card: no card in the slot\r\n" +
		"no storage with a FAT32 volume found (SD card: no card in the slot)\r\n" +
		"Insert an SD card (or USB stick) with a FAT32 volume holding models, then press ENTER to try again.\r\n"))
	r.typ("\r")
	r.expect(`storage: reading models from the SD card\r\n\r\nAvailable models:`)
	r.expect(`Select model \(1-4\): `)
	r.finish()
}

// /diag runs the diagnostic at the menu with the volume in use and at the
// prompt that waits for storage without one; the menu's hint names it.
func TestDiagCommand(t *testing.T) {
	img, _ := demoCard(t)
	var ran []string
	diag := func(w io.Writer, vol *mount.Volume) {
		src := "none"
		if vol != nil {
			src = vol.Source
			if vol.Device().Blocks() == 0 {
				t.Error("the volume has no device")
			}
		}
		ran = append(ran, src)
		fmt.Fprintln(w, "diag: 7 passed, 0 failed, 1 not available here")
	}
	tries := 0
	flaky := mount.Source{Name: "SD card", Open: func(log io.Writer) (block.Device, error) {
		if tries++; tries == 1 {
			return nil, errors.New("no card in the slot")
		}
		return mount.ImageSource("SD card", img).Open(log)
	}}
	r := startApp(t, []mount.Source{flaky}, newFakeAlloc(512*MB), diag)
	r.expect(regexp.QuoteMeta("then press ENTER to try again (/diag tests the board).\r\n"))
	r.typ("/diag\r")
	r.expect(regexp.QuoteMeta("diag: 7 passed, 0 failed, 1 not available here\r\nPress ENTER to look at the storage again.\r\n"))
	r.typ("\r")
	r.expect(regexp.QuoteMeta("Type a model's number or name, /context N for chats of up to N positions, /rescan to read the storage again, /info to describe the machine, /diag to test the board.\r\n"))
	r.typ("/diag\r")
	r.expect(`diag: 7 passed[^\n]*\r\nSelect model \(1-4\): `)
	r.finish()
	if strings.Join(ran, ",") != "none,SD card" {
		t.Errorf("/diag ran with %q", ran)
	}
}

func TestVolumeWithoutModels(t *testing.T) {
	imagetest.NeedTools(t, sdimage.Tools...)
	img := filepath.Join(t.TempDir(), "sd.img")
	if err := sdimage.Build(img, []sdimage.File{{Path: "photos/cat.jpg", Data: []byte("jpeg")}}, sdimage.Options{}); err != nil {
		t.Fatal(err)
	}
	r := start(t, []mount.Source{mount.ImageSource("SD card", img)}, newFakeAlloc(512*MB))
	r.expect(regexp.QuoteMeta("No models on the SD card. A model is a .gguf file at the top level, or a top-level directory holding model.bin and tokenizer.bin.\r\n" +
		"Copy a model onto it and press ENTER to look again.\r\n"))
	r.typ("\r")
	r.expect(`storage: SD card: starting\r\n`) // looked again
	r.expect(`No models on the SD card`)
	r.finish()
}

// scripted is a Terminal whose input is a list of ReadLine results.
type scripted struct {
	results []struct {
		line string
		err  error
	}
}

func (s *scripted) ReadLine() (string, error) {
	if len(s.results) == 0 {
		return "", io.EOF
	}
	r := s.results[0]
	s.results = s.results[1:]
	return r.line, r.err
}

func (s *scripted) Interrupt() <-chan struct{} { return nil }

func (s *scripted) add(line string, err error) *scripted {
	s.results = append(s.results, struct {
		line string
		err  error
	}{line, err})
	return s
}

// On the firmware the input never ends, so a Ctrl-D (io.EOF from the editor)
// at the menu must not end the app; the UART's read error does.
func TestCtrlDAtTheMenuIsIgnoredOnTheFirmware(t *testing.T) {
	img, _ := demoCard(t)
	term := (&scripted{}).add("", io.EOF).add("", serial.ErrLineTooLong).add("/rescan", nil).add("", errors.New("UART: framing error"))
	var out strings.Builder
	a := &App{Term: term, Out: &out, Sources: []mount.Source{mount.ImageSource("SD card", img)}, Alloc: newFakeAlloc(512 * MB)}
	err := a.Run()
	if err == nil || err.Error() != "UART: framing error" {
		t.Fatalf("Run: %v", err)
	}
	if n := strings.Count(out.String(), "Available models:"); n != 2 {
		t.Errorf("menu shown %d times, want 2 (Ctrl-D ignored, /rescan honoured):\n%s", n, out.String())
	}
	if !strings.Contains(out.String(), "[that line is longer than 16384 bytes: ignored]\r\n") {
		t.Errorf("over-long line not reported:\n%s", out.String())
	}
}

func TestCRLF(t *testing.T) {
	var b strings.Builder
	w := &crlf{w: &b}
	for _, s := range []string{"a\nb", "\r\n", "c\r", "\nd\n\n", "", "\n"} {
		if n, err := io.WriteString(w, s); n != len(s) || err != nil {
			t.Fatalf("write %q: %d, %v", s, n, err)
		}
	}
	if got, want := b.String(), "a\r\nb\r\nc\r\nd\r\n\r\n\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestChoose: a menu answer is a listed number or a model's name, in any case,
// or the start of only one name; anything else is refused with the reason.
func TestChoose(t *testing.T) {
	var ok []models.Model
	for _, name := range []string{"llama-demo", "llama-demo-q8_0.gguf", "nanochat-demo", "Qwen2.5-0.5B.gguf"} {
		ok = append(ok, models.Model{Name: name})
	}
	for in, want := range map[string]int{
		"1": 0, " 3 ": 2, "2.": 1, "03": 2, "4": 3,
		"llama-demo": 0, "LLAMA-DEMO": 0, "llama-demo-q8_0": 1, "llama-demo-q8_0.gguf": 1, "llama-demo-": 1,
		"nano": 2, " n ": 2, "qwen": 3, "qwen2.5-0.5b": 3,
	} {
		if k, problem := choose(in, ok); problem != "" || k != want {
			t.Errorf("choose(%q) = %d, %q; want %d", in, k, problem, want)
		}
	}
	refusals := map[string]string{
		"0":                    `"0" is not a model's number or name: type a number from 1 to 4, or the start of a name.`,
		"5":                    `"5" is not a model's number or name`,
		"99999999999999999999": `"99999999999999999999" is not a model's number or name`,
		"llama":                `"llama" starts llama-demo and llama-demo-q8_0.gguf: type more of the name, or its number.`,
		"l":                    `"l" starts llama-demo and llama-demo-q8_0.gguf`,
		"gpt":                  `"gpt" is not`,
		"-1":                   `"-1" is not`,
		"1 2":                  `"1 2" is not`,
		"２":                    `"２" is not`,
		".":                    `"." is not`,
		"llama-demo.gguf.x":    `is not`,
	}
	for in, want := range refusals {
		if k, problem := choose(in, ok); !strings.HasPrefix(problem, want) && !strings.Contains(problem, want) {
			t.Errorf("choose(%q) = %d, %q; want a refusal %q", in, k, problem, want)
		}
	}
}

// FuzzChoose: any answer at the menu is either a listed model or refused, and
// the refusal's quote of it stays short.
func FuzzChoose(f *testing.F) {
	for _, s := range []string{"1", " 2.", "\x00\xff", strings.Repeat("9", 30), "-0", "3\u00a0", "ll", "LLAMA-DEMO", "é"} {
		f.Add(s, 3)
	}
	names := []string{"llama-demo", "llama-demo-q8_0.gguf", "nanochat-demo", "é-model", "Ünïcode.gguf"}
	f.Fuzz(func(t *testing.T, line string, n int) {
		if n < 1 || n > len(names) {
			return
		}
		var ok []models.Model
		for _, name := range names[:n] {
			ok = append(ok, models.Model{Name: name})
		}
		k, problem := choose(line, ok)
		if problem == "" && (k < 0 || k >= n) {
			t.Fatalf("choose(%q) among %d = %d", line, n, k)
		}
		if len(problem) > 24*10+200 {
			t.Fatalf("the refusal of %d bytes is %d bytes long", len(line), len(problem))
		}
	})
}

var _ engine.Session // the flow test talks to real engines through the app
