package qemu_test

// The end-to-end test of the firmware as a product (make e2e): it boots the real
// firmware (cmd/firmware) in QEMU with a disk holding both demo models and a
// corrupt one (an SD card on raspi4b, a USB stick on virt), and drives the UART like a person: waits for the menu, picks the
// GPT model, chats (a question and a follow-up that needs the conversation's KV
// cache), stops a reply with Ctrl-C, /exit, picks the Llama model, chats, /exit,
// picks the corrupt model and sees the error and the menu again. Replies must be
// exactly what the engine prints hosted, in this test process, for the same model
// and turns (greedy). Boot-to-menu time, load speed and tokens/s are logged, not
// asserted: they are emulation speeds.

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

// e2eCard writes the SD image: the two demo models, a GPT model whose model.bin
// lost its second half, and a directory that is not a model.
func e2eCard(t *testing.T) string {
	t.Helper()
	imagetest.NeedTools(t, sdimage.Tools...)
	var files []sdimage.File
	for _, dir := range []string{"nanochat-demo", "llama-demo"} {
		f, err := sdimage.ModelDir("../../models/"+dir, dir)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f...)
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
	img := filepath.Join(t.TempDir(), "sd.img")
	if err := sdimage.Build(img, files, sdimage.Options{}); err != nil {
		t.Fatal(err)
	}
	return img
}

// hostedTurns runs the turns through the engine in this process, greedy, as the
// firmware does after /temp 0: the replies the firmware must print.
func hostedTurns(t *testing.T, dir string, inputs ...string) []string {
	t.Helper()
	m, err := modeldir.Open("../../models/"+dir, modeldir.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	opts := app.DefaultOptions
	opts.Sampling.Temperature = 0
	s, err := m.NewSession(opts)
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
	menuLine  = regexp.MustCompile(`(?m)^  (\d+)\. (\S+) +\[(\w+)\] +([\d.]+ [KM]B)\r$`)
	loadTotal = regexp.MustCompile(`model\.bin: ([\d.]+) MB in (\d+) ms`)
	genStats  = regexp.MustCompile(`Generation: (\d+) tokens in (\d+) ms \(([\d.]+) tokens/sec\)`)
)

var freeLine = regexp.MustCompile(`Memory for models: (\d+) MB free\.`)

// menu waits for the model menu and returns each model's number by directory
// and the memory it says is free for models (MB).
func (u *user) menu() (numbers map[string]string, freeMB int) {
	u.t.Helper()
	screen := u.expect(`Select model \(1-\d\): `, 2*time.Minute)
	screen = screen[strings.LastIndex(screen, "Available models:"):]
	numbers = map[string]string{}
	for _, m := range menuLine.FindAllStringSubmatch(screen, -1) {
		numbers[m[2]] = m[1]
	}
	if m := freeLine.FindStringSubmatch(screen); m != nil {
		freeMB, _ = strconv.Atoi(m[1])
	} else {
		u.t.Errorf("the menu does not say how much memory is free:\n%s", screen)
	}
	return numbers, freeMB
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

// load picks a model and waits for the chat prompt; it returns the load speed.
func (u *user) load(number, dir, engine string) (mbPerSec float64) {
	u.t.Helper()
	u.typ(number + "\r")
	u.expect(regexp.QuoteMeta(fmt.Sprintf("Loading %s [%s] from the %s...", dir, engine, u.source)), time.Minute)
	screen := u.expect(`Ready! Type your prompt and press ENTER\.\r\n`, 3*time.Minute)
	if !strings.Contains(screen, "\r\n"+engine+": ") {
		u.t.Errorf("no %s config line while loading:\n%s", engine, screen)
	}
	u.expect(`\r\n> `, time.Minute)
	if m := loadTotal.FindStringSubmatch(screen); m != nil {
		mb, _ := strconv.ParseFloat(m[1], 64)
		ms, _ := strconv.ParseFloat(m[2], 64)
		if ms > 0 {
			mbPerSec = mb / ms * 1000
		}
	} else {
		u.t.Errorf("no model.bin totals while loading:\n%s", screen)
	}
	u.typ("/temp 0\r")
	u.expect(`temp = 0\r\n> `, time.Minute)
	return mbPerSec
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

// chatLikeHost loads model dir (menu number) and has a conversation of turns with
// it, each reply the same as the hosted engine's for the same turns.
func (u *user) chatLikeHost(number, dir, engine string, turns ...string) {
	u.t.Helper()
	want := hostedTurns(u.t, dir, turns...)
	speed := u.load(number, dir, engine)
	u.t.Logf("%s load: %.1f MB/s (not asserted)", engine, speed)
	for i, q := range turns {
		got, tps := u.say(q)
		u.t.Logf("%s turn %d: %q, %.1f tokens/s (not asserted)", engine, i+1, got, tps)
		if got != want[i] {
			u.t.Errorf("%s turn %d (%q): firmware replied %q, the hosted engine %q", engine, i+1, q, got, want[i])
		}
	}
}

var diagSummary = regexp.MustCompile(`diag: (\d+) passed, (\d+) failed, (\d+) not available here`)

// diag types /diag at the menu and checks the board diagnostic: every step
// passes except the ones named, which QEMU lacks; nothing fails. The
// transcript is logged (README "A diagnostic for the first boot" shows one).
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

// TestE2ERaspi4b runs the firmware on QEMU raspi4b with the models on the SD card.
// QEMU raspi4b models no PCIe: /diag reports USB and PCIe as not available.
func TestE2ERaspi4b(t *testing.T) {
	runE2E(t, "rpi4", "SD card", func(kernel, image string) qemu.Config {
		return qemu.Config{Board: "rpi4", Kernel: kernel, SD: image}
	}, "usb", "pcie")
}

// TestE2EVirt runs the firmware on QEMU virt with the models on a USB stick
// behind qemu-xhci: the USB path, tried before the SD card. QEMU virt has no
// VideoCore, SD controller or BCM2711 root complex.
func TestE2EVirt(t *testing.T) {
	runE2E(t, "virt", "USB", func(kernel, image string) qemu.Config {
		return qemu.Config{Board: "virt", Kernel: kernel, USB: image}
	}, "clocks", "sd", "pcie")
}

// runE2E boots the firmware built for board with the test's disk image attached
// by machine (the USB variant on QEMU virt passes the image as Config.USB) and
// goes through the whole flow; source is the storage the firmware should name,
// unavailable the /diag steps the machine lacks.
func runE2E(t *testing.T, board, source string, machine func(kernel, image string) qemu.Config, unavailable ...string) {
	requireQEMU(t)
	image := e2eCard(t)
	kernel := build(t, board, "./cmd/firmware")
	start := time.Now()
	m, err := qemu.Start(machine(kernel, image))
	if err != nil {
		t.Fatal(err)
	}
	logOnFailure(t, m)
	u := &user{t: t, m: m, source: source}

	numbers, free0 := u.menu()
	t.Logf("boot to menu: %v (not asserted)", time.Since(start).Round(time.Millisecond))
	if len(numbers) != 3 || numbers["nanochat-demo"] == "" || numbers["llama-demo"] == "" || numbers["broken"] == "" {
		t.Fatalf("menu lists %v; want broken, llama-demo and nanochat-demo", numbers)
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
	u.chatLikeHost(numbers["nanochat-demo"], "nanochat-demo", "GPT", "What is the capital of Japan?", "And Kenya?")
	u.typ("Tell me a story about a cat.\r")
	u.expect(`Once upon`, 5*time.Minute)
	u.typ("\x03")
	u.expect(`\r\n\[stopped\]\r\n---\r\nGeneration: \d+ tokens[^\r]*\r\n> `, time.Minute)
	u.typ("/exit\r")
	u.expect(`Unloaded nanochat-demo: 5\.3 MB of memory returned\.\r\n`, time.Minute)
	u.expect(`storage: `+source+`: starting`, time.Minute) // the storage is started again
	numbers, free1 := u.menu()

	// The Llama model.
	u.chatLikeHost(numbers["llama-demo"], "llama-demo", "Llama", "What is the capital of France?", "And Kenya?")
	u.typ("/exit\r")
	u.expect(`Unloaded llama-demo: 7\.0 MB of memory returned\.\r\n`, time.Minute)
	numbers, free2 := u.menu()
	held2 := u.modelBuffers()

	// The corrupt model: a clear error naming the file, and the menu again.
	u.typ(numbers["broken"] + "\r")
	u.expect(`Could not load broken: broken: model\.bin: [^\r\n]*truncated\r\nBack to the model menu\.\r\n`, 2*time.Minute)
	numbers, free3 := u.menu()
	held3 := u.modelBuffers()
	if len(numbers) != 3 {
		t.Errorf("menu after the error lists %v", numbers)
	}
	// /exit and a failed load give the model's memory back: the kernel's own
	// account of model buffers (exact) is empty at the menu. The memory free for
	// models is logged too; it also moves with the Go heap's size.
	t.Logf("memory free for models at the menus: %d, %d, %d, %d MB; in model buffers after /exit: %s, after the failed load: %s", free0, free1, free2, free3, held2, held3)
	if held2 != "0 KB" || held3 != "0 KB" {
		t.Errorf("model buffers still hold %s after /exit and %s after a failed load: a model's memory was not returned", held2, held3)
	}
}
