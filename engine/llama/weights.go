package llama

import (
	"fmt"

	"github.com/inferpi/inferpi/engine/kernels"
)

// Weights are views into model.bin (llama2.c's TransformerWeights). Matrices are
// not copied; only the RMSNorm gains, a few thousand floats, are widened to
// float32 once at load.
type Weights struct {
	TokenEmbedding kernels.Matrix // [vocab][dim]
	RMSAtt         [][]float32    // [layer][dim]
	WQ, WK, WV, WO []kernels.Matrix
	RMSFFN         [][]float32
	W1, W2, W3     []kernels.Matrix
	RMSFinal       []float32
	// Classifier is the output layer: TokenEmbedding when the model shares it.
	Classifier kernels.Matrix

	// Parts only some architectures have, nil where a model has none (llama2.c
	// files never do).
	BQ, BK, BV   [][]float32 // [layer] biases of q, k and v (qwen2)
	QNorm, KNorm [][]float32 // [layer][head_size] RMSNorm gains of each q and k head (qwen3)
	// RopeFactors divide RoPE's frequencies, one per pair of a head (Llama 3's
	// rope_freqs.weight, its long-context scaling).
	RopeFactors []float32
}

// mapWeights slices the weights out of model.bin, whose size ParseModel has
// checked against l.
func mapWeights(data []byte, cfg Config, l Layout) (*Weights, error) {
	if int64(len(data)) != l.Size {
		return nil, fmt.Errorf("model.bin: layout ends at byte %d, file has %d", l.Size, len(data))
	}
	w := &Weights{}
	var err error
	matrices := func(t Placed) []kernels.Matrix {
		b := data[t.Offset : t.Offset+t.Bytes]
		per := len(b) / t.Count
		ms := make([]kernels.Matrix, t.Count)
		for i := range ms {
			if ms[i], err = kernels.NewMatrix(b[i*per:(i+1)*per], t.Rows, t.Cols, t.Enc); err != nil {
				err = fmt.Errorf("model.bin: %s: %w", t.Name, err)
			}
		}
		return ms
	}
	vectors := func(t Placed) [][]float32 {
		m := matrices(t) // Count is 1: Rows vectors of Cols
		if err != nil {
			return nil
		}
		vs := make([][]float32, t.Rows)
		for i := range vs {
			vs[i] = make([]float32, t.Cols)
			m[0].Row(i, vs[i])
		}
		return vs
	}
	for _, t := range l.Tensors {
		switch t.Name {
		case "token_embedding":
			w.TokenEmbedding = matrices(t)[0]
		case "rms_att":
			w.RMSAtt = vectors(t)
		case "wq":
			w.WQ = matrices(t)
		case "wk":
			w.WK = matrices(t)
		case "wv":
			w.WV = matrices(t)
		case "wo":
			w.WO = matrices(t)
		case "rms_ffn":
			w.RMSFFN = vectors(t)
		case "w1":
			w.W1 = matrices(t)
		case "w2":
			w.W2 = matrices(t)
		case "w3":
			w.W3 = matrices(t)
		case "rms_final":
			if v := vectors(t); v != nil {
				w.RMSFinal = v[0]
			}
		case "classifier":
			w.Classifier = matrices(t)[0]
		}
		// The freq_cis tables of a legacy file are skipped: run.c computes RoPE itself.
		if err != nil {
			return nil, err
		}
	}
	if cfg.SharedClassifier {
		w.Classifier = w.TokenEmbedding
	}
	return w, nil
}

// bytesPerToken is how many weight bytes one decoding step reads: every matrix of
// every layer and the classifier (the embedding row lookup is not counted).
func (w *Weights) bytesPerToken() int64 {
	n := int64(w.Classifier.Bytes())
	for _, set := range [][]kernels.Matrix{w.WQ, w.WK, w.WV, w.WO, w.W1, w.W2, w.W3} {
		for _, m := range set {
			n += int64(m.Bytes())
		}
	}
	return n
}
