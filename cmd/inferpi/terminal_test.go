package main

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// The line editor as a user types into it: backspace, Ctrl-U, arrow keys (not
// part of the line), history with up, Ctrl-C dropping the line being typed (and
// keeping it out of the history), Ctrl-D ending the input.
func TestLineEditor(t *testing.T) {
	const (
		up, left = "\x1b[A", "\x1b[D"
		ctrlU    = "\x15"
	)
	typed := "helo\x7flo\r" + // backspace
		"junk" + ctrlU + "abc" + left + "X\r" + // Ctrl-U, a left arrow: "abXc"
		"half a line\x03" + // Ctrl-C: dropped
		up + "\r" + // the line before: "abXc"
		up + up + up + "\r" + // three back (the recalled line counts): "hello"
		"\x04" // Ctrl-D
	var out strings.Builder
	l := newLineEditor(strings.NewReader(typed), &out)
	l.SetPrompt("> ")
	var lines []string
	for {
		line, err := l.ReadLine()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	want := []string{"hello", "abXc", "abXc", "hello"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Fatalf("lines %q, want %q (output %q)", lines, want, out.String())
	}
	if !strings.HasPrefix(out.String(), "> ") {
		t.Errorf("no prompt: %q", out.String())
	}
}
