package llama

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/quantize"
	"github.com/inferpi/inferpi/internal/testfile"
)

// The GGUF fixtures (testdata/gguf/models, see its README): four tiny models of
// the architectures this engine runs, each in thirteen tensor types, with what
// llama.cpp computed on every file: prompt ids, the logits of every position,
// greedy continuations.

const ggufFixtures = "../../testdata/gguf"

var ggufFixtureModels = []string{"llama-spm", "llama3-bpe", "qwen2-bpe", "qwen3-bpe"}

// ggufVariants are the fixture files of a model: the part of the file name
// between the model and ".gguf", and how llama-quantize made it from the F32
// master.
var ggufVariants = []struct {
	name   string
	target quantize.FileType
	pure   bool
}{
	{"F32", quantize.FileF32, false}, {"F16", quantize.FileF16, false}, {"BF16", quantize.FileBF16, false},
	{"Q8_0", quantize.FileQ8_0, false}, {"Q4_0", quantize.FileQ4_0, false},
	{"Q4_K_M", quantize.FileQ4_K_M, false}, {"Q5_K_M", quantize.FileQ5_K_M, false}, {"Q6_K", quantize.FileQ6_K, false},
	{"pure-Q4_1", quantize.FileQ4_1, true}, {"pure-Q5_0", quantize.FileQ5_0, true}, {"pure-Q5_1", quantize.FileQ5_1, true},
	{"pure-Q4_K", quantize.FileQ4_K_M, true}, {"pure-Q5_K", quantize.FileQ5_K_M, true},
}

// ggufOracle is oracle/<VARIANT>.json: what llama.cpp computed on one file.
type ggufOracle struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	Meta   struct {
		NVocab  int   `json:"n_vocab"`
		BOS     int   `json:"bos"`
		EOS     int   `json:"eos"`
		AddBOS  bool  `json:"add_bos"`
		EOG     []int `json:"eog"`
		NParams int64 `json:"n_params"`
	} `json:"meta"`
	Prompts []struct {
		Name         string    `json:"name"`
		Text         string    `json:"text"`
		AddSpecial   bool      `json:"add_special"`
		ParseSpecial bool      `json:"parse_special"`
		IDs          []int     `json:"ids"`
		Argmax       []int     `json:"argmax"`
		Margin       []float64 `json:"top2_margin"`
		LogitsFile   string    `json:"logits_file"`
	} `json:"prompts"`
	Greedy []struct {
		Name      string    `json:"name"`
		PromptIDs []int     `json:"prompt_ids"`
		IDs       []int     `json:"ids"`
		Margin    []float64 `json:"top2_margin"`
		StepsFile string    `json:"steps_file"`
	} `json:"greedy"`
}

// ggufFixture returns the bytes of model's variant file and its oracle. A
// variant the repository does not store (F16, BF16) is written from the F32
// master as llama-quantize writes it (engine/quantize reproduces its files byte
// for byte); either way the bytes must have the sha256 llama.cpp's oracle names.
func ggufFixture(t testing.TB, model, variant string) ([]byte, ggufOracle) {
	t.Helper()
	dir := filepath.Join(ggufFixtures, "models", model)
	var o ggufOracle
	testfile.JSON(t, filepath.Join(dir, "oracle", variant+".json"), &o)
	data, err := os.ReadFile(filepath.Join(dir, o.File))
	if errors.Is(err, fs.ErrNotExist) {
		data = quantizedFixture(t, dir, model, variant)
	} else if err != nil {
		t.Fatal(err)
	}
	if sum := testfile.SHA256(data); sum != o.SHA256 {
		t.Fatalf("%s: not the file llama.cpp's numbers belong to (sha256 %s, want %s)", o.File, sum, o.SHA256)
	}
	return data, o
}

// quantizedFixture writes a variant from the model's F32 master.
func quantizedFixture(t testing.TB, dir, model, variant string) []byte {
	t.Helper()
	i := slices.IndexFunc(ggufVariants, func(v struct {
		name   string
		target quantize.FileType
		pure   bool
	}) bool {
		return v.name == variant
	})
	if i < 0 {
		t.Fatalf("no variant %s", variant)
	}
	v := ggufVariants[i]
	path := filepath.Join(dir, model+".F32.gguf")
	master, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(master, path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := quantize.File(&buf, f, master, v.target, quantize.Options{Pure: v.pure}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ggufTolerances say how far this engine's logits on a variant may be from
// llama.cpp's on the same file, from the fixtures' measured distances of a
// float64 forward pass from llama.cpp's (oracle/measurements.json), doubled:
//
//   - tight: what an engine that rounds the activations as llama.cpp does gets
//     ("emulated": ~1e-5), never below 1e-3, the README's bound for F32. Block
//     types round x as llama.cpp does; F16 and BF16 matrices meet x in float32
//     where llama.cpp rounds it to F16 or BF16, so for them tight is the
//     "plain" distance.
//   - loose: what an engine that computes in float32 without that rounding gets
//     ("plain"). A value that sits on a rounding boundary of the activations'
//     8-bit grid can go the other way here than in llama.cpp (its float32 sums
//     run in another order), and a flipped value moves that position's logits
//     by up to about this much (the README: "expect the same occasionally in any
//     engine").
func ggufTolerances(t testing.TB, model, variant string) (tight, loose float64) {
	if variant == "F32" {
		return 1e-3, 1e-3
	}
	var m struct {
		QuantVsNumpy map[string]struct {
			Mixed struct {
				Plain, Emulated struct {
					MaxAbs float64 `json:"max_abs"`
				}
			} `json:"mixed"`
		} `json:"quant_vs_numpy"`
	}
	testfile.JSON(t, filepath.Join(ggufFixtures, "models", model, "oracle", "measurements.json"), &m)
	d := m.QuantVsNumpy[variant].Mixed
	if d.Plain.MaxAbs == 0 || d.Emulated.MaxAbs == 0 {
		t.Fatalf("%s %s: no measurement", model, variant)
	}
	tight, loose = d.Emulated.MaxAbs, d.Plain.MaxAbs
	if variant == "F16" || variant == "BF16" {
		tight = loose
	}
	return max(2*tight, 1e-3), max(2*loose, 1e-3)
}

// maxFlipped is how many positions of a prompt may be off by more than the
// tight tolerance (and within the loose one): one in ten.
func maxFlipped(positions int) int { return max(1, positions/10) }

// Sessions compared with llama.cpp's numbers have an fp32 KV cache, as the
// oracle's llama.cpp had (its default, fp16, moves the logits by about 1e-2).

// TestGGUFMatchesLlamaCpp runs every variant of every fixture model: prompt ids,
// the logits of every position of each stored prompt (ggufTolerances), the
// argmax of every position where llama.cpp's top-2 margin exceeds the loose
// tolerance, and the greedy continuations up to the first step whose margin
// does not.
func TestGGUFMatchesLlamaCpp(t *testing.T) {
	for _, model := range ggufFixtureModels {
		for _, v := range ggufVariants {
			t.Run(model+"/"+v.name, func(t *testing.T) {
				t.Parallel()
				data, o := ggufFixture(t, model, v.name)
				m, err := Load(engine.Files{Model: data, ModelName: o.File})
				if err != nil {
					t.Fatal(err)
				}
				checkGGUFModel(t, m, o, model, v.name)
			})
		}
	}
}

func checkGGUFModel(t *testing.T, m *Model, o ggufOracle, model, variant string) {
	tight, loose := ggufTolerances(t, model, variant)
	voc := m.gguf.vocab
	if got := m.Info().Params; got != o.Meta.NParams {
		t.Errorf("%d parameters, llama.cpp counts %d", got, o.Meta.NParams)
	}
	if voc.BOS() != o.Meta.BOS || voc.EOS() != o.Meta.EOS || voc.AddBOS() != o.Meta.AddBOS || !slices.Equal(voc.EOG(), o.Meta.EOG) {
		t.Errorf("vocabulary: BOS %d EOS %d add_bos %v EOG %v, llama.cpp: %d %d %v %v",
			voc.BOS(), voc.EOS(), voc.AddBOS(), voc.EOG(), o.Meta.BOS, o.Meta.EOS, o.Meta.AddBOS, o.Meta.EOG)
	}
	dir := filepath.Join(ggufFixtures, "models", model, "oracle")
	for _, p := range o.Prompts {
		ids := voc.Encode(p.Text, p.AddSpecial, p.ParseSpecial)
		if !slices.Equal(ids, p.IDs) {
			t.Errorf("%s: ids %v, llama.cpp's %v", p.Name, ids, p.IDs)
			continue
		}
		var want [][]float32
		if p.LogitsFile != "" {
			want = readFloatRows(t, filepath.Join(dir, p.LogitsFile), o.Meta.NVocab)
		}
		s, err := m.newSession(engine.Options{KVCache: "fp32"})
		if err != nil {
			t.Fatal(err)
		}
		var worst float64
		var flipped []int
		for i, id := range p.IDs {
			logits, err := s.FeedTokens([]int{id})
			if err != nil {
				t.Fatal(err)
			}
			if want != nil {
				d := maxAbsDiff(logits, want[i])
				if d > tight {
					flipped = append(flipped, i)
				}
				worst = max(worst, d)
			}
			if a := kernels.Argmax(logits); a != p.Argmax[i] && p.Margin[i] > loose {
				t.Errorf("%s: position %d: argmax %d, llama.cpp's %d (its margin %.4f)", p.Name, i, a, p.Argmax[i], p.Margin[i])
			}
		}
		if worst > loose || len(flipped) > maxFlipped(len(p.IDs)) {
			t.Errorf("%s: logits differ from llama.cpp's by up to %.3g (tolerance %.3g), by more than %.3g at positions %v",
				p.Name, worst, loose, tight, flipped)
		}
		if want != nil {
			t.Logf("%s: %d positions, logits within %.2g of llama.cpp's (tight %.2g, loose %.2g; beyond tight: %v)",
				p.Name, len(p.IDs), worst, tight, loose, flipped)
		}
	}
	for _, g := range o.Greedy {
		var steps [][]float32
		if g.StepsFile != "" {
			steps = readFloatRows(t, filepath.Join(dir, g.StepsFile), o.Meta.NVocab)
		}
		checkGreedy(t, m, g.Name, g.PromptIDs, g.IDs, g.Margin, steps, tight, loose)
	}
}

// checkGreedy continues prompt greedily, feeding llama.cpp's choice at every
// step, and compares each choice with llama.cpp's: they must agree wherever
// llama.cpp's top-2 margin exceeds the loose tolerance (see ggufTolerances);
// where it does not, a different choice is counted and logged. steps, when
// not nil, are llama.cpp's logits of every step, which must be within tight.
func checkGreedy(t *testing.T, m *Model, name string, prompt, want []int, margins []float64, steps [][]float32, tight, loose float64) {
	s, err := m.newSession(engine.Options{KVCache: "fp32"})
	if err != nil {
		t.Fatal(err)
	}
	logits, err := s.FeedTokens(prompt)
	if err != nil {
		t.Fatal(err)
	}
	var close []int
	for i, w := range want {
		if got := kernels.Argmax(logits); got != w {
			if margins[i] > loose {
				t.Errorf("%s: greedy step %d: %d, llama.cpp's %d (its margin %.4f)", name, i, got, w, margins[i])
				return
			}
			close = append(close, i)
		}
		if steps != nil {
			if d := maxAbsDiff(logits, steps[i]); d > tight {
				t.Errorf("%s: greedy step %d: logits differ from llama.cpp's by %.3g", name, i, d)
			}
		}
		if logits, err = s.FeedTokens([]int{w}); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%s: %d greedy steps as llama.cpp's; a different choice within the loose tolerance at steps %v", name, len(want), close)
}

// TestTrainedGGUFRepliesAsLlamaCpp: llama-demo converted and quantized by
// llama.cpp (testdata/gguf/trained: four layers, real weights) answers every
// question of its README exactly as llama.cpp did: the same prompt ids from
// llama.cpp's tokenization, the same greedy reply ids up to its EOS, the same
// text. Later turns follow the earlier turns' ids, as the oracle fed them.
func TestTrainedGGUFRepliesAsLlamaCpp(t *testing.T) {
	for _, variant := range []string{"Q8_0", "Q4_0"} {
		data, o := trainedFixture(t, variant)
		m, err := Load(engine.Files{Model: data, ModelName: o.File})
		if err != nil {
			t.Fatal(err)
		}
		var history []int
		for _, turn := range o.Turns {
			if turn.Turn == 0 {
				history = nil
				if got := m.gguf.vocab.Encode(turnText(turn.User, true), true, false); !slices.Equal(got, turn.PromptIDs) {
					t.Errorf("%s: %q: prompt ids %v, llama.cpp's %v", variant, turn.User, got, turn.PromptIDs)
				}
			}
			history = append(history, turn.PromptIDs...)
			s, err := m.newSession(engine.Options{KVCache: "fp32"})
			if err != nil {
				t.Fatal(err)
			}
			logits, err := s.FeedTokens(history)
			if err != nil {
				t.Fatal(err)
			}
			var reply []int
			for len(reply) < 200 {
				id := kernels.Argmax(logits)
				reply = append(reply, id)
				if m.gguf.vocab.IsEOG(id) {
					break
				}
				if logits, err = s.FeedTokens([]int{id}); err != nil {
					t.Fatal(err)
				}
			}
			want := turn.FromRunC
			text := string(m.gguf.vocab.Detokenize(reply, false, false))
			if !slices.Equal(reply, want.ReplyIDs) || text != want.Reply {
				t.Errorf("%s: %q: reply %v %q, llama.cpp's %v %q", variant, turn.User, reply, text, want.ReplyIDs, want.Reply)
			}
			history = append(history, reply...)
		}
	}
}

// trainedOracle is testdata/gguf/trained/oracle/<VARIANT>.json: llama.cpp's
// replies to llama-demo's README questions, in the Alpaca format.
type trainedOracle struct {
	File  string
	Turns []struct {
		Conversation, Turn int
		User               string
		PromptIDs          []int `json:"llama_cpp_prompt_ids"`
		FromRunC           struct {
			ReplyIDs []int  `json:"reply_ids"`
			Reply    string `json:"reply"`
		} `json:"from_run_c_ids"`
	}
}

// trainedFixture returns llama.cpp's conversion of llama-demo in variant and
// its oracle.
func trainedFixture(t testing.TB, variant string) ([]byte, trainedOracle) {
	t.Helper()
	dir := filepath.Join(ggufFixtures, "trained")
	var o trainedOracle
	testfile.JSON(t, filepath.Join(dir, "oracle", variant+".json"), &o)
	data, err := os.ReadFile(filepath.Join(dir, o.File))
	if err != nil {
		t.Fatal(err)
	}
	return data, o
}

// turnText is the Alpaca text of a turn as the demo was trained on it.
func turnText(user string, first bool) string {
	text := fmt.Sprintf(alpacaTurn, user)
	if first {
		text = alpacaPreamble + text
	}
	return text
}
