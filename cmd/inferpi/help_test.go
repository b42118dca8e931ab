package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

// cli runs `inferpi ARGS` as main does, with its output captured.
func cli(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	switch rest := args[1:]; args[0] {
	case "bench":
		err = benchMain(rest, &o, &e)
	case "chat":
		err = chatMain(rest, strings.NewReader(""), &o, &e, nil)
	case "convert":
		err = convertMain(rest, &o, &e)
	case "disk":
		err = diskMain(rest, &o, &e)
	case "inspect":
		err = inspectMain(rest, &o, &e)
	case "run":
		err = runMain(context.Background(), rest, &o, &e)
	case "synth":
		err = synthMain(rest, &o, &e)
	default:
		t.Fatalf("no command %s", args[0])
	}
	return o.String(), e.String(), err
}

// flagCommands are the commands that parse flags, and convert's kinds.
var flagCommands = [][]string{
	{"bench"}, {"chat"}, {"inspect"}, {"run"}, {"synth"},
	{"convert", "hf"}, {"convert", "llama2c"}, {"convert", "model"}, {"convert", "nanochat"},
}

var (
	flagListed = regexp.MustCompile(`(?m)^  -([\w-]+)`)
	flagNamed  = regexp.MustCompile(`(?:^|[\s\[|(])--?([a-z][\w-]*)`)
)

// Every command's --help prints its usage once, lists its flags with readable
// defaults, and succeeds. Its synopsis (the usage lines) names only flags it
// has, and its text names every one.
func TestHelpTexts(t *testing.T) {
	for _, args := range append(flagCommands, []string{"disk"}) {
		name := strings.Join(args, " ")
		out, _, err := cli(t, append(args, "--help")...)
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
		text, list, _ := strings.Cut(out, "\nflags:\n")
		synopsis, _, _ := strings.Cut(text, "\n\n")
		has := map[string]bool{}
		for _, m := range flagListed.FindAllStringSubmatch(list, -1) {
			has[m[1]] = true
			if !regexp.MustCompile(`(?:^|[\s\[|(])--?` + m[1] + `(?:[^\w-]|$)`).MatchString(text) {
				t.Errorf("%s: the usage does not name -%s", name, m[1])
			}
		}
		for _, m := range flagNamed.FindAllStringSubmatch(synopsis, -1) {
			if !has[m[1]] {
				t.Errorf("%s: the synopsis names -%s, which is not a flag:\n%s", name, m[1], synopsis)
			}
		}
	}
}

// A flag error is a usage error: one line on stderr, nothing on stdout, exit
// status 2.
func TestFlagErrors(t *testing.T) {
	for _, args := range flagCommands {
		name := strings.Join(args, " ")
		out, errOut, err := cli(t, append(args, "--no-such-flag")...)
		if e, ok := err.(exitError); !ok || e.code != 2 {
			t.Errorf("%s --no-such-flag: %v, want exit status 2", name, err)
		}
		if out != "" || !strings.HasPrefix(errOut, "inferpi "+name+": flag provided but not defined: -no-such-flag\n") {
			t.Errorf("%s --no-such-flag: stdout %q, stderr %q", name, out, errOut)
		}
	}
}
