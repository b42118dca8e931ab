package gpt_test

import (
	"github.com/inferpi/inferpi/engine/internal/logitcmp"
	"testing"

	"github.com/inferpi/inferpi/convert/nanochat"
	"github.com/inferpi/inferpi/engine/gpt"
	"github.com/inferpi/inferpi/engine/kernels"
)

// accuracySet is a checkpoint and the token sequences of its cases, fed teacher-forced.
type accuracySet struct {
	name string
	opts nanochat.Options
	seqs [][]int
}

func gptAccuracySets(t *testing.T) []accuracySet {
	o := loadOracle(t)
	tiny := accuracySet{name: "nanochat-tiny (fixture: nanochat cases)", opts: nanochat.Options{BaseDir: tinyDir, Step: -1}}
	for _, c := range o.Completions {
		tiny.seqs = append(tiny.seqs, append(append([]int(nil), c.IDs...), c.Greedy.IDs...))
	}
	for _, c := range o.Chats {
		tiny.seqs = append(tiny.seqs, c.Final)
	}
	demo := accuracySet{name: "nanochat-demo (example chats)", opts: nanochat.Options{BaseDir: demoSrc, Source: "sft", Step: -1}}
	for _, conv := range loadDemoExamples(t).Conversations {
		var seq []int
		for _, turn := range conv.Turns {
			seq = append(append(seq, turn.PromptIDs...), turn.ReplyIDs...)
		}
		demo.seqs = append(demo.seqs, seq)
	}
	return []accuracySet{tiny, demo}
}

// encodingVariant is one encoding of a set's checkpoint: exported with dtype, then
// re-encoded through chain (gpt.Reencode).
type encodingVariant struct {
	name, dtype string
	chain       []kernels.Encoding
	enc         string // what the result says it holds
}

// accuracyVariants: every encoding but fp32, from the most bits per weight to
// the fewest, and q8_0's rounding of the weights alone (exported as q8_0,
// re-encoded to fp32: fp32 arithmetic, activations not quantized).
var accuracyVariants = []encodingVariant{
	{"fp16", "fp16", nil, "fp16"},
	{"bf16", "bf16", nil, "bf16"},
	{"q8_0", "q8_0", nil, "q8_0"},
	{"q6_k", "q6_k", nil, "q6_k"},
	{"q5_1", "q5_1", nil, "q5_1"},
	{"q5_k", "q5_k", nil, "q5_k"},
	{"q5_0", "q5_0", nil, "q5_0"},
	{"q4_1", "q4_1", nil, "q4_1"},
	{"q4_k", "q4_k", nil, "q4_k"},
	{"q4_0", "q4_0", nil, "q4_0"},
	{"q8_0 weights, fp32 arithmetic", "q8_0", []kernels.Encoding{kernels.F32}, "fp32"},
}

// measureAccuracy exports every set in fp32 and in each variant and compares
// the logits at every position (teacher-forced, up to the context size).
func measureAccuracy(t *testing.T, sets []accuracySet, variants []encodingVariant) map[string]map[string]*logitcmp.Agreement {
	res := map[string]map[string]*logitcmp.Agreement{}
	load := func(opts nanochat.Options, dtype string, chain []kernels.Encoding, want string) *gpt.Model {
		opts.DType = dtype
		files := export(t, opts)
		for _, enc := range chain {
			var err error
			if files.Model, err = gpt.Reencode(files.Model, enc); err != nil {
				t.Fatal(err)
			}
		}
		m, err := gpt.Load(files)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Info().Encoding; got != want {
			t.Fatalf("%s export loads as %s", dtype, got)
		}
		return m
	}
	for _, set := range sets {
		ref := load(set.opts, "fp32", nil, "fp32")
		var want [][][]float32
		for i, seq := range set.seqs {
			set.seqs[i] = seq[:min(len(seq), ref.Header().SeqLen)]
			want = append(want, ref.ForwardAll(set.seqs[i], nil))
		}
		res[set.name] = map[string]*logitcmp.Agreement{}
		for _, v := range variants {
			m := load(set.opts, v.dtype, v.chain, v.enc)
			var got [][][]float32
			for _, seq := range set.seqs {
				got = append(got, m.ForwardAll(seq, nil))
			}
			res[set.name][v.name] = logitcmp.Over(want, got)
		}
	}
	return res
}

// accuracyBounds are what TestQuantizedAccuracy asserts per set and encoding:
// the least top-1 agreement and the largest mean RMSE as a fraction of the fp32
// logits' spread, each the measurement logged by the test (docs/accuracy.md)
// with room for other kernels' rounding. A quantizer off by a scale, a nibble
// order or a block moves the logits by about their whole spread and fails
// every line.
//
// q8_0 meets the 99% on the trained demo model (99.75%). The
// random-weight fixture misses it by 14 of 616 positions: its top-2 margin is
// below 0.08 at a tenth of its positions (demo: 0.43), and q8_0 moves its
// logits by 0.037 on average (fp16: 0.001). The weights' rounding alone (the
// "q8_0 weights, fp32 arithmetic" line) already changes 8 of them.
//
// Both models are 64 or 192 wide: under q6_k, q5_k and q4_k only mlp.c_proj
// (4 x n_embd wide) holds the K-quant, the other matrices and the embeddings
// llama-quantize's fallbacks q8_0, q5_1 and q5_0.
var accuracyBounds = map[string]map[string]logitcmp.Bound{
	"nanochat-tiny (fixture: nanochat cases)": {
		"bf16": {Top1: 0.98, RelRMSE: 0.004}, // measured 99.7%, 0.0025
		"q8_0": {Top1: 0.96, RelRMSE: 0.02},  // measured 97.7%, 0.013
		"q6_k": {Top1: 0.94, RelRMSE: 0.025}, // measured 96.9%, 0.018
		"q5_1": {Top1: 0.82, RelRMSE: 0.10},  // measured 88.8%, 0.071
		"q5_k": {Top1: 0.82, RelRMSE: 0.10},  // measured 89.0%, 0.071
		"q5_0": {Top1: 0.82, RelRMSE: 0.11},  // measured 88.2%, 0.080
		"q4_1": {Top1: 0.70, RelRMSE: 0.20},  // measured 79.2%, 0.15
		"q4_k": {Top1: 0.79, RelRMSE: 0.125}, // measured 86.5%, 0.088
		"q4_0": {Top1: 0.65, RelRMSE: 0.22},  // measured 75.3%, 0.16
	},
	"nanochat-demo (example chats)": {
		"bf16": {Top1: 0.99, RelRMSE: 0.003}, // measured 100%, 0.0018
		"q8_0": {Top1: 0.99, RelRMSE: 0.015}, // measured 99.75%, 0.0086
		"q6_k": {Top1: 0.98, RelRMSE: 0.018}, // measured 99.25%, 0.013
		"q5_1": {Top1: 0.96, RelRMSE: 0.062}, // measured 99.0%, 0.043
		"q5_k": {Top1: 0.96, RelRMSE: 0.062}, // measured 99.0%, 0.044
		"q5_0": {Top1: 0.95, RelRMSE: 0.072}, // measured 98.5%, 0.051
		"q4_1": {Top1: 0.88, RelRMSE: 0.125}, // measured 93.3%, 0.088
		"q4_k": {Top1: 0.94, RelRMSE: 0.08},  // measured 98.0%, 0.057
		"q4_0": {Top1: 0.88, RelRMSE: 0.15},  // measured 92.3%, 0.099
	},
}

// TestQuantizedAccuracy is the accuracy report for the GPT engine: per
// encoding, against the fp32 export, the logit RMSE and whether the most likely
// token is the same, at every position of every case (teacher-forced). It
// asserts accuracyBounds, and that q8_0 moves the logits more than fp16 and
// less than q4_0 (so each file was really encoded as it says).
func TestQuantizedAccuracy(t *testing.T) {
	sets := gptAccuracySets(t)
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
