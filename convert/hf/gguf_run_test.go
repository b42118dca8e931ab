package hf

import (
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/llama"
	"github.com/inferpi/inferpi/engine/quantize"
)

// Every fixture converted to f32 runs on InferPi's engine as llama.cpp runs
// its own conversion: the logits after the first and the last prompt token
// within the fixture README's tolerance of llama.cpp's, and 32 greedy tokens
// equal.
func TestGGUFRunsLikeLlamaCpp(t *testing.T) {
	for _, fixture := range fixtures {
		_, data := writeGGUF(t, copyFixture(t, fixture), quantize.FileF32)
		m, err := llama.Load(engine.Files{Model: data, ModelName: fixture + ".gguf"})
		if err != nil {
			t.Fatalf("%s: %v", fixture, err)
		}
		var sessions []*llama.Session
		for range readOracle(t, fixture).Prompts {
			s, err := m.NewSession(engine.Options{KVCache: "fp32"}) // as llama.cpp's oracle ran
			if err != nil {
				t.Fatal(err)
			}
			sessions = append(sessions, s.(*llama.Session))
		}
		checkRun(t, fixture, func(prompt, id int) []float32 {
			logits, err := sessions[prompt].FeedTokens([]int{id})
			if err != nil {
				t.Fatal(err)
			}
			return logits
		}, logitTolerance)
	}
}
