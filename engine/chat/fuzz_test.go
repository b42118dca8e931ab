package chat

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// conversation reads fuzz input as messages: fields separated by NUL bytes,
// alternately role and content.
func conversation(s string) []Message {
	f := strings.Split(s, "\x00")
	msgs := make([]Message, 0, len(f)/2)
	for i := 0; i+1 < len(f); i += 2 {
		msgs = append(msgs, Message{f[i], f[i+1]})
	}
	return msgs
}

// FuzzTemplates: Detect never panics and agrees with the name it returns;
// Render, Fed and Continue never panic on any template, and Continue's answer
// holds: the text extends Fed to the full rendering, or At is where they part.
func FuzzTemplates(f *testing.F) {
	files, _ := filepath.Glob("testdata/templates/*.jinja")
	for _, name := range files {
		text, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(text), "system\x00Be brief.\x00user\x00Hi!\x00assistant\x00 Hello.\n\x00user\x002+2?", 2, true)
	}
	f.Add("", "user\x00Hello!\x00assistant\x00<think>\n</think>Hi.\x00user\x00Bye!", 2, true)
	f.Add("[INST] <<SYS>>", "system\x00 s \x00assistant\x00a\x00system\x00t", 1, false)
	f.Add("gemma", "\x00\x00model\x00x\x00assistant\x00", 0, true)
	f.Fuzz(func(t *testing.T, text, conv string, split int, addAss bool) {
		tmpl, ok := Detect(text)
		if ok {
			if again, ok := Detect(tmpl.Name()); !ok || again.Name() != tmpl.Name() {
				t.Fatalf("Detect(%q) = %s, but Detect(%q) = %s", text, tmpl, tmpl.Name(), again)
			}
		}
		msgs := conversation(conv)
		split = max(0, min(split, len(msgs)))
		prev, next := msgs[:split:split], msgs[split:]
		for _, name := range append(Names(), tmpl.Name()) {
			tm, _ := ByName(name)
			if name == tmpl.Name() {
				tm = tmpl
			}
			for _, noThink := range []bool{false, true} {
				tm.NoThink = noThink
				full := tm.Render(msgs, addAss)
				if !strings.HasPrefix(tm.Render(msgs, true), tm.Render(msgs, false)) {
					t.Fatalf("%s: the generation prompt is not an ending", name)
				}
				fed := tm.Fed(prev)
				cont, err := tm.Continue(prev, next, addAss)
				var re *RerenderError
				switch {
				case err == nil:
					if fed+cont != full {
						t.Fatalf("%s: %q + %q != %q", name, fed, cont, full)
					}
				case errors.As(err, &re):
					if re.At >= len(fed) || fed[:re.At] != full[:re.At] || re.At < len(full) && fed[re.At] == full[re.At] {
						t.Fatalf("%s: At %d for %q vs %q", name, re.At, fed, full)
					}
				default:
					t.Fatalf("%s: %v", name, err)
				}
			}
		}
	})
}

// FuzzThinkFilter: the text shown does not depend on how the reply is split into
// pieces, and it is the reply with at most a leading part hidden.
func FuzzThinkFilter(f *testing.F) {
	for _, c := range thinkCases {
		f.Add(c.in, []byte{1, 3, 2})
	}
	f.Add("<think>\n"+strings.Repeat("x", 40)+"\n</think>\n\nok", []byte{7, 1, 9, 30})
	f.Fuzz(func(t *testing.T, reply string, cuts []byte) {
		var whole ThinkFilter
		want := whole.Next(reply) + whole.Flush()
		if !strings.HasSuffix(reply, want) {
			t.Fatalf("%q shown as %q", reply, want)
		}
		var split ThinkFilter
		got, rest := "", reply
		for _, c := range cuts {
			n := min(int(c), len(rest))
			got += split.Next(rest[:n])
			rest = rest[n:]
		}
		got += split.Next(rest) + split.Flush()
		if got != want {
			t.Fatalf("%q cut at %v: %q, whole: %q", reply, cuts, got, want)
		}
	})
}
