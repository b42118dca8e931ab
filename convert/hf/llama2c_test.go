package hf

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/llama"
)

// writeLlama2c converts a fixture directory to llama2.c's files.
func writeLlama2c(t *testing.T, dir string, enc kernels.Encoding) engine.Files {
	t.Helper()
	m := openFixture(t, dir)
	var model, tok bytes.Buffer
	if _, err := m.WriteLlama2c(&model, &tok, enc, nil); err != nil {
		t.Fatal(err)
	}
	return engine.Files{Model: model.Bytes(), Tokenizer: tok.Bytes()}
}

func checkEncode(t *testing.T, fixture string, m *llama.Model, text string, want []int) {
	t.Helper()
	if got := m.Tokenizer().Encode(text, true, false); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: %q encodes to\n%v\nHugging Face's tokenizer (and llama.cpp):\n%v", fixture, text, got, want)
	}
}

// The Llama fixtures in llama2.c's format run on InferPi's llama2.c engine
// like llama.cpp runs their GGUF: the tokenizer.bin encodes the plain prompts
// and the fixture's tokenizer cases (but special tokens) to Hugging Face's and
// llama.cpp's ids, and the logits and greedy tokens are llama.cpp's. The
// llama-spm-bf16 fixture also without tokenizer.model, its vocabulary then
// from tokenizer.json with scores from the merges.
func TestLlama2cRunsLikeLlamaCpp(t *testing.T) {
	for _, c := range []struct {
		fixture string
		noSPM   bool
		tol     float64
	}{
		{"llama-spm-bf16", false, logitTolerance},
		{"llama-spm-bf16", true, logitTolerance},
		// rms_norm_eps 1e-6, which llama2.c's format cannot carry: run.c's 1e-5.
		{"llama-tied-sharded-f32", false, 2e-3},
	} {
		dir := copyFixture(t, c.fixture)
		if c.noSPM {
			os.Remove(filepath.Join(dir, "tokenizer.model"))
		}
		files := writeLlama2c(t, dir, kernels.F32)
		m, err := llama.Load(files)
		if err != nil {
			t.Fatal(err)
		}
		o := readOracle(t, c.fixture)
		for _, p := range o.Prompts {
			if p.AddSpecial {
				checkEncode(t, c.fixture, m, p.Text, p.PromptIDs)
			}
		}
		for _, tc := range o.TokenizerCases {
			// run.c's encoder knows no special tokens, and a literal "▁" is a
			// space in tokenizer.bin.
			if tc.AddSpecial && !strings.Contains(tc.Text, "<s>") && !strings.Contains(tc.Text, "▁") {
				checkEncode(t, c.fixture, m, tc.Text, tc.HFIDs)
			}
		}
		var sessions []*llama.Session
		for range o.Prompts {
			s, err := m.NewSession(engine.Options{})
			if err != nil {
				t.Fatal(err)
			}
			sessions = append(sessions, s.(*llama.Session))
		}
		checkRun(t, c.fixture, func(prompt, id int) []float32 {
			logits, err := sessions[prompt].FeedTokens([]int{id})
			if err != nil {
				t.Fatal(err)
			}
			return logits
		}, c.tol)
	}
}

// llama-spm-bf16's tokenizer.model is Meta's Llama 2 model as llama2.c ships
// it, so its tokenizer.bin is byte for byte the one llama2.c ships beside it
// (the llama-tiny fixture's), which llama2.c's tokenizer.py exported.
func TestLlama2cTokenizerIsLlama2cs(t *testing.T) {
	want, err := os.ReadFile("../../testdata/llama-tiny/tokenizer.bin")
	if err != nil {
		t.Fatal(err)
	}
	files := writeLlama2c(t, copyFixture(t, "llama-spm-bf16"), kernels.F16)
	if !bytes.Equal(files.Tokenizer, want) {
		t.Errorf("tokenizer.bin: %d bytes differing from llama2.c's %d", len(files.Tokenizer), len(want))
	}
}

// What llama2.c's header cannot say is refused, naming why; the RMSNorm
// epsilon, close enough, is a warning.
func TestLlama2cRefusals(t *testing.T) {
	for _, c := range []struct {
		fixture string
		edit    func(map[string]any)
		want    string
	}{
		{"qwen2-bpe-fp16", nil, "it is a Qwen2ForCausalLM model"},
		{"qwen3-bf16", nil, "it is a Qwen3ForCausalLM model"},
		{"llama-spm-bf16", func(c map[string]any) { c["rope_theta"] = 500000.0 }, "its rope_theta is 500000"},
		{"llama-spm-bf16", func(c map[string]any) {
			c["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": 8.0, "original_max_position_embeddings": 8192}
		}, "it scales RoPE (llama3)"},
		{"llama-spm-bf16", func(c map[string]any) { c["bos_token_id"], c["eos_token_id"] = 5, 6 }, ""},
	} {
		dir := copyFixture(t, c.fixture)
		if c.edit != nil {
			editJSON(t, filepath.Join(dir, "config.json"), c.edit)
		}
		m := openFixture(t, dir)
		_, _, err := m.Llama2cConfig()
		if c.want == "" {
			// tokenizer_config.json's <s> and </s> come first: still 1 and 2.
			if err != nil {
				t.Errorf("%s: %v", c.fixture, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "cannot be written in llama2.c's format: "+c.want) {
			t.Errorf("%s: %v, want %q", c.fixture, err, c.want)
		}
	}
	m := openFixture(t, copyFixture(t, "llama-tied-sharded-f32"))
	if _, warns, err := m.Llama2cConfig(); err != nil || len(warns) != 1 || !strings.Contains(warns[0], "rms_norm_eps is 1e-06") {
		t.Errorf("llama-tied-sharded-f32: %v %q, want a warning about rms_norm_eps", err, warns)
	}
}
