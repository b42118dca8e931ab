package console

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inferpi/inferpi/engine"
)

// fakeSession replies with the words of a canned answer, one token each, and
// records what it was asked. With block set it waits for cancellation after the
// first piece (a reply that runs until Ctrl-C).
type fakeSession struct {
	opts   engine.Options
	inputs []string
	resets int
	used   int
	answer string
	block  bool
	full   bool // refuse turns: the context is full
	// promptLen is the length of the prompt a refused turn reports.
	promptLen int
	started   chan struct{}
}

func (f *fakeSession) Turn(ctx context.Context, input string, emit func(string)) (engine.Reply, error) {
	f.inputs = append(f.inputs, input)
	if input == "fail" {
		return engine.Reply{}, errors.New("boom")
	}
	if f.full {
		return engine.Reply{Stop: engine.StopContextFull, PromptIDs: make([]int, f.promptLen)}, nil
	}
	r := engine.Reply{GenTime: 250 * time.Millisecond}
	for i, w := range strings.Fields(f.answer) {
		if i > 0 {
			w = " " + w
		}
		emit(w)
		r.IDs = append(r.IDs, i)
		r.Text += w
		if f.block {
			f.started <- struct{}{}
			<-ctx.Done()
			r.Stop = engine.StopCanceled
			return r, nil
		}
		if f.opts.MaxTokens > 0 && len(r.IDs) == f.opts.MaxTokens {
			r.Stop = engine.StopMaxTokens
			return r, nil
		}
	}
	r.IDs = append(r.IDs, 99) // the stop token
	f.used += len(r.IDs)
	return r, nil
}
func (f *fakeSession) Reset()                   { f.resets++; f.used = 0 }
func (f *fakeSession) Used() int                { return f.used }
func (f *fakeSession) Options() *engine.Options { return &f.opts }

func run(t *testing.T, f *fakeSession, lines ...string) string {
	t.Helper()
	var out strings.Builder
	c := &Console{Session: f, Info: engine.Info{Engine: "Fake", Encoding: "fp32", Params: 42, ContextSize: 512, Template: "alpaca"},
		In: NewLines(strings.NewReader(strings.Join(lines, "\n"))), Out: &out}
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestTurnStreamsReplyAndStats(t *testing.T) {
	f := &fakeSession{answer: "The capital of France is Paris."}
	out := run(t, f, "What is the capital of France?", "/exit", "never read")
	want := "> The capital of France is Paris.\n---\nGeneration: 7 tokens in 250 ms (28.0 tokens/sec)\n> "
	if !strings.Contains(out, want) {
		t.Fatalf("output:\n%s\nwant it to contain:\n%s", out, want)
	}
	if len(f.inputs) != 1 || f.inputs[0] != "What is the capital of France?" {
		t.Fatalf("inputs %q", f.inputs)
	}
	if !strings.HasPrefix(out, "Fake model, fp32 weights, 42 parameters, context 512 tokens, template alpaca\n") {
		t.Fatalf("banner: %q", out)
	}
}

func TestEndOfInputEndsQuietly(t *testing.T) {
	f := &fakeSession{answer: "hi"}
	out := run(t, f, "  ", "hello")
	if len(f.inputs) != 1 || !strings.HasSuffix(out, "> \n") {
		t.Fatalf("inputs %q, output %q", f.inputs, out)
	}
}

func TestSettingsCommands(t *testing.T) {
	f := &fakeSession{answer: "a b c d e"}
	out := run(t, f, "/temp 0.7", "/topp 0.9", "/topk 40", "/seed 42", "/max 2", "/penalty 1.1", "/lastn 64",
		"/temp", "/settings", "/temp -1", "/topp 2", "/topk x", "/max 1 2", "/nope", "go", "/reset", "/help", "/quit")
	o := f.opts
	if o.Sampling != (engine.Sampling{Temperature: 0.7, TopP: 0.9, TopK: 40, Seed: 42, RepeatPenalty: 1.1, RepeatLastN: 64}) || o.MaxTokens != 2 {
		t.Fatalf("options %+v", o)
	}
	for _, want := range []string{
		"temp = 0.7\n", "topp = 0.9\n", "topk = 40\n", "seed = 42\n", "max = 2\n", "penalty = 1.1\n", "lastn = 64\n",
		"  temp     0.7\n", "  mode     chat (template alpaca)\n", "  context  0 of 512 tokens used\n",
		`/temp: "-1" is not a number from 0 to 100`, `/topp: "2" is not a number from 0 to 1`, `/topk: "x" is not a whole number >= 0`,
		"usage: /max [VALUE]", "unknown command /nope; /help lists the commands",
		"> a b\n[stopped at the limit of 2 tokens per reply; see /max]\n---\nGeneration: 2 tokens",
		"[new conversation]", "/reset ", "/temp [V]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if f.resets != 1 {
		t.Errorf("resets %d", f.resets)
	}
}

func TestContextFullAndErrors(t *testing.T) {
	f := &fakeSession{full: true, used: 500}
	out := run(t, f, "hello", "fail")
	if !strings.Contains(out, "[context full: this conversation fills all 512 positions of the context; type /reset to start a new one]") {
		t.Fatalf("no context-full message in %q", out)
	}
	if !strings.Contains(out, "error: boom") {
		t.Fatalf("no error message in %q", out)
	}
}

func TestInterruptStopsReplyNotConsole(t *testing.T) {
	f := &fakeSession{answer: "once upon a time", block: true, started: make(chan struct{})}
	irq := make(chan struct{}, 4)
	irq <- struct{}{} // a Ctrl-C at the prompt must not stop the next reply
	lines := &blockingLines{lines: []string{"tell me a story", "/exit"}, next: make(chan struct{})}
	var out syncBuilder
	c := &Console{Session: f, Info: engine.Info{ContextSize: 8}, In: lines, Out: &out, Interrupt: irq}
	done := make(chan error)
	go func() { done <- c.Run() }()
	lines.next <- struct{}{} // first line
	<-f.started              // the reply is running and waits for Ctrl-C
	irq <- struct{}{}
	lines.next <- struct{}{} // "/exit"
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`> once\n\[stopped\]\n---\nGeneration: 1 tokens in \d+ ms`).MatchString(out.String()) {
		t.Fatalf("output %q", out.String())
	}
}

// blockingLines hands out a line each time next receives, so the test decides
// when the console may go on.
type blockingLines struct {
	lines []string
	next  chan struct{}
}

func (b *blockingLines) ReadLine() (string, error) {
	<-b.next
	l := b.lines[0]
	b.lines = b.lines[1:]
	return l, nil
}

// FuzzCommand: any input line, command or not, leaves the console running without
// a panic and the settings within their documented ranges.
func FuzzCommand(f *testing.F) {
	for _, s := range []string{"/temp 0.7", "/topp", "/seed 18446744073709551615", "/max -1", "/penalty 1e40", "/temp NaN", "/", "/ ", "hello", "/exit now"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		fs := &fakeSession{answer: "ok"}
		var out strings.Builder
		c := &Console{Session: fs, In: NewLines(strings.NewReader(line + "\n")), Out: &out}
		if err := c.Run(); err != nil {
			t.Fatal(err)
		}
		s := fs.opts.Sampling
		if !(s.Temperature >= 0) || !(s.TopP >= 0 && s.TopP <= 1) || !(s.RepeatPenalty >= 0) || s.TopK < 0 || fs.opts.MaxTokens < 0 || s.RepeatPenalty < 0 || s.RepeatLastN < 0 {
			t.Fatalf("%q left settings out of range: %+v", line, fs.opts)
		}
	})
}

func TestSystemAndThink(t *testing.T) {
	f := &fakeSession{answer: "ok"}
	out := run(t, f, "/system  You are terse.  ", "/settings", "/think on", "/think maybe", "/system", "/settings", "/quit")
	for _, want := range []string{
		"[new conversation; system prompt: You are terse.]\n", "  system   You are terse.\n",
		"think = on\n", `/think: "maybe" is not on or off`,
		"[new conversation without a system prompt]\n", "  system   (none)\n", "  think    on\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if f.resets != 2 || f.opts.System != "" || !f.opts.Think {
		t.Errorf("resets %d, options %+v", f.resets, f.opts)
	}
}
