package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine/kernels"
)

// newcomer runs `inferpi ARGS` as main does, stdin its standard input: what the
// command prints, what main adds for an error, and the exit status.
func newcomer(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	var err error
	rest := args[1:]
	switch args[0] {
	case "run":
		err = runWith(context.Background(), rest, strings.NewReader(stdin), &o, &e)
	case "chat":
		err = chatMain(rest, strings.NewReader(stdin), &o, &e, nil)
	case "inspect":
		err = inspectMain(rest, &o, &e)
	case "bench":
		err = benchMain(rest, &o, &e)
	case "convert":
		err = convertMain(rest, &o, &e)
	case "synth":
		err = synthMain(rest, &o, &e)
	case "version", "--version":
		err = versionMain(rest, &o, &e)
	default:
		unknownCommand(&e, args[0])
		return o.String(), e.String(), 2
	}
	var exit exitError
	switch {
	case err == nil || errors.Is(err, errHelp):
	case errors.As(err, &exit):
		code = exit.code
	default:
		fmt.Fprintf(&e, "inferpi %s: %v\n", args[0], err)
		code = 1
	}
	return o.String(), e.String(), code
}

// badModels writes a model directory for each bad file a newcomer may meet,
// beside the demo's files.
func badModels(t *testing.T) (dir string) {
	t.Helper()
	dir = t.TempDir()
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	llamaTok, gptTok := read(filepath.Join(demoDir, "tokenizer.bin")), read(filepath.Join(nanochatDemo, "tokenizer.bin"))
	// llama2.c export.py --version 2: magic "ak42" as a little-endian uint32,
	// then the version.
	ak42 := binary.LittleEndian.AppendUint32(nil, 0x616b3432)
	ak42 = append(binary.LittleEndian.AppendUint32(ak42, 2), make([]byte, 248)...)
	for name, files := range map[string][2][]byte{
		"gguf-as-model-bin": {read("../../testdata/gguf/trained/llama-demo.Q8_0.gguf"), llamaTok},
		"ak42":              {ak42, llamaTok},
		"empty":             {{}, llamaTok},
		"llama-gpt-tok":     {read(filepath.Join(demoDir, "model.bin")), gptTok},
		"gpt-llama-tok":     {read(filepath.Join(nanochatDemo, "model.bin")), llamaTok},
	} {
		d := filepath.Join(dir, name)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, f := range []string{"model.bin", "tokenizer.bin"} {
			if err := os.WriteFile(filepath.Join(d, f), files[i], 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// A newcomer's session: llama.cpp's and llama2.c's flags on the demo models, a
// prompt longer than the context, each bad file, an unknown command and bad
// flag values. Each message says the problem on its first line, and the exit
// status is 0 for success, 1 for a failure, 2 for bad usage.
func TestNewcomerSession(t *testing.T) {
	t.Cleanup(func() { kernels.SetWorkers(maxThreads()) }) // -t 1 sets them
	bad := badModels(t)
	long := strings.Repeat("word ", 800) // about 800 tokens: more than the demo's 512
	promptFile := filepath.Join(t.TempDir(), "prompt.txt")
	if err := os.WriteFile(promptFile, []byte("Once upon a time\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	longFile := filepath.Join(t.TempDir(), "long.txt")
	if err := os.WriteFile(longFile, []byte(long), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args  []string
		stdin string
		code  int
		first string // the start of standard error's first line ("" for none)
		not   string // what standard error must not say
	}{
		// Flags that work.
		{[]string{"run", "-m", demoDir, "-p", "Once upon a time", "-n", "4", "-t", "1", "-c", "256", "-s", "42", "--temp", "0.8", "--repeat-penalty", "1.1", "--repeat-last-n", "16"}, "", 0, "---", ""},
		{[]string{"run", demoDir + "/model.bin", "-f", promptFile, "-n", "4"}, "", 0, "---", ""},
		{[]string{"run", demoDir, "-p", "-", "-n", "4"}, "Once upon a time\n", 0, "---", ""},
		{[]string{"--version"}, "", 0, "", ""},

		// A prompt longer than the context, the model's or -c's.
		{[]string{"run", demoDir, "-p", long}, "", 1, "inferpi run: the prompt is too long: 802 tokens, and the context holds 512", ""},
		{[]string{"run", demoDir, "-f", longFile, "-c", "64", "--chat"}, "", 1, "inferpi run: the prompt is too long: 835 tokens, and the context holds 64", ""},

		// Bad files.
		{[]string{"run", bad + "/ak42", "-p", "x"}, "", 1, "inferpi run: " + bad + "/ak42/model.bin is a llama2.c export of version 2 (export.py --version 2), which InferPi does not read: export it again with --version 0", ""},
		{[]string{"run", bad + "/empty", "-p", "x"}, "", 1, "inferpi run: " + bad + "/empty/model.bin is empty (0 bytes): copy the model again", ""},
		{[]string{"run", bad + "/llama-gpt-tok", "-p", "x"}, "", 1, "inferpi run: " + bad + "/llama-gpt-tok/tokenizer.bin is a GPT (nanochat) tokenizer, and model.bin a Llama model: put the tokenizer.bin that came with the model beside it", ""},
		{[]string{"run", bad + "/gpt-llama-tok", "-p", "x"}, "", 1, "inferpi run: " + bad + "/gpt-llama-tok/tokenizer.bin is not a GPT (nanochat) tokenizer", ""},
		{[]string{"run", bad + "/gguf-as-model-bin", "-p", "x", "-n", "2"}, "", 0, "---", ""}, // a GGUF file loads under any name
		{[]string{"convert", "llama2c", "--dtype", "fp16", bad + "/gguf-as-model-bin/model.bin", t.TempDir()}, "", 1, "inferpi convert: " + bad + "/gguf-as-model-bin/model.bin: a GGUF file, not a llama2.c one: 'inferpi convert model' quantizes GGUF files", ""},
		{[]string{"convert", "model", "--dtype", "q8_0", bad + "/ak42", t.TempDir()}, "", 1, "inferpi convert: " + bad + "/ak42/model.bin is a llama2.c export of version 2", "model.bin: model.bin"},
		{[]string{"inspect", bad + "/empty"}, "", 1, "inferpi inspect: " + bad + "/empty/model.bin is empty (0 bytes)", ""},
		{[]string{"run", demoDir, "-p", "x", "--template", "bogus"}, "", 1, `inferpi run: --template "bogus" is not one the Llama engine knows (alpaca, none)`, "inferpi.json"},
		{[]string{"chat", nanochatDemo, "--template", "bogus"}, "", 1, `inferpi chat: --template "bogus" does not exist for GPT (nanochat) models: use "nanochat" or "none"`, "inferpi.json"},

		// Unknown commands, bad flags and values: the problem, then where help is.
		{[]string{"bogus"}, "", 2, `inferpi: unknown command "bogus"`, "usage"},
		{[]string{"-m"}, "", 2, "inferpi: flag -m before a command", ""},
		{[]string{"run", demoDir, "-p", "x", "--no-such-flag"}, "", 2, "inferpi run: flag provided but not defined: -no-such-flag", ""},
		{[]string{"run", demoDir}, "", 2, "inferpi run: -p TEXT is required, or -f FILE", ""},
		{[]string{"run", demoDir, "-p", "x", "-f", promptFile}, "", 2, "inferpi run: -p and -f both give the prompt", ""},
		{[]string{"run", demoDir, "-p", "x", "--temp", "-1"}, "", 2, "inferpi run: --temp -1: must be from 0 to 100", ""},
		{[]string{"run", demoDir, "-p", "x", "--temp", "hot"}, "", 2, `inferpi run: --temp: "hot" is not a number from 0 to 100`, ""},
		{[]string{"run", demoDir, "-p", "x", "--top-p", "1.5"}, "", 2, "inferpi run: --top-p 1.5: must be from 0 to 1", ""},
		{[]string{"run", demoDir, "-p", "x", "-n", "-1"}, "", 2, "inferpi run: -n -1: must be >= 0", ""},
		{[]string{"chat", demoDir, "--repeat-penalty", "11"}, "", 2, "inferpi chat: --repeat-penalty 11: must be from 0 to 10", ""},
		{[]string{"chat", demoDir, "-s", "x"}, "", 2, `inferpi chat: -s: "x" is not a whole number >= 0, or -1`, ""},
		{[]string{"run", demoDir, "-p", "x", "-c", "100000"}, "", 2, "inferpi run: -c 100000: the model's context holds at most 512 tokens", ""},
		{[]string{"run", demoDir, "-p", "x", "-t", "100000"}, "", 2, "inferpi run: -t 100000: want 1 to ", ""},
		{[]string{"bench", demoDir, "--threads", "100000"}, "", 1, "inferpi bench: --threads 100000: want 1 to ", ""},
		{[]string{"bench", demoDir, "--reps", "0"}, "", 1, "inferpi bench: --reps 0: must be at least 1", ""},
		{[]string{"synth", "--preset", "nope", "--output-dir", t.TempDir()}, "", 1, `inferpi synth: no preset "nope"`, "synth: synth:"},
		{[]string{"synth", "--preset", "llama-tiny"}, "", 2, "inferpi synth: --preset NAME and --output-dir DIR are required", ""},
	} {
		name := strings.Join(c.args, " ")
		if len(name) > 80 {
			name = name[:80] + "..."
		}
		out, errOut, code := newcomer(t, c.stdin, c.args...)
		first, _, _ := strings.Cut(errOut, "\n")
		if code != c.code || !strings.HasPrefix(first, c.first) || c.not != "" && strings.Contains(errOut, c.not) {
			t.Errorf("inferpi %s: exit status %d, stderr:\n%s\nwant status %d, first line %q (and no %q)", name, code, errOut, c.code, c.first, c.not)
		}
		if code != 0 && out != "" {
			t.Errorf("inferpi %s: failed, and printed %q", name, out)
		}
	}
}

// The seed used is in run --json, a random one (-1, 0) too: given again, it
// gives the same reply. -c sets the context the session holds.
func TestNewcomerSeedAndContext(t *testing.T) {
	args := []string{"run", demoDir, "-p", "Once upon a time", "-n", "12", "--temp", "1", "-c", "128"}
	a := runJSON(t, append(args, "--seed", "-1")...)
	if a.Seed == 0 || a.Context != 128 {
		t.Fatalf("seed %d, context %d", a.Seed, a.Context)
	}
	b := runJSON(t, append(args, "-s", fmt.Sprint(a.Seed))...)
	if b.Seed != a.Seed || !slices.Equal(a.IDs, b.IDs) {
		t.Fatalf("seed %d: %v, then %v", a.Seed, a.IDs, b.IDs)
	}
	if c := runJSON(t, "run", demoDir, "-p", "x", "-n", "1"); c.Seed == 0 || c.Context != 512 {
		t.Fatalf("default seed %d, context %d", c.Seed, c.Context)
	}
}

// In chat, a message longer than the context is refused and the conversation
// goes on; /reset is not offered, as it would not help.
func TestNewcomerChatTooLong(t *testing.T) {
	out, errOut, code := newcomer(t, "What is the capital of France?\n"+strings.Repeat("word ", 800)+"\n/settings\n", "chat", demoDir)
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, errOut)
	}
	for _, want := range []string{
		"> [message too long: it is 815 tokens and the context holds 512; the conversation goes on without it]\n",
		"  context  55 of 512 tokens used\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("chat output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "/reset") {
		t.Errorf("chat offers /reset:\n%s", out)
	}
}

// inspect --json: engine.Info's fields under snake_case keys, and the files.
func TestInspectJSON(t *testing.T) {
	out, errOut, code := newcomer(t, "", "inspect", "--json", demoDir)
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, errOut)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	want := map[string]any{"engine": "Llama", "params": 1820352.0, "encoding": "fp32", "context_size": 512.0, "vocab_size": 1024.0, "template": "alpaca", "weight_bytes_per_token": 7274496.0}
	for k, v := range want {
		if r[k] != v {
			t.Errorf("%s = %v, want %v", k, r[k], v)
		}
	}
	files, _ := r["files"].([]any)
	if len(files) != 2 || len(r["details"].([]any)) == 0 {
		t.Errorf("files %v, details %v", r["files"], r["details"])
	}
}

// --version prints a version even without a version control stamp (tests).
func TestVersion(t *testing.T) {
	out, _, code := newcomer(t, "", "--version")
	if code != 0 || !strings.HasPrefix(out, "inferpi devel (go") {
		t.Fatalf("%d %q", code, out)
	}
}

// FuzzSamplingFlags: any value of any sampling flag is taken within the ranges
// the console takes, or refused with one line naming the flag, never a panic.
func FuzzSamplingFlags(f *testing.F) {
	for _, s := range [][2]string{{"temp", "0.7"}, {"temp", "-1"}, {"top-p", "NaN"}, {"n", "1e3"}, {"seed", "-1"},
		{"s", "18446744073709551616"}, {"repeat-penalty", "+Inf"}, {"c", "-0"}, {"t", "0x10"}, {"top-k", "９"}} {
		f.Add(s[0], s[1])
	}
	names := map[string]bool{}
	for n := range flagRanges {
		names[n] = true
	}
	for _, n := range []string{"seed", "s", "t", "threads"} {
		names[n] = true
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		if !names[name] {
			return
		}
		var sf samplingFlags
		var errOut bytes.Buffer
		fs := newFlags("run", runUsage, &bytes.Buffer{})
		addSamplingFlags(fs, &sf, 256)
		_, err := parseArgs(fs, []string{dashed(name), value}, &errOut)
		if err != nil {
			if lines := strings.Split(strings.TrimSuffix(errOut.String(), "\n"), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "inferpi run: -") {
				t.Fatalf("-%s %q: %q", name, value, errOut.String())
			}
			return
		}
		for n, r := range flagRanges {
			if v, _ := strconv.ParseFloat(fs.Lookup(n).Value.String(), 64); r.Check(v) != nil {
				t.Fatalf("-%s %q: --%s is %v", name, value, n, v)
			}
		}
	})
}
