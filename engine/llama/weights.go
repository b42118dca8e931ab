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
// checked against l. The first tensor that does not fit its place is the error.
func mapWeights(data []byte, cfg Config, l Layout) (*Weights, error) {
	if int64(len(data)) != l.Size {
		return nil, fmt.Errorf("model.bin: layout ends at byte %d, file has %d", l.Size, len(data))
	}
	w := &Weights{}
	for _, t := range l.Tensors {
		var err error
		switch t.Name {
		case "token_embedding":
			w.TokenEmbedding, err = matrix(data, t)
		case "rms_att":
			w.RMSAtt, err = vectors(data, t)
		case "wq":
			w.WQ, err = matrices(data, t)
		case "wk":
			w.WK, err = matrices(data, t)
		case "wv":
			w.WV, err = matrices(data, t)
		case "wo":
			w.WO, err = matrices(data, t)
		case "rms_ffn":
			w.RMSFFN, err = vectors(data, t)
		case "w1":
			w.W1, err = matrices(data, t)
		case "w2":
			w.W2, err = matrices(data, t)
		case "w3":
			w.W3, err = matrices(data, t)
		case "rms_final":
			var vs [][]float32
			if vs, err = vectors(data, t); err == nil {
				w.RMSFinal = vs[0]
			}
		case "classifier":
			w.Classifier, err = matrix(data, t)
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

// matrices makes t's Count matrices (one per layer), which lie one after the
// other in its place in data and fill it exactly.
func matrices(data []byte, t Placed) ([]kernels.Matrix, error) {
	size, err := t.Enc.MatrixBytes(t.Rows, t.Cols)
	switch {
	case err != nil:
		return nil, fmt.Errorf("model.bin: %s: %w", t.Name, err)
	case t.Count <= 0 || int64(t.Count)*int64(size) != t.Bytes:
		return nil, fmt.Errorf("model.bin: %s: %d matrices of %d bytes in a place of %d", t.Name, t.Count, size, t.Bytes)
	case t.Offset < 0 || t.Offset > int64(len(data))-t.Bytes:
		return nil, fmt.Errorf("model.bin: %s: bytes %d to %d are outside the file of %d", t.Name, t.Offset, t.Offset+t.Bytes, len(data))
	}
	ms := make([]kernels.Matrix, t.Count)
	for i := range ms {
		off := t.Offset + int64(i)*int64(size)
		if ms[i], err = kernels.NewMatrix(data[off:off+int64(size)], t.Rows, t.Cols, t.Enc); err != nil {
			return nil, fmt.Errorf("model.bin: %s, matrix %d of %d: %w", t.Name, i, t.Count, err)
		}
	}
	return ms, nil
}

// matrix makes t's one matrix.
func matrix(data []byte, t Placed) (kernels.Matrix, error) {
	if t.Count != 1 {
		return kernels.Matrix{}, fmt.Errorf("model.bin: %s: %d matrices, want 1", t.Name, t.Count)
	}
	ms, err := matrices(data, t)
	if err != nil {
		return kernels.Matrix{}, err
	}
	return ms[0], nil
}

// vectors widens t's one matrix (an RMSNorm gain per row) to float32 rows.
func vectors(data []byte, t Placed) ([][]float32, error) {
	m, err := matrix(data, t)
	if err != nil {
		return nil, err
	}
	vs := make([][]float32, t.Rows)
	for i := range vs {
		vs[i] = make([]float32, t.Cols)
		m.Row(i, vs[i])
	}
	return vs, nil
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
