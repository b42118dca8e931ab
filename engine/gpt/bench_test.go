package gpt_test

import (
	"context"
	"os"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/gpt"
	"github.com/inferpi/inferpi/engine/kernels"
)

// BenchmarkDemoToken measures one decoding step of the bundled demo model in
// each encoding (fp16 as bundled, the others re-encoded from it): b.N tokens
// of a greedy completion, reported as tokens/s.
func BenchmarkDemoToken(b *testing.B) {
	model, err := os.ReadFile(demoBundle + "/model.bin")
	if err != nil {
		b.Fatal(err)
	}
	tok, err := os.ReadFile(demoBundle + "/tokenizer.bin")
	if err != nil {
		b.Fatal(err)
	}
	for _, enc := range []kernels.Encoding{kernels.F16, kernels.Q8_0, kernels.Q4_0} {
		b.Run(enc.String(), func(b *testing.B) {
			data := model
			if enc != kernels.F16 {
				if data, err = gpt.Reencode(model, enc); err != nil {
					b.Fatal(err)
				}
			}
			m, err := gpt.Load(engine.Files{Model: data, Tokenizer: tok})
			if err != nil {
				b.Fatal(err)
			}
			s, _ := m.NewSession(engine.Options{Mode: engine.Completion})
			b.ResetTimer()
			done := 0
			for done < b.N {
				n := min(b.N-done, m.Header().SeqLen-2)
				s.Reset()
				s.Options().MaxTokens = n
				r, err := s.Turn(context.Background(), "", nil)
				if err != nil {
					b.Fatal(err)
				}
				if len(r.IDs) == 0 {
					b.Fatal("no tokens generated")
				}
				done += len(r.IDs)
			}
			b.ReportMetric(float64(done)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}
