package diag

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/llama"
	"github.com/inferpi/inferpi/firmware/loader"
)

// Decode shapes: on a Pi a Llama of a few tens of MB in q8_0, enough that a
// token's weights come from memory, not the caches, as a real model's do; under
// emulation (quick) a tiny one, so the step stays short.
var (
	decodeShape = llama.Config{Dim: 512, HiddenDim: 1408, NLayers: 8, NHeads: 8, NKVHeads: 4,
		VocabSize: 4096, SeqLen: 64, SharedClassifier: true}
	quickShape = llama.Config{Dim: 64, HiddenDim: 192, NLayers: 2, NHeads: 4, NKVHeads: 2,
		VocabSize: 512, SeqLen: 64, SharedClassifier: true}
)

// DecodeSpeed is decoding on one configuration of the worker pool.
type DecodeSpeed struct {
	Workers      int
	TokensPerSec float64
	GBps         float64 // weight bytes read per second
	tokens       []int
}

// DecodeResult compares decoding on one core with decoding on all of them.
type DecodeResult struct {
	Model       string // shape and size
	Tokens      int
	One, All    DecodeSpeed
	SameTokens  bool // both chose the same greedy tokens (the kernels' results do not depend on the split)
	weightBytes int64
}

func (r DecodeResult) String() string {
	s := fmt.Sprintf("%s, %d tokens: 1 core %.1f tokens/s (%.2f GB/s), %d cores %.1f tokens/s (%.2f GB/s), %.1fx",
		r.Model, r.Tokens, r.One.TokensPerSec, r.One.GBps, r.All.Workers, r.All.TokensPerSec, r.All.GBps, r.All.TokensPerSec/r.One.TokensPerSec)
	if !r.SameTokens {
		s += "; the two runs chose different tokens"
	}
	return s
}

// Decode makes a synthetic Llama model in memory (random weights, fixed seed:
// speed depends on the shapes and the encoding, not the values; see
// engine/synth), then decodes tokens greedily, first with the kernels' worker
// pool on one core, then on workers, and leaves the pool on workers. quick
// picks the tiny shape.
func Decode(quick bool, tokens, workers int) (DecodeResult, error) {
	cfg := decodeShape
	if quick {
		cfg = quickShape
	}
	files, err := synthesize(cfg, kernels.Q8_0)
	if err != nil {
		return DecodeResult{}, err
	}
	m, err := llama.Load(files)
	if err != nil {
		return DecodeResult{}, fmt.Errorf("synthetic model: %w", err)
	}
	info := m.Info()
	r := DecodeResult{
		Model:       fmt.Sprintf("synthetic Llama %dx%d, %s, %s", cfg.Dim, cfg.NLayers, info.Encoding, loader.Size(int64(len(files.Model)))),
		Tokens:      min(tokens, cfg.SeqLen-1),
		weightBytes: info.WeightBytesPerToken,
	}
	defer kernels.SetWorkers(workers)
	for _, n := range []int{1, workers} {
		kernels.SetWorkers(n)
		s, err := decode(m, r.Tokens)
		if err != nil {
			return r, err
		}
		s.Workers = n
		s.GBps = float64(r.weightBytes) * s.TokensPerSec / 1e9
		if n == 1 {
			r.One = s
		} else {
			r.All = s
		}
	}
	r.SameTokens = fmt.Sprint(r.One.tokens) == fmt.Sprint(r.All.tokens)
	return r, nil
}

// tokenFeeder is a session that takes token ids directly (both engines' do;
// `inferpi bench` uses the same).
type tokenFeeder interface {
	engine.Session
	FeedTokens(ids []int) ([]float32, error)
}

// decode feeds BOS, then each greedy token, n times, timing the n steps.
func decode(m *llama.Model, n int) (DecodeSpeed, error) {
	sess, err := m.NewSession(engine.Options{Mode: engine.Completion})
	if err != nil {
		return DecodeSpeed{}, err
	}
	s, ok := sess.(tokenFeeder)
	if !ok {
		return DecodeSpeed{}, fmt.Errorf("the Llama session cannot be fed token ids")
	}
	logits, err := s.FeedTokens([]int{1})
	if err != nil {
		return DecodeSpeed{}, err
	}
	var out DecodeSpeed
	start := time.Now()
	for range n {
		next := kernels.Argmax(logits)
		out.tokens = append(out.tokens, next)
		if logits, err = s.FeedTokens([]int{next}); err != nil {
			return out, err
		}
	}
	out.TokensPerSec = float64(n) / time.Since(start).Seconds()
	runtime.KeepAlive(m)
	return out, nil
}

// synthesize writes a llama2.c model of shape cfg with random weights, and a
// tokenizer of empty pieces (decoding by token id never looks at them).
func synthesize(cfg llama.Config, enc kernels.Encoding) (engine.Files, error) {
	rng := rand.New(rand.NewPCG(uint64(cfg.Dim), uint64(cfg.NLayers)))
	var model bytes.Buffer
	w := bufio.NewWriter(&model)
	_, err := llama.WriteModel(w, cfg, enc, func(t llama.Tensor) ([]float32, error) {
		switch t.Name {
		case "freq_cis_real", "freq_cis_imag":
			return nil, nil // the writer computes them
		}
		v := make([]float32, t.Floats())
		scale := float32(1 / float64(t.Cols))
		for i := range v {
			v[i] = (rng.Float32()*2 - 1) * scale
		}
		if t.Name == "rms_att" || t.Name == "rms_ffn" || t.Name == "rms_final" {
			for i := range v {
				v[i]++
			}
		}
		return v, nil
	})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return engine.Files{}, fmt.Errorf("synthetic model: %w", err)
	}
	tok := binary.LittleEndian.AppendUint32(nil, 1) // max_token_length
	for range cfg.VocabSize {
		tok = binary.LittleEndian.AppendUint32(tok, 0) // score
		tok = binary.LittleEndian.AppendUint32(tok, 0) // length
	}
	return engine.Files{Model: model.Bytes(), Tokenizer: tok}, nil
}
