package hf

import (
	"fmt"
	"math"
	"path/filepath"
)

// ropeScaling reads config.json's rope_scaling. Llama: "linear" becomes GGUF
// keys, "llama3" a rope_freqs tensor of per-frequency factors
// (LlamaModel.set_gguf_parameters, generate_extra_tensors); Qwen: "yarn"
// becomes GGUF keys (Qwen2Model.set_gguf_parameters). The key is "type" or
// "rope_type" (newer transformers). Other kinds are left out, as llama.cpp's
// converter leaves them, with a warning.
func (m *Model) ropeScaling() error {
	rs := m.Config.RopeScaling
	switch kind := m.ropeKind(); {
	case kind == "":
	case m.arch.llama && kind == "llama3":
		factors, err := llama3Factors(m.Config)
		if err != nil {
			return fmt.Errorf("%s: rope_scaling: %v", m.configPath(), err)
		}
		m.Tensors = append(m.Tensors, &Tensor{
			Name: "rope_freqs.weight", Dims: []int64{int64(len(factors))},
			Source: "computed from config.json's rope_scaling (llama3)", values: factors,
		})
	case m.arch.llama && kind == "linear", !m.arch.llama && kind == "yarn":
		if _, ok := rs["factor"].(float64); !ok {
			return fmt.Errorf("%s: rope_scaling %s without a factor", m.configPath(), kind)
		}
		if kind == "yarn" {
			if _, ok := rs["original_max_position_embeddings"].(float64); !ok {
				return fmt.Errorf("%s: rope_scaling yarn without original_max_position_embeddings", m.configPath())
			}
		}
	default:
		m.Warnings = append(m.Warnings, fmt.Sprintf("%s: rope_scaling %q is left out, as llama.cpp's converter leaves it: positions beyond the original context may behave differently", m.configPath(), kind))
	}
	return nil
}

// ropeKind is the kind of config.json's rope_scaling ("type", or "rope_type"
// in newer transformers), "" for none.
func (m *Model) ropeKind() string {
	rs := m.Config.RopeScaling
	kind, _ := rs["rope_type"].(string)
	if t, ok := rs["type"].(string); ok {
		kind = t
	}
	if kind == "default" {
		return ""
	}
	return kind
}

func (m *Model) configPath() string { return filepath.Join(m.Dir, "config.json") }

// ropeKeys are the GGUF keys of a linear or yarn rope_scaling.
func (m *Model) ropeKeys(prefix string) []KV {
	rs := m.Config.RopeScaling
	kind := m.ropeKind()
	factor, _ := rs["factor"].(float64)
	switch {
	case m.arch.llama && kind == "linear":
		return []KV{{prefix + "rope.scaling.type", "linear"}, {prefix + "rope.scaling.factor", float32(factor)}}
	case !m.arch.llama && kind == "yarn":
		orig, _ := rs["original_max_position_embeddings"].(float64)
		return []KV{{prefix + "rope.scaling.type", "yarn"}, {prefix + "rope.scaling.factor", float32(factor)},
			{prefix + "rope.scaling.original_context_length", uint32(orig)}}
	}
	return nil
}

// llama3Factors are Llama 3.1's RoPE frequency factors, computed in float32 as
// LlamaModel.generate_extra_tensors does: frequencies whose wavelength is below
// original_max_position_embeddings/high_freq_factor keep factor 1, those above
// .../low_freq_factor get factor, the ones between a smooth blend.
func llama3Factors(c *Config) ([]float32, error) {
	rs := c.RopeScaling
	num := func(key string, def float64) float64 {
		if v, ok := rs[key].(float64); ok {
			return v
		}
		return def
	}
	base := c.RopeTheta
	if base == 0 {
		base = 10000
	}
	factor := float32(num("factor", 8))
	low, high := float32(num("low_freq_factor", 1)), float32(num("high_freq_factor", 4))
	oldContext := float32(num("original_max_position_embeddings", 8192))
	lowWavelen, highWavelen := oldContext/low, oldContext/high
	if low == high || factor <= 0 {
		return nil, fmt.Errorf("llama3: low_freq_factor %g, high_freq_factor %g, factor %g", low, high, factor)
	}
	dim := c.HeadDim
	out := make([]float32, 0, dim/2)
	for i := 0; i < dim; i += 2 {
		freq := float32(1 / float32(math.Pow(base, float64(float32(i)/float32(dim)))))
		wavelen := float32(2*math.Pi) / freq
		switch {
		case wavelen < highWavelen:
			out = append(out, 1)
		case wavelen > lowWavelen:
			out = append(out, factor)
		default:
			smooth := (oldContext/wavelen - low) / (high - low)
			out = append(out, 1/((1-smooth)/factor+smooth))
		}
	}
	return out, nil
}
