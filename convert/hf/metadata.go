package hf

// KV is a GGUF metadata pair; Value has the Go type of its GGUF type (uint32,
// float32, bool, string, []string, []float32, []int32).
type KV struct {
	Key   string
	Value any
}

// Metadata returns the GGUF key-value pairs of the converted model in the
// order llama.cpp's converter writes them (Model.prepare_metadata): general.*,
// the architecture's hyperparameters with general.file_type among them
// (set_gguf_parameters), the vocabulary (set_vocab), the quantization
// version. fileType is llama.cpp's file type (LLAMA_FTYPE_*) of the tensors.
func (m *Model) Metadata(fileType uint32) []KV {
	c, a := m.Config, m.arch
	p := a.gguf + "."
	kv := []KV{
		{"general.architecture", a.gguf},
		{"general.type", "model"},
		{"general.name", m.Name()},
		{"general.size_label", sizeLabel(m.Params())},
		{p + "block_count", uint32(c.Layers)},
	}
	add := func(key string, v any) { kv = append(kv, KV{key, v}) }
	if c.ContextLength > 0 {
		add(p+"context_length", uint32(c.ContextLength))
	}
	add(p+"embedding_length", uint32(c.HiddenSize))
	add(p+"feed_forward_length", uint32(c.IntermediateSize))
	add(p+"attention.head_count", uint32(c.Heads))
	if c.hasKey("num_key_value_heads") {
		add(p+"attention.head_count_kv", uint32(c.KVHeads))
	}
	if c.hasKey("rope_theta") {
		add(p+"rope.freq_base", float32(c.RopeTheta))
	}
	if c.hasKey("rms_norm_eps") {
		add(p+"attention.layer_norm_rms_epsilon", float32(c.RMSNormEps))
	}
	if c.HasHeadDim {
		add(p+"attention.key_length", uint32(c.HeadDim))
		add(p+"attention.value_length", uint32(c.HeadDim))
	}
	add("general.file_type", fileType)
	if a.llama {
		add(p+"vocab_size", uint32(c.VocabSize))
		add(p+"rope.dimension_count", uint32(c.HeadDim))
	}
	kv = append(kv, m.ropeKeys(p)...)

	v := m.Vocab
	add("tokenizer.ggml.model", v.Model)
	add("tokenizer.ggml.pre", v.Pre)
	add("tokenizer.ggml.tokens", v.Tokens)
	if v.Scores != nil {
		add("tokenizer.ggml.scores", v.Scores)
	}
	add("tokenizer.ggml.token_type", v.Types)
	if len(v.Merges) > 0 {
		add("tokenizer.ggml.merges", v.Merges)
	}
	kv = append(kv, v.special.ids...)
	kv = append(kv, v.special.adds...)
	kv = append(kv, v.special.chat...)
	kv = append(kv, v.extra...)
	add("general.quantization_version", uint32(2)) // GGML_QUANT_VERSION
	return kv
}
