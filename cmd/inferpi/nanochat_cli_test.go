package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	nanochatDemo = "../../models/nanochat-demo"
	nanochatSrc  = "../../testdata/nanochat-demo" // the nanochat base dir it was converted from
)

// TestConvertNanochat runs `inferpi convert nanochat` on the demo checkpoint: the
// result is byte for byte the bundled demo model.
func TestConvertNanochat(t *testing.T) {
	out := t.TempDir()
	var o, e bytes.Buffer
	err := convertMain([]string{"nanochat", "--base-dir", nanochatSrc, "--source", "sft", "--output-dir", out}, &o, &e)
	if err != nil {
		t.Fatalf("convert: %v\n%s", err, e.String())
	}
	if !strings.Contains(e.String(), "tag d4, step 1200") || !strings.Contains(e.String(), "(fp16), 4 layers, 192 wide, 6 heads (3 kv), vocab 2009, context 512") {
		t.Errorf("progress output %q", e.String())
	}
	for _, name := range []string{"model.bin", "tokenizer.bin"} {
		got, _ := os.ReadFile(filepath.Join(out, name))
		want, _ := os.ReadFile(filepath.Join(nanochatDemo, name))
		if len(want) == 0 || !bytes.Equal(got, want) {
			t.Errorf("%s differs from models/nanochat-demo/%s", name, name)
		}
	}

	e.Reset()
	if err := convertMain([]string{"nanochat", "--output-dir", out}, &o, &e); err == nil || !strings.Contains(e.String(), "usage: inferpi convert nanochat") {
		t.Errorf("missing --base-dir: %v %q", err, e.String())
	}
	if err := convertMain([]string{"nanochat", "--base-dir", nanochatSrc, "--output-dir", out}, &o, &e); err == nil || !strings.Contains(err.Error(), "base_checkpoints") {
		t.Errorf("no base checkpoints: %v", err)
	}
}

// The demo's calculator example through `inferpi run --chat`.
func TestRunNanochatCalculator(t *testing.T) {
	r := runJSON(t, "run", nanochatDemo, "-p", "What is 12 + 35?", "--chat", "--temp", "0")
	want := []int{2005, 522, 43, 985, 2006, 2007, 1237, 2008, 522, 440, 32, 985, 335, 32, 1237, 46, 2004}
	if !slices.Equal(r.IDs, want) || r.Stop != "end" || r.Engine != "GPT" || r.Template != "nanochat" {
		t.Fatalf("reply %v %q %s (%s/%s)", r.IDs, r.Text, r.Stop, r.Engine, r.Template)
	}
	if r.Text != "<|python_start|>12+35<|python_end|><|output_start|>47<|output_end|>12 + 35 = 47." {
		t.Errorf("text %q", r.Text)
	}
}

func TestInspectNanochat(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := inspectMain([]string{nanochatDemo}, &out, &errOut); err != nil {
		t.Fatal(err, errOut.String())
	}
	for _, s := range []string{"GPT", "nanochat", "attention windows", "128,128,128,512"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("inspect output lacks %q:\n%s", s, out.String())
		}
	}
}

// A two-turn chat with the demo: the follow-up needs the first turn in the cache.
func TestChatNanochat(t *testing.T) {
	var out, errOut bytes.Buffer
	in := strings.NewReader("What is the capital of Japan?\nAnd Kenya?\nWhat is 7 times 8?\n/exit\n")
	if err := chatMain([]string{nanochatDemo, "--temp", "0"}, in, &out, &errOut, nil); err != nil {
		t.Fatal(err, errOut.String())
	}
	for _, want := range []string{"The capital of Japan is Tokyo.", "The capital of Kenya is Nairobi.", "7 * 8 = 56."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("chat output lacks %q:\n%s", want, out.String())
		}
	}
}
