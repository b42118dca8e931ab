package main

import (
	"strings"
	"testing"
)

// Every command's --help prints its usage once, lists its flags with readable
// defaults, and succeeds.
func TestHelpTexts(t *testing.T) {
	for _, args := range [][]string{
		{"chat", "--help"}, {"run", "-h"}, {"inspect", "--help"}, {"bench", "--help"}, {"synth", "--help"},
		{"disk", "--help"}, {"convert", "llama2c", "--help"}, {"convert", "nanochat", "--help"}, {"convert", "model", "--help"},
		{"convert", "hf", "--help"},
	} {
		out, _, err := runCLI(t, args...)
		name := strings.Join(args, " ")
		if err != nil && err != errHelp {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if n := strings.Count(out, "usage:"); n != 1 {
			t.Errorf("%s: usage printed %d times:\n%s", name, n, out)
		}
		if strings.Contains(out, "flags:") && !strings.Contains(out, "  -") {
			t.Errorf("%s: an empty flag list:\n%s", name, out)
		}
		if strings.Contains(out, "0.8999") || strings.Contains(out, "00000") {
			t.Errorf("%s: a default shows float rounding:\n%s", name, out)
		}
	}
}
