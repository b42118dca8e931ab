package llama

import (
	"context"
	"slices"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/tokenizer/llama2c"
)

func completion(s engine.Sampling, max int) engine.Options {
	return engine.Options{Mode: engine.Completion, Sampling: s, MaxTokens: max}
}

// runCase generates like run.c's generate for c and checks ids and printed bytes.
func runCase(t *testing.T, m *Model, c genCase, opts engine.Options, want []int, wantStop engine.StopReason) *Session {
	t.Helper()
	s, err := m.newSession(opts)
	if err != nil {
		t.Fatal(err)
	}
	var emitted string
	reply, err := s.Turn(context.Background(), unhex(t, c.PromptHex), func(p string) { emitted += p })
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	if !slices.Equal(reply.PromptIDs, c.PromptIDs) {
		t.Errorf("%s: prompt ids %v, run.c %v", c.Name, reply.PromptIDs, c.PromptIDs)
	}
	if !slices.Equal(reply.IDs, want) {
		t.Errorf("%s: generated %v\nrun.c:    %v", c.Name, reply.IDs, want)
	}
	if reply.Stop != wantStop {
		t.Errorf("%s: stop %v, want %v", c.Name, reply.Stop, wantStop)
	}
	if emitted != reply.Text {
		t.Errorf("%s: emitted %q but Reply.Text is %q", c.Name, emitted, reply.Text)
	}
	// run.c prints the prompt (each piece after the one before), the reply, "\n".
	printed := string(m.tok.Decode(c.PromptIDs)) + reply.Text + "\n"
	if want := unhex(t, c.StdoutHex); printed != want {
		t.Errorf("%s: printed %q\nrun.c:   %q", c.Name, printed, want)
	}
	return s
}

func TestGreedyFP32MatchesRunC(t *testing.T) {
	o := readOracle(t)
	m := loadModel(t, readFiles(t, tinyDir))
	if m.enc != kernels.F32 {
		t.Fatalf("fixture model loaded as %v", m.enc)
	}
	for _, c := range o.Greedy {
		runCase(t, m, c, completion(engine.Sampling{}, len(c.Generated)), c.Generated, engine.StopMaxTokens)
		checkLogits(t, m, c.Name, c.Sequence, c.Logits, tolFP32)
	}
}

func TestGreedyFP16MatchesRunCOnRoundedWeights(t *testing.T) {
	o := readOracle(t)
	files := readFiles(t, tinyDir)
	fp16, err := ConvertFP16(files.Model)
	if err != nil {
		t.Fatal(err)
	}
	if len(fp16) != 28+(len(files.Model)-28)/2 {
		t.Fatalf("fp16 file is %d bytes", len(fp16))
	}
	files.Model = fp16
	m := loadModel(t, files)
	if m.enc != kernels.F16 || m.Info().Encoding != "fp16" {
		t.Fatalf("converted model loaded as %v", m.enc)
	}
	if o.Tolerances.FP16 != tolFP16 {
		t.Fatalf("fixture recommends %g for fp16, test uses %g", o.Tolerances.FP16, tolFP16)
	}
	for _, c := range o.GreedyFP16 {
		runCase(t, m, c, completion(engine.Sampling{}, len(c.Generated)), c.Generated, engine.StopMaxTokens)
		checkLogits(t, m, c.Name, c.Sequence, c.Logits, tolFP16)
	}
	// And the fp16 model is not the fp32 one: its logits differ from run.c's fp32
	// ones by far more than the fp32 tolerance (the README measures about 0.1).
	fp32 := readLogits(t, o.Greedy[0].Logits)[0]
	r := m.runState()
	if d := maxAbsDiff(forward(m.w, m.cfg, r, llama2c.BOS, 0, true), fp32); d < 10*tolFP32 {
		t.Fatalf("fp16 model's logits within %.3g of the fp32 oracle: weights not rounded?", d)
	}
}

func TestSampledMatchesRunC(t *testing.T) {
	o := readOracle(t)
	m := loadModel(t, readFiles(t, tinyDir))
	for _, c := range o.Sampled {
		a := c.RunCArgs
		opts := completion(engine.Sampling{Temperature: a.Temperature, TopP: a.TopP, Seed: a.Seed}, len(c.Generated))
		runCase(t, m, c, opts, c.Generated, engine.StopMaxTokens)
	}
}

func TestContextFullStopsLikeRunC(t *testing.T) {
	o := readOracle(t)
	m := loadModel(t, readFiles(t, tinyDir))
	c := o.SeqLen
	s := runCase(t, m, c, completion(engine.Sampling{}, 0), c.Generated, engine.StopContextFull)
	if s.Used() != m.cfg.SeqLen {
		t.Fatalf("cache holds %d positions, want %d", s.Used(), m.cfg.SeqLen)
	}
	checkLogits(t, m, c.Name, c.Sequence, c.Logits, tolFP32)

	// A full cache refuses the next turn without touching anything.
	reply, err := s.Turn(context.Background(), "more", nil)
	if err != nil || reply.Stop != engine.StopContextFull || len(reply.IDs) != 0 || s.Used() != m.cfg.SeqLen {
		t.Fatalf("turn on a full cache: %+v, %v, used %d", reply, err, s.Used())
	}
	// Reset gives a fresh conversation with the same result as a new session.
	s.Reset()
	reply, err = s.Turn(context.Background(), unhex(t, c.PromptHex), nil)
	if err != nil || !slices.Equal(reply.IDs, c.Generated) {
		t.Fatalf("after Reset: %v %v", reply.IDs, err)
	}
}

func TestBOSStopsGeneration(t *testing.T) {
	o := readOracle(t)
	m := loadModel(t, readFiles(t, tinyDir))
	c := o.BOSStop
	if c.WithBOS[len(c.WithBOS)-1] != llama2c.BOS {
		t.Fatal("bos_stop_case does not end with BOS")
	}
	// Reply.IDs keeps the stop token; the printed text does not show it.
	runCase(t, m, c, completion(engine.Sampling{}, 0), c.WithBOS, engine.StopEnd)
	checkLogits(t, m, c.Name, c.Sequence, c.Logits, tolFP32)
}

func TestEmptyPrompt(t *testing.T) {
	o := readOracle(t)
	m := loadModel(t, readFiles(t, tinyDir))
	c := o.Empty
	if !slices.Equal(c.PromptIDs, []int{llama2c.BOS}) {
		t.Fatalf("empty prompt ids %v", c.PromptIDs)
	}
	runCase(t, m, c, completion(engine.Sampling{}, len(c.Generated)), c.Generated, engine.StopMaxTokens)
	checkLogits(t, m, c.Name, c.Sequence, c.Logits, tolFP32)
}

// With the pure-Go reference kernels (dot products summed in order, as run.c)
// the logits meet the fixture's tighter 1e-4 recommendation.
func TestReferenceKernelsMeetRunCTolerance(t *testing.T) {
	kernels.UseReference(true)
	defer kernels.UseReference(false)
	o := readOracle(t)
	m := loadModel(t, readFiles(t, tinyDir))
	for _, c := range o.Greedy {
		checkLogits(t, m, c.Name, c.Sequence, c.Logits, 1e-4)
	}
}
