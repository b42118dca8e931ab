package hf

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/internal/testfile"
)

// oracle is a fixture's oracle/oracle.json: what llama.cpp computed on its
// conversion of the fixture.
type oracle struct {
	Prompts []struct {
		Name         string    `json:"name"`
		Text         string    `json:"text"`
		AddSpecial   bool      `json:"add_special"`
		ParseSpecial bool      `json:"parse_special"`
		PromptIDs    []int     `json:"prompt_ids"`
		GreedyIDs    []int     `json:"greedy_ids"`
		Margins      []float64 `json:"greedy_top1_top2_margins"`
		LogitsShape  []int     `json:"logits_shape"`
	} `json:"prompts"`
	TokenizerCases []struct {
		Text           string `json:"text"`
		AddSpecial     bool   `json:"add_special"`
		ParseSpecial   bool   `json:"parse_special"`
		LlamaCppIDs    []int  `json:"llama_cpp_ids"`
		HFIDs          []int  `json:"hf_tokenizer_ids"`
		SentencePieces []int  `json:"sentencepiece_ids"`
	} `json:"tokenizer_cases"`
}

func readOracle(t testing.TB, fixture string) *oracle {
	t.Helper()
	var o oracle
	testfile.JSON(t, filepath.Join(hfDir, fixture, "oracle", "oracle.json"), &o)
	return &o
}

// oracleRows returns the first and the last row of llama.cpp's logits for
// prompt i.
func oracleRows(t testing.TB, fixture string, i int) (first, last []float32) {
	t.Helper()
	v := testfile.Float32s(t, filepath.Join(hfDir, fixture, "oracle", fmt.Sprintf("prompt%d.first-last.logits.f32", i)))
	return v[:len(v)/2], v[len(v)/2:]
}

// maxDiff is the largest |a[i]-b[i]|, and +Inf where either holds a NaN (which
// max would carry through, and no tolerance would catch).
func maxDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		x := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(x) {
			return math.Inf(1)
		}
		d = max(d, x)
	}
	return d
}

// logitTolerance is the fixture README's suggestion for an engine computing
// in float32 from these weights: ten times llama.cpp's own distance from the
// float64 reference, at least 1e-3.
const logitTolerance = 1e-3

// checkRun compares an engine with the oracle on a fixture's prompts: the
// logits after the first and the last prompt token, and 32 greedy tokens.
// feed runs one token at the next position and returns the logits.
func checkRun(t *testing.T, fixture string, feed func(prompt, id int) []float32, tol float64) {
	t.Helper()
	o := readOracle(t, fixture)
	for i, p := range o.Prompts {
		first, last := oracleRows(t, fixture, i)
		var logits []float32
		for j, id := range p.PromptIDs {
			logits = feed(i, id)
			if j == 0 {
				if d := maxDiff(logits, first); d > tol {
					t.Errorf("%s %s: logits after the first token differ from llama.cpp's by %g", fixture, p.Name, d)
				}
			}
		}
		if d := maxDiff(logits, last); d > tol {
			t.Errorf("%s %s: logits after the prompt differ from llama.cpp's by %g", fixture, p.Name, d)
		}
		for step, want := range p.GreedyIDs {
			got := kernels.Argmax(logits) // the lowest index on ties, the oracle's rule
			if got != want {
				t.Errorf("%s %s: greedy token %d is %d, llama.cpp's %d (margin %g)", fixture, p.Name, step, got, want, p.Margins[step])
				break
			}
			logits = feed(i, got)
		}
	}
}
