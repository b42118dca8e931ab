package llama

import "testing"

// BenchmarkForward is one decoding step (one token through the whole model, logits
// included) at position 64, for the demo model in fp32 and fp16. Weight bytes
// read per step are reported as MB/s.
func BenchmarkForward(b *testing.B) {
	files := readFiles(b, demoDir)
	fp16, err := ConvertFP16(files.Model)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		model []byte
	}{{"demo-fp32", files.Model}, {"demo-fp16", fp16}} {
		b.Run(c.name, func(b *testing.B) {
			f := files
			f.Model = c.model
			m := loadModel(b, f)
			r := newRunState(m.cfg)
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
