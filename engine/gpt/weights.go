package gpt

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/inferpi/inferpi/engine/kernels"
)

// Weights are views into model.bin: nothing is copied except the few per-layer
// scalars, which are decoded once.
type Weights struct {
	ResidLambdas, X0Lambdas []float32 // [n_layer]
	SmearLambda             float32
	SmearGate               kernels.Matrix // [1, smear channels]; zero Matrix when no smear
	BackoutLambda           float32
	TokenEmbed              kernels.Matrix // wte [vocab, n_embd]
	Layers                  []LayerWeights
	LMHead                  kernels.Matrix // [vocab, n_embd]
}

// LayerWeights are one transformer block's matrices.
type LayerWeights struct {
	Q, K, V, AttnOut kernels.Matrix // c_q, c_k, c_v, c_proj
	ValueEmbed       kernels.Matrix // [vocab, kv_dim]; zero Matrix without value embeddings
	VEGate           kernels.Matrix // [n_kv_head, ve channels]
	FC, MLPOut       kernels.Matrix // mlp.c_fc, mlp.c_proj
}

// loadWeights builds the views after checking that data is exactly as long as
// the header's layout says.
func loadWeights(h *Header, data []byte) (*Weights, error) {
	specs, err := h.checkSize(int64(len(data)))
	if err != nil {
		return nil, err
	}
	byName := make(map[string]TensorSpec, len(specs))
	for _, s := range specs {
		byName[s.Name] = s
	}
	var firstErr error
	matrix := func(name string) kernels.Matrix {
		s, ok := byName[name]
		if !ok {
			return kernels.Matrix{}
		}
		enc, _ := s.Enc.kernel()
		m, err := kernels.NewMatrix(data[s.Offset:s.Offset+s.Size], s.Rows, s.Cols, enc)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: %v", name, err)
		}
		return m
	}
	floats := func(name string) []float32 {
		s, ok := byName[name]
		if !ok {
			return nil
		}
		out := make([]float32, s.Cols)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[s.Offset+4*int64(i):]))
		}
		return out
	}
	w := &Weights{
		ResidLambdas: floats("resid_lambdas"),
		X0Lambdas:    floats("x0_lambdas"),
		SmearGate:    matrix("smear_gate.weight"),
		TokenEmbed:   matrix("transformer.wte.weight"),
		LMHead:       matrix("lm_head.weight"),
		Layers:       make([]LayerWeights, h.NLayer),
	}
	if v := floats("smear_lambda"); v != nil {
		w.SmearLambda = v[0]
	}
	if v := floats("backout_lambda"); v != nil {
		w.BackoutLambda = v[0]
	}
	for i := range w.Layers {
		p := fmt.Sprintf("transformer.h.%d.", i)
		w.Layers[i] = LayerWeights{
			Q:          matrix(p + "attn.c_q.weight"),
			K:          matrix(p + "attn.c_k.weight"),
			V:          matrix(p + "attn.c_v.weight"),
			AttnOut:    matrix(p + "attn.c_proj.weight"),
			ValueEmbed: matrix(fmt.Sprintf("value_embeds.%d.weight", i)),
			VEGate:     matrix(p + "attn.ve_gate.weight"),
			FC:         matrix(p + "mlp.c_fc.weight"),
			MLPOut:     matrix(p + "mlp.c_proj.weight"),
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return w, nil
}

// matrixBytes is what one decoding step reads from the matrices (embedding
// lookups excluded), for Info.WeightBytesPerToken.
func (w *Weights) matrixBytes() int64 {
	n := int64(w.LMHead.Bytes() + w.SmearGate.Bytes())
	for _, l := range w.Layers {
		n += int64(l.Q.Bytes() + l.K.Bytes() + l.V.Bytes() + l.AttnOut.Bytes() + l.VEGate.Bytes() + l.FC.Bytes() + l.MLPOut.Bytes())
	}
	return n
}

// checkSize returns the header's layout after checking that a file of size
// bytes holds exactly it.
func (h *Header) checkSize(size int64) ([]TensorSpec, error) {
	specs, need, err := h.Layout()
	if err != nil {
		return nil, err
	}
	if size != need {
		what := "truncated"
		if size > need {
			what = "has trailing bytes"
		}
		return nil, fmt.Errorf("file is %d bytes, the header's layout needs exactly %d: %s", size, need, what)
	}
	return specs, nil
}
