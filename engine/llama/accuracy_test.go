package llama

import (
	"encoding/json"
	"github.com/inferpi/inferpi/engine/internal/logitcmp"
	"os"
	"path/filepath"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
)

// accuracySet is a model and the token sequences of its cases, fed teacher-forced.
type accuracySet struct {
	name  string
	files engine.Files
	seqs  [][]int
}

func llamaAccuracySets(t *testing.T) []accuracySet {
	o := readOracle(t)
	tiny := accuracySet{name: "llama-tiny (fixture: run.c cases)", files: readFiles(t, tinyDir)}
	for _, c := range o.Greedy {
		tiny.seqs = append(tiny.seqs, c.Sequence)
	}
	for _, c := range o.Sampled {
		tiny.seqs = append(tiny.seqs, append(append([]int(nil), c.PromptIDs...), c.Generated...))
	}
	tiny.seqs = append(tiny.seqs, o.SeqLen.Sequence, o.BOSStop.Sequence, o.Empty.Sequence)

	untied := accuracySet{name: "llama-untied (run.c cases)", files: readFiles(t, untiedDir)}
	for _, c := range readUntiedCases(t).Cases {
		untied.seqs = append(untied.seqs, append(append([]int(nil), c.PromptIDs...), c.IDs...))
	}

	demo := accuracySet{name: "llama-demo (example chats)", files: readFiles(t, demoDir)}
	for _, conv := range readDemoExamples(t).Conversations {
		var seq []int
		for _, turn := range conv.Turns {
			seq = append(append(seq, turn.PromptIDs...), turn.ReplyIDs...)
		}
		demo.seqs = append(demo.seqs, seq)
	}
	return []accuracySet{tiny, untied, demo}
}

func readDemoExamples(t *testing.T) demoExamples {
	raw, err := os.ReadFile(filepath.Join(demoDir, "examples.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ex demoExamples
	if err := json.Unmarshal(raw, &ex); err != nil {
		t.Fatal(err)
	}
	return ex
}

// teacherForced returns the logits at every position of seq (up to seq_len).
func teacherForced(m *Model, seq []int) [][]float32 {
	r := m.runState()
	var out [][]float32
	for pos := 0; pos < len(seq) && pos < m.cfg.SeqLen; pos++ {
		out = append(out, append([]float32(nil), forward(m.w, m.cfg, r, seq[pos], pos, true)...))
	}
	return out
}

// variant is one re-encoding of a set's fp32 model.bin.
type variant struct {
	name  string
	enc   kernels.Encoding // what the result says it holds
	chain []kernels.Encoding
}

// accuracyVariants: every encoding but fp32, from the most bits per weight to
// the fewest, and q8_0's rounding of the weights alone (converted to q8_0 and
// back to fp32, so the arithmetic is fp32 and the activations are not
// quantized: the share of q8_0's error the weights carry).
var accuracyVariants = []variant{
	{"fp16", kernels.F16, []kernels.Encoding{kernels.F16}},
	{"bf16", kernels.BF16, []kernels.Encoding{kernels.BF16}},
	{"q8_0", kernels.Q8_0, []kernels.Encoding{kernels.Q8_0}},
	{"q6_k", kernels.Q6_K, []kernels.Encoding{kernels.Q6_K}},
	{"q5_1", kernels.Q5_1, []kernels.Encoding{kernels.Q5_1}},
	{"q5_k", kernels.Q5_K, []kernels.Encoding{kernels.Q5_K}},
	{"q5_0", kernels.Q5_0, []kernels.Encoding{kernels.Q5_0}},
	{"q4_1", kernels.Q4_1, []kernels.Encoding{kernels.Q4_1}},
	{"q4_k", kernels.Q4_K, []kernels.Encoding{kernels.Q4_K}},
	{"q4_0", kernels.Q4_0, []kernels.Encoding{kernels.Q4_0}},
	{"q8_0 weights, fp32 arithmetic", kernels.F32, []kernels.Encoding{kernels.Q8_0, kernels.F32}},
}

// measureAccuracy runs every set in fp32 and in each variant.
func measureAccuracy(t *testing.T, sets []accuracySet, variants []variant) map[string]map[string]*logitcmp.Agreement {
	res := map[string]map[string]*logitcmp.Agreement{}
	for _, set := range sets {
		ref := loadModel(t, set.files)
		var want [][][]float32
		for _, seq := range set.seqs {
			want = append(want, teacherForced(ref, seq))
		}
		res[set.name] = map[string]*logitcmp.Agreement{}
		for _, v := range variants {
			f := set.files
			for _, enc := range v.chain {
				f.Model = convert(t, f.Model, enc)
			}
			m := loadModel(t, f)
			if m.Info().Encoding != v.enc.String() {
				t.Fatalf("%s: %s loads as %s", set.name, v.name, m.Info().Encoding)
			}
			var got [][][]float32
			for _, seq := range set.seqs {
				got = append(got, teacherForced(m, seq))
			}
			res[set.name][v.name] = logitcmp.Over(want, got)
		}
	}
	return res
}

// accuracyBounds are what TestQuantizedAccuracy asserts per set and encoding:
// the least top-1 agreement and the largest mean RMSE as a fraction of the fp32
// logits' spread. Each is the measurement logged by the test (docs/accuracy.md)
// with room for other kernels' rounding, and no more: a quantizer that is off
// by a scale, a nibble order or a block moves the logits by about their whole
// spread and fails every line.
//
// q8_0 meets the 99% on the trained demo model (99.6%). The two
// random-weight run.c fixtures do not, and no 8-bit rounding would: their
// matrices have twice the gain of trained ones (N(0, (2/sqrt(fan_in))^2)), so
// attention scores are sharp and a small change in q or k switches which
// position a head reads; 1 in 10 of llama-tiny's positions has a top-2 margin
// below 0.18 (llama-demo: 0.40). Rounding the weights alone (the "q8_0
// weights, fp32 arithmetic" line) already changes the top token at 28 of
// llama-tiny's 372 positions; fp16 changes it at one. The 4- and 5-bit
// encodings' steps are 8 to 16 times coarser and on llama-tiny leave the fp32
// logits barely correlated, so their lines there only guard against worse.
//
// No row of llama-tiny (dim 64, hidden_dim 172) or llama-untied (80, 224) is
// a whole number of 256-weight super-blocks: under q6_k, q5_k and q4_k they
// store llama-quantize's fallbacks q8_0, q5_1 and q5_0 (and fp16), and measure
// as those. llama-demo (192, 512) keeps w2 in the K-quant.
var accuracyBounds = map[string]map[string]logitcmp.Bound{
	"llama-tiny (fixture: run.c cases)": {
		"bf16": {Top1: 0.95, RelRMSE: 0.016}, // measured 97.85%, 0.011
		"q8_0": {Top1: 0.85, RelRMSE: 0.06},  // measured 91.1%, 0.044
		"q6_k": {Top1: 0.85, RelRMSE: 0.06},  // q8_0's file
		"q5_1": {Top1: 0.38, RelRMSE: 0.35},  // measured 48.9%, 0.25
		"q5_k": {Top1: 0.38, RelRMSE: 0.35},  // q5_1's file
		"q5_0": {Top1: 0.40, RelRMSE: 0.38},  // measured 50.3%, 0.28
		"q4_1": {Top1: 0.15, RelRMSE: 0.65},  // measured 24.2%, 0.46
		"q4_k": {Top1: 0.40, RelRMSE: 0.38},  // q5_0's file
		"q4_0": {Top1: 0.12, RelRMSE: 0.65},  // measured 21.0%, 0.51
	},
	"llama-untied (run.c cases)": {
		"bf16": {Top1: 0.94, RelRMSE: 0.025}, // measured 97.4%, 0.017
		"q8_0": {Top1: 0.96, RelRMSE: 0.035}, // measured 98.1%, 0.022
		"q6_k": {Top1: 0.96, RelRMSE: 0.035}, // q8_0's file
		"q5_1": {Top1: 0.82, RelRMSE: 0.12},  // measured 89.7%, 0.081
		"q5_k": {Top1: 0.82, RelRMSE: 0.12},  // q5_1's file
		"q5_0": {Top1: 0.78, RelRMSE: 0.13},  // measured 86.2%, 0.089
		"q4_1": {Top1: 0.66, RelRMSE: 0.24},  // measured 76.9%, 0.17
		"q4_k": {Top1: 0.78, RelRMSE: 0.13},  // q5_0's file
		"q4_0": {Top1: 0.65, RelRMSE: 0.25},  // measured 75.3%, 0.18
	},
	"llama-demo (example chats)": {
		"bf16": {Top1: 0.99, RelRMSE: 0.005}, // measured 99.87%, 0.0027
		"q8_0": {Top1: 0.99, RelRMSE: 0.025}, // measured 99.6%, 0.016
		"q6_k": {Top1: 0.95, RelRMSE: 0.04},  // measured 97.7%, 0.028
		"q5_1": {Top1: 0.94, RelRMSE: 0.09},  // measured 97.2%, 0.064
		"q5_k": {Top1: 0.92, RelRMSE: 0.09},  // measured 95.5%, 0.064
		"q5_0": {Top1: 0.90, RelRMSE: 0.10},  // measured 93.5%, 0.070
		"q4_1": {Top1: 0.89, RelRMSE: 0.19},  // measured 93.7%, 0.13
		"q4_k": {Top1: 0.88, RelRMSE: 0.12},  // measured 92.1%, 0.087
		"q4_0": {Top1: 0.88, RelRMSE: 0.20},  // measured 92.6%, 0.14
	},
}

// TestQuantizedAccuracy is the accuracy report for the Llama engine: per
// encoding, against the fp32 model, the logit RMSE and whether the most likely
// token is the same, at every position of every case (teacher-forced: each
// position sees the case's tokens, not its own choices). It asserts
// accuracyBounds, and that q8_0 moves the logits more than fp16 and less than
// q4_0 (so each file was really encoded as it says).
func TestQuantizedAccuracy(t *testing.T) {
	sets := llamaAccuracySets(t)
	res := measureAccuracy(t, sets, accuracyVariants)
	var names []logitcmp.Set
	for _, set := range sets {
		names = append(names, logitcmp.Set{Name: set.name, Cases: len(set.seqs)})
	}
	var variants []string
	for _, v := range accuracyVariants {
		variants = append(variants, v.name)
	}
	logitcmp.Check(t, names, variants, res, accuracyBounds)
}
