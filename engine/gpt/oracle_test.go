package gpt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/inferpi/inferpi/convert/nanochat"
	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/gpt"
	"github.com/inferpi/inferpi/internal/testfile"
)

const tinyDir = "../../testdata/nanochat-tiny"

// export converts a nanochat base dir (in memory) with the given dtype.
func export(t testing.TB, opts nanochat.Options) engine.Files {
	t.Helper()
	files, err := nanochat.Locate(opts)
	if err != nil {
		t.Fatal(err)
	}
	var model, tok bytes.Buffer
	if _, err := nanochat.Export(files, opts.DType, &model, &tok); err != nil {
		t.Fatal(err)
	}
	return engine.Files{Model: model.Bytes(), Tokenizer: tok.Bytes()}
}

var (
	tinyOnce  = map[string]*sync.Once{"fp32": {}, "fp16": {}}
	tinyFiles = map[string]engine.Files{}
)

// tiny returns the fixture checkpoint exported with dtype, loaded.
func tiny(t testing.TB, dtype string) *gpt.Model {
	t.Helper()
	tinyOnce[dtype].Do(func() {
		tinyFiles[dtype] = export(t, nanochat.Options{BaseDir: tinyDir, DType: dtype, Step: -1})
	})
	m, err := gpt.Load(tinyFiles[dtype])
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type binRef struct {
	File  string `json:"file"`
	Shape []int  `json:"shape"`
}

type greedy struct {
	IDs        []int  `json:"ids"`
	GreedyIDs  []int  `json:"greedy_ids"` // in the fp16w variants
	StepLogits binRef `json:"step_logits"`
}

type variant struct {
	PromptLogits binRef `json:"prompt_logits"`
	greedy
}

type oracle struct {
	Completions []struct {
		Name         string  `json:"name"`
		Prompt       string  `json:"prompt"`
		IDs          []int   `json:"ids"`
		PromptLogits binRef  `json:"prompt_logits"`
		Greedy       greedy  `json:"greedy"`
		FP16W        variant `json:"fp16w"`
		FP16WMat     variant `json:"fp16w_mat"`
	} `json:"completion_cases"`
	Chats []struct {
		Name  string   `json:"name"`
		Users []string `json:"user_messages"`
		Turns []struct {
			PromptIDs  []int  `json:"prompt_ids"`
			Response   []int  `json:"response_ids"`
			Text       string `json:"response_text"`
			StoppedOn  string `json:"stopped_on"`
			Appended   []int  `json:"appended_to_conversation"`
			StepLogits binRef `json:"step_logits"`
		} `json:"turns"`
		Final []int `json:"final_conversation_ids"`
	} `json:"chat_cases"`
	Debug struct {
		IDs      []int  `json:"ids"`
		PerLayer binRef `json:"per_layer"`
		LMHead   binRef `json:"lm_head_input"`
	} `json:"debug_activations"`
}

func loadOracle(t testing.TB) *oracle {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tinyDir, "oracle.json"))
	if err != nil {
		t.Fatal(err)
	}
	var o oracle
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	return &o
}

// rows reads a float32 .bin oracle file as rows of its last dimension.
func rows(t testing.TB, r binRef) [][]float32 {
	t.Helper()
	v := testfile.Float32s(t, filepath.Join(tinyDir, r.File))
	n := 1
	for _, d := range r.Shape {
		n *= d
	}
	if len(v) != n {
		t.Fatalf("%s: %d float32 for shape %v", r.File, len(v), r.Shape)
	}
	width := r.Shape[len(r.Shape)-1]
	var out [][]float32
	for i := 0; i < n; i += width {
		out = append(out, v[i:i+width:i+width])
	}
	return out
}

// maxDiff is the largest |a-b| over rows of equal shape.
func maxDiff(t testing.TB, what string, got, want [][]float32) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	var m float64
	for i := range got {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("%s: row %d has %d values, want %d", what, i, len(got[i]), len(want[i]))
		}
		for j := range got[i] {
			d := math.Abs(float64(got[i][j]) - float64(want[i][j]))
			if math.IsNaN(d) {
				d = math.Inf(1)
			}
			m = math.Max(m, d)
		}
	}
	return m
}

func checkClose(t *testing.T, what string, got, want [][]float32, tol float64) {
	t.Helper()
	if d := maxDiff(t, what, got, want); d >= tol {
		t.Errorf("%s: max |Δ| = %.3g, want < %g", what, d, tol)
	} else {
		t.Logf("%s: max |Δ| = %.3g", what, d)
	}
}

// completion runs a completion through a Session, returning the reply and the
// logits of each generated step.
func completion(t *testing.T, m *gpt.Model, prompt string, n int) (engine.Reply, [][]float32) {
	t.Helper()
	s, err := m.NewSession(engine.Options{Mode: engine.Completion, MaxTokens: n})
	if err != nil {
		t.Fatal(err)
	}
	var steps [][]float32
	s.(*gpt.Session).SetLogitsHook(func(l []float32) { steps = append(steps, append([]float32(nil), l...)) })
	r, err := s.Turn(context.Background(), prompt, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r, steps
}

func TestCompletionFP32(t *testing.T) {
	o := loadOracle(t)
	m := tiny(t, "fp32")
	for _, c := range o.Completions {
		checkClose(t, c.Name+" prompt logits", m.ForwardAll(c.IDs, nil), rows(t, c.PromptLogits), 1e-4)
		r, steps := completion(t, m, c.Prompt, len(c.Greedy.IDs))
		if !reflect.DeepEqual(r.PromptIDs, c.IDs) {
			t.Errorf("%s: prompt ids %v, want %v", c.Name, r.PromptIDs, c.IDs)
		}
		if !reflect.DeepEqual(r.IDs, c.Greedy.IDs) || r.Stop != engine.StopMaxTokens {
			t.Errorf("%s: greedy ids %v (%v)\nwant %v", c.Name, r.IDs, r.Stop, c.Greedy.IDs)
		}
		checkClose(t, c.Name+" step logits", steps, rows(t, c.Greedy.StepLogits), 1e-4)
	}
}

// TestCompletionFP16 checks the default export, which stores every matrix and
// embedding in fp16 and the four 1-D lambda vectors in fp32: the fp16w_mat oracle.
func TestCompletionFP16(t *testing.T) {
	o := loadOracle(t)
	m := tiny(t, "fp16")
	if h := m.Header(); h.MatrixEnc != gpt.EncF16 || h.EmbedEnc != gpt.EncF16 {
		t.Fatalf("default export encodings %v/%v, want fp16", h.MatrixEnc, h.EmbedEnc)
	}
	for _, c := range o.Completions {
		v := c.FP16WMat
		checkClose(t, c.Name+" fp16 prompt logits", m.ForwardAll(c.IDs, nil), rows(t, v.PromptLogits), 1e-3)
		r, steps := completion(t, m, c.Prompt, len(v.GreedyIDs))
		if !reflect.DeepEqual(r.IDs, v.GreedyIDs) {
			t.Errorf("%s: fp16 greedy ids %v\nwant %v", c.Name, r.IDs, v.GreedyIDs)
		}
		checkClose(t, c.Name+" fp16 step logits", steps, rows(t, v.StepLogits), 1e-3)
		// The fp32 oracle differs by up to 5e-3: make sure the test could tell them apart.
		if d := maxDiff(t, "fp16 vs fp32 oracle", m.ForwardAll(c.IDs, nil), rows(t, c.PromptLogits)); d < 1e-4 {
			t.Errorf("%s: fp16 export matches the fp32 oracle to %.2g: were the weights really rounded?", c.Name, d)
		}
	}
}

func TestDebugActivations(t *testing.T) {
	o := loadOracle(t)
	m := tiny(t, "fp32")
	h := m.Header()
	P := len(o.Debug.IDs)
	perLayer := rows(t, o.Debug.PerLayer) // [layer][what][pos] rows of n_embd
	lmIn := rows(t, o.Debug.LMHead)
	got := make([][]float32, len(perLayer))
	gotLM := make([][]float32, P)
	m.ForwardAll(o.Debug.IDs, func(pos, layer, what int, v []float32) {
		row := append([]float32(nil), v...)
		if layer == h.NLayer {
			gotLM[pos] = row
			return
		}
		got[(layer*4+what)*P+pos] = row
	})
	names := []string{"block input", "attention output", "MLP output", "block output"}
	for l := range h.NLayer {
		for w, name := range names {
			i := (l*4 + w) * P
			checkClose(t, fmt.Sprintf("layer %d %s", l, name), got[i:i+P], perLayer[i:i+P], 1e-4)
		}
	}
	checkClose(t, "lm_head input", gotLM, lmIn, 1e-4)
}

// TestChat replays the chat cases through one Session per conversation, keeping
// the KV cache across turns (so the second turn's first token must be smeared).
func TestChat(t *testing.T) {
	o := loadOracle(t)
	m := tiny(t, "fp32")
	for _, c := range o.Chats {
		s, _ := m.NewSession(engine.Options{Mode: engine.Chat, MaxTokens: 40})
		var steps [][]float32
		s.(*gpt.Session).SetLogitsHook(func(l []float32) { steps = append(steps, append([]float32(nil), l...)) })
		var conv []int // the conversation as nanochat's chat CLI holds it
		for i, turn := range c.Turns {
			steps = steps[:0]
			var pieces string
			r, err := s.Turn(context.Background(), c.Users[i], func(p string) { pieces += p })
			if err != nil {
				t.Fatal(err)
			}
			conv = append(conv, r.PromptIDs...)
			if !reflect.DeepEqual(conv, turn.PromptIDs) {
				t.Errorf("%s turn %d: conversation before the reply\n got %v\nwant %v", c.Name, i, conv, turn.PromptIDs)
			}
			if !reflect.DeepEqual(r.IDs, turn.Response) {
				t.Errorf("%s turn %d: reply\n got %v\nwant %v", c.Name, i, r.IDs, turn.Response)
			}
			wantStop := map[string]engine.StopReason{"assistant_end": engine.StopEnd, "bos": engine.StopEnd, "max_tokens": engine.StopMaxTokens}[turn.StoppedOn]
			if r.Stop != wantStop {
				t.Errorf("%s turn %d: stop %v, want %v", c.Name, i, r.Stop, wantStop)
			}
			// The printed text is the reply without its stop token.
			text := turn.Text
			if turn.StoppedOn == "assistant_end" {
				text = m.Tokenizer().Decode(turn.Response[:len(turn.Response)-1])
			}
			if r.Text != text || pieces != text {
				t.Errorf("%s turn %d: text %q (streamed %q), want %q", c.Name, i, r.Text, pieces, text)
			}
			checkClose(t, fmt.Sprintf("%s turn %d step logits", c.Name, i), steps, rows(t, turn.StepLogits), 1e-4)
			conv = append(conv, r.IDs...)
		}
		// The next turn would first append <|assistant_end|> after a cut reply.
		if conv[len(conv)-1] != 516 {
			conv = append(conv, 516)
		}
		if !reflect.DeepEqual(conv, c.Final) {
			t.Errorf("%s: final conversation\n got %v\nwant %v", c.Name, conv, c.Final)
		}
	}
}
