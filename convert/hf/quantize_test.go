package hf

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/quantize"
)

// The GGUF fixtures: float32 models and what llama-quantize made of them.
const ggufModels = "../../testdata/gguf/models"

// modelFromGGUF makes a Model of a float32 GGUF file's tensors, as if they had
// been read from a Hugging Face directory.
func modelFromGGUF(t *testing.T, path string) *Model {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(data, path)
	if err != nil {
		t.Fatal(err)
	}
	name, _ := f.GetString("general.architecture")
	m := &Model{Config: &Config{}}
	for _, a := range architectures {
		if a.gguf == name {
			m.arch = a
		}
	}
	for key, dst := range map[string]*int{"block_count": &m.Config.Layers, "attention.head_count": &m.Config.Heads, "attention.head_count_kv": &m.Config.KVHeads} {
		v, err := f.GetUint(name + "." + key)
		if err != nil {
			t.Fatal(err)
		}
		*dst = int(v)
	}
	for i := range f.Tensors {
		x := &f.Tensors[i]
		b, err := f.Data(data, x)
		if err != nil || x.Type != gguf.F32 {
			t.Fatalf("%s: %v (%v)", x.Name, err, x.Type)
		}
		v := make([]float32, x.Elements())
		for j := range v {
			v[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:]))
		}
		m.Tensors = append(m.Tensors, &Tensor{Name: x.Name, Dims: x.Dims, Source: path, values: v})
	}
	return m
}

// --dtype q4_k_m and the others make what llama-quantize makes from the same
// float32 tensors: each tensor's type (Q6_K for the output and the attn_v and
// ffn_down llama-quantize promotes) and bytes.
func TestQuantizedLikeLlamaQuantize(t *testing.T) {
	for _, model := range []string{"llama-spm", "llama3-bpe", "qwen2-bpe", "qwen3-bpe"} {
		m := modelFromGGUF(t, filepath.Join(ggufModels, model, model+".F32.gguf"))
		for _, target := range []string{"Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "Q4_0"} {
			path := filepath.Join(ggufModels, model, model+"."+target+".gguf")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want, err := gguf.Parse(data, path)
			if err != nil {
				t.Fatal(err)
			}
			ft, err := quantize.ParseFileType(target)
			if err != nil {
				t.Fatal(err)
			}
			types, err := m.Types(ft)
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range m.Tensors {
				w, ok := want.Tensor(x.Name)
				if !ok {
					t.Fatalf("%s: no %s", path, x.Name)
				}
				if types[i] != w.Type {
					t.Errorf("%s %s: %s is %v, llama-quantize's %v", model, target, x.Name, types[i], w.Type)
					continue
				}
				got, err := m.encodeTensor(x, types[i], nil, func(int64) {})
				if err != nil {
					t.Fatal(err)
				}
				if wb, _ := want.Data(data, w); !bytes.Equal(got, wb) {
					t.Errorf("%s %s: %s (%v) differs from llama-quantize's", model, target, x.Name, w.Type)
				}
			}
		}
	}
}
