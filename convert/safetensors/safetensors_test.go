package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/internal/testfile"
)

// The Hugging Face fixtures: safetensors files written by torch, with the
// sha256 of each tensor as llama.cpp's converter wrote it in float32.
const hfDir = "../../testdata/hf"

func open(t testing.TB, b []byte, name string) *File {
	t.Helper()
	f, err := Open(bytes.NewReader(b), int64(len(b)), name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// ggufSums maps the GGUF tensor names of a fixture's converted file to the
// sha256 of their float32 data.
func ggufSums(t *testing.T, fixture string) map[string]string {
	t.Helper()
	var g struct {
		Tensors []struct {
			Name   string `json:"name"`
			SHA256 string `json:"sha256"`
		} `json:"tensors"`
	}
	testfile.JSON(t, filepath.Join(hfDir, fixture, "gguf", fixture+"-f32.gguf.json"), &g)
	sums := map[string]string{}
	for _, x := range g.Tensors {
		sums[x.Name] = x.SHA256
	}
	return sums
}

// Tensors that llama.cpp's converter copies without permuting, widened to
// float32 here, are byte for byte the tensors of its float32 GGUF: bf16, f16
// and f32 files, read whole and in pieces.
func TestFixtureValues(t *testing.T) {
	for _, c := range []struct {
		fixture, file string
		dtype         DType
		tensors       int
	}{
		{"llama-spm-bf16", "model.safetensors", BF16, 30},
		{"qwen2-bpe-fp16", "model.safetensors", F16, 39},
		{"qwen3-bf16", "model.safetensors", BF16, 35},
		{"llama-tied-sharded-f32", "model-00001-of-00002.safetensors", F32, 14},
		{"llama-tied-sharded-f32", "model-00002-of-00002.safetensors", F32, 15},
	} {
		f := open(t, testfile.Read(t, filepath.Join(hfDir, c.fixture, c.file)), c.file)
		if len(f.Tensors) != c.tensors {
			t.Errorf("%s/%s: %d tensors, want %d", c.fixture, c.file, len(f.Tensors), c.tensors)
		}
		if f.Metadata["format"] != "pt" {
			t.Errorf("%s/%s: metadata %v, want format pt", c.fixture, c.file, f.Metadata)
		}
		sums := ggufSums(t, c.fixture)
		checked := 0
		for _, x := range f.Tensors {
			if x.DType != c.dtype {
				t.Errorf("%s: %s is %v, want %v", c.file, x.Name, x.DType, c.dtype)
			}
			gguf, ok := map[string]string{
				"model.embed_tokens.weight":                      "token_embd.weight",
				"model.norm.weight":                              "output_norm.weight",
				"lm_head.weight":                                 "output.weight",
				"model.layers.1.mlp.down_proj.weight":            "blk.1.ffn_down.weight",
				"model.layers.2.self_attn.v_proj.weight":         "blk.2.attn_v.weight",
				"model.layers.0.post_attention_layernorm.weight": "blk.0.ffn_norm.weight",
			}[x.Name]
			if !ok || sums[gguf] == "" {
				continue
			}
			whole := make([]float32, x.Elements())
			if err := f.ReadFloat32s(x, 0, whole); err != nil {
				t.Fatal(err)
			}
			if got := testfile.SHA256Float32s(whole); got != sums[gguf] {
				t.Errorf("%s/%s: %s read as float32 has sha256 %s, llama.cpp's %s has %s", c.fixture, c.file, x.Name, got, gguf, sums[gguf])
			}
			// In three uneven pieces: the same values.
			pieces := make([]float32, len(whole))
			n := int64(len(whole))
			for _, r := range [][2]int64{{0, 7}, {7, n / 2}, {n / 2, n}} {
				if err := f.ReadFloat32s(x, r[0], pieces[r[0]:r[1]]); err != nil {
					t.Fatal(err)
				}
			}
			if testfile.SHA256Float32s(pieces) != testfile.SHA256Float32s(whole) {
				t.Errorf("%s: %s read in pieces differs from the whole", c.file, x.Name)
			}
			checked++
		}
		if checked == 0 {
			t.Errorf("%s/%s: no tensor checked against the GGUF", c.fixture, c.file)
		}
	}
}

// file builds a safetensors file from a header (marshalled as given) and data.
func file(header map[string]any, data []byte) []byte {
	h, err := json.Marshal(header)
	if err != nil {
		panic(err)
	}
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	return append(append(b, h...), data...)
}

// raw builds a file from a header written as is and n zero bytes of data.
func raw(header string, n int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), make([]byte, n)...)
}

func tensor(dtype string, shape []int64, begin, end int64) map[string]any {
	return map[string]any{"dtype": dtype, "shape": shape, "data_offsets": []int64{begin, end}}
}

func TestReadSynthetic(t *testing.T) {
	data := make([]byte, 0, 64)
	for _, v := range []float32{1, -2.5, 3e-3, 65504} {
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
	}
	data = binary.LittleEndian.AppendUint16(data, 0x3c00)                               // f16 1
	data = binary.LittleEndian.AppendUint16(data, 0xc000)                               // f16 -2
	data = binary.LittleEndian.AppendUint16(data, 0x3f80)                               // bf16 1
	data = binary.LittleEndian.AppendUint16(data, uint16(math.Float32bits(-0.375)>>16)) // bf16 -0.375
	data = binary.LittleEndian.AppendUint64(data, 7)                                    // an I64 scalar
	b := file(map[string]any{
		"a":            tensor("F32", []int64{2, 2}, 0, 16),
		"h":            tensor("F16", []int64{2}, 16, 20),
		"bf":           tensor("BF16", []int64{1, 2}, 20, 24),
		"step":         tensor("I64", []int64{}, 24, 32),
		"empty":        tensor("F32", []int64{0, 5}, 32, 32),
		"__metadata__": map[string]string{"format": "pt"},
	}, data)
	f := open(t, b, "x.safetensors")
	var names []string
	for _, x := range f.Tensors {
		names = append(names, x.Name)
	}
	if got := strings.Join(names, " "); got != "a bf empty h step" {
		t.Errorf("tensors %q, want sorted by name", got)
	}
	for name, want := range map[string][]float32{"a": {1, -2.5, 3e-3, 65504}, "h": {1, -2}, "bf": {1, -0.375}} {
		x, _ := f.Tensor(name)
		got := make([]float32, len(want))
		if err := f.ReadFloat32s(x, 0, got); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s[%d] = %v, want %v", name, i, got[i], want[i])
			}
		}
	}
	x, _ := f.Tensor("a")
	if err := f.ReadFloat32s(x, 3, make([]float32, 2)); err == nil {
		t.Error("reading past the end of a tensor succeeded")
	}
	step, _ := f.Tensor("step")
	err := f.ReadFloat32s(step, 0, make([]float32, 1))
	if err == nil || !strings.Contains(err.Error(), "x.safetensors: tensor step is I64") {
		t.Errorf("reading an I64 tensor: %v, want a refusal naming the file, tensor and type", err)
	}
}

// Each broken file gets an error naming the file and, where there is one, the
// tensor and what is wrong.
func TestOpenErrors(t *testing.T) {
	good := file(map[string]any{"w": tensor("F32", []int64{2}, 0, 8)}, make([]byte, 8))
	hlen := binary.LittleEndian.Uint64(good)
	past := bytes.Clone(good)
	binary.LittleEndian.PutUint64(past, hlen+100)
	for _, c := range []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "too short for the 8-byte header length"},
		{"truncated header", good[:8+hlen/2], "runs past the end of the file"},
		{"length past the file", past, "runs past the end of the file"},
		{"huge length", binary.LittleEndian.AppendUint64(nil, 1<<62), "runs past the end of the file"},
		{"not JSON", raw("abcd", 0), "not a JSON object"},
		{"JSON array", raw("[]", 0), "not a JSON object"},
		{"truncated data", good[:len(good)-1], "tensor w: data_offsets [0, 8] lie outside the data section of 7 bytes"},
		{"unknown dtype", file(map[string]any{"w": tensor("F12", []int64{2}, 0, 8)}, make([]byte, 8)), `tensor w: unknown dtype "F12"`},
		{"shape vs bytes", file(map[string]any{"w": tensor("F32", []int64{3}, 0, 8)}, make([]byte, 8)), "tensor w: shape [3] of F32 needs 12 bytes, data_offsets [0, 8] hold 8"},
		{"negative dimension", file(map[string]any{"w": tensor("F32", []int64{-2}, 0, 8)}, make([]byte, 8)), "tensor w: shape [-2]"},
		{"overflowing shape", file(map[string]any{"w": tensor("F32", []int64{1 << 40, 1 << 40}, 0, 8)}, make([]byte, 8)), "impossible number of bytes"},
		{"reversed offsets", file(map[string]any{"w": tensor("F32", []int64{0}, 8, 0)}, make([]byte, 8)), "tensor w: data_offsets [8, 0]"},
		{"one offset", file(map[string]any{"w": map[string]any{"dtype": "F32", "shape": []int{2}, "data_offsets": []int{0}}}, make([]byte, 8)), "want [begin, end]"},
		{"no shape", file(map[string]any{"w": map[string]any{"dtype": "F32", "data_offsets": []int{0, 8}}}, make([]byte, 8)), "tensor w: no shape"},
		{"no dtype", file(map[string]any{"w": map[string]any{"shape": []int{2}, "data_offsets": []int{0, 8}}}, make([]byte, 8)), "tensor w: no dtype"},
		{"float shape", file(map[string]any{"w": map[string]any{"dtype": "F32", "shape": []float64{1.5}, "data_offsets": []int{0, 8}}}, make([]byte, 8)), "tensor w:"},
		{"overlap", file(map[string]any{
			"a": tensor("F32", []int64{2}, 0, 8),
			"b": tensor("F32", []int64{2}, 4, 12),
		}, make([]byte, 12)), "tensors a and b overlap"},
		{"bad metadata", file(map[string]any{"__metadata__": map[string]int{"n": 1}}, nil), "__metadata__"},
		{"duplicate name", raw(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), "tensor w appears twice"},
		{"trailing JSON", raw("{}{}", 0), "data after its JSON object"},
		{"number key", raw(`{"w":1,2:3}`, 0), "tensor w:"},
	} {
		_, err := Open(bytes.NewReader(c.file), int64(len(c.file)), "bad.safetensors")
		if err == nil {
			t.Errorf("%s: opened", c.name)
			continue
		}
		if !strings.HasPrefix(err.Error(), "bad.safetensors: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want the file name and %q", c.name, err, c.want)
		}
	}
}
