package console

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine"
)

// The command line's words (Check) and the console's (Parse) name the same
// bounds, and accept the same values.
func TestRanges(t *testing.T) {
	for _, c := range []struct {
		r          Range
		v          string
		check, msg string // "" when accepted
	}{
		{TempRange, "0.7", "", ""},
		{TempRange, "-1", "must be from 0 to 100", `"-1" is not a number from 0 to 100`},
		{TempRange, "NaN", "must be from 0 to 100", `"NaN" is not a number from 0 to 100`},
		{TopPRange, "2", "must be from 0 to 1", `"2" is not a number from 0 to 1`},
		{PenaltyRange, "11", "must be from 0 to 10", `"11" is not a number from 0 to 10`},
		{CountRange, "-1", "must be >= 0", `"-1" is not a whole number >= 0`},
		{CountRange, "1.5", "must be a whole number >= 0", `"1.5" is not a whole number >= 0`},
		{CountRange, "4096", "", ""},
		{Range{Lo: 1, Hi: 2, Whole: true}, "3", "must be from 1 to 2", `"3" is not a whole number from 1 to 2`},
	} {
		f, _ := parseLoose(c.v)
		err := c.r.Check(f)
		if (err == nil) != (c.check == "") || err != nil && err.Error() != c.check {
			t.Errorf("%v.Check(%s) = %v, want %q", c.r, c.v, err, c.check)
		}
		_, err = c.r.Parse(c.v)
		if (err == nil) != (c.msg == "") || err != nil && err.Error() != c.msg {
			t.Errorf("%v.Parse(%s) = %v, want %q", c.r, c.v, err, c.msg)
		}
	}
}

func parseLoose(v string) (float64, error) {
	if v == "NaN" {
		return math.NaN(), nil
	}
	return strconv.ParseFloat(v, 64)
}

// A random seed (0 or -1) is replaced by the one picked, which /settings shows;
// a seed given is kept.
func TestSeeds(t *testing.T) {
	f := &fakeSession{answer: "ok"}
	out := run(t, f, "/settings", "/seed -1", "/seed 7", "/seed x")
	if f.opts.Sampling.Seed != 7 {
		t.Fatalf("seed %d", f.opts.Sampling.Seed)
	}
	if strings.Contains(out, "  seed     0\n") || !strings.Contains(out, "  seed     ") {
		t.Errorf("/settings shows no seed picked:\n%s", out)
	}
	if strings.Contains(out, "seed = 0\n") || strings.Contains(out, "seed = 18446744073709551615\n") || !strings.Contains(out, "seed = 7\n") {
		t.Errorf("/seed -1 did not pick a seed:\n%s", out)
	}
	if !strings.Contains(out, `/seed: "x" is not a whole number >= 0, or -1 (0 or -1 picks one at random)`) {
		t.Errorf("no refusal of /seed x:\n%s", out)
	}
	for _, v := range []string{"0", "-1"} {
		if n, err := ParseSeed(v); err != nil || n == 0 {
			t.Errorf("ParseSeed(%s) = %d, %v", v, n, err)
		}
	}
}

// A message that does not fit: /reset is offered only when a new conversation
// would take it.
func TestMessageTooLong(t *testing.T) {
	for _, c := range []struct {
		used, prompt int
		want         string
	}{
		{0, 600, "[message too long: it is 600 tokens and the context holds 512; the conversation goes on without it]\n"},
		{300, 600, "[message too long: it is 600 tokens and the context holds 512; the conversation goes on without it]\n"},
		{300, 300, "[context full: this conversation fills all 512 positions of the context; type /reset to start a new one]\n"},
	} {
		f := &fakeSession{full: true, used: c.used, promptLen: c.prompt}
		out := run(t, f, "a long message")
		if !strings.Contains(out, c.want) || strings.Contains(out, "/reset") != strings.Contains(c.want, "/reset") {
			t.Errorf("used %d, prompt %d: %q, want %q", c.used, c.prompt, out, c.want)
		}
	}
	// Options.Context below the model's is the context the messages name.
	f := &fakeSession{full: true, promptLen: 100, opts: engine.Options{Context: 64}}
	if out := run(t, f, "hello"); !strings.Contains(out, "it is 100 tokens and the context holds 64;") || !strings.Contains(out, "context 64 tokens") {
		t.Errorf("Options.Context 64: %q", out)
	}
}

// A line editor that shows the prompt gets it, and the console prints none.
func TestPrompter(t *testing.T) {
	p := &prompter{Lines: NewLines(strings.NewReader("/exit\n"))}
	var out strings.Builder
	c := &Console{Session: &fakeSession{}, In: p, Out: &out}
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	if p.prompt != Prompt || strings.Contains(out.String(), Prompt) {
		t.Errorf("prompt %q, output %q", p.prompt, out.String())
	}
}

type prompter struct {
	*Lines
	prompt string
}

func (p *prompter) SetPrompt(s string) { p.prompt = s }
