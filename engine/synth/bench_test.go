package synth

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/modeldir"
)

// BenchmarkPrefillVsDecode feeds a prompt of random tokens to the full-size
// presets (batched prefill) and then decodes tokens one at a time after it, in the
// same iteration, and reports both speeds and their ratio x-decode: how many times
// faster per token a long prompt goes through the model than generation does.
//
//	go test -run '^$' -bench PrefillVsDecode -benchtime 2x ./engine/synth/
func BenchmarkPrefillVsDecode(b *testing.B) {
	for _, c := range []struct {
		preset string
		enc    kernels.Encoding
	}{{"gpt-286m", kernels.F16}, {"gpt-286m", kernels.Q8_0}, {"gpt-286m", kernels.Q4_0}, {"llama-50m", kernels.F16}} {
		for _, prompt := range []int{128, 512} {
			b.Run(fmt.Sprintf("%s/%v/prompt=%d", c.preset, c.enc, prompt), func(b *testing.B) {
				benchPrefillVsDecode(b, c.preset, c.enc, prompt, 32)
			})
		}
	}
}

type feeder interface {
	engine.Session
	FeedTokens(ids []int) ([]float32, error)
}

// benchDirs holds the models synthesized for benchmarks, by preset and encoding,
// for every benchmark run and prompt length; TestMain removes them.
var benchDirs = map[string]string{}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, dir := range benchDirs {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

func benchPrefillVsDecode(b *testing.B, preset string, enc kernels.Encoding, prompt, decode int) {
	key := preset + "/" + enc.String()
	dir, ok := benchDirs[key]
	if !ok {
		p, _ := Lookup(preset)
		var err error
		if dir, err = os.MkdirTemp("", "inferpi-synth-"); err != nil {
			b.Fatal(err)
		}
		benchDirs[key] = dir
		if _, err := Write(dir, p, enc, 1); err != nil {
			b.Fatal(err)
		}
	}
	m, err := modeldir.Open(dir, modeldir.Overrides{})
	if err != nil {
		b.Fatal(err)
	}
	sess, err := m.NewSession(engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	s := sess.(feeder)
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]int, prompt)
	for i := range ids {
		ids[i] = rng.IntN(m.Info().VocabSize)
	}
	var prefillTime, decodeTime time.Duration
	b.ResetTimer()
	for range b.N {
		s.Reset()
		t0 := time.Now()
		if _, err := s.FeedTokens(ids); err != nil {
			b.Fatal(err)
		}
		prefillTime += time.Since(t0)
		t0 = time.Now()
		for i := range decode {
			if _, err := s.FeedTokens(ids[i : i+1]); err != nil {
				b.Fatal(err)
			}
		}
		decodeTime += time.Since(t0)
	}
	pre := float64(b.N*prompt) / prefillTime.Seconds()
	dec := float64(b.N*decode) / decodeTime.Seconds()
	b.ReportMetric(pre, "prefill-tokens/s")
	b.ReportMetric(dec, "decode-tokens/s")
	b.ReportMetric(pre/dec, "x-decode")
}
