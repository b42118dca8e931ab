package llama

import (
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine/kernels"
)

// TestMapWeightsChecksEveryPlace: a tensor whose place in the layout is not
// exactly its matrices, or lies outside the file, is an error that names it,
// even when every one of its matrices would fit (the place has a byte more
// than its matrices take).
func TestMapWeightsChecksEveryPlace(t *testing.T) {
	cfg := Config{Dim: 32, HiddenDim: 64, NLayers: 2, NHeads: 2, NKVHeads: 2, VocabSize: 16, SeqLen: 8, SharedClassifier: true}
	for _, enc := range []kernels.Encoding{kernels.F32, kernels.Q8_0} {
		l := cfg.layoutFor(enc)
		if _, err := mapWeights(make([]byte, l.Size), cfg, l); err != nil {
			t.Fatalf("%v: %v", enc, err)
		}
		for i, p := range l.Tensors {
			if p.isRopeTable() {
				continue
			}
			// One byte more in the place of tensor i, the tensors after it moved on.
			grown := l
			grown.Tensors = append([]Placed(nil), l.Tensors...)
			grown.Tensors[i].Bytes++
			for j := i + 1; j < len(grown.Tensors); j++ {
				grown.Tensors[j].Offset++
			}
			grown.Size++
			_, err := mapWeights(make([]byte, grown.Size), cfg, grown)
			if err == nil || !strings.HasPrefix(err.Error(), "model.bin: "+p.Name+": ") {
				t.Errorf("%v, %s one byte longer: %v", enc, p.Name, err)
			}
			// Tensor i placed past the end of the file.
			moved := l
			moved.Tensors = append([]Placed(nil), l.Tensors...)
			moved.Tensors[i].Offset = l.Size
			_, err = mapWeights(make([]byte, l.Size), cfg, moved)
			if err == nil || !strings.Contains(err.Error(), p.Name+": bytes ") {
				t.Errorf("%v, %s past the end: %v", enc, p.Name, err)
			}
		}
	}
}
