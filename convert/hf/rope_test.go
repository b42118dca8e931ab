package hf

import (
	"path/filepath"
	"testing"
)

// Llama 3.1's rope_scaling (factor 8, low 1, high 4, original context 8192)
// on 64-wide heads with base 500000: factor 1 for the fast frequencies, 8 for
// the slow ones, a blend between that grows with the wavelength.
func TestLlama3Factors(t *testing.T) {
	c := &Config{HeadDim: 64, RopeTheta: 500000, RopeScaling: map[string]any{
		"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192.0,
	}}
	f, err := llama3Factors(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(f) != 32 || f[0] != 1 || f[31] != 8 {
		t.Fatalf("factors %v", f)
	}
	blended := 0
	for i := 1; i < len(f); i++ {
		if f[i] < f[i-1] {
			t.Errorf("factor %d (%v) below factor %d (%v)", i, f[i], i-1, f[i-1])
		}
		if f[i] > 1 && f[i] < 8 {
			blended++
		}
	}
	if blended == 0 {
		t.Errorf("no blended factors: %v", f)
	}
}

// rope_scaling in the GGUF: linear for Llama and yarn for Qwen as keys, llama3
// as the rope_freqs tensor before the others.
func TestRopeScalingKeys(t *testing.T) {
	for _, c := range []struct {
		fixture string
		scaling map[string]any
		keys    map[string]any
		tensor  bool
	}{
		{"llama-tied-sharded-f32", map[string]any{"type": "linear", "factor": 2.0},
			map[string]any{"llama.rope.scaling.type": "linear", "llama.rope.scaling.factor": float32(2)}, false},
		{"qwen2-bpe-fp16", map[string]any{"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768},
			map[string]any{"qwen2.rope.scaling.type": "yarn", "qwen2.rope.scaling.factor": float32(4), "qwen2.rope.scaling.original_context_length": uint32(32768)}, false},
		{"llama-tied-sharded-f32", map[string]any{"rope_type": "llama3", "factor": 8.0, "original_max_position_embeddings": 1024}, nil, true},
	} {
		dir := copyFixture(t, c.fixture)
		editJSON(t, filepath.Join(dir, "config.json"), func(x map[string]any) { x["rope_scaling"] = c.scaling })
		m := openFixture(t, dir)
		got := map[string]any{}
		for _, kv := range m.Metadata(0) {
			if _, ok := c.keys[kv.Key]; ok {
				got[kv.Key] = kv.Value
			}
		}
		for k, v := range c.keys {
			if got[k] != v {
				t.Errorf("%s: %s = %v, want %v", c.fixture, k, got[k], v)
			}
		}
		if first := m.Tensors[0]; c.tensor != (first.Name == "rope_freqs.weight") || c.tensor && first.Dims[0] != 12 {
			t.Errorf("%s: first tensor %s %v", c.fixture, first.Name, first.Dims)
		}
	}
}

func TestSizeLabelAndName(t *testing.T) {
	for n, want := range map[int64]string{2085088: "2.1M", 431232: "431K", 494032768: "494M", 1235814400: "1.2B", 135000: "135K", 7000: "7.0K"} {
		if got := sizeLabel(n); got != want {
			t.Errorf("sizeLabel(%d) = %s, want %s", n, got, want)
		}
	}
	for dir, want := range map[string]string{
		"/x/SmolLM2-135M-Instruct": "SmolLM2-135M-Instruct",
		"/h/hub/models--Qwen--Qwen2.5-0.5B-Instruct/snapshots/7ae557604adf67be50417f59c2c2f167def9a775": "Qwen2.5-0.5B-Instruct",
	} {
		if got := (&Model{Dir: dir}).Name(); got != want {
			t.Errorf("Name of %s = %s, want %s", dir, got, want)
		}
	}
}
