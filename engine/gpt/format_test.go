package gpt_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/convert/nanochat"
	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/all"
	"github.com/inferpi/inferpi/engine/gpt"
)

func tinyBytes(t testing.TB, dtype string) engine.Files {
	t.Helper()
	tiny(t, dtype)
	f := tinyFiles[dtype]
	return engine.Files{Model: bytes.Clone(f.Model), Tokenizer: bytes.Clone(f.Tokenizer)}
}

func TestHeaderRoundTrip(t *testing.T) {
	files := tinyBytes(t, "fp32")
	h, err := gpt.ParseHeader(files.Model)
	if err != nil {
		t.Fatal(err)
	}
	want := &gpt.Header{NLayer: 4, NEmbd: 64, NHead: 4, NKVHead: 2, HeadDim: 16, MLPHidden: 256,
		VocabSize: 521, PaddedVocab: 576, SeqLen: 256, Windows: []int{128, 128, 128, 256},
		ValueEmbeds: []bool{false, true, false, true}, VEGateChannels: 12, SmearChannels: 24,
		BackoutLayer: 2, RopeBase: 100000, QKScale: 1.2, VEGateScale: 3, Softcap: 15,
		NormEps: 1.1920928955078125e-07, MatrixEnc: gpt.EncF32, EmbedEnc: gpt.EncF32}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("header\n got %+v\nwant %+v (the fixture's derived values)", h, want)
	}
	b, err := h.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, files.Model[:len(b)]) {
		t.Error("AppendBinary does not reproduce the file's header")
	}
}

func TestEngineDetection(t *testing.T) {
	files := tinyBytes(t, "fp16")
	e, err := all.Detect(files.Model[:engine.HeadSize])
	if err != nil || e.Name() != "GPT" {
		t.Fatalf("detected %v, %v", e, err)
	}
	if (gpt.Engine{}).Detect([]byte{0x20, 0, 0, 0, 0, 1}) {
		t.Error("GPT claims a llama2.c header")
	}
	m, err := e.Load(files)
	if err != nil {
		t.Fatal(err)
	}
	info := m.Info()
	// Stored parameters: 290,898 in the checkpoint minus 55 padding rows of wte,
	// lm_head (64 wide) and two value embeddings (32 wide).
	if info.Params != 290898-55*(64+64+32+32) || info.VocabSize != 521 || info.ContextSize != 256 || info.Encoding != "fp16" {
		t.Errorf("info %+v", info)
	}
}

// patch returns a copy of the tiny fp32 model with a uint32 changed.
func patch(t *testing.T, off int, v uint32) []byte {
	b := tinyBytes(t, "fp32").Model
	binary.LittleEndian.PutUint32(b[off:], v)
	return b
}

func TestBadModelFiles(t *testing.T) {
	good := tinyBytes(t, "fp32")
	demoTok := export(t, nanochat.Options{BaseDir: demoSrc, Source: "sft", Step: -1}).Tokenizer
	f32 := func(x float32) uint32 { return math.Float32bits(x) }
	cases := []struct {
		name      string
		model     []byte
		tokenizer []byte
		want      string
	}{
		{"wrong magic", append([]byte("NCHX"), good.Model[4:]...), nil, "model.bin: not a GPT (nanochat) model"},
		{"empty", nil, nil, "model.bin: not a GPT"},
		{"version", patch(t, 4, 2), nil, "format version 2"},
		{"header size", patch(t, 8, 100), nil, "header size field is 100"},
		{"zero layers", patch(t, 12, 0), nil, "0 layers"},
		{"heads", patch(t, 24, 3), nil, "kv heads must divide"},
		{"odd head dim", patch(t, 28, 15), nil, "head_dim 15"},
		{"padded vocab", patch(t, 40, 500), nil, "vocab_size 521, padded 500"},
		{"ve channels", patch(t, 48, 65), nil, "ve_gate_channels 65"},
		{"smear channels", patch(t, 52, 65), nil, "smear gate reads 65 of 64"},
		{"backout", patch(t, 56, 4), nil, "backout layer 4 of 4"},
		{"eps", patch(t, 76, f32(float32(math.NaN()))), nil, "norm_eps"},
		{"rope base", patch(t, 60, f32(0)), nil, "rope_base"},
		{"q8_0 header on fp32 weights", patch(t, 80, 2), nil, "needs exactly 494436: has trailing bytes"},
		{"bf16 header on fp32 weights", patch(t, 80, 4), nil, "the header's layout needs exactly"},
		{"encoding 11", patch(t, 80, 11), nil, "matrix encoding: unknown weight encoding 11"},
		{"unknown encoding", patch(t, 84, 1<<31), nil, "embedding encoding: unknown weight encoding 2147483648"},
		{"layer flags", patch(t, 92, 2), nil, "layer 0 has unknown flags"},
		{"huge context", patch(t, 44, 1<<20+1), nil, "sequence_len 1048577"},
		{"n_embd mismatch", patch(t, 16, 128), nil, "the header's layout needs exactly 2109440"},
		{"truncated weights", good.Model[:len(good.Model)-1], nil, "truncated"},
		{"cut in the header", good.Model[:60], nil, "shorter than the 88-byte header"},
		{"trailing bytes", append(bytes.Clone(good.Model), 0), nil, "trailing bytes"},
		{"no tokenizer", good.Model, []byte(nil), "tokenizer.bin: missing"},
		{"other model's tokenizer", good.Model, demoTok, "tokenizer.bin: 2009 tokens, but model.bin has a vocabulary of 521"},
		{"garbage tokenizer", good.Model, []byte("BPET\x07\x00\x00\x00"), "tokenizer.bin: version 7"},
	}
	for _, c := range cases {
		tok := c.tokenizer
		if tok == nil && !strings.Contains(c.name, "no tokenizer") {
			tok = good.Tokenizer
		}
		_, err := gpt.Load(engine.Files{Model: c.model, Tokenizer: tok})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		} else if !strings.HasPrefix(err.Error(), "model.bin: ") && !strings.HasPrefix(err.Error(), "tokenizer.bin: ") {
			t.Errorf("%s: error %q does not name the file", c.name, err)
		}
	}
}

// TestSlidingWindowMatters shows the long case depends on the short windows: with
// every layer given the full context, the logits leave the oracle.
func TestSlidingWindowMatters(t *testing.T) {
	o := loadOracle(t)
	c := o.Completions[2]
	if c.Name != "long" || len(c.IDs) <= 129 {
		t.Fatalf("case %s has %d tokens, want the long one past the 128 window", c.Name, len(c.IDs))
	}
	b := tinyBytes(t, "fp32")
	for l := 0; l < 4; l++ {
		binary.LittleEndian.PutUint32(b.Model[88+8*l:], 256)
	}
	m, err := gpt.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(t, "full attention", m.ForwardAll(c.IDs, nil), rows(t, c.PromptLogits)); d < 1e-2 {
		t.Errorf("without sliding windows the long prompt still matches (max |Δ| %.2g): the test cannot see the window", d)
	}
}

func TestSampling(t *testing.T) {
	m := tiny(t, "fp32")
	run := func(s engine.Sampling) []int {
		sess, _ := m.NewSession(engine.Options{Mode: engine.Completion, MaxTokens: 30, Sampling: s})
		r, err := sess.Turn(context.Background(), "The capital of France is", nil)
		if err != nil {
			t.Fatal(err)
		}
		return r.IDs
	}
	greedy := run(engine.Sampling{})
	a := run(engine.Sampling{Temperature: 1, TopK: 50, Seed: 42})
	b := run(engine.Sampling{Temperature: 1, TopK: 50, Seed: 42})
	c := run(engine.Sampling{Temperature: 1, TopK: 50, Seed: 43})
	if !reflect.DeepEqual(a, b) {
		t.Error("the same seed gave different tokens")
	}
	if reflect.DeepEqual(a, c) || reflect.DeepEqual(a, greedy) {
		t.Error("sampling at temperature 1 ignored the seed or matched greedy")
	}
	if k1 := run(engine.Sampling{Temperature: 0.8, TopK: 1, Seed: 7}); !reflect.DeepEqual(k1, greedy) {
		t.Errorf("top-k 1 gave %v, greedy %v", k1, greedy)
	}
}

// TestTurnsKeepCache checks chat bookkeeping: Used grows by exactly the fed
// tokens, Reset starts over, and a prompt that cannot fit reports a full context.
func TestTurnsKeepCache(t *testing.T) {
	m := tiny(t, "fp32")
	s, _ := m.NewSession(engine.Options{Mode: engine.Chat, MaxTokens: 5})
	r1, _ := s.Turn(context.Background(), "Hi!", nil)
	if s.Used() != len(r1.PromptIDs)+len(r1.IDs)-1 {
		t.Errorf("used %d after a %d-token prompt and %d-token reply", s.Used(), len(r1.PromptIDs), len(r1.IDs))
	}
	r2, _ := s.Turn(context.Background(), "And?", nil)
	if r2.PromptIDs[0] != 516 || r2.PromptIDs[1] != 513 {
		t.Errorf("second turn after a cut reply starts %v, want <|assistant_end|> <|user_start|>", r2.PromptIDs[:2])
	}
	s.Reset()
	if s.Used() != 0 {
		t.Errorf("used %d after Reset", s.Used())
	}
	r3, _ := s.Turn(context.Background(), "Hi!", nil)
	if !reflect.DeepEqual(r3, r1) && !reflect.DeepEqual(r3.IDs, r1.IDs) {
		t.Errorf("after Reset the same input gave %v, first time %v", r3.IDs, r1.IDs)
	}
	long := strings.Repeat("word ", 300)
	r4, err := s.Turn(context.Background(), long, nil)
	if err != nil || r4.Stop != engine.StopContextFull || len(r4.IDs) != 0 {
		t.Errorf("overlong prompt: %v, stop %v, %d ids", err, r4.Stop, len(r4.IDs))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	used := s.Used()
	if r, _ := s.Turn(ctx, "Hi!", nil); r.Stop != engine.StopCanceled || s.Used() != used {
		t.Errorf("canceled turn: stop %v, used %d -> %d", r.Stop, used, s.Used())
	}
}

func FuzzParseHeader(f *testing.F) {
	files := tinyBytes(f, "fp32")
	f.Add(files.Model[:200])
	f.Add(files.Model[:88])
	f.Add([]byte("NCHT\x01\x00\x00\x00"))
	q4 := export(f, nanochat.Options{BaseDir: tinyDir, Step: -1, DType: "q4_0"}).Model
	f.Add(q4[:200])
	for _, enc := range []gpt.Encoding{gpt.EncQ4_K, gpt.EncQ6_K} { // whole files, with fallbacks
		if m, err := compatModel(enc); err == nil {
			f.Add(m)
		}
	}
	tok := files.Tokenizer
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := gpt.ParseHeader(data)
		if err == nil {
			if _, _, err := h.Layout(); err != nil {
				t.Fatalf("valid header without a layout: %v", err)
			}
		}
		// A whole (small) fuzzed file must load or fail cleanly.
		if m, err := gpt.Load(engine.Files{Model: data, Tokenizer: tok}); err == nil {
			m.Info()
		}
	})
}

func TestTemplateSetting(t *testing.T) {
	files := tinyBytes(t, "fp32")
	files.Settings = []byte(`{"template": "none"}`)
	m, err := gpt.Load(files)
	if err != nil {
		t.Fatal(err)
	}
	if m.Info().Template != "none" {
		t.Errorf("template %q", m.Info().Template)
	}
	s, _ := m.NewSession(engine.Options{Mode: engine.Chat, MaxTokens: 3})
	r, _ := s.Turn(context.Background(), "The capital of France is", nil)
	if want := loadOracle(t).Completions[0].IDs; !reflect.DeepEqual(r.PromptIDs, want) {
		t.Errorf("chat without template fed %v, want the plain completion prompt %v", r.PromptIDs, want)
	}
	files.Settings = []byte(`{"template": "alpaca"}`)
	if _, err := gpt.Load(files); err == nil || !strings.HasPrefix(err.Error(), "inferpi.json: template \"alpaca\"") {
		t.Errorf("alpaca template: %v", err)
	}
}
