package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/llama"
	"github.com/inferpi/inferpi/engine/quantize"
)

// `inferpi run FILE.gguf -p TEXT --json` is llama.cpp's completion: its prompt ids
// (BOS, then the text) and its greedy continuation (the fixture's greedy_hello).
func TestRunGGUFCompletion(t *testing.T) {
	file := filepath.Join(ggufModels, "llama-spm", "llama-spm.F32.gguf")
	var o struct {
		Greedy []struct {
			Name      string
			PromptIDs []int `json:"prompt_ids"`
			IDs       []int
		}
	}
	b, err := os.ReadFile(filepath.Join(ggufModels, "llama-spm", "oracle", "F32.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	want := o.Greedy[0]
	r := runJSON(t, "run", file, "-p", "Hello world", "-n", "32", "--temp", "0")
	if !slices.Equal(r.PromptIDs, want.PromptIDs) || !slices.Equal(r.IDs, want.IDs) || r.Stop != "max_tokens" || r.Mode != "completion" {
		t.Fatalf("run: prompt %v ids %v stop %s; llama.cpp: %v %v", r.PromptIDs, r.IDs, r.Stop, want.PromptIDs, want.IDs)
	}
	out, _, err := runCLI(t, "run", file, "-p", "Hello world", "-n", "4", "--temp", "0")
	if err != nil || !strings.HasPrefix(out, "Hello world ") {
		t.Fatalf("plain output %q, %v", out, err)
	}
}

func TestInspectGGUF(t *testing.T) {
	var out, errOut bytes.Buffer
	file := filepath.Join(ggufModels, "qwen2-bpe", "qwen2-bpe.Q4_K_M.gguf")
	if err := inspectMain([]string{file}, &out, &errOut); err != nil {
		t.Fatal(err, errOut.String())
	}
	for _, want := range []string{
		"format:                      GGUF v3, architecture qwen2",
		"weight encoding:             Q4_K_M",
		"tensors by type:             Q4_K 162.0 KB (5), Q6_K 157.5 KB (3), F32 5.0 KB (6)",
		"weight bytes per token:      327168",
		"trained context:             32768 tokens (a session holds 4096)",
		"session context:             4096 of 32768 (KV 2.0 MB)",
		"tokenizer:                   byte-level BPE, pre-tokenizer qwen2, 384 tokens",
		"file qwen2-bpe.Q4_K_M.gguf:  343488 bytes",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("inspect lacks %q:\n%s", want, out.String())
		}
	}
}

// A broken GGUF file: one line naming the file and the problem, exit status 1.
func TestRunGGUFErrors(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(ggufModels, "qwen2-bpe", "qwen2-bpe.Q8_0.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "cut.gguf")
	if err := os.WriteFile(bad, good[:len(good)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = runCLI(t, "run", bad, "-p", "hi")
	if err == nil || !strings.HasPrefix(err.Error(), bad+": tensor ") || !strings.Contains(err.Error(), "past the end of the file") {
		t.Fatalf("error %v", err)
	}
}

// `run --chat --json` gives the text after the template: ChatML with the system
// prompt for Qwen2.5's template; Qwen3's with the empty think block that asks it
// to answer at once, unless --think.
func TestRunGGUFChatRendered(t *testing.T) {
	chatml := "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
	for _, c := range []struct {
		file  string
		think bool
		want  string
	}{
		{"qwen2-bpe/qwen2-bpe.Q8_0.gguf", false, chatml},
		{"qwen3-bpe/qwen3-bpe.Q8_0.gguf", false, chatml + "<think>\n\n</think>\n\n"},
		{"qwen3-bpe/qwen3-bpe.Q8_0.gguf", true, chatml},
	} {
		args := []string{"run", "-m", filepath.Join(ggufModels, c.file), "--chat", "--system", "Be brief.", "-p", "Hi", "-n", "4"}
		if c.think {
			args = append(args, "--think")
		}
		r := runJSON(t, args...)
		if r.Rendered != c.want || r.Template != "chatml" || r.Mode != "chat" || len(r.PromptIDs) == 0 {
			t.Errorf("%s (think %v): template %s, rendered %q", c.file, c.think, r.Template, r.Rendered)
		}
	}
}

// The trained demo written as a Q8_0 GGUF file (the demo card's) answers each
// README question asked first as llama.cpp answered its own conversion of the
// demo: `run FILE --chat -p Q --temp 0 --json` renders llama.cpp's prompt text in
// the alpaca template the file carries, tokenizes it to llama.cpp's ids, and
// replies with llama.cpp's ids (EOS included) and text.
func TestRunTrainedGGUFAsLlamaCpp(t *testing.T) {
	file := writeDemoGGUF(t)
	var o struct {
		Turns []struct {
			Turn      int
			User      string
			PromptIDs []int `json:"llama_cpp_prompt_ids"`
			Reply     struct {
				IDs  []int  `json:"reply_ids"`
				Text string `json:"reply"`
			} `json:"from_llama_cpp_tokens"`
		}
		Prompts []struct{ Text string }
	}
	b, err := os.ReadFile("../../testdata/gguf/trained/oracle/Q8_0.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	const preamble = "Below is an instruction that describes a task. Write a response that appropriately completes the request."
	firsts := 0
	for _, turn := range o.Turns {
		if turn.Turn != 0 {
			continue
		}
		firsts++
		r := runJSON(t, "run", file, "--chat", "-p", turn.User, "--temp", "0")
		rendered := preamble + "\n\n### Instruction:\n" + turn.User + "\n\n### Response:\n"
		if r.Rendered != rendered || r.Template != "alpaca" || !slices.Equal(r.PromptIDs, turn.PromptIDs) {
			t.Errorf("%q: template %s rendered %q as %v; llama.cpp's prompt %v", turn.User, r.Template, r.Rendered, r.PromptIDs, turn.PromptIDs)
		}
		if !slices.Equal(r.IDs, turn.Reply.IDs) || r.Text != turn.Reply.Text || r.Stop != "end" {
			t.Errorf("%q: reply %v %q (%s), llama.cpp's %v %q", turn.User, r.IDs, r.Text, r.Stop, turn.Reply.IDs, turn.Reply.Text)
		}
		if turn.User == "What is the capital of France?" && r.Rendered != o.Prompts[0].Text {
			t.Errorf("rendered %q, the fixture's prompt %q", r.Rendered, o.Prompts[0].Text)
		}
	}
	if firsts != 12 {
		t.Errorf("%d first turns in the oracle, want 12", firsts)
	}
}

// writeDemoGGUF converts models/llama-demo to a Q8_0 GGUF file with `inferpi
// convert model` and returns its path.
func writeDemoGGUF(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "llama-demo-q8_0.gguf")
	convertCLI(t, "model", "--dtype", "q8_0", demoDir, path)
	return path
}

// `convert model --dtype TARGET DIR OUT.gguf` writes a llama2.c model as
// llama.WriteGGUF does (the demo card's file, byte for byte, from the directory
// or from its model.bin), names it after the directory, and refuses what it
// cannot write.
func TestConvertLlamaToGGUF(t *testing.T) {
	dir := t.TempDir()
	fromDir, fromFile := filepath.Join(dir, "a.gguf"), filepath.Join(dir, "b.GGUF")
	_, stderr := convertCLI(t, "model", "--dtype", "Q8_0", demoDir, fromDir)
	if !strings.HasPrefix(stderr, "wrote "+fromDir+": 1964416 bytes (GGUF Q8_0, llama-quantize's rules) from 7346972 bytes, Llama model llama-demo\n") {
		t.Errorf("stderr %q", stderr)
	}
	convertCLI(t, "model", "--dtype", "q8_0", filepath.Join(demoDir, "model.bin"), fromFile)
	var files engine.Files
	var err error
	if files.Model, err = os.ReadFile(filepath.Join(demoDir, "model.bin")); err != nil {
		t.Fatal(err)
	}
	if files.Tokenizer, err = os.ReadFile(filepath.Join(demoDir, "tokenizer.bin")); err != nil {
		t.Fatal(err)
	}
	files.ModelName = "llama-demo"
	var want bytes.Buffer
	if err := llama.WriteGGUF(&want, files, quantize.FileQ8_0); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fromDir, fromFile} {
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s: not llama.WriteGGUF's file (%v)", path, err)
		}
	}
	// A K-quant mix: rows of 192 take llama-quantize's fallbacks.
	q4k := filepath.Join(dir, "q4_k_m.gguf")
	convertCLI(t, "model", "--dtype", "q4_k_m", demoDir, q4k)
	if r := runJSON(t, "run", q4k, "--chat", "-p", "Hello!", "--temp", "0"); r.Template != "alpaca" || r.Stop != "end" || r.Text == "" {
		t.Errorf("the q4_k_m file: %+v", r)
	}
	var o, e bytes.Buffer
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--dtype", "q8_0", nanochatDemo, filepath.Join(dir, "gpt.gguf")}, "a GPT model: GGUF files are written from Llama (llama2.c) models"},
		{[]string{"--dtype", "q3_k", demoDir, filepath.Join(dir, "x.gguf")}, `unknown target "q3_k"`},
		{[]string{"--dtype", "q8_0", "--pure", demoDir, filepath.Join(dir, "x.gguf")}, "--pure applies to GGUF files"},
	} {
		if err := convertMain(append([]string{"model"}, c.args...), &o, &e); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error with %q", c.args, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "gpt.gguf")); err == nil {
		t.Error("a refused conversion left a file")
	}
}
