package chat

import (
	"os"
	"strings"
	"testing"
)

// NoThink adds what Qwen3's templates add after the generation prompt with
// enable_thinking=false, on both the fixture's Qwen3-style template and Qwen3's
// own; without it, and without a generation prompt, the text is llama.cpp's.
func TestNoThink(t *testing.T) {
	qwen3, err := os.ReadFile("testdata/templates/Qwen3-0.6B.jinja")
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"fixture": fixtureTemplate(t, "qwen3-bpe"), "Qwen3-0.6B": string(qwen3)} {
		tmpl, _ := Detect(text)
		llama := tmpl.Render(fixtureConversation, true)
		tmpl.NoThink = true
		if got := tmpl.Render(fixtureConversation, true); got != llama+"<think>\n\n</think>\n\n" {
			t.Errorf("%s: %q", name, got)
		}
		if got := tmpl.Render(fixtureConversation, false); got != tmpl.Render(fixtureConversation, true)[:len(got)] ||
			strings.Contains(got, "<think>") {
			t.Errorf("%s without the generation prompt: %q", name, got)
		}
	}
	// Only a template with the switch gets the block.
	qwen25, _ := Detect(fixtureTemplate(t, "qwen2-bpe"))
	qwen25.NoThink = true
	if got := qwen25.Render(fixtureConversation, true); strings.Contains(got, "<think>") {
		t.Errorf("Qwen2.5: %q", got)
	}
}

// A reply generated after the empty think block keeps the block (Reply), so turns
// keep appending when /think is switched on and off between them.
func TestThinkTurns(t *testing.T) {
	tmpl, _ := Detect(fixtureTemplate(t, "qwen3-bpe"))
	var history []Message
	var fed strings.Builder
	for i, turn := range []struct {
		noThink bool
		reply   string
	}{
		{true, "4."},
		{false, "<think>\n3 times 3.\n</think>\n\n9."},
		{true, "Bye."},
	} {
		tmpl.NoThink = turn.noThink
		next := []Message{{"user", "question"}}
		text, err := tmpl.Continue(history, next, true)
		if err != nil {
			t.Fatalf("turn %d: %v", i, err)
		}
		if want := "<|im_start|>assistant\n<think>\n\n</think>\n\n"; turn.noThink != strings.HasSuffix(text, want) {
			t.Errorf("turn %d prompt: %q", i, text)
		}
		fed.WriteString(text + turn.reply)
		history = append(append(history, next...), tmpl.Reply(turn.reply))
	}
	if got := tmpl.Fed(history); got != fed.String() {
		t.Errorf("Fed = %q\nfed   %q", got, fed.String())
	}
}

var thinkCases = []struct{ in, shown string }{
	{"<think>\nreasoning\n</think>\n\nanswer", "answer"},
	{" \n<think>x</think>answer\n\nmore", "answer\n\nmore"},
	{"<think>a</think>\n\n\n  b\n", "  b\n"},
	{"<think>\n\n</think>\n\n", ""},
	{"answer <think>x</think>", "answer <think>x</think>"},
	{"<think>still thinking", ""},
	{"<think>a</thi", ""},
	{"<thin", "<thin"},
	{"<thinks>", "<thinks>"},
	{"  hi", "  hi"},
	{"\n\n", "\n\n"},
	{"", ""},
	{"</think>x", "</think>x"},
	{"<think><think></think>x</think>y", "x</think>y"},
}

func TestThinkFilter(t *testing.T) {
	for _, c := range thinkCases {
		for cut := 0; cut <= len(c.in); cut++ {
			var f ThinkFilter
			got := f.Next(c.in[:cut]) + f.Next(c.in[cut:]) + f.Flush()
			if got != c.shown {
				t.Errorf("%q cut at %d: %q, want %q", c.in, cut, got, c.shown)
			}
		}
		var f ThinkFilter
		got := ""
		for i := range len(c.in) {
			got += f.Next(c.in[i : i+1])
		}
		if got += f.Flush(); got != c.shown {
			t.Errorf("%q byte by byte: %q", c.in, got)
		}
		shown := ThinkFilter{Show: true}
		if got := shown.Next(c.in) + shown.Flush(); got != c.in {
			t.Errorf("%q shown: %q", c.in, got)
		}
	}
}

func TestThinkFilterState(t *testing.T) {
	var f ThinkFilter
	steps := []struct {
		piece, shown string
		thinking     bool
	}{
		{"<think>", "", true},
		{"\nhmm", "", true},
		{"</think>\n", "", false},
		{"\nYes.", "Yes.", false},
	}
	for _, s := range steps {
		if got := f.Next(s.piece); got != s.shown || f.Thinking() != s.thinking {
			t.Errorf("after %q: shown %q thinking %v", s.piece, got, f.Thinking())
		}
	}
	// Flush readies the filter for the next reply.
	if f.Flush() != "" || f.Next("<think>x</think>Next.") != "Next." {
		t.Error("the filter did not start over after Flush")
	}
}
