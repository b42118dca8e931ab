package kernels

import (
	"fmt"
	"strings"
)

// An Input is a vector made ready once for products with rows of several
// matrices of its width, for work that is split by something other than rows:
// attention, where the item of a key/value head computes its own rows of q, k and v
// and then attends with them, on one core, while they are in its cache. The
// matrices may differ in encoding (a Q4_K_M model's q and k are Q4_K, its v Q6_K):
// x is quantized once for each form of x their kernels take (act.go), and not at
// all for fp32, fp16 and bf16.
type Input struct {
	k     *impl
	x     []float32
	encs  uint32              // bit e: prepared for encoding e
	xq    [actKinds]*q8Vector // x in the blocks of each kind prepared, nil otherwise
	store *[actKinds]q8Vector // the vectors xq points into, or nil: q8Vectors' own
}

// NewInput prepares x for matrices of len(x) columns in the encodings encs.
// Release returns its buffers.
func NewInput(x []float32, encs ...Encoding) *Input {
	in := new(Input)
	in.Prepare(x, encs...)
	return in
}

// Prepare makes in ready for x as NewInput does, in in's own storage: an Input an
// engine keeps in its session state and prepares for every layer costs no
// allocation. Release it before preparing it again.
func (in *Input) Prepare(x []float32, encs ...Encoding) {
	in.prepare(kern, x, encs, nil)
}

// prepare makes in ready for x with k's kernels, its quantized copies in store (or
// from q8Vectors when store is nil).
func (in *Input) prepare(k *impl, x []float32, encs []Encoding, store *[actKinds]q8Vector) {
	*in = Input{k: k, x: x, store: store}
	for _, e := range encs {
		if err := e.CheckCols(len(x)); err != nil {
			panic(fmt.Sprintf("%v (preparing an input of %d values)", err, len(x)))
		}
		if in.encs&(1<<e) != 0 {
			continue
		}
		in.encs |= 1 << e
		a := e.act()
		if a == actFloat {
			continue
		}
		v := in.xq[a]
		if v == nil {
			if store != nil {
				v = &store[a]
			} else {
				v = q8Vectors.Get().(*q8Vector)
			}
			in.xq[a] = v
			k.quantize(a, v, x)
		}
		if k.prepare != nil {
			k.prepare(v, e)
		}
	}
}

// Rows sets out[i] = dot(row i of m, x) for lo <= i < hi, on the calling goroutine,
// with the bits MatVec gives those rows. m's encoding must be one in was prepared for.
func (in *Input) Rows(out []float32, m Matrix, lo, hi int) {
	if !m.Enc.Valid() || in.encs&(1<<m.Enc) == 0 || m.Cols != len(in.x) || lo < 0 || hi > m.Rows || lo > hi || len(out) < hi {
		panic(fmt.Sprintf("kernels: rows [%d,%d) of a %dx%d %v matrix into %d values, for an input of %d prepared for %s",
			lo, hi, m.Rows, m.Cols, m.Enc, len(out), len(in.x), in.encodings()))
	}
	matVecRows(in, out, m, lo, hi)
}

// encodings lists the encodings in was prepared for (for messages).
func (in *Input) encodings() string {
	var names []string
	for _, e := range Encodings {
		if in.encs&(1<<e) != 0 {
			names = append(names, e.String())
		}
	}
	return "[" + strings.Join(names, " ") + "]"
}

// Release gives the quantized copies back; the Input must not be used afterwards.
func (in *Input) Release() {
	if in.store == nil {
		for _, v := range in.xq {
			if v != nil {
				q8Vectors.Put(v)
			}
		}
	}
	in.xq = [actKinds]*q8Vector{}
}
