package quantize

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/internal/testfile"
)

// The fixtures in testdata/gguf: llama.cpp's llama-quantize made every variant of
// four models from their F32 masters (see testdata/gguf/README.md); F16 and BF16
// are not stored, their sha256 are in the oracle JSON.
const fixtures = "../../testdata/gguf"

var fixtureModels = []string{"llama-spm", "llama3-bpe", "qwen2-bpe", "qwen3-bpe"}

// variants: each file llama-quantize made from a master, by the part of its name
// between the model and ".gguf", with its target and --pure.
var variants = []struct {
	name   string
	target FileType
	pure   bool
}{
	{"F16", FileF16, false}, {"BF16", FileBF16, false}, {"Q8_0", FileQ8_0, false}, {"Q4_0", FileQ4_0, false},
	{"Q4_K_M", FileQ4_K_M, false}, {"Q5_K_M", FileQ5_K_M, false}, {"Q6_K", FileQ6_K, false},
	{"pure-Q4_1", FileQ4_1, true}, {"pure-Q5_0", FileQ5_0, true}, {"pure-Q5_1", FileQ5_1, true},
	{"pure-Q4_K", FileQ4_K_M, true}, {"pure-Q5_K", FileQ5_K_M, true},
}

type ggufFile struct {
	*gguf.File
	data []byte
}

func readGGUF(t *testing.T, path string) ggufFile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(data, filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	return ggufFile{f, data}
}

func (g ggufFile) tensorBytes(t *testing.T, name string) []byte {
	t.Helper()
	ten, ok := g.Tensor(name)
	if !ok {
		t.Fatalf("%s: no tensor %s", g.Name, name)
	}
	b, err := g.Data(g.data, ten)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// floats returns an F32 tensor's values.
func (g ggufFile) floats(t *testing.T, name string) []float32 {
	b := g.tensorBytes(t, name)
	x := make([]float32, len(b)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x
}

// oracle is the part of a variant's oracle JSON these tests read.
type oracle struct {
	File        string            `json:"file"`
	SHA256      string            `json:"sha256"`
	TensorTypes map[string]string `json:"tensor_types"`
	Meta        struct {
		Metadata map[string]string `json:"metadata_as_llama_cpp_prints_it"`
	} `json:"meta"`
}

func readOracle(t *testing.T, path string) oracle {
	t.Helper()
	var o oracle
	testfile.JSON(t, path, &o)
	return o
}

// source is what the type rules see of a model: its hyperparameters and tensors.
type source struct {
	model   Model
	tensors []Tensor
}

func sourceOf(t *testing.T, g ggufFile) source {
	m, err := ModelOf(g.File)
	if err != nil {
		t.Fatal(err)
	}
	s := source{model: m}
	for _, ten := range g.Tensors {
		s.tensors = append(s.tensors, Tensor{Name: ten.Name, Type: ten.Type, Dims: ten.Dims})
	}
	return s
}

// tally counts the tensors and blocks of each type found byte-identical.
type tally map[gguf.Type]*struct{ tensors, blocks int }

func (c tally) add(typ gguf.Type, blocks int) {
	if c[typ] == nil {
		c[typ] = &struct{ tensors, blocks int }{}
	}
	c[typ].tensors++
	c[typ].blocks += blocks
}

func (c tally) log(t *testing.T, what string) {
	for _, typ := range slices.Sorted(func(yield func(gguf.Type) bool) {
		for k := range c {
			if !yield(k) {
				return
			}
		}
	}) {
		t.Logf("%s %v: %d tensors, %d blocks", what, typ, c[typ].tensors, c[typ].blocks)
	}
}

// quantizeFile is File over a master held in memory.
func quantizeFile(t *testing.T, master ggufFile, target FileType, opt Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	must(t, File(&buf, master.File, master.data, target, opt))
	return buf.Bytes()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// compareTensors checks every tensor of got against want, block by block, and
// counts the identical ones in c.
func compareTensors(t *testing.T, got, want ggufFile, c tally) {
	t.Helper()
	for _, wt := range want.Tensors {
		gt, ok := got.Tensor(wt.Name)
		if !ok || gt.Type != wt.Type || !slices.Equal(gt.Dims, wt.Dims) {
			t.Errorf("%s: tensor %s %v %v; quantized: %v", want.Name, wt.Name, wt.Type, wt.Dims, gt)
			continue
		}
		g, w := got.tensorBytes(t, wt.Name), want.tensorBytes(t, wt.Name)
		size := wt.Type.BlockBytes()
		differ := 0
		for b := 0; b < len(w); b += size {
			if !bytes.Equal(g[b:b+size], w[b:b+size]) {
				differ++
			}
		}
		if differ > 0 {
			t.Errorf("%s: tensor %s (%v): %d of %d blocks differ from llama.cpp's", want.Name, wt.Name, wt.Type, differ, len(w)/size)
		} else if len(wt.Dims) > 1 {
			c.add(wt.Type, len(w)/size)
		}
	}
}

// TestQuantizedFilesAreLlamaCpps writes every variant of every fixture model from its
// F32 master with File, and compares it with llama-quantize's file:
// the same bytes, tensor data and metadata (F16 and BF16: the same sha256).
func TestQuantizedFilesAreLlamaCpps(t *testing.T) {
	identical := tally{}
	for _, model := range fixtureModels {
		dir := filepath.Join(fixtures, "models", model)
		master := readGGUF(t, filepath.Join(dir, model+".F32.gguf"))
		for _, v := range variants {
			o := readOracle(t, filepath.Join(dir, "oracle", v.name+".json"))
			b := quantizeFile(t, master, v.target, Options{Pure: v.pure})
			sum := testfile.SHA256(b)
			if sum != o.SHA256 {
				t.Errorf("%s: sha256 %s, llama.cpp's %s", o.File, sum, o.SHA256)
			}
			got, err := gguf.Parse(b, "quantized "+o.File)
			if err != nil {
				t.Fatal(err)
			}
			if v.name == "F16" || v.name == "BF16" {
				for _, ten := range got.Tensors {
					if len(ten.Dims) > 1 && sum == o.SHA256 {
						identical.add(ten.Type, int(ten.Elements()))
					}
				}
				continue
			}
			compareTensors(t, ggufFile{got, b}, readGGUF(t, filepath.Join(dir, o.File)), identical)
		}
	}
	identical.log(t, "identical to llama.cpp's:")
}

// TestTypesAreLlamaQuantizes: the type of every tensor in every variant (the
// oracle's record of each file, F16 and BF16 included) and the general.file_type
// llama-quantize wrote.
func TestTypesAreLlamaQuantizes(t *testing.T) {
	for _, model := range fixtureModels {
		dir := filepath.Join(fixtures, "models", model)
		src := sourceOf(t, readGGUF(t, filepath.Join(dir, model+".F32.gguf")))
		for _, v := range variants {
			o := readOracle(t, filepath.Join(dir, "oracle", v.name+".json"))
			types, err := Types(v.target, src.model, src.tensors, Options{Pure: v.pure})
			if err != nil {
				t.Fatal(err)
			}
			if len(o.TensorTypes) != len(src.tensors) {
				t.Errorf("%s: %d tensors, the master has %d", o.File, len(o.TensorTypes), len(src.tensors))
			}
			for i, ten := range src.tensors {
				if got, want := types[i].String(), o.TensorTypes[ten.Name]; got != want {
					t.Errorf("%s: %s in %s, llama-quantize chose %s", o.File, ten.Name, got, want)
				}
			}
			if got, want := fmt.Sprint(uint32(v.target)), o.Meta.Metadata[gguf.FileTypeKey]; got != want {
				t.Errorf("%s: general.file_type %s, llama-quantize wrote %s", o.File, got, want)
			}
		}
	}
}

// demoMaster is llama-demo as llama.cpp's llama-convert-llama2c-to-ggml converted it
// (testdata/gguf/trained): the F32 GGUF is not stored, but the converter copies
// llama2.c's arrays unchanged (convert_weights_ak_to_gg) and writes the shared
// classifier again as output.weight, so the weights come from models/llama-demo's
// model.bin and the metadata and tensor order from the Q8_0 file.
func demoMaster(t *testing.T, meta ggufFile) ggufFile {
	bin, err := os.ReadFile("../../models/llama-demo/model.bin")
	if err != nil {
		t.Fatal(err)
	}
	field := func(i int) int { return int(int32(binary.LittleEndian.Uint32(bin[4*i:]))) }
	dim, hidden, layers, heads, kvHeads, vocab, seqLen := field(0), field(1), field(2), field(3), field(4), field(5), field(6)
	if vocab <= 0 {
		t.Fatal("model.bin: the demo's classifier is shared (vocab_size > 0)")
	}
	kvDim := dim * kvHeads / heads
	at := 28
	next := func(n int) []float32 { // llama2.c's arrays in file order
		x := make([]float32, n)
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(bin[at+4*i:]))
		}
		at += 4 * n
		return x
	}
	w := map[string][]float32{"token_embd.weight": next(vocab * dim)}
	attnNorm := next(layers * dim)
	wq, wk, wv, wo := next(layers*dim*dim), next(layers*dim*kvDim), next(layers*dim*kvDim), next(layers*dim*dim)
	ffnNorm := next(layers * dim)
	w1, w2, w3 := next(layers*dim*hidden), next(layers*hidden*dim), next(layers*dim*hidden)
	w["output_norm.weight"] = next(dim)
	next(seqLen * dim / heads) // freq_cis_real and _imag, which the converter skips
	if at != len(bin) {
		t.Fatalf("model.bin: %d bytes, the arrays end at %d", len(bin), at)
	}
	w["output.weight"] = w["token_embd.weight"]
	layer := func(x []float32, l, n int) []float32 { return x[l*n : (l+1)*n] }
	for l := range layers {
		b := fmt.Sprintf("blk.%d.", l)
		w[b+"attn_norm.weight"] = layer(attnNorm, l, dim)
		w[b+"ffn_norm.weight"] = layer(ffnNorm, l, dim)
		w[b+"attn_q.weight"], w[b+"attn_output.weight"] = layer(wq, l, dim*dim), layer(wo, l, dim*dim)
		w[b+"attn_k.weight"], w[b+"attn_v.weight"] = layer(wk, l, dim*kvDim), layer(wv, l, dim*kvDim)
		w[b+"ffn_gate.weight"], w[b+"ffn_down.weight"], w[b+"ffn_up.weight"] =
			layer(w1, l, dim*hidden), layer(w2, l, dim*hidden), layer(w3, l, dim*hidden)
	}
	var buf bytes.Buffer
	out := gguf.NewWriter(&buf)
	for _, kv := range meta.KVs {
		if kv.Key != gguf.FileTypeKey && kv.Key != "general.quantization_version" {
			must(t, out.AddKV(kv.Key, kv.Value))
		}
	}
	for _, ten := range meta.Tensors {
		if x := w[ten.Name]; int64(len(x)) != product(ten.Dims) {
			t.Fatalf("model.bin has no %s of %v", ten.Name, ten.Dims)
		}
		must(t, out.AddTensor(ten.Name, gguf.F32, ten.Dims))
	}
	must(t, out.WriteHeader())
	for _, ten := range meta.Tensors {
		b := make([]byte, 0, 4*len(w[ten.Name]))
		for _, v := range w[ten.Name] {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		must(t, out.WriteTensorData(b))
	}
	must(t, out.Close())
	f, err := gguf.Parse(buf.Bytes(), "llama-demo.F32.gguf")
	if err != nil {
		t.Fatal(err)
	}
	return ggufFile{f, buf.Bytes()}
}

func product(d []int64) int64 {
	p := int64(1)
	for _, v := range d {
		p *= v
	}
	return p
}

// TestDemoFilesAreLlamaCpps writes llama-demo's Q8_0 and Q4_0 files (rows of 192
// weights: no K type fits, and Q4_0's output falls back from Q6_K to Q8_0).
func TestDemoFilesAreLlamaCpps(t *testing.T) {
	dir := filepath.Join(fixtures, "trained")
	src := demoMaster(t, readGGUF(t, filepath.Join(dir, "llama-demo.Q8_0.gguf")))
	identical := tally{}
	for _, c := range []struct {
		variant string
		target  FileType
	}{{"Q8_0", FileQ8_0}, {"Q4_0", FileQ4_0}} {
		o := readOracle(t, filepath.Join(dir, "oracle", c.variant+".json"))
		b := quantizeFile(t, src, c.target, Options{})
		want := readGGUF(t, filepath.Join(dir, o.File))
		if !bytes.Equal(b, want.data) {
			t.Errorf("%s: the quantized file differs from llama.cpp's", o.File)
		}
		got, err := gguf.Parse(b, "quantized "+o.File)
		if err != nil {
			t.Fatal(err)
		}
		compareTensors(t, ggufFile{got, b}, want, identical)
		for _, ten := range got.Tensors {
			if want := o.TensorTypes[ten.Name]; ten.Type.String() != want {
				t.Errorf("%s: %s in %v, llama-quantize chose %s", o.File, ten.Name, ten.Type, want)
			}
		}
	}
	identical.log(t, "identical to llama.cpp's:")
}

// TestFileRefusesQuantizedTensors: quantizing a quantized file would round twice.
func TestFileRefusesQuantizedTensors(t *testing.T) {
	q := readGGUF(t, filepath.Join(fixtures, "models", "llama-spm", "llama-spm.Q8_0.gguf"))
	err := File(io.Discard, q.File, q.data, FileQ4_K_M, Options{})
	if err == nil || !strings.Contains(err.Error(), "llama-spm.Q8_0.gguf: tensor output.weight is Q8_0: only F32, F16 and BF16 tensors are quantized") {
		t.Fatalf("error %v", err)
	}
}
