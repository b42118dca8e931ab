package hf

import (
	"fmt"
	"sort"
)

// arch is what differs between the architectures the converter knows: the GGUF
// architecture name, the tensors a layer has, and whether q and k are permuted.
type arch struct {
	gguf string // general.architecture
	// permuteQK: Hugging Face's Llama stores each head of q_proj and k_proj (and
	// their biases) with the two halves that RoPE rotates together apart (its
	// rotate_half); llama.cpp's llama graph, and InferPi's, rotate adjacent pairs,
	// so the converter interleaves the halves (convert_hf_to_gguf.py
	// LlamaModel.permute). Qwen's GGUF architectures rotate the halves (NeoX
	// style), so their rows are used as they are.
	permuteQK bool
	qkNorm    bool // per-head RMSNorm of q and k (Qwen3's q_norm, k_norm)
	qkvBias   bool // q, k and v always have biases (Qwen2)
	// llama: convert_hf_to_gguf.py's LlamaModel: it also writes vocab_size and
	// rope.dimension_count, linear RoPE scaling, and Llama 3's rope_freqs.
	llama bool
}

// architectures maps config.json's architectures[0] to what the converter does.
// Qwen3 follows upstream llama.cpp's Qwen3Model (a Qwen2Model with arch qwen3,
// attn_q_norm and attn_k_norm).
var architectures = map[string]*arch{
	"LlamaForCausalLM": {gguf: "llama", permuteQK: true, llama: true},
	"Qwen2ForCausalLM": {gguf: "qwen2", qkvBias: true},
	"Qwen3ForCausalLM": {gguf: "qwen3", qkNorm: true},
}

func supported() []string {
	var names []string
	for n := range architectures {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// spec is one tensor of the converted model: where it comes from and its shape.
type spec struct {
	hf       string  // the Hugging Face name
	gguf     string  // the GGUF name
	shape    []int64 // Hugging Face (row-major) shape: [out, in] for matrices
	optional bool
	// heads > 0: the rows are permuted per head for the pairing llama.cpp's
	// RoPE expects (see arch.permuteQK), in groups of shape[0]/heads.
	heads int
}

// specs lists every tensor the model may hold, by Hugging Face name
// (gguf-py tensor_mapping.py: model.embed_tokens -> token_embd, lm_head ->
// output, model.norm -> output_norm, and per layer input_layernorm ->
// attn_norm, post_attention_layernorm -> ffn_norm, self_attn.{q,k,v,o}_proj ->
// attn_{q,k,v,output}, self_attn.{q,k}_norm -> attn_{q,k}_norm,
// mlp.{gate,up,down}_proj -> ffn_{gate,up,down}).
func (a *arch) specs(c *Config) map[string]*spec {
	h, ff, v := int64(c.HiddenSize), int64(c.IntermediateSize), int64(c.VocabSize)
	qDim, kvDim, hd := int64(c.Heads*c.HeadDim), int64(c.KVHeads*c.HeadDim), int64(c.HeadDim)
	out := map[string]*spec{}
	add := func(s *spec) { out[s.hf] = s }
	add(&spec{hf: "model.embed_tokens.weight", gguf: "token_embd.weight", shape: []int64{v, h}})
	// Tied embeddings have no lm_head; a checkpoint that stores it anyway gets an
	// output.weight, as llama.cpp's converter writes one then.
	add(&spec{hf: "lm_head.weight", gguf: "output.weight", shape: []int64{v, h}, optional: c.TieEmbeddings})
	add(&spec{hf: "model.norm.weight", gguf: "output_norm.weight", shape: []int64{h}})
	qHeads, kHeads := 0, 0
	if a.permuteQK {
		qHeads, kHeads = c.Heads, c.KVHeads
	}
	for l := 0; l < c.Layers; l++ {
		hfp, gp := fmt.Sprintf("model.layers.%d.", l), fmt.Sprintf("blk.%d.", l)
		layer := func(hf, gguf string, shape []int64, optional bool, heads int) {
			add(&spec{hf: hfp + hf, gguf: gp + gguf, shape: shape, optional: optional, heads: heads})
		}
		layer("input_layernorm.weight", "attn_norm.weight", []int64{h}, false, 0)
		layer("post_attention_layernorm.weight", "ffn_norm.weight", []int64{h}, false, 0)
		layer("self_attn.q_proj.weight", "attn_q.weight", []int64{qDim, h}, false, qHeads)
		layer("self_attn.k_proj.weight", "attn_k.weight", []int64{kvDim, h}, false, kHeads)
		layer("self_attn.v_proj.weight", "attn_v.weight", []int64{kvDim, h}, false, 0)
		layer("self_attn.o_proj.weight", "attn_output.weight", []int64{h, qDim}, false, 0)
		// Biases: Qwen2 always has q, k and v biases; attention_bias gives
		// Llama and Qwen3 all four. Present ones are converted either way.
		needQKV, needO := a.qkvBias || c.AttentionBias, c.AttentionBias
		layer("self_attn.q_proj.bias", "attn_q.bias", []int64{qDim}, !needQKV, qHeads)
		layer("self_attn.k_proj.bias", "attn_k.bias", []int64{kvDim}, !needQKV, kHeads)
		layer("self_attn.v_proj.bias", "attn_v.bias", []int64{kvDim}, !needQKV, 0)
		layer("self_attn.o_proj.bias", "attn_output.bias", []int64{h}, !needO, 0)
		if a.qkNorm {
			layer("self_attn.q_norm.weight", "attn_q_norm.weight", []int64{hd}, false, 0)
			layer("self_attn.k_norm.weight", "attn_k_norm.weight", []int64{hd}, false, 0)
		}
		layer("mlp.gate_proj.weight", "ffn_gate.weight", []int64{ff, h}, false, 0)
		layer("mlp.up_proj.weight", "ffn_up.weight", []int64{ff, h}, false, 0)
		layer("mlp.down_proj.weight", "ffn_down.weight", []int64{h, ff}, false, 0)
	}
	return out
}
