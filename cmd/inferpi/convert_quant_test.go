package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/firmware/models"
)

// convertCLI runs `inferpi convert ARGS`, failing the test on an error.
func convertCLI(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	if err := convertMain(args, &o, &e); err != nil {
		t.Fatalf("convert %v: %v\n%s", args, err, e.String())
	}
	return o.String(), e.String()
}

func inspectCLI(t *testing.T, dir string) string {
	t.Helper()
	var o, e bytes.Buffer
	if err := inspectMain([]string{dir}, &o, &e); err != nil {
		t.Fatalf("inspect %s: %v\n%s", dir, err, e.String())
	}
	return o.String()
}

func wantLines(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

// The Llama demo in q8_0, q4_0, bf16, q4_k and q6_k through the CLI: converted,
// inspected, and answering the demo's first question as the fp32 model does.
// Its dim of 192 is not a whole number of 256-weight super-blocks, so under q4_k
// and q6_k only w2 (512 wide) is q4_k or q6_k, and the other matrices take
// llama-quantize's fallback, q5_0 or q8_0.
func TestConvertLlama2cQuantized(t *testing.T) {
	base := t.TempDir()
	for _, c := range []struct {
		dtype string
		size  int
		bytes string
	}{
		{"q8_0", 1939264, "q8_0 1.8 MB, fp32 6.8 KB"}, {"q4_0", 1029952, "q4_0 999.0 KB, fp32 6.8 KB"},
		{"bf16", 3644224, "bf16 3.5 MB, fp32 6.8 KB"},
		{"q4_k", 1208128, "q5_0 957.0 KB, q4_k 216.0 KB, fp32 6.8 KB"},
		{"q6_k", 1844032, "q8_0 1.4 MB, q6_k 315.0 KB, fp32 6.8 KB"},
	} {
		dir := filepath.Join(base, c.dtype)
		_, errOut := convertCLI(t, "llama2c", "--dtype", c.dtype, demoDir, dir)
		wantLines(t, "progress", errOut, "model.bin: "+strconv.Itoa(c.size)+" bytes ("+c.dtype+") from 7346972 bytes (fp32), Llama model")
		wantLines(t, "inspect "+c.dtype, inspectCLI(t, dir),
			"weight encoding:             "+c.dtype+"\n",
			"format:                      InferPi Llama container (IPLM version 1)\n",
			"tensors by encoding:         "+c.bytes+"\n",
			"file model.bin:              "+strconv.Itoa(c.size)+" bytes\n",
			"file tokenizer.bin:          12680 bytes\n")
		r := runJSON(t, "run", dir, "-p", "What is the capital of France?", "--chat", "--temp", "0")
		wantIDs := []int{346, 352, 301, 475, 970, 351, 390, 287, 458, 966, 265, 965, 979, 2}
		if !slices.Equal(r.IDs, wantIDs) || r.Text != "The capital of France is Paris." {
			t.Errorf("%s demo answers %v %q", c.dtype, r.IDs, r.Text)
		}
	}
	// Re-quantizing is allowed, with a warning; the same encoding is refused.
	_, errOut := convertCLI(t, "llama2c", "--dtype", "q4_0", filepath.Join(base, "q8_0"), filepath.Join(base, "again"))
	wantLines(t, "re-quantizing", errOut, "warning: "+filepath.Join(base, "q8_0", "model.bin")+" holds q8_0 weights: the q4_0 result carries q8_0's rounding as well as its own")
	var o, e bytes.Buffer
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"llama2c", "--dtype", "q8_0", filepath.Join(base, "q8_0"), filepath.Join(base, "x")}, "weights are already q8_0: nothing to convert"},
		{[]string{"llama2c", "--dtype", "q3_k", demoDir, filepath.Join(base, "x")},
			`--dtype "q3_k": want fp32, fp16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k or q6_k`},
		{[]string{"model", "--dtype", "q4_k_m", demoDir, filepath.Join(base, "x")},
			`--dtype "q4_k_m" is a llama-quantize target, for GGUF files; for ` + demoDir + ` want fp32, fp16, bf16,`},
		{[]string{"model", "--dtype", "q4_k", "--pure", demoDir, filepath.Join(base, "x")}, "--pure applies to GGUF files"},
		{[]string{"llama2c", "--dtype", "q8_0", nanochatDemo, filepath.Join(base, "x")}, "a GPT model, not a llama2.c one: use 'inferpi convert model'"},
		{[]string{"llama2c", "--dtype", "q8_0", ggufModels + "/llama-spm/llama-spm.F32.gguf", filepath.Join(base, "x")},
			"a GGUF file, not a llama2.c one: 'inferpi convert model' quantizes GGUF files"},
		{[]string{"llama2c", "--dtype", "q8_0", filepath.Join(base, "q8_0"), filepath.Join(base, "q8_0")}, "OUT is IN"},
		{[]string{"llama2c", "--dtype", "q8_0", tinyDir + "/oracle.json", filepath.Join(base, "x.bin")}, "no engine recognises this file"},
	} {
		e.Reset()
		err := convertMain(c.args, &o, &e)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error containing %q", c.args, err, c.want)
		}
	}
	// --fp16 against another --dtype is a usage error; no target at all too.
	for _, args := range [][]string{{"llama2c", "--fp16", "--dtype", "q8_0", demoDir, base}, {"llama2c", demoDir, base}} {
		e.Reset()
		if err := convertMain(args, &o, &e); err != (exitError{2}) {
			t.Errorf("%v: %v %q", args, err, e.String())
		}
	}
	o.Reset()
	if err := convertMain([]string{"llama2c", "--help"}, &o, &e); err != errHelp {
		t.Fatal(err)
	}
	wantLines(t, "convert llama2c --help", o.String(), "--dtype DTYPE IN OUT", "--fp16 IN OUT", "InferPi's Llama container", "-dtype string",
		"  bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k\n", "llama-quantize's fallback")
}

// TestConvertNanochatQuantized exports the demo checkpoint in q8_0 and q4_k
// (the calculator example is reproduced; n_embd 192 puts every matrix but
// mlp.c_proj in q4_k's fallback, q5_0) and re-encodes the bundled fp16 demo to
// q4_0 with `convert model`, which the chat command then talks to.
func TestConvertNanochatQuantized(t *testing.T) {
	base := t.TempDir()
	q8 := filepath.Join(base, "q8")
	for _, c := range []struct{ dtype, dir, bytes string }{
		{"q8_0", q8, "q8_0 2.8 MB, fp16 192 B, fp32 40 B"},
		{"q4_k", filepath.Join(base, "q4_k"), "q5_0 1.4 MB, q4_k 324.0 KB, fp16 192 B, fp32 40 B"},
	} {
		_, errOut := convertCLI(t, "nanochat", "--base-dir", nanochatSrc, "--source", "sft", "--dtype", c.dtype, "--output-dir", c.dir)
		wantLines(t, "progress", errOut, "("+c.dtype+"), 4 layers, 192 wide")
		wantLines(t, "inspect", inspectCLI(t, c.dir), "weight encoding:             "+c.dtype+"\n", "tensors by encoding:         "+c.bytes+"\n")
		r := runJSON(t, "run", c.dir, "-p", "What is 12 + 35?", "--chat", "--temp", "0")
		if r.Text != "<|python_start|>12+35<|python_end|><|output_start|>47<|output_end|>12 + 35 = 47." {
			t.Errorf("%s calculator: %q", c.dtype, r.Text)
		}
	}

	q4 := filepath.Join(base, "q4")
	_, errOut := convertCLI(t, "model", "--dtype", "q4_0", nanochatDemo, q4)
	wantLines(t, "progress", errOut, "model.bin: 1564172 bytes (q4_0) from 5559104 bytes (fp16), GPT model")
	tok, _ := os.ReadFile(filepath.Join(q4, "tokenizer.bin"))
	want, _ := os.ReadFile(filepath.Join(nanochatDemo, "tokenizer.bin"))
	if !bytes.Equal(tok, want) {
		t.Error("tokenizer.bin was not copied")
	}
	wantLines(t, "inspect", inspectCLI(t, q4), "weight encoding:             q4_0\n", "file model.bin:              1564172 bytes\n")
	var out, e bytes.Buffer
	in := strings.NewReader("What is the capital of Japan?\nWhat is 7 times 8?\n/exit\n")
	if err := chatMain([]string{q4, "--temp", "0"}, in, &out, &e, nil); err != nil {
		t.Fatal(err, e.String())
	}
	wantLines(t, "q4_0 chat", out.String(), "GPT model, q4_0 weights,", "The capital of Japan is Tokyo.", "7 * 8 = 56.")

	// File to file, with inferpi.json carried between directories.
	os.WriteFile(filepath.Join(q4, "inferpi.json"), []byte(`{"template": "none"}`), 0o644)
	q8again := filepath.Join(base, "q8again")
	_, errOut = convertCLI(t, "model", "--dtype", "q8_0", q4, q8again)
	wantLines(t, "re-quantizing", errOut, "warning: ", "holds q4_0 weights")
	if b, _ := os.ReadFile(filepath.Join(q8again, "inferpi.json")); string(b) != `{"template": "none"}` {
		t.Errorf("inferpi.json copied as %q", b)
	}
	convertCLI(t, "model", "--dtype", "fp32", filepath.Join(q8, "model.bin"), filepath.Join(base, "fp32.bin"))
	if st, err := os.Stat(filepath.Join(base, "fp32.bin")); err != nil || st.Size() <= 5559104 {
		t.Errorf("fp32 file: %v %v", st, err)
	}

	var o bytes.Buffer
	e.Reset()
	if err := convertMain([]string{"model", nanochatDemo, q4}, &o, &e); err != (exitError{2}) || !strings.Contains(e.String(), "usage: inferpi convert model --dtype") {
		t.Errorf("no --dtype: %v %q", err, e.String())
	}
	if err := convertMain([]string{"model", "--dtype", "fp16", nanochatDemo, base}, &o, &e); err == nil || !strings.Contains(err.Error(), "already fp16") {
		t.Errorf("fp16 to fp16: %v", err)
	}
	o.Reset()
	if err := convertMain([]string{"model", "--help"}, &o, &e); err != errHelp {
		t.Fatal(err)
	}
	wantLines(t, "convert model --help", o.String(), "usage: inferpi convert model --dtype DTYPE IN OUT\n",
		"       inferpi convert model --dtype TARGET [--pure] IN.gguf OUT.gguf\n",
		"       inferpi convert model --dtype TARGET IN OUT.gguf\n", "re-quantizing", "as llama.cpp's llama2.c converter lays it out",
		"  q4_k, q5_k, q6_k  GGUF's super-blocks of 256 weights", "-pure")
	o.Reset()
	if err := convertMain([]string{"nanochat", "--help"}, &o, &e); err != errHelp {
		t.Fatal(err)
	}
	wantLines(t, "convert nanochat --help", o.String(), "[--dtype DTYPE]", "are fp16 in every block encoding", "q4_k, q5_k and q6_k")
}

// The firmware's menu lists quantized models with their engine and size.
func TestQuantizedModelsInFirmwareMenu(t *testing.T) {
	root := t.TempDir()
	convertCLI(t, "llama2c", "--dtype", "q4_0", demoDir, filepath.Join(root, "llama-q4"))
	convertCLI(t, "model", "--dtype", "q8_0", nanochatDemo, filepath.Join(root, "nanochat-q8"))
	found, err := models.Discover(os.DirFS(root))
	if err != nil {
		t.Fatal(err)
	}
	want := []models.Model{
		{Name: "llama-q4", Weights: "llama-q4/model.bin", Engine: "Llama", Bytes: 1029952 + 12680, ModelBytes: 1029952},
		{Name: "nanochat-q8", Weights: "nanochat-q8/model.bin", Engine: "GPT", Bytes: 2953644 + 16477, ModelBytes: 2953644},
	}
	// The footprints are the engines' (their own tests check them); a q4_0
	// model's KV cache is fp16, a q8_0 one's fp32.
	for i, kv := range []int64{1536, 3072} {
		if i < len(found) && (found[i].Footprint.Context != 512 || found[i].Footprint.KVBytesPerPosition != kv) {
			t.Errorf("%s: footprint %+v", found[i].Name, found[i].Footprint)
		}
		if i < len(found) {
			found[i].Footprint = engine.Footprint{}
		}
	}
	if !slices.Equal(found, want) {
		t.Errorf("menu models %+v, want %+v", found, want)
	}
}
