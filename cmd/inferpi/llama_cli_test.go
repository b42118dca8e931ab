package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const (
	demoDir = "../../models/llama-demo"
	tinyDir = "../../testdata/llama-tiny"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	if len(args) > 0 && args[0] == "run" {
		args = args[1:]
	}
	err = runMain(context.Background(), args, &o, &e)
	return o.String(), e.String(), err
}

func runJSON(t *testing.T, args ...string) runResult {
	t.Helper()
	out, errOut, err := runCLI(t, append(args, "--json")...)
	if err != nil {
		t.Fatalf("run %v: %v\n%s", args, err, errOut)
	}
	var r runResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("run --json printed %q: %v", out, err)
	}
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("run --json printed more than one line: %q", out)
	}
	return r
}

// The demo's first example, through the CLI: chat template, greedy.
func TestRunChatJSONOnDemo(t *testing.T) {
	r := runJSON(t, "run", demoDir, "-p", "What is the capital of France?", "--chat", "--temp", "0")
	wantReply := []int{346, 352, 301, 475, 970, 351, 390, 287, 458, 966, 265, 965, 979, 2}
	if !slices.Equal(r.IDs, wantReply) || r.Text != "The capital of France is Paris." || r.Stop != "end" {
		t.Fatalf("reply %v %q %s", r.IDs, r.Text, r.Stop)
	}
	if len(r.PromptIDs) != 42 || r.PromptIDs[0] != 1 || r.PromptIDs[1] != 962 || r.Engine != "Llama" || r.Template != "alpaca" || r.Mode != "chat" {
		t.Fatalf("result %+v", r)
	}
	if r.TokensPerSec <= 0 || r.GenMS <= 0 {
		t.Fatalf("no speed: %+v", r)
	}
}

// Completion mode on the fixture: run.c's greedy_0 (prompt "Once upon a time",
// 30 generated tokens).
func TestRunCompletionMatchesRunC(t *testing.T) {
	r := runJSON(t, "run", "-p", "Once upon a time", tinyDir, "-n", "30", "--temp", "0")
	raw, err := os.ReadFile(filepath.Join(tinyDir, "oracle.json"))
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Greedy []struct {
			PromptIDs []int  `json:"prompt_ids"`
			Generated []int  `json:"generated_ids"`
			Stdout    string `json:"stdout_text"`
		} `json:"greedy_cases"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	g := o.Greedy[0]
	if !slices.Equal(r.PromptIDs, g.PromptIDs) || !slices.Equal(r.IDs, g.Generated) || r.Stop != "max_tokens" {
		t.Fatalf("got %v %v %s, want %v %v", r.PromptIDs, r.IDs, r.Stop, g.PromptIDs, g.Generated)
	}
	// Plain output is what run.c prints: the prompt, the generated text, "\n".
	out, errOut, err := runCLI(t, "run", tinyDir, "-p", "Once upon a time", "-n", "30", "--temp", "0")
	if err != nil || out != g.Stdout {
		t.Fatalf("plain output %q (%v), run.c printed %q", out, err, g.Stdout)
	}
	if !strings.Contains(errOut, "Generation: 30 tokens in ") {
		t.Fatalf("stats on stderr: %q", errOut)
	}
}

func TestRunSampledIsSeeded(t *testing.T) {
	a := runJSON(t, "run", demoDir, "-p", "Tell me a story.", "--chat", "--temp", "1", "--top-k", "5", "--seed", "3", "-n", "20")
	b := runJSON(t, "run", demoDir, "-p", "Tell me a story.", "--chat", "--temp", "1", "--top-k", "5", "--seed", "3", "-n", "20")
	if !slices.Equal(a.IDs, b.IDs) || len(a.IDs) == 0 {
		t.Fatalf("same seed, different ids: %v %v", a.IDs, b.IDs)
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", demoDir}, "-p TEXT is required"},
		{[]string{"run", "-p", "x"}, "want one model (a directory or a .gguf file), got 0"},
		{[]string{"run", demoDir, "-p", "x", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"run", demoDir, "-p", "x", "--top-p", "2"}, "--top-p 2: must be from 0 to 1"},
		{[]string{"run", "/nonexistent/dir", "-p", "x"}, "no such file or directory"},
		{[]string{"run", tinyDir + "/oracle.json", "-p", "x"}, "not a directory"},
	} {
		_, errOut, err := runCLI(t, c.args...)
		msg := errOut
		if err != nil {
			msg += err.Error()
		}
		if err == nil || !strings.Contains(msg, c.want) {
			t.Errorf("%v: err %v, stderr %q; want %q", c.args, err, errOut, c.want)
		}
	}
	out, _, err := runCLI(t, "--help")
	if err != errHelp || !strings.Contains(out, "usage: inferpi run MODEL -p TEXT") || !strings.Contains(out, "-top-p") {
		t.Fatalf("help: %v %q", err, out)
	}
}

func TestChatCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	in := strings.NewReader("What is the capital of Japan?\nAnd Kenya?\n/settings\n/exit\n")
	if err := chatMain([]string{demoDir}, in, &out, &errOut, nil); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"Llama model, fp32 weights, 1820352 parameters, context 512 tokens, template alpaca\n",
		"> The capital of Japan is Tokyo.\n---\nGeneration: 14 tokens in ",
		"> The capital of Kenya is Nairobi.\n---\nGeneration: ",
		"mode     chat (template alpaca)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("chat output lacks %q:\n%s", want, s)
		}
	}
	out.Reset()
	if err := chatMain([]string{"--help"}, in, &out, &errOut, nil); err != errHelp || !strings.Contains(out.String(), "usage: inferpi chat MODEL") {
		t.Fatalf("chat --help: %v %q", err, out.String())
	}
}

func TestInspect(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := inspectMain([]string{demoDir}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"engine:                      Llama\n",
		"config:                      dim=192 hidden=512 layers=4 heads=6 kv_heads=3 vocab=1024 seq_len=512 classifier=shared\n",
		"parameters:                  1820352 (1.82 M)\n",
		"weight encoding:             fp32\n",
		"file model.bin:              7346972 bytes\n",
		"file tokenizer.bin:          12680 bytes\n",
		"file inferpi.json:           absent\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestConvertLlama2cFP16(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if err := convertMain([]string{"llama2c", "--fp16", demoDir, dir}, &out, &errOut); err != nil {
		t.Fatalf("%v %s", err, errOut.String())
	}
	st, err := os.Stat(filepath.Join(dir, "model.bin"))
	if err != nil || st.Size() != 28+(7346972-28)/2 {
		t.Fatalf("fp16 model.bin: %v %v", st, err)
	}
	// The converted model keeps the demo's answers.
	r := runJSON(t, "run", dir, "-p", "What is the capital of France?", "--chat", "--temp", "0")
	if r.Text != "The capital of France is Paris." {
		t.Fatalf("fp16 demo answers %q", r.Text)
	}
	out.Reset()
	if err := inspectMain([]string{dir}, &out, &errOut); err != nil || !strings.Contains(out.String(), "weight encoding:             fp16\n") {
		t.Fatalf("inspect fp16: %v\n%s", err, out.String())
	}
	// File to file, and refusing an fp16 input.
	f := filepath.Join(dir, "again.bin")
	errOut.Reset()
	err = convertMain([]string{"llama2c", "--fp16", filepath.Join(dir, "model.bin"), f}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "already fp16") {
		t.Fatalf("converting fp16: %v", err)
	}
	if err := convertMain([]string{"llama2c", demoDir, dir}, &out, &errOut); err == nil {
		t.Fatal("convert without --fp16 succeeded")
	}
	out.Reset()
	if err := convertMain([]string{"--help"}, &out, &errOut); err != nil || !strings.Contains(out.String(), "llama2c") {
		t.Fatalf("convert --help: %v %q", err, out.String())
	}
}

// A model of another shape (untied classifier, 5 query heads per kv head): the
// CLI reproduces the greedy ids of llama2.c's run.c (testdata/llama-untied/README.md).
func TestRunUntiedMatchesRunC(t *testing.T) {
	const dir = "../../testdata/llama-untied"
	raw, err := os.ReadFile(filepath.Join(dir, "runc.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases struct {
		Cases []struct {
			Name      string `json:"name"`
			Prompt    string `json:"prompt"`
			Steps     int    `json:"steps"`
			PromptIDs []int  `json:"prompt_ids"`
			IDs       []int  `json:"generated_ids"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil || len(cases.Cases) == 0 {
		t.Fatalf("runc.json: %v", err)
	}
	for _, c := range cases.Cases {
		// run.c's -n counts positions; -n here counts new tokens (0: no limit).
		n := c.Steps - len(c.PromptIDs) + 1
		if c.Steps == 96 {
			n = 0
		}
		r := runJSON(t, "run", dir, "-p", c.Prompt, "-n", strconv.Itoa(n), "--temp", "0")
		if !slices.Equal(r.PromptIDs, c.PromptIDs) || !slices.Equal(r.IDs, c.IDs) {
			t.Errorf("%s: %v %v\nrun.c: %v %v", c.Name, r.PromptIDs, r.IDs, c.PromptIDs, c.IDs)
		}
	}
}
