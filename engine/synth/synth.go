package synth

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/inferpi/inferpi/engine/gpt"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/llama"
)

// Result describes what Write made.
type Result struct {
	ModelBytes, TokenizerBytes int64
	Params                     int64 // weights in the file (llama2.c's freq_cis tables excluded)
}

// Write makes dir/model.bin and dir/tokenizer.bin for preset p with weights in enc,
// from seed. The model is written by the engines' own writers (gpt.WriteModel,
// llama.WriteModel), so it is exactly what the exporters would make of such a model.
func Write(dir string, p Preset, enc kernels.Encoding, seed uint64) (Result, error) {
	if !enc.Valid() {
		return Result{}, fmt.Errorf("synth: unknown weight encoding %v", enc)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Result{}, err
	}
	var res Result
	var tok []byte
	err := writeFile(filepath.Join(dir, "model.bin"), func(w *bufio.Writer) (int64, error) {
		if p.GPT != nil {
			h, err := gptHeader(p, enc)
			if err != nil {
				return 0, err
			}
			tok, err = nanochatTokenizer(h.VocabSize, seed)
			if err != nil {
				return 0, err
			}
			return gpt.WriteModel(w, h, func(s gpt.TensorSpec) ([]float32, error) {
				res.Params += int64(s.Rows) * int64(s.Cols)
				return gptValues(s, seed), nil
			})
		}
		tok = llamaTokenizer(p.Llama.VocabSize, seed)
		return llama.WriteModel(w, *p.Llama, enc, func(t llama.Tensor) ([]float32, error) {
			if t.Name == "freq_cis_real" || t.Name == "freq_cis_imag" {
				return nil, nil // computed by the writer, as llama2.c's export does
			}
			res.Params += t.Floats()
			return llamaValues(t, seed), nil
		})
	}, &res.ModelBytes)
	if err != nil {
		return Result{}, err
	}
	if err := writeFile(filepath.Join(dir, "tokenizer.bin"), func(w *bufio.Writer) (int64, error) {
		n, err := w.Write(tok)
		return int64(n), err
	}, &res.TokenizerBytes); err != nil {
		return Result{}, err
	}
	return res, nil
}

// gptHeader is the preset's header with both encodings set to enc (the writer keeps
// rows that are not whole blocks, the gates', in fp16).
func gptHeader(p Preset, enc kernels.Encoding) (*gpt.Header, error) {
	code, err := gpt.EncodingOf(enc)
	if err != nil {
		return nil, err
	}
	h := *p.GPT
	h.Windows = append([]int(nil), h.Windows...)
	h.ValueEmbeds = append([]bool(nil), h.ValueEmbeds...)
	h.MatrixEnc, h.EmbedEnc = code, code
	return &h, h.Validate()
}

// writeFile creates path and fills it through write, recording the size in n; a
// half-written file is removed.
func writeFile(path string, write func(*bufio.Writer) (int64, error), n *int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	_, err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("%s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	*n = st.Size()
	return nil
}

// The weights. Each tensor has its own random stream, seeded by the model seed and
// the tensor's name, so every encoding of a preset stores the same values and a
// tensor does not depend on the ones before it. Matrices are uniform with the
// standard deviation 1/sqrt(fan_in) of the usual initialisations (activations stay
// of order one through the layers, and no value is near fp16's limits or
// subnormal, which would make some SIMD units slow); embeddings have standard
// deviation 1; norms and scalars are near their trained values' order.

func tensorRNG(seed uint64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// uniform returns n values uniform in [-a, a] for standard deviation std.
func uniform(rng *rand.Rand, n int64, std float64) []float32 {
	a := float32(std * math.Sqrt(3))
	v := make([]float32, n)
	for i := range v {
		v[i] = a * (2*float32(rng.Uint32()>>8)/(1<<24) - 1)
	}
	return v
}

func constant(n int64, c float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = c
	}
	return v
}

func gptValues(s gpt.TensorSpec, seed uint64) []float32 {
	rng := tensorRNG(seed, s.Name)
	n := int64(s.Rows) * int64(s.Cols)
	switch s.Name {
	case "resid_lambdas":
		return constant(n, 1)
	case "x0_lambdas", "smear_lambda":
		return constant(n, 0.1)
	case "backout_lambda":
		return constant(n, 0.2)
	case "transformer.wte.weight":
		return uniform(rng, n, 1)
	}
	return uniform(rng, n, 1/math.Sqrt(float64(s.Cols)))
}

func llamaValues(t llama.Tensor, seed uint64) []float32 {
	rng := tensorRNG(seed, t.Name)
	switch t.Name {
	case "rms_att", "rms_ffn", "rms_final":
		v := uniform(rng, t.Floats(), 0.05)
		for i := range v {
			v[i]++
		}
		return v
	case "token_embedding":
		return uniform(rng, t.Floats(), 1)
	}
	return uniform(rng, t.Floats(), 1/math.Sqrt(float64(t.Cols)))
}
