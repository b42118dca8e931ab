package hf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// Config is what the converter reads from config.json.
type Config struct {
	Architecture     string // architectures[0], e.g. "LlamaForCausalLM"
	HiddenSize       int
	IntermediateSize int
	Layers           int // num_hidden_layers
	Heads            int // num_attention_heads
	KVHeads          int // num_key_value_heads (Heads when absent)
	HeadDim          int // head_dim (HiddenSize/Heads when absent)
	HasHeadDim       bool
	VocabSize        int
	ContextLength    int     // max_position_embeddings, 0 when absent
	RMSNormEps       float64 // rms_norm_eps, 0 when absent
	RopeTheta        float64 // rope_theta, 0 when absent
	RopeScaling      map[string]any
	TieEmbeddings    bool // tie_word_embeddings
	AttentionBias    bool // attention_bias (Llama, Qwen3: q, k, v and o have biases)

	// raw keeps every key for the special-token ids (bos_token_id, ...).
	raw map[string]json.RawMessage
}

// Limits far above any model a Raspberry Pi can hold, low enough that sizes
// computed from a corrupt config cannot overflow.
const (
	maxWidth   = 1 << 18
	maxLayers  = 1 << 12
	maxVocab   = 1 << 22
	maxContext = 1 << 24
)

// parseConfig reads config.json (data), named name in errors.
func parseConfig(data []byte, name string) (*Config, error) {
	c := &Config{}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&c.raw); err != nil {
		return nil, fmt.Errorf("%s: not a JSON object: %v", name, err)
	}
	var archs []string
	if err := c.get("architectures", &archs); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(archs) == 0 {
		return nil, fmt.Errorf("%s: no architectures: cannot tell what model this is", name)
	}
	c.Architecture = archs[0]
	if _, ok := architectures[c.Architecture]; !ok {
		return nil, fmt.Errorf("%s: architecture %s is not supported (InferPi converts %s)", name, c.Architecture, strings.Join(supported(), ", "))
	}
	for _, f := range []struct {
		key      string
		dst      *int
		max      int
		required bool
	}{
		{"hidden_size", &c.HiddenSize, maxWidth, true},
		{"intermediate_size", &c.IntermediateSize, maxWidth, true},
		{"num_hidden_layers", &c.Layers, maxLayers, true},
		{"num_attention_heads", &c.Heads, maxWidth, true},
		{"num_key_value_heads", &c.KVHeads, maxWidth, false},
		{"head_dim", &c.HeadDim, maxWidth, false},
		{"vocab_size", &c.VocabSize, maxVocab, true},
		{"max_position_embeddings", &c.ContextLength, maxContext, false},
	} {
		present, err := c.intValue(f.key, f.dst)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		if !present {
			if f.required {
				return nil, fmt.Errorf("%s: %s is missing", name, f.key)
			}
			continue
		}
		if *f.dst <= 0 || *f.dst > f.max {
			return nil, fmt.Errorf("%s: %s is %d, want 1..%d", name, f.key, *f.dst, f.max)
		}
	}
	if c.KVHeads == 0 {
		c.KVHeads = c.Heads
	}
	c.HasHeadDim = c.HeadDim > 0
	if !c.HasHeadDim {
		if c.HiddenSize%c.Heads != 0 {
			return nil, fmt.Errorf("%s: hidden_size %d is not a multiple of num_attention_heads %d, and there is no head_dim", name, c.HiddenSize, c.Heads)
		}
		c.HeadDim = c.HiddenSize / c.Heads
	}
	if c.Heads%c.KVHeads != 0 {
		return nil, fmt.Errorf("%s: num_key_value_heads %d does not divide num_attention_heads %d", name, c.KVHeads, c.Heads)
	}
	if c.HeadDim%2 != 0 {
		return nil, fmt.Errorf("%s: head_dim %d is odd; RoPE rotates pairs", name, c.HeadDim)
	}
	for _, f := range []struct {
		key string
		dst *float64
	}{{"rms_norm_eps", &c.RMSNormEps}, {"rope_theta", &c.RopeTheta}} {
		if err := c.get(f.key, f.dst); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		if *f.dst < 0 || math.IsInf(*f.dst, 0) {
			return nil, fmt.Errorf("%s: %s is %g", name, f.key, *f.dst)
		}
	}
	for _, f := range []struct {
		key string
		dst any
	}{{"rope_scaling", &c.RopeScaling}, {"tie_word_embeddings", &c.TieEmbeddings}, {"attention_bias", &c.AttentionBias}} {
		if err := c.get(f.key, f.dst); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	var act string
	if err := c.get("hidden_act", &act); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if act != "" && act != "silu" {
		return nil, fmt.Errorf("%s: hidden_act %q: the %s architecture computes SwiGLU with silu", name, act, c.Architecture)
	}
	return c, nil
}

// get decodes key into dst when it is present and not null.
func (c *Config) get(key string, dst any) error {
	raw, ok := c.raw[key]
	if !ok || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%s is %s: %v", key, raw, err)
	}
	return nil
}

// intValue decodes an integer key, reporting whether it was there.
func (c *Config) intValue(key string, dst *int) (bool, error) {
	raw, ok := c.raw[key]
	if !ok || string(raw) == "null" {
		return false, nil
	}
	var v int64
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, fmt.Errorf("%s is %s, want an integer", key, raw)
	}
	if v < 0 || v > math.MaxInt32 {
		return false, fmt.Errorf("%s is %d", key, v)
	}
	*dst = int(v)
	return true, nil
}

// tokenID returns an integer *_token_id of config.json (a list, as some
// configs give for eos_token_id, does not count: llama.cpp's converter ignores
// it too).
func tokenID(raw map[string]json.RawMessage, key string) (int, bool) {
	var v int
	if r, ok := raw[key]; ok && json.Unmarshal(r, &v) == nil && v >= 0 {
		return v, true
	}
	return 0, false
}

// hasKey reports whether config.json sets key (to something other than null).
func (c *Config) hasKey(key string) bool {
	raw, ok := c.raw[key]
	return ok && string(raw) != "null"
}
