package hf

import (
	"fmt"
	"io"
	"strings"

	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/llama"
	"github.com/inferpi/inferpi/engine/tokenizer/llama2c"
)

// Llama2cConfig is the llama2.c header of the model, or why the model cannot
// be written in llama2.c's format: its header carries only the dimensions, so
// everything else must be what run.c assumes (RoPE on adjacent pairs with base
// 10000 and no scaling, head width dim/n_heads, no biases, BOS 1 and EOS 2, a
// SentencePiece-style vocabulary its encoder reproduces). Warnings name what
// run.c does differently but closely enough (its RMSNorm epsilon of 1e-5).
func (m *Model) Llama2cConfig() (cfg llama.Config, warnings []string, err error) {
	c := m.Config
	why := ""
	switch {
	case !m.arch.llama:
		why = fmt.Sprintf("it is a %s model; llama2.c's format holds Llama models only", c.Architecture)
	case m.Vocab.Model != "llama":
		why = fmt.Sprintf("its vocabulary is byte-level BPE (pre-tokenizer %s), which llama2.c's tokenizer cannot reproduce", m.Vocab.Pre)
	case c.HeadDim*c.Heads != c.HiddenSize:
		why = fmt.Sprintf("its heads are %d wide, not hidden_size/num_attention_heads = %d", c.HeadDim, c.HiddenSize/c.Heads)
	case c.RopeTheta != 0 && c.RopeTheta != 10000:
		why = fmt.Sprintf("its rope_theta is %g; llama2.c's RoPE uses 10000", c.RopeTheta)
	case m.ropeKind() != "":
		why = fmt.Sprintf("it scales RoPE (%s), which llama2.c's format cannot say", m.ropeKind())
	case m.Vocab.BOS() != 1 || m.Vocab.EOS() != 2:
		why = fmt.Sprintf("its BOS and EOS are %d and %d; llama2.c's are 1 and 2", m.Vocab.BOS(), m.Vocab.EOS())
	case c.ContextLength == 0:
		why = "config.json has no max_position_embeddings for llama2.c's seq_len"
	}
	for _, t := range m.Tensors {
		if why == "" && strings.HasSuffix(t.Name, ".bias") {
			why = fmt.Sprintf("it has biases (%s), which llama2.c's format has no place for", t.Source)
		}
	}
	if why != "" {
		return llama.Config{}, nil, fmt.Errorf("%s: cannot be written in llama2.c's format: %s (write a GGUF file instead)", m.Dir, why)
	}
	if c.RMSNormEps != 0 && float32(c.RMSNormEps) != 1e-5 {
		warnings = append(warnings, fmt.Sprintf("config.json's rms_norm_eps is %g; llama2.c's format has no place for it and run.c uses 1e-5 (a small change to the outputs)", c.RMSNormEps))
	}
	_, tied := m.tensor("output.weight")
	cfg = llama.Config{
		Dim: c.HiddenSize, HiddenDim: c.IntermediateSize, NLayers: c.Layers, NHeads: c.Heads,
		NKVHeads: c.KVHeads, VocabSize: c.VocabSize, SeqLen: c.ContextLength, SharedClassifier: !tied,
	}
	return cfg, warnings, nil
}

// tensor finds a converted tensor by its GGUF name.
func (m *Model) tensor(name string) (*Tensor, bool) {
	for _, t := range m.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return nil, false
}

// llama2cSources names the GGUF tensors each tensor of llama2.c's layout is
// made of ("%d" for every layer); q and k are already in the adjacent-pair
// layout run.c rotates.
var llama2cSources = map[string]string{
	"token_embedding": "token_embd.weight",
	"rms_att":         "blk.%d.attn_norm.weight",
	"wq":              "blk.%d.attn_q.weight",
	"wk":              "blk.%d.attn_k.weight",
	"wv":              "blk.%d.attn_v.weight",
	"wo":              "blk.%d.attn_output.weight",
	"rms_ffn":         "blk.%d.ffn_norm.weight",
	"w1":              "blk.%d.ffn_gate.weight",
	"w2":              "blk.%d.ffn_down.weight",
	"w3":              "blk.%d.ffn_up.weight",
	"rms_final":       "output_norm.weight",
	"classifier":      "output.weight",
}

// WriteLlama2c writes model.bin in llama2.c's layout with weights in enc (the
// legacy header and fp32 or fp16 values; any other encoding in InferPi's
// container, see engine/llama.WriteModel) and tokenizer.bin as llama2.c's
// tokenizer.py exports it. A tensor of the layout (all layers of wq, say) is in memory at a
// time. progress, if not nil, is called before each tensor.
func (m *Model) WriteLlama2c(model, tok io.Writer, enc kernels.Encoding, progress func(name string, i, n int)) (int64, error) {
	cfg, _, err := m.Llama2cConfig()
	if err != nil {
		return 0, err
	}
	layout := cfg.Tensors()
	i := 0
	n, err := llama.WriteModel(model, cfg, enc, func(t llama.Tensor) ([]float32, error) {
		if progress != nil {
			progress(t.Name, i, len(layout))
		}
		i++
		src, ok := llama2cSources[t.Name]
		if !ok {
			return nil, nil // a freq_cis table, computed
		}
		names := []string{src}
		if strings.Contains(src, "%d") {
			names = names[:0]
			for l := 0; l < cfg.NLayers; l++ {
				names = append(names, fmt.Sprintf(src, l))
			}
		}
		v := make([]float32, t.Floats())
		at := int64(0)
		for _, name := range names {
			x, ok := m.tensor(name)
			if !ok || at+x.Elements() > int64(len(v)) {
				return nil, fmt.Errorf("%s: no %s of the size llama2.c's %s needs", m.Dir, name, t.Name)
			}
			if err := x.Read(0, v[at:at+x.Elements()]); err != nil {
				return nil, err
			}
			at += x.Elements()
		}
		return v, nil
	})
	if err != nil {
		return 0, err
	}
	return n, m.writeLlama2cTokenizer(tok)
}

// writeLlama2cTokenizer writes tokenizer.bin as llama2.c's tokenizer.py does
// (export, llama2c.Marshal), with "▁" as a space and BOS and EOS as
// "\n<s>\n" and "\n</s>\n". Pieces and scores are tokenizer.model's where
// there is one; otherwise the vocabulary's, whose scores follow the merges.
func (m *Model) writeLlama2cTokenizer(w io.Writer) error {
	v := m.Vocab
	pieces, scores := v.Tokens, v.Scores
	if v.spm != nil {
		pieces, scores = append([]string(nil), pieces...), append([]float32(nil), scores...)
		for id, p := range v.spm.Pieces {
			pieces[id], scores[id] = p.Text, p.Score
		}
	}
	out := make([]string, len(pieces))
	for id, p := range pieces {
		switch id {
		case v.BOS():
			p = "\n<s>\n"
		case v.EOS():
			p = "\n</s>\n"
		}
		out[id] = strings.ReplaceAll(p, "▁", " ")
	}
	_, err := w.Write(llama2c.Marshal(out, scores))
	return err
}
