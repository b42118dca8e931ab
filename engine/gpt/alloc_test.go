package gpt_test

import (
	"testing"

	"github.com/inferpi/inferpi/convert/nanochat"
	"github.com/inferpi/inferpi/engine/gpt"
	"github.com/inferpi/inferpi/internal/racedetect"
)

// TestDecodingAllocatesNothing: a decoding step makes no garbage (its steps are the
// RunState's methods, bound once; its input and jobs reuse their storage): anything
// allocated per layer is memory the cores meet cold where a job starts.
func TestDecodingAllocatesNothing(t *testing.T) {
	if racedetect.Enabled {
		t.Skip("the race detector makes sync.Pool drop what it is given")
	}
	for _, dtype := range []string{"fp32", "q4_0"} {
		m, err := gpt.Load(export(t, nanochat.Options{BaseDir: tinyDir, DType: dtype, Step: -1}))
		if err != nil {
			t.Fatal(err)
		}
		if a := m.DecodeAllocs(); a != 0 {
			t.Errorf("%s: %v allocations per decoding step", dtype, a)
		}
	}
}
