package llama

import (
	"testing"

	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/internal/racedetect"
)

// TestDecodingAllocatesNothing: a decoding step makes no garbage. Its steps are the
// RunState's methods, bound once, and its input and jobs come from storage that is
// reused (kernels.Input.Prepare, the pool's job slots): anything allocated per layer
// is memory the cores meet cold, on the path where a job starts.
func TestDecodingAllocatesNothing(t *testing.T) {
	if racedetect.Enabled {
		t.Skip("the race detector makes sync.Pool drop what it is given")
	}
	files := readFiles(t, tinyDir)
	models := map[string]*Model{"llama-tiny fp32": loadModel(t, files)}
	files.Model = convert(t, files.Model, kernels.Q4_0)
	models["llama-tiny q4_0"] = loadModel(t, files)
	// GGUF: biases, q/k norms, and q, k, v of mixed types prepared in place.
	for _, model := range []string{"qwen2-bpe", "qwen3-bpe"} {
		models[model+" Q4_K_M"] = loadFixture(t, model, "Q4_K_M")
	}
	for name, m := range models {
		r := m.runState()
		forward(m.w, m.cfg, r, 1, 0, true)
		pos := 1
		if a := testing.AllocsPerRun(20, func() {
			forward(m.w, m.cfg, r, 7, pos, true)
			pos++
		}); a != 0 {
			t.Errorf("%s: %v allocations per decoding step", name, a)
		}
	}
}
