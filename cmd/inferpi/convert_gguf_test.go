package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/internal/testfile"
)

const ggufModels = "../../testdata/gguf/models"

// oracleSHA256 is llama.cpp's sha256 of a fixture variant, from its oracle JSON.
func oracleSHA256(t *testing.T, model, variant string) string {
	t.Helper()
	var o struct{ SHA256 string }
	if testfile.JSON(t, filepath.Join(ggufModels, model, "oracle", variant+".json"), &o); o.SHA256 == "" {
		t.Fatalf("%s %s oracle: no sha256", model, variant)
	}
	return o.SHA256
}

// `convert model` of a GGUF file is llama-quantize: from the F32 masters it
// makes the fixture variants llama.cpp made, byte for byte (their sha256 in the
// oracle JSON; F16 is not stored, only its sha256).
func TestConvertGGUFIsLlamaQuantize(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		model, variant string
		args           []string
	}{
		{"llama-spm", "Q4_K_M", []string{"--dtype", "q4_k_m"}},
		{"llama3-bpe", "Q6_K", []string{"--dtype", "Q6_K"}},
		{"qwen2-bpe", "Q5_K_M", []string{"--dtype", "q5_k"}},
		{"qwen3-bpe", "pure-Q5_0", []string{"--dtype", "q5_0", "--pure"}},
		{"llama-spm", "F16", []string{"--dtype", "fp16"}},
	} {
		in := filepath.Join(ggufModels, c.model, c.model+".F32.gguf")
		out := filepath.Join(dir, c.model+"."+c.variant+".gguf")
		st, err := os.Stat(in)
		if err != nil {
			t.Fatal(err)
		}
		_, errOut := convertCLI(t, append(append([]string{"model"}, c.args...), in, out)...)
		if got, want := testfile.SHA256(testfile.Read(t, out)), oracleSHA256(t, c.model, c.variant); got != want {
			t.Errorf("%s %s: sha256 %s, llama-quantize's %s", c.model, c.variant, got, want)
		}
		out2, _ := os.Stat(out)
		wantLines(t, "progress", errOut, "wrote "+out+": "+strconv.FormatInt(out2.Size(), 10)+" bytes (",
			" from "+strconv.FormatInt(st.Size(), 10)+" bytes\n")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 5 {
		t.Errorf("%d files in the output directory, want the 5 written", len(entries))
	}
}

// A quantized GGUF is refused with quantize.File's message, like llama-quantize
// without --allow-requantize; failures leave nothing behind.
func TestConvertGGUFRefusals(t *testing.T) {
	dir := t.TempDir()
	f32 := filepath.Join(ggufModels, "llama-spm", "llama-spm.F32.gguf")
	q8 := filepath.Join(ggufModels, "llama-spm", "llama-spm.Q8_0.gguf")
	out := filepath.Join(dir, "out.gguf")
	// A NaN in the last tensor's data fails the conversion after the header
	// and other tensors were written.
	nan := filepath.Join(t.TempDir(), "nan.gguf")
	b, err := os.ReadFile(f32)
	if err != nil {
		t.Fatal(err)
	}
	copy(b[len(b)-4:], []byte{0, 0, 0xc0, 0x7f})
	os.WriteFile(nan, b, 0o644)
	var o, e bytes.Buffer
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"model", "--dtype", "q4_k_m", q8, out},
			q8 + ": tensor output.weight is Q8_0: only F32, F16 and BF16 tensors are quantized (quantizing again would add its rounding to the first)"},
		{[]string{"model", "--dtype", "q3_k_m", f32, out}, `quantize: unknown target "q3_k_m" (F32, F16, BF16, Q8_0,`},
		{[]string{"model", "--dtype", "q4_0", f32, f32}, "OUT is IN"},
		{[]string{"model", "--dtype", "q4_0", f32, dir}, dir + ": a directory: give the GGUF file to write"},
		{[]string{"model", "--dtype", "q4_0", filepath.Join(ggufModels, "README.md"), out}, "no engine recognises this file"},
		{[]string{"model", "--dtype", "q4_0", nan, out}, "is NaN"},
	} {
		e.Reset()
		err := convertMain(c.args, &o, &e)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error containing %q", c.args, err, c.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed conversions left %v", entries)
	}
}
