package kernels

import (
	"encoding/binary"
	"fmt"
)

// Attend computes one attention head for one query over a stretch of its KV cache
// kept head-major: keys and values hold len(scores) positions of len(q) values
// each, one position after the other (the layout both engines use, so that a head's
// cache is one sequential stream for the prefetchers). It sets scores[j] to the
// softmax over j of scale·dot(q, key j), and out (len(q) values) to Σ scores[j]·value j.
//
// The scores are one float32 matrix-vector product over the keys (a single kernel
// call, not one Dot per position: at a few hundred positions of 64 or 128 values
// the calls cost more than the arithmetic).
func Attend(out, q, keys, values, scores []float32, scale float32) {
	n, hd := len(scores), len(q)
	if len(out) < hd || len(keys) < n*hd || len(values) < n*hd {
		panic(fmt.Sprintf("kernels: Attend of %d positions of %d values with %d keys, %d values, %d outputs",
			n, hd, len(keys), len(values), len(out)))
	}
	if n == 0 || hd == 0 {
		clear(out[:hd])
		return
	}
	if littleEndian {
		kern.matVecF32(scores, f32bytes(keys[:n*hd]), q)
	} else {
		for j := range scores {
			scores[j] = kern.dot(q, keys[j*hd:(j+1)*hd])
		}
	}
	for j := range scores {
		scores[j] *= scale
	}
	Softmax(scores)
	out = out[:hd]
	clear(out)
	for j, p := range scores {
		kern.axpy(out, p, values[j*hd:(j+1)*hd])
	}
}

// littleEndian is true when float32 slices have the byte layout of the model
// files' float32 matrices, so the matrix kernels can read them in place.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1
