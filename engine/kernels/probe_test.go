package kernels

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/inferpi/inferpi/engine/gguf"
)

// The GGUF fixtures (testdata/gguf/models): tiny models in every tensor type,
// quantized by llama.cpp, with probes of the dequantized values.

const ggufModels = "../../testdata/gguf/models"

// ggufEncodings maps the fixtures' ggml tensor types to encodings.
var ggufEncodings = map[gguf.Type]Encoding{
	gguf.F16: F16, gguf.BF16: BF16, gguf.Q8_0: Q8_0, gguf.Q4_0: Q4_0, gguf.Q4_1: Q4_1,
	gguf.Q5_0: Q5_0, gguf.Q5_1: Q5_1, gguf.Q4_K: Q4_K, gguf.Q5_K: Q5_K, gguf.Q6_K: Q6_K,
}

// probe is oracle/dequant_probe.json's record of one tensor: float64 values of
// the block formula (llama.cpp's float32 values are their rounding).
type probe struct {
	Type  string    `json:"type"`
	Shape [2]int    `json:"shape_rows_x_row_length"`
	First []float64 `json:"row0_first16"`
	Last  []float64 `json:"last_row_last16"`
	Sum   float64   `json:"sum"`
	SumSq float64   `json:"sum_of_squares"`
}

// fixtureTensor is one tensor of a fixture file, as stored.
type fixtureTensor struct {
	name       string
	enc        Encoding
	rows, cols int
	data       []byte
}

// variantTensors returns the tensors of model's variant file that are not F32.
// The F16 and BF16 files are not in the repository: their tensors are the F32
// master's, rounded as gguf-py writes them (numpy's astype(float16), and its
// bf16 rounding to nearest even), which EncodeRow does too.
func variantTensors(t *testing.T, model, variant string) []fixtureTensor {
	t.Helper()
	file := variant
	if variant == "F16" || variant == "BF16" {
		file = "F32"
	}
	path := filepath.Join(ggufModels, model, model+"."+file+".gguf")
	buf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(buf, path)
	if err != nil {
		t.Fatal(err)
	}
	var ts []fixtureTensor
	for i := range f.Tensors {
		gt := &f.Tensors[i]
		data, err := f.Data(buf, gt)
		if err != nil {
			t.Fatal(err)
		}
		c := fixtureTensor{name: gt.Name, rows: int(gt.Rows()), cols: int(gt.Dims[0]), data: data}
		switch {
		case gt.Type == gguf.F32 && len(gt.Dims) > 1 && file != variant:
			c.enc = map[string]Encoding{"F16": F16, "BF16": BF16}[variant]
			c.data = encodeTensor(t, c.enc, data, c.rows*c.cols)
		case gt.Type == gguf.F32:
			continue
		default:
			enc, ok := ggufEncodings[gt.Type]
			if !ok {
				t.Fatalf("%s: %s is %v, which the fixtures were not expected to hold", path, gt.Name, gt.Type)
			}
			c.enc = enc
		}
		ts = append(ts, c)
	}
	return ts
}

// encodeTensor rounds n float32 values (little-endian bytes) to enc.
func encodeTensor(t *testing.T, enc Encoding, f32 []byte, n int) []byte {
	v := make([]float32, n)
	DecodeRow(F32, f32, v)
	out := make([]byte, enc.RowBytes(n))
	if err := EncodeRow(enc, out, v); err != nil {
		t.Fatal(err)
	}
	return out
}

func ggufFixtureModels(t *testing.T) []string {
	dirs, err := filepath.Glob(filepath.Join(ggufModels, "*", "oracle", "dequant_probe.json"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no GGUF fixtures in %s: %v", ggufModels, err)
	}
	var models []string
	for _, d := range dirs {
		models = append(models, filepath.Base(filepath.Dir(filepath.Dir(d))))
	}
	return models
}

// TestDequantizationMatchesLlamaCpp: DecodeRow and Matrix.Row against the probes
// of every non-F32 tensor of every variant file of every fixture model: the first
// 16 values of row 0 and the last 16 of the last row to the bit, the sum and the
// sum of squares of all values within float32 rounding of each value.
func TestDequantizationMatchesLlamaCpp(t *testing.T) {
	for _, model := range ggufFixtureModels(t) {
		var probes struct {
			Variants map[string]map[string]probe `json:"variants"`
		}
		raw, err := os.ReadFile(filepath.Join(ggufModels, model, "oracle", "dequant_probe.json"))
		if err == nil {
			err = json.Unmarshal(raw, &probes)
		}
		if err != nil || len(probes.Variants) == 0 {
			t.Fatalf("%s: probes: %v", model, err)
		}
		for variant, ps := range probes.Variants {
			ts := variantTensors(t, model, variant)
			if len(ts) != len(ps) {
				t.Errorf("%s %s: %d tensors that are not F32, %d probes", model, variant, len(ts), len(ps))
			}
			for _, c := range ts {
				p, ok := ps[c.name]
				if !ok {
					t.Errorf("%s %s: no probe of %s", model, variant, c.name)
					continue
				}
				checkProbe(t, model+" "+variant+" "+c.name, c, p)
			}
		}
	}
}

func checkProbe(t *testing.T, name string, c fixtureTensor, p probe) {
	t.Helper()
	if e, err := ParseEncoding(p.Type); err != nil || e != c.enc || p.Shape != [2]int{c.rows, c.cols} {
		t.Fatalf("%s: %v %dx%d, probe %s %v", name, c.enc, c.rows, c.cols, p.Type, p.Shape)
	}
	all := make([]float32, c.rows*c.cols)
	DecodeRow(c.enc, c.data, all)
	var sum, sumSq, mag float64
	for _, v := range all {
		sum += float64(v)
		sumSq += float64(v) * float64(v)
		mag += math.Abs(float64(v))
	}
	if e := math.Abs(sum - p.Sum); e > 0x1p-24*mag*1.01+1e-12 {
		t.Errorf("%s: sum %v, llama.cpp's values %v", name, sum, p.Sum)
	}
	if e := math.Abs(sumSq - p.SumSq); e > 0x1p-23*p.SumSq*1.01+1e-12 {
		t.Errorf("%s: sum of squares %v, llama.cpp's values %v", name, sumSq, p.SumSq)
	}
	// The probed values, from the whole tensor and from a Matrix's rows.
	m := mustMatrix(t, slices.Clone(c.data), c.rows, c.cols, c.enc)
	first, last := make([]float32, c.cols), make([]float32, c.cols)
	m.Row(0, first)
	m.Row(c.rows-1, last)
	for _, s := range []struct {
		what       string
		whole, row []float32
		want       []float64
	}{
		{"row 0", all[:16], first[:16], p.First},
		{"last row", all[len(all)-16:], last[c.cols-16:], p.Last},
	} {
		for j, w := range s.want {
			want := float32(w)
			if math.Float32bits(s.whole[j]) != math.Float32bits(want) || math.Float32bits(s.row[j]) != math.Float32bits(want) {
				t.Fatalf("%s: %s value %d: DecodeRow %v, Matrix.Row %v, llama.cpp %v", name, s.what, j, s.whole[j], s.row[j], w)
			}
		}
	}
}

// TestFixtureProducts: every matrix of every fixture file times a random x,
// through MatVec, against the float64 product of its exact weights with x as the
// reference quantizes it (exactDots): real llama.cpp-quantized blocks in every
// encoding, through the kernels in use and the pool.
func TestFixtureProducts(t *testing.T) {
	rng := rand.New(rand.NewPCG(90, 91))
	for _, model := range ggufFixtureModels(t) {
		for _, variant := range []string{"F16", "BF16", "Q8_0", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K", "pure-Q4_1", "pure-Q5_0", "pure-Q5_1", "pure-Q4_K", "pure-Q5_K"} {
			for _, c := range variantTensors(t, model, variant) {
				m := mustMatrix(t, slices.Clone(c.data), c.rows, c.cols, c.enc)
				x := randomVector(rng, c.cols)
				got := make([]float32, c.rows)
				MatVec(got, m, x)
				sum, mag := exactDots(m, prepared(&reference, x, c.enc))
				for i, g := range got {
					tol := reorderTol(c.cols, mag[i])
					if slices.Contains(newBlockEncodings, c.enc) {
						tol = blockTol(c.cols/c.enc.BlockWeights(), mag[i])
					}
					if e := math.Abs(float64(g) - sum[i]); e > tol {
						t.Fatalf("%s %s %s row %d: %v, exact %v: error %g > %g", model, variant, c.name, i, g, sum[i], e, tol)
					}
				}
			}
		}
	}
}
