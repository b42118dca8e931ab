package qemu_test

// The end-to-end test of the firmware as a product (make e2e): it boots the real
// firmware (cmd/firmware) in QEMU with a disk holding the demo card (both demo
// model directories and the GGUF demo), the GGUF demo declaring 131072
// positions, a corrupt model and a cut GGUF file (an SD card on raspi4b, a USB
// stick on virt), and drives the UART like a person: waits for the menu (the
// corrupt model and the cut GGUF file listed as not loadable at once, the long
// context clamped to 4096), picks the GPT model, chats (a question and a
// follow-up that needs the conversation's KV cache), stops a reply with Ctrl-C,
// /exit, picks the Llama model, chats, /exit, picks the GGUF demo and asks its
// README's example questions, /exit, loads and leaves the three demo models in
// turn, checking the kernel's account of free memory, and last picks the
// long-context GGUF by its name and chats. Replies must be exactly what the engine prints hosted, in this test
// process, for the same model and turns (greedy). Boot-to-menu time, load speed
// and tokens/s are logged, not asserted: they are emulation speeds.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inferpi/inferpi/engine/modeldir"
	"github.com/inferpi/inferpi/firmware/app"
	"github.com/inferpi/inferpi/firmware/sdimage"
	"github.com/inferpi/inferpi/internal/qemu"
	"github.com/inferpi/inferpi/storage/imagetest"
)

// e2eCard writes the disk image: the demo card, the GGUF demo declaring 131072
// positions (longGGUF), a GPT model whose model.bin lost its second half, the
// GGUF demo cut in half, and a directory that is not a model. It returns the
// image and the GGUF demo as a file on the host.
func e2eCard(t *testing.T) (image, demoGGUF string) {
	t.Helper()
	imagetest.NeedTools(t, sdimage.Tools...)
	files, err := sdimage.Demo("../../models")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range files {
		if f.Path == sdimage.DemoGGUF {
			demoGGUF = filepath.Join(dir, f.Path)
			if err := os.WriteFile(demoGGUF, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			long, err := sdimage.WithContext(f, longGGUF, 131072)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, long, sdimage.File{Path: "cut.gguf", Data: f.Data[:len(f.Data)/2]})
		}
	}
	gpt, err := os.ReadFile("../../models/nanochat-demo/model.bin")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile("../../models/nanochat-demo/tokenizer.bin")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files,
		sdimage.File{Path: "broken/model.bin", Data: gpt[:len(gpt)/2]},
		sdimage.File{Path: "broken/tokenizer.bin", Data: tok},
		sdimage.File{Path: "notes/readme.txt", Data: []byte("not a model")})
	image = filepath.Join(dir, "sd.img")
	if err := sdimage.Build(image, files, sdimage.Options{}); err != nil {
		t.Fatal(err)
	}
	return image, demoGGUF
}

// hostedTurns runs the turns through the engine in this process, greedy, as the
// firmware does after /temp 0: the replies the firmware must print. model is a
// model directory or a GGUF file; with fresh, each turn starts a new
// conversation (the firmware's /reset).
func hostedTurns(t *testing.T, model string, fresh bool, inputs ...string) []string {
	t.Helper()
	m, err := modeldir.Open(model, modeldir.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	opts := app.DefaultOptions
	opts.Sampling.Temperature = 0
	var replies []string
	sess, err := m.NewSession(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range inputs {
		if fresh {
			if sess, err = m.NewSession(opts); err != nil {
				t.Fatal(err)
			}
		}
		r, err := sess.Turn(context.Background(), in, nil)
		if err != nil {
			t.Fatal(err)
		}
		replies = append(replies, r.Text)
	}
	return replies
}

// user is a person at the firmware's serial console.
type user struct {
	t      *testing.T
	m      *qemu.Machine
	source string // where the firmware finds the models: "SD card", "USB"
}

func (u *user) expect(pattern string, timeout time.Duration) string {
	u.t.Helper()
	s, err := u.m.Expect(pattern, timeout)
	if err != nil {
		u.t.Fatal(err)
	}
	return s
}

func (u *user) typ(s string) {
	u.t.Helper()
	if err := u.m.Send(s); err != nil {
		u.t.Fatal(err)
	}
}

var (
	menuLine = regexp.MustCompile(`(?m)^  (\d+)\. (\S+) +\[([^\]]+)\] +([\d.]+ [KM]B)  context ([^\r]+)\r$`)
	genStats = regexp.MustCompile(`Generation: (\d+) tokens in (\d+) ms \(([\d.]+) tokens/sec\)`)
	freeLine = regexp.MustCompile(`Memory for models: (\d+) MB free\.`)
)

// demoModel is one of the demo card's models as the menu lists it.
type demoModel struct {
	name   string // in the menu
	kind   string // in brackets
	engine string // the configuration line's engine
	file   string // the weights file, whose load totals are printed
	bytes  string // of the weights, as /exit says they are returned
	hosted string // the same model on the host, for the replies
}

var (
	gptDemo   = demoModel{"nanochat-demo", "GPT", "GPT", "model.bin", "5.3 MB", "../../models/nanochat-demo"}
	llamaDemo = demoModel{"llama-demo", "Llama", "Llama", "model.bin", "7.0 MB", "../../models/llama-demo"}
	ggufDemo  = demoModel{sdimage.DemoGGUF, "llama Q8_0", "Llama", sdimage.DemoGGUF, "1.9 MB", ""} // hosted: e2eCard's file
	longDemo  = demoModel{longGGUF, "llama Q8_0", "Llama", longGGUF, "1.9 MB", ""}                 // hosted: the GGUF demo
)

// longGGUF is the GGUF demo declaring 131072 positions, as Llama 3.2 does.
const longGGUF = "context-131072.gguf"

// menu waits for the model menu and returns each model's number by name, the
// memory it says is free for models (MB), and the menu's text.
func (u *user) menu() (numbers map[string]string, freeMB int, screen string) {
	u.t.Helper()
	screen = u.expect(`Select model \(1-\d\): `, 2*time.Minute)
	screen = screen[strings.LastIndex(screen, "Available models:"):]
	numbers = map[string]string{}
	for _, m := range menuLine.FindAllStringSubmatch(screen, -1) {
		numbers[m[2]] = m[1]
		if m[2] == longGGUF && m[5] != "4096 of 131072 (KV 6.0 MB)" {
			u.t.Errorf("the menu gives %s the context %q, want 4096 of its 131072 positions", longGGUF, m[5])
		}
	}
	if m := freeLine.FindStringSubmatch(screen); m != nil {
		freeMB, _ = strconv.Atoi(m[1])
	} else {
		u.t.Errorf("the menu does not say how much memory is free:\n%s", screen)
	}
	return numbers, freeMB, screen
}

var buffersLine = regexp.MustCompile(`Memory: +[^\r\n]* free, ([\d.]+ [KMG]B) in model buffers`)

// modelBuffers asks the menu for /info and returns how much memory the kernel
// holds in model buffers (the menu must be waiting for a number).
func (u *user) modelBuffers() string {
	u.t.Helper()
	u.typ("/info\r")
	screen := u.expect(`in model buffers[^\r\n]*\r\n`, time.Minute)
	u.expect(`Select model \(1-\d\): `, time.Minute)
	if m := buffersLine.FindStringSubmatch(screen); m != nil {
		return m[1]
	}
	u.t.Errorf("/info does not say what model buffers hold:\n%s", screen)
	return "?"
}

// load picks model d by its menu number and waits for the chat prompt; it
// returns the load speed.
func (u *user) load(number string, d demoModel) (mbPerSec float64) {
	u.t.Helper()
	u.typ(number + "\r")
	u.expect(regexp.QuoteMeta(fmt.Sprintf("Loading %s [%s] from the %s...", d.name, d.kind, u.source)), time.Minute)
	screen := u.expect(`Ready! Type your prompt and press ENTER\.\r\n`, 3*time.Minute)
	if !strings.Contains(screen, "\r\n"+d.engine+": ") {
		u.t.Errorf("no %s config line while loading:\n%s", d.engine, screen)
	}
	u.expect(`\r\n> `, time.Minute)
	total := regexp.MustCompile(`\r\n` + regexp.QuoteMeta(d.file) + `: ([\d.]+) MB in (\d+) ms`)
	if m := total.FindStringSubmatch(screen); m != nil {
		mb, _ := strconv.ParseFloat(m[1], 64)
		ms, _ := strconv.ParseFloat(m[2], 64)
		if ms > 0 {
			mbPerSec = mb / ms * 1000
		}
	} else {
		u.t.Errorf("no %s totals while loading:\n%s", d.file, screen)
	}
	u.typ("/temp 0\r")
	u.expect(`temp = 0\r\n> `, time.Minute)
	return mbPerSec
}

// exit leaves the chat with d and waits for the storage to start again.
func (u *user) exit(d demoModel) {
	u.t.Helper()
	u.typ("/exit\r")
	u.expect(regexp.QuoteMeta(fmt.Sprintf("Unloaded %s: %s of memory returned.\r\n", d.name, d.bytes)), time.Minute)
	u.expect(`storage: `+u.source+`: starting`, time.Minute) // the storage is started again
}

// say types a prompt and returns the reply as printed (line ends as LF) and
// the generation speed the firmware reported.
func (u *user) say(prompt string) (reply string, tokensPerSec float64) {
	u.t.Helper()
	if err := u.m.SendSlowly(prompt+"\r", 4, 10*time.Millisecond); err != nil { // typed, not pasted
		u.t.Fatal(err)
	}
	u.expect(regexp.QuoteMeta(prompt)+`\r\n`, time.Minute)
	screen := u.expect(`\r\n---\r\nGeneration: \d+ tokens in \d+ ms \([\d.]+ tokens/sec\)\r\n> `, 5*time.Minute)
	reply = strings.ReplaceAll(screen[:strings.Index(screen, "\r\n---\r\n")], "\r\n", "\n")
	if m := genStats.FindStringSubmatch(screen); m != nil {
		tokensPerSec, _ = strconv.ParseFloat(m[3], 64)
	}
	return reply, tokensPerSec
}

// chatLikeHost loads model d (menu number) and has a conversation of turns
// with it (see converse).
func (u *user) chatLikeHost(number string, d demoModel, fresh bool, turns ...string) {
	u.t.Helper()
	speed := u.load(number, d)
	u.t.Logf("%s load: %.1f MB/s (not asserted)", d.name, speed)
	u.converse(d, fresh, turns...)
}

// converse has a conversation of turns with the loaded model d, each reply the
// same as the hosted engine's for the same turns; with fresh, each turn is a
// new conversation (/reset before it).
func (u *user) converse(d demoModel, fresh bool, turns ...string) {
	u.t.Helper()
	want := hostedTurns(u.t, d.hosted, fresh, turns...)
	for i, q := range turns {
		if fresh && i > 0 {
			u.typ("/reset\r")
			u.expect(`\[new conversation\]\r\n> `, time.Minute)
		}
		got, tps := u.say(q)
		u.t.Logf("%s turn %d: %q, %.1f tokens/s (not asserted)", d.name, i+1, got, tps)
		if got != want[i] {
			u.t.Errorf("%s turn %d (%q): firmware replied %q, the hosted engine %q", d.name, i+1, q, got, want[i])
		}
	}
}

var diagSummary = regexp.MustCompile(`diag: (\d+) passed, (\d+) failed, (\d+) not available here`)

// diag types /diag at the menu and checks the board diagnostic: every step
// passes except the ones named, which QEMU lacks; nothing fails. The
// transcript is logged (docs/bare-metal.md, "A diagnostic for the first boot",
// shows one).
func (u *user) diag(unavailable ...string) {
	u.t.Helper()
	u.typ("/diag\r")
	screen := u.expect(`diag: \d+ passed, \d+ failed, \d+ not available here\r\n`, 3*time.Minute)
	u.expect(`Select model \(1-\d\): `, time.Minute)
	screen = strings.ReplaceAll(screen[strings.Index(screen, "diag: InferPi firmware"):], "\r\n", "\n")
	u.t.Logf("/diag:\n%s", screen)
	m := diagSummary.FindStringSubmatch(screen)
	passed, _ := strconv.Atoi(m[1])
	na, _ := strconv.Atoi(m[3])
	if m[2] != "0" || passed+na != 8 || na != len(unavailable) {
		u.t.Errorf("/diag: %s; want 0 failed and %d of 8 steps not available (%v)", m[0], len(unavailable), unavailable)
	}
	for _, step := range unavailable {
		if !strings.Contains(screen, "diag: "+step+": not available here: ") {
			u.t.Errorf("/diag: step %s is not reported as not available here", step)
		}
	}
}

// TestE2ERaspi4b runs the firmware on QEMU raspi4b with the models on the SD
// card, with three load/exit cycles (QEMU's SD card reads a few MB/s: the
// twenty cycles run on virt). QEMU raspi4b models no PCIe: /diag reports USB and
// PCIe as not available.
func TestE2ERaspi4b(t *testing.T) {
	runE2E(t, "rpi4", "SD card", 3, func(kernel, image string) qemu.Config {
		return qemu.Config{Board: "rpi4", Kernel: kernel, SD: image}
	}, "usb", "pcie")
}

// TestE2EVirt runs the firmware on QEMU virt with the models on a USB stick
// behind qemu-xhci: the USB path, tried before the SD card, with twenty
// load/exit cycles. QEMU virt has no VideoCore, SD controller or BCM2711 root
// complex.
func TestE2EVirt(t *testing.T) {
	runE2E(t, "virt", "USB", 20, func(kernel, image string) qemu.Config {
		return qemu.Config{Board: "virt", Kernel: kernel, USB: image}
	}, "clocks", "sd", "pcie")
}

// ggufExamples are llama-demo's README example questions (models/llama-demo:
// "Example exchanges"), each the first turn of a conversation.
var ggufExamples = []string{"Hello!", "What is the capital of France?", "What sound does a cow make?",
	"How many legs does a spider have?", "Tell me a story about a cat."}

// runE2E boots the firmware built for board with the test's disk image attached
// by machine (the USB variant on QEMU virt passes the image as Config.USB) and
// goes through the whole flow, then cycles load/exit cycles; source is the
// storage the firmware should name, unavailable the /diag steps the machine lacks.
func runE2E(t *testing.T, board, source string, cycles int, machine func(kernel, image string) qemu.Config, unavailable ...string) {
	requireQEMU(t)
	image, demoGGUF := e2eCard(t)
	gguf, long := ggufDemo, longDemo
	gguf.hosted, long.hosted = demoGGUF, demoGGUF
	kernel := build(t, board, "./cmd/firmware")
	start := time.Now()
	m, err := qemu.Start(machine(kernel, image))
	if err != nil {
		t.Fatal(err)
	}
	logOnFailure(t, m)
	u := &user{t: t, m: m, source: source}

	numbers, free0, screen := u.menu()
	t.Logf("boot to menu: %v (not asserted)", time.Since(start).Round(time.Millisecond))
	if len(numbers) != 4 || numbers[gptDemo.name] == "" || numbers[llamaDemo.name] == "" || numbers[gguf.name] == "" || numbers[long.name] == "" {
		t.Fatalf("menu lists %v; want %s, llama-demo, %s and nanochat-demo", numbers, long.name, gguf.name)
	}
	// The corrupt model and the cut GGUF file are not loadable, and the menu
	// says why at once.
	if !regexp.MustCompile(`Not loadable:\r\n +broken +model\.bin: [^\r\n]*truncated\r\n +cut\.gguf +tensor blk\.[^\r\n]* run past the end of the file`).MatchString(screen) {
		t.Errorf("the corrupt model and the cut GGUF file are not listed as not loadable:\n%s", screen)
	}
	if strings.Contains(m.Log(), "notes") {
		t.Errorf("the notes directory (no model.bin) is listed")
	}
	if !strings.Contains(m.Log(), "] diag: type /diag at the model menu to test this board") {
		t.Errorf("the boot log does not mention /diag")
	}
	u.diag(unavailable...)

	// The GPT model: a question, a follow-up that only the kept conversation
	// answers, and a story stopped with Ctrl-C.
	u.chatLikeHost(numbers[gptDemo.name], gptDemo, false, "What is the capital of Japan?", "And Kenya?")
	u.typ("Tell me a story about a cat.\r")
	u.expect(`Once upon`, 5*time.Minute)
	u.typ("\x03")
	u.expect(`\r\n\[stopped\]\r\n---\r\nGeneration: \d+ tokens[^\r]*\r\n> `, time.Minute)
	u.exit(gptDemo)
	numbers, free1, _ := u.menu()

	// The Llama model.
	u.chatLikeHost(numbers[llamaDemo.name], llamaDemo, false, "What is the capital of France?", "And Kenya?")
	u.exit(llamaDemo)
	numbers, free2, _ := u.menu()
	held2 := u.modelBuffers()

	// The GGUF demo: its README's example questions, each a new conversation,
	// then a follow-up in the chat template the file carries.
	u.chatLikeHost(numbers[gguf.name], gguf, true, ggufExamples...)
	u.typ("/reset\r")
	u.expect(`\[new conversation\]\r\n> `, time.Minute)
	u.converse(gguf, false, "What is the capital of Japan?", "And Kenya?")
	u.exit(gguf)
	numbers, free3, _ := u.menu()

	held3 := u.modelBuffers()
	// /exit gives the model's memory back: the kernel's own account of model
	// buffers (exact) is empty at the menu. The memory free for models is
	// logged too; it also moves with the Go heap's size.
	t.Logf("memory free for models at the menus: %d, %d, %d, %d MB; in model buffers after /exit: %s, %s", free0, free1, free2, free3, held2, held3)
	if held2 != "0 KB" || held3 != "0 KB" {
		t.Errorf("model buffers still hold %s and %s after /exit: a model's memory was not returned", held2, held3)
	}

	// Load and leave the three demo models in turn. The kernel's account of
	// model buffers is exact and must be empty; its free memory, as the menu
	// shows it (in MB), also moves with the Go heap, which the first chats grow
	// by a few MB for good (measured 0 to 4 MB: the engines' worker pool, the
	// runtime's own tables) and which returns its free pages after each /exit.
	// So the free memory must not drift from cycle to cycle (a model left
	// behind in each would take 1.9 MB or more), nor be far below boot's.
	const runtimeGrowth = 8 // MB
	cyclesStart := time.Now()
	var free []int
	for i := range cycles {
		d := []demoModel{llamaDemo, gguf, gptDemo}[i%3]
		u.load(numbers[d.name], d)
		u.exit(d)
		var f int
		numbers, f, _ = u.menu()
		free = append(free, f)
	}
	held := u.modelBuffers()
	t.Logf("%d load/exit cycles in %v; memory free for models after each: %v MB; in model buffers: %s", cycles, time.Since(cyclesStart).Round(time.Millisecond), free, held)
	if held != "0 KB" {
		t.Errorf("model buffers hold %s after %d load/exit cycles", held, cycles)
	}
	for i, f := range free {
		if f < free[0]-1 || f < free0-runtimeGrowth {
			t.Errorf("after cycle %d %d MB are free for models, %d MB after the first and %d MB at boot: memory was not returned", i+1, f, free[0], free0)
		}
	}

	// The GGUF demo declaring 131072 positions, picked by the start of its
	// name: a chat of the 4096 positions the menu showed, and its memory
	// returned at /exit.
	u.typ("Context-131\r")
	u.expect(regexp.QuoteMeta(fmt.Sprintf("Loading %s [%s] from the %s...", long.name, long.kind, u.source)), time.Minute)
	u.expect(`\r\nLlama: [^\r\n]*seq_len=4096 [^\r\n]*\r\nContext: 4096 positions \(KV cache 6\.0 MB when full\)\.\r\nReady!`, 3*time.Minute)
	u.expect(`\r\n> `, time.Minute)
	u.typ("/temp 0\r")
	u.expect(`temp = 0\r\n> `, time.Minute)
	u.converse(long, false, "What is the capital of Japan?")
	u.exit(long)
	_, freeLong, _ := u.menu()
	if held := u.modelBuffers(); held != "0 KB" {
		t.Errorf("model buffers hold %s after /exit from %s", held, long.name)
	}
	t.Logf("memory free for models after %s: %d MB (not asserted: its 4096-position session grows the Go heap)", long.name, freeLong)
}
