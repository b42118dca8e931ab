package llama

import (
	"testing"

	"github.com/inferpi/inferpi/engine/kernels"
)

// BenchmarkForward is one decoding step (one token through the whole model, logits
// included) at position 64, for the demo model in each encoding. Weight bytes
// read per step are reported as MB/s.
func BenchmarkForward(b *testing.B) {
	files := readFiles(b, demoDir)
	type model struct {
		name  string
		model []byte
	}
	models := []model{{"demo-fp32", files.Model}}
	for _, enc := range []kernels.Encoding{kernels.F16, kernels.Q8_0, kernels.Q4_0} {
		models = append(models, model{"demo-" + enc.String(), convert(b, files.Model, enc)})
	}
	for _, c := range models {
		b.Run(c.name, func(b *testing.B) {
			f := files
			f.Model = c.model
			m := loadModel(b, f)
			r := m.runState()
			for pos := 0; pos < 64; pos++ {
				forward(m.w, m.cfg, r, 259+pos, pos, false)
			}
			b.SetBytes(m.w.bytesPerToken())
			b.ResetTimer()
			for b.Loop() {
				forward(m.w, m.cfg, r, 300, 64, true)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}
