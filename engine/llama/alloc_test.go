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
	for _, enc := range []kernels.Encoding{kernels.F32, kernels.Q4_0} {
		if enc != kernels.F32 {
			files.Model = convert(t, readFiles(t, tinyDir).Model, enc)
		}
		m := loadModel(t, files)
		r := m.runState()
		forward(m.w, m.cfg, r, 1, 0, true)
		pos := 1
		if a := testing.AllocsPerRun(20, func() {
			forward(m.w, m.cfg, r, 7, pos, true)
			pos++
		}); a != 0 {
			t.Errorf("%v: %v allocations per decoding step", enc, a)
		}
	}
}
