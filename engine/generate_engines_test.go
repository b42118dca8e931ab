package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/modeldir"
)

// TestEnginesTimeOnePassPerToken: every engine's GenTime covers one forward
// pass per reply token, and its PromptTime the rest of the tokens the turn
// feeds, so that tokens/s means the same for all. The clock reads the positions
// the session's cache holds: each forward pass of a reply token adds one.
func TestEnginesTimeOnePassPerToken(t *testing.T) {
	for _, path := range []string{
		"../models/llama-demo",                                  // Llama, llama2.c file, Alpaca chat
		"../models/nanochat-demo",                               // GPT, nanochat chat with the calculator
		"../testdata/gguf/models/llama-spm/llama-spm.Q8_0.gguf", // Llama, GGUF file, ChatML chat
	} {
		m, err := modeldir.Open(path, modeldir.Overrides{})
		if err != nil {
			t.Fatal(err)
		}
		name := m.Info().Engine + " " + path
		for mode, modeName := range map[engine.Mode]string{engine.Chat: "chat", engine.Completion: "completion"} {
			s, err := m.NewSession(engine.Options{Mode: mode, MaxTokens: 6})
			if err != nil {
				t.Fatal(err)
			}
			restore := engine.SetClock(func() time.Time { return time.Unix(0, int64(s.Used())) })
			for _, input := range []string{"What is 2+2?", "And the capital of France?"} {
				used := s.Used()
				r, err := s.Turn(context.Background(), input, nil)
				if err != nil || len(r.IDs) == 0 {
					t.Fatalf("%s, %s: %d tokens, %v", name, modeName, len(r.IDs), err)
				}
				if want := time.Duration(len(r.IDs)); r.GenTime != want {
					t.Errorf("%s, %s: %d reply tokens took %d forward passes", name, modeName, len(r.IDs), r.GenTime)
				}
				if fed := time.Duration(s.Used() - used); r.PromptTime+r.GenTime != fed {
					t.Errorf("%s, %s: %d positions timed (prompt %d, reply %d), %d fed", name, modeName, r.PromptTime+r.GenTime, r.PromptTime, r.GenTime, fed)
				}
			}
			restore()
		}
	}
}
