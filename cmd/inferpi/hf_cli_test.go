package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/internal/testfile"
)

const hfFixtures = "../../testdata/hf"

// copyHF copies a Hugging Face fixture directory (its top-level files,
// gunzipping *.gz) to a temporary directory of the same name.
func copyHF(t *testing.T, fixture string) string {
	return testfile.CopyDir(t, filepath.Join(hfFixtures, fixture))
}

// onlyFiles lists a directory, failing the test on temporary files left behind.
func onlyFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("%s: temporary file %s left behind", dir, e.Name())
		}
		names = append(names, e.Name())
	}
	return names
}

// `inferpi convert hf` writes a GGUF file that parses, reporting the model and
// each tensor on standard error; given a directory as OUT it names the file
// after the model and the type.
func TestConvertHFToGGUF(t *testing.T) {
	src := copyHF(t, "qwen3-bf16")
	out := t.TempDir()
	var o, e bytes.Buffer
	if err := convertMain([]string{"hf", src, out, "--dtype", "q8_0"}, &o, &e); err != nil {
		t.Fatalf("%v\n%s", err, e.String())
	}
	for _, want := range []string{
		"Qwen3ForCausalLM (qwen3), 3 layers, 96 wide, 4 heads (2 kv) of 48, vocab 1024",
		"tokenizer: tokenizer.json (gpt2, pre-tokenizer qwen2), 1024 tokens",
		"Q8_0 (tensors: Q8_0 22, F32 13)",
		"[ 1/35] token_embd.weight            Q8_0   [96 1024]",
		"[35/35] output_norm.weight",
		"wrote " + filepath.Join(out, "qwen3-bf16-Q8_0.gguf"),
	} {
		if !strings.Contains(e.String(), want) {
			t.Errorf("standard error lacks %q:\n%s", want, e.String())
		}
	}
	if names := onlyFiles(t, out); len(names) != 1 || names[0] != "qwen3-bf16-Q8_0.gguf" {
		t.Fatalf("%s holds %v", out, names)
	}
	data, err := os.ReadFile(filepath.Join(out, "qwen3-bf16-Q8_0.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(data, "out.gguf")
	if err != nil {
		t.Fatal(err)
	}
	if arch, _ := f.GetString("general.architecture"); arch != "qwen3" || f.FileType() != "Q8_0" || len(f.Tensors) != 35 {
		t.Errorf("arch %s, file type %s, %d tensors", arch, f.FileType(), len(f.Tensors))
	}
}

// A bad directory, or a failure half way through writing, leaves nothing at
// OUT and no temporary file beside it; the error names the file and tensor.
func TestConvertHFFailures(t *testing.T) {
	for _, c := range []struct {
		name, fixture string
		spoil         func(dir string)
		args          []string
		want          string
	}{
		{"missing config", "qwen2-bpe-fp16", func(dir string) { os.Remove(filepath.Join(dir, "config.json")) }, nil,
			"config.json: no such file"},
		{"a shard missing", "llama-tied-sharded-f32", func(dir string) { os.Remove(filepath.Join(dir, "model-00002-of-00002.safetensors")) }, nil,
			"model-00002-of-00002.safetensors: no such file"},
		{"truncated header", "qwen3-bf16", func(dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "model.safetensors"))
			os.WriteFile(filepath.Join(dir, "model.safetensors"), b[:64], 0o644)
		}, nil, "model.safetensors: header length"},
		{"a weight beyond f16", "llama-tied-sharded-f32", func(dir string) {
			path := filepath.Join(dir, "model-00002-of-00002.safetensors")
			b, _ := os.ReadFile(path)
			n := binary.LittleEndian.Uint64(b)
			var h map[string]struct {
				Offsets []int `json:"data_offsets"`
			}
			json.Unmarshal(b[8:8+n], &h)
			at := 8 + int(n) + h["model.layers.2.mlp.up_proj.weight"].Offsets[0] + 4*100
			binary.LittleEndian.PutUint32(b[at:], math.Float32bits(1e6))
			os.WriteFile(path, b, 0o644)
		}, []string{"--dtype", "f16"}, "blk.2.ffn_up.weight ("},
		{"llama2c from Qwen", "qwen2-bpe-fp16", nil, []string{"--format", "llama2c"},
			"cannot be written in llama2.c's format: it is a Qwen2ForCausalLM model"},
		{"unknown dtype", "qwen2-bpe-fp16", nil, []string{"--dtype", "q3_x"}, `--dtype "q3_x"`},
	} {
		src := copyHF(t, c.fixture)
		if c.spoil != nil {
			c.spoil(src)
		}
		outDir := t.TempDir()
		out := filepath.Join(outDir, "model.gguf")
		var o, e bytes.Buffer
		err := convertMain(append([]string{"hf", src, out}, c.args...), &o, &e)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if names := onlyFiles(t, outDir); len(names) != 0 {
			t.Errorf("%s: %v left in OUT's directory", c.name, names)
		}
	}
}

// --format llama2c writes model.bin and tokenizer.bin that the Llama engine
// loads and runs.
func TestConvertHFToLlama2c(t *testing.T) {
	src := copyHF(t, "llama-spm-bf16")
	out := filepath.Join(t.TempDir(), "llama-spm")
	var o, e bytes.Buffer
	if err := convertMain([]string{"hf", "--format", "llama2c", "--dtype", "f16", src, out}, &o, &e); err != nil {
		t.Fatalf("%v\n%s", err, e.String())
	}
	if names := onlyFiles(t, out); strings.Join(names, " ") != "model.bin tokenizer.bin" {
		t.Fatalf("%s holds %v", out, names)
	}
	if !strings.Contains(e.String(), "[14/14] classifier") || !strings.Contains(e.String(), "own chat template is kept only by --format gguf") {
		t.Errorf("standard error:\n%s", e.String())
	}
	r := runJSON(t, "run", out, "-p", "The old lighthouse keeper", "-n", "4", "--temp", "0")
	if r.Engine != "Llama" || len(r.PromptIDs) != 8 || r.PromptIDs[0] != 1 || r.PromptIDs[1] != 450 || len(r.IDs) != 4 {
		t.Errorf("run: %+v", r)
	}
}
