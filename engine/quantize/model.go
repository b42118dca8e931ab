package quantize

import (
	"errors"
	"fmt"

	"github.com/inferpi/inferpi/engine/gguf"
)

// Model is what the type rules read from a model's hyperparameters.
type Model struct {
	Arch    string // general.architecture: "llama", "qwen2", "falcon", ...
	Layers  int    // <arch>.block_count
	Experts int    // <arch>.expert_count: 0 for a dense model
	Heads   int    // <arch>.attention.head_count (of the first layer)
	HeadsKV int    // <arch>.attention.head_count_kv (of the first layer)
}

// ModelOf reads Model from a GGUF file's metadata, as llama_model::load_hparams does:
// head counts may be per-layer arrays (the first layer's counts), the kv heads
// default to the heads, the expert count to 0.
func ModelOf(f *gguf.File) (Model, error) {
	arch, err := f.GetString("general.architecture")
	if err != nil {
		return Model{}, err
	}
	m := Model{Arch: arch}
	layers, err := f.GetUint(arch + ".block_count")
	if err != nil {
		return Model{}, err
	}
	if layers > 1<<20 {
		return Model{}, fmt.Errorf("%s: %s.block_count %d is not a layer count", f.Name, arch, layers)
	}
	m.Layers = int(layers)
	for _, c := range []struct {
		key string
		dst *int
	}{
		{".expert_count", &m.Experts},
		{".attention.head_count", &m.Heads},
		{".attention.head_count_kv", &m.HeadsKV},
	} {
		n, err := firstCount(f, arch+c.key)
		switch {
		case errors.Is(err, gguf.ErrNotFound):
		case err != nil:
			return Model{}, err
		default:
			*c.dst = n
		}
	}
	if _, ok := f.Lookup(arch + ".attention.head_count_kv"); !ok {
		m.HeadsKV = m.Heads
	}
	return m, nil
}

// firstCount reads a count stored as an integer or as an array of them per layer.
func firstCount(f *gguf.File, key string) (int, error) {
	n, err := f.GetUint(key)
	if err == nil || errors.Is(err, gguf.ErrNotFound) {
		return int(min(n, 1<<30)), err
	}
	a, aerr := f.GetInt32s(key)
	if aerr != nil {
		return 0, err
	}
	if len(a) == 0 || a[0] < 0 {
		return 0, fmt.Errorf("%s: key %s: no count for the first layer", f.Name, key)
	}
	return int(a[0]), nil
}

// is70B is llama.cpp's model type LLM_TYPE_70B (llama_model::load_hparams), whose
// attn_v gets more bits: 80 layers of llama with grouped-query attention, of deci,
// qwen2 (and qwen2vl) or olmo.
func (m Model) is70B() bool {
	switch m.Arch {
	case "llama":
		return m.Experts != 8 && m.Layers == 80 && m.Heads != m.HeadsKV
	case "deci", "qwen2", "qwen2vl", "olmo":
		return m.Layers == 80
	}
	return false
}
