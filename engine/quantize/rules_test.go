package quantize

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine/gguf"
)

// shape describes a dense transformer as the converters write it.
type shape struct {
	layers, embd, qWidth, kvWidth, ff, vocab int
	tied, biases                             bool
}

func (s shape) tensors() []Tensor {
	mat := func(name string, in, out int) Tensor {
		return Tensor{Name: name, Type: gguf.F32, Dims: []int64{int64(in), int64(out)}}
	}
	vec := func(name string, n int) Tensor { return Tensor{Name: name, Type: gguf.F32, Dims: []int64{int64(n)}} }
	ts := []Tensor{mat("token_embd.weight", s.embd, s.vocab)}
	for l := range s.layers {
		b := fmt.Sprintf("blk.%d.", l)
		ts = append(ts, vec(b+"attn_norm.weight", s.embd),
			mat(b+"attn_q.weight", s.embd, s.qWidth), mat(b+"attn_k.weight", s.embd, s.kvWidth),
			mat(b+"attn_v.weight", s.embd, s.kvWidth), mat(b+"attn_output.weight", s.qWidth, s.embd))
		if s.biases {
			ts = append(ts, vec(b+"attn_q.bias", s.qWidth), vec(b+"attn_k.bias", s.kvWidth), vec(b+"attn_v.bias", s.kvWidth))
		}
		ts = append(ts, vec(b+"ffn_norm.weight", s.embd), mat(b+"ffn_gate.weight", s.embd, s.ff),
			mat(b+"ffn_up.weight", s.embd, s.ff), mat(b+"ffn_down.weight", s.ff, s.embd))
	}
	ts = append(ts, vec("output_norm.weight", s.embd))
	if !s.tied {
		ts = append(ts, mat("output.weight", s.embd, s.vocab))
	}
	return ts
}

// expectation: the type of every 2-D tensor by its name without the "blk.N." part,
// attn_v and ffn_down in the layers listed as `more` (or moreFFN for ffn_down, when
// set) getting their own types.
type expectation struct {
	embd, output, other  string
	attnV, attnVMore     string
	ffnDown, ffnDownMore string
	more, moreFFN        []int
}

func (e expectation) typeOf(name string) string {
	layer := layerOf(name)
	more := slices.Contains(e.more, layer)
	if e.moreFFN != nil && strings.HasSuffix(name, "ffn_down.weight") {
		more = slices.Contains(e.moreFFN, layer)
	}
	switch {
	case strings.HasSuffix(name, "_norm.weight") || strings.HasSuffix(name, ".bias"):
		return "F32"
	case name == "token_embd.weight":
		return e.embd
	case name == "output.weight":
		return e.output
	case strings.HasSuffix(name, "attn_v.weight") && more:
		return e.attnVMore
	case strings.HasSuffix(name, "attn_v.weight") && e.attnV != "":
		return e.attnV
	case strings.HasSuffix(name, "ffn_down.weight") && more:
		return e.ffnDownMore
	case strings.HasSuffix(name, "ffn_down.weight") && e.ffnDown != "":
		return e.ffnDown
	}
	return e.other
}

func checkTypes(t *testing.T, target FileType, m Model, ts []Tensor, opt Options, e expectation) {
	t.Helper()
	types, err := Types(target, m, ts, opt)
	if err != nil {
		t.Fatalf("%v: %v", target, err)
	}
	for i, tn := range ts {
		if want := e.typeOf(tn.Name); types[i].String() != want {
			t.Errorf("%v %s: %v, want %s", target, tn.Name, types[i], want)
		}
	}
}

// use_more_bits of llama-quant.cpp, worked out by hand: the first and last eighth of
// the layers and every third layer from the eighth on, starting with its third.
var (
	more24 = []int{0, 1, 2, 5, 8, 11, 14, 17, 20, 21, 22, 23}
	more28 = []int{0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 24, 25, 26, 27}
)

// Qwen2.5-0.5B's shape: rows of 896 weights are not whole K blocks, so Q4_K falls
// back to Q5_0, Q6_K to Q8_0, and the tied embedding (the output) goes straight
// to Q8_0; ffn_down's rows of 4864 are whole blocks.
func TestTypesQwen05BQ4_K_M(t *testing.T) {
	s := shape{layers: 24, embd: 896, qWidth: 896, kvWidth: 128, ff: 4864, vocab: 151936, tied: true, biases: true}
	checkTypes(t, FileQ4_K_M, Model{Arch: "qwen2", Layers: 24, Heads: 14, HeadsKV: 2}, s.tensors(), Options{},
		expectation{embd: "Q8_0", other: "Q5_0", attnVMore: "Q8_0", ffnDown: "Q4_K", ffnDownMore: "Q6_K", more: more24})
}

func TestTypesQwen15B(t *testing.T) {
	s := shape{layers: 28, embd: 1536, qWidth: 1536, kvWidth: 256, ff: 8960, vocab: 151936, tied: true, biases: true}
	m := Model{Arch: "qwen2", Layers: 28, Heads: 12, HeadsKV: 2}
	ts := s.tensors()
	for _, c := range []struct {
		target FileType
		pure   bool
		e      expectation
	}{
		{FileQ4_K_M, false, expectation{embd: "Q6_K", other: "Q4_K", attnVMore: "Q6_K", ffnDownMore: "Q6_K", more: more28}},
		{FileQ5_K_M, false, expectation{embd: "Q6_K", other: "Q5_K", attnVMore: "Q6_K", ffnDownMore: "Q6_K", more: more28}},
		// Q4_K_S: the first four attn_v tensors and ffn_down of the first eighth of the layers in Q5_K
		{FileQ4_K_S, false, expectation{embd: "Q6_K", other: "Q4_K", attnVMore: "Q5_K", ffnDown: "Q4_K", ffnDownMore: "Q5_K",
			more: []int{0, 1, 2, 3}, moreFFN: []int{0, 1, 2}}},
		{FileQ5_K_S, false, expectation{embd: "Q6_K", other: "Q5_K"}},
		{FileQ6_K, false, expectation{embd: "Q6_K", other: "Q6_K"}},
		{FileQ8_0, false, expectation{embd: "Q8_0", other: "Q8_0"}},
		{FileQ4_0, false, expectation{embd: "Q6_K", other: "Q4_0"}},
		{FileQ5_1, false, expectation{embd: "Q6_K", other: "Q5_1"}},
		{FileF16, false, expectation{embd: "F16", other: "F16"}},
		{FileBF16, false, expectation{embd: "BF16", other: "BF16"}},
		{FileF32, false, expectation{embd: "F32", other: "F32"}},
		{FileQ4_K_M, true, expectation{embd: "Q4_K", other: "Q4_K"}},
		{FileQ4_0, true, expectation{embd: "Q4_0", other: "Q4_0"}},
	} {
		checkTypes(t, c.target, m, ts, Options{Pure: c.pure}, c.e)
	}
}

// Llama 2 70B (80 layers, grouped-query attention) is llama.cpp's model type 70B:
// attn_v gets Q5_K where Q4_K_M would leave it in Q4_K. Llama 65B (as many kv heads
// as heads) is not.
func TestTypesLlama70B(t *testing.T) {
	more80 := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	for l := 12; l < 70; l += 3 {
		more80 = append(more80, l)
	}
	for l := 70; l < 80; l++ {
		more80 = append(more80, l)
	}
	s := shape{layers: 80, embd: 256, qWidth: 256, kvWidth: 256, ff: 256, vocab: 512}
	checkTypes(t, FileQ4_K_M, Model{Arch: "llama", Layers: 80, Heads: 64, HeadsKV: 8}, s.tensors(), Options{},
		expectation{embd: "Q4_K", output: "Q6_K", other: "Q4_K", attnV: "Q5_K", attnVMore: "Q6_K", ffnDownMore: "Q6_K", more: more80})
	checkTypes(t, FileQ4_K_M, Model{Arch: "llama", Layers: 80, Heads: 64, HeadsKV: 64}, s.tensors(), Options{},
		expectation{embd: "Q4_K", output: "Q6_K", other: "Q4_K", attnVMore: "Q6_K", ffnDownMore: "Q6_K", more: more80})
}

// Falcon keeps its output in Q8_0 and grades ffn_down in three steps under Q4_K_M;
// a fused attn_qkv gets Q5_K.
func TestTypesFalcon(t *testing.T) {
	ts := []Tensor{
		{Name: "token_embd.weight", Type: gguf.F32, Dims: []int64{256, 512}},
		{Name: "output.weight", Type: gguf.F32, Dims: []int64{256, 512}},
	}
	for l := range 32 {
		ts = append(ts,
			Tensor{Name: fmt.Sprintf("blk.%d.attn_qkv.weight", l), Type: gguf.F32, Dims: []int64{256, 768}},
			Tensor{Name: fmt.Sprintf("blk.%d.ffn_down.weight", l), Type: gguf.F32, Dims: []int64{1024, 256}})
	}
	types, err := Types(FileQ4_K_M, Model{Arch: "falcon", Layers: 32}, ts, Options{})
	if err != nil {
		t.Fatal(err)
	}
	more32 := []int{0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31}
	for i, tn := range ts {
		want := "Q4_K"
		switch l := layerOf(tn.Name); {
		case tn.Name == "output.weight":
			want = "Q8_0"
		case strings.Contains(tn.Name, "attn_qkv"):
			want = "Q5_K"
		case !strings.Contains(tn.Name, "ffn_down"):
		case l < 2:
			want = "Q6_K"
		case slices.Contains(more32, l):
			want = "Q5_K"
		}
		if types[i].String() != want {
			t.Errorf("%s: %v, want %s", tn.Name, types[i], want)
		}
	}
}

// A model with eight experts: attn_k and attn_v in Q8_0, attn_output in Q5_K, the
// experts' ffn_down placed by the layer in their name, the router left alone.
func TestTypesEightExperts(t *testing.T) {
	var ts []Tensor
	for _, l := range []int{3, 0} {
		b := fmt.Sprintf("blk.%d.", l)
		ts = append(ts,
			Tensor{Name: b + "ffn_down_exps.weight", Type: gguf.F32, Dims: []int64{512, 256, 8}},
			Tensor{Name: b + "ffn_gate_inp.weight", Type: gguf.F32, Dims: []int64{256, 8}},
			Tensor{Name: b + "attn_k.weight", Type: gguf.F32, Dims: []int64{256, 64}},
			Tensor{Name: b + "attn_v.weight", Type: gguf.F32, Dims: []int64{256, 64}},
			Tensor{Name: b + "attn_output.weight", Type: gguf.F32, Dims: []int64{256, 256}})
	}
	types, err := Types(FileQ4_K_M, Model{Arch: "llama", Layers: 16, Experts: 8}, ts, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []gguf.Type{gguf.Q4_K, gguf.F32, gguf.Q8_0, gguf.Q8_0, gguf.Q5_K, gguf.Q6_K, gguf.F32, gguf.Q8_0, gguf.Q8_0, gguf.Q5_K} // layer 3 is no use_more_bits layer of 16
	if !slices.Equal(types, want) {
		t.Errorf("types %v, want %v", types, want)
	}
	ts = append(ts, Tensor{Name: "blk.20.ffn_down_exps.weight", Type: gguf.F32, Dims: []int64{512, 256, 8}})
	if _, err := Types(FileQ4_K_M, Model{Arch: "llama", Layers: 16, Experts: 8}, ts, Options{}); err == nil ||
		!strings.Contains(err.Error(), "blk.20.ffn_down_exps.weight") {
		t.Errorf("an expert tensor of layer 20 of 16: error %v", err)
	}
}

func TestTypesOptionsAndEdges(t *testing.T) {
	s := shape{layers: 2, embd: 256, qWidth: 256, kvWidth: 256, ff: 256, vocab: 512}
	m := Model{Arch: "llama", Layers: 2}
	ts := s.tensors()
	types, err := Types(FileQ4_0, m, ts, Options{LeaveOutput: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, tn := range ts {
		if tn.Name == "output.weight" && types[i] != gguf.F32 {
			t.Errorf("--leave-output-tensor: output.weight in %v", types[i])
		}
	}

	// the order the tensors come in does not matter
	want, _ := Types(FileQ5_K_M, Model{Arch: "llama", Layers: 12}, shape{layers: 12, embd: 256, qWidth: 256, kvWidth: 256, ff: 256, vocab: 512}.tensors(), Options{})
	shuffled := shape{layers: 12, embd: 256, qWidth: 256, kvWidth: 256, ff: 256, vocab: 512}.tensors()
	perm := rand.New(rand.NewPCG(9, 10)).Perm(len(shuffled))
	in := make([]Tensor, len(shuffled))
	for i, p := range perm {
		in[i] = shuffled[p]
	}
	got, err := Types(FileQ5_K_M, Model{Arch: "llama", Layers: 12}, in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range perm {
		if got[i] != want[p] {
			t.Errorf("shuffled: %s in %v, in order %v", in[i].Name, got[i], want[p])
		}
	}

	// a matrix of one row is 1-D to ggml; a source type is kept where nothing is quantized
	edge := []Tensor{
		{Name: "blk.0.attn_q.weight", Type: gguf.F32, Dims: []int64{256, 1}},
		{Name: "blk.0.attn_k.weight", Type: gguf.F16, Dims: []int64{256, 256}},
		{Name: "position_embd.weight", Type: gguf.F16, Dims: []int64{256, 1024}},
		{Name: "blk.0.attn_q.weight_scale", Type: gguf.F32, Dims: []int64{256, 256}},
	}
	got, err = Types(FileQ8_0, m, edge, Options{})
	if err != nil || !slices.Equal(got, []gguf.Type{gguf.F32, gguf.Q8_0, gguf.F16, gguf.F32}) {
		t.Errorf("edge cases: %v, %v; want [F32 Q8_0 F16 F32]", got, err)
	}

	for _, c := range []struct {
		target FileType
		opt    Options
		dims   []int64
		want   string
	}{
		{FileQ4_K_M, Options{Pure: true}, []int64{192, 64}, "not a whole number of Q4_K blocks"},
		{FileQ4_0, Options{}, []int64{48, 64}, "fit no Q4_0 blocks"},
		{FileQ6_K, Options{}, []int64{0, 64}, "no row length"},
		{FileType(10), Options{}, []int64{256, 64}, "file type 10 is not a target"},
	} {
		_, err := Types(c.target, m, []Tensor{{Name: "blk.0.attn_q.weight", Type: gguf.F32, Dims: c.dims}}, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %+v %v: error %v, want one with %q", c.target, c.opt, c.dims, err, c.want)
		}
	}
}

// Rows of 192 weights (llama-demo): Q8_0 everywhere in a Q8_0 file; in a Q4_0 file
// the output wants Q6_K and falls back to Q8_0. The tensors of a row length that is
// a multiple of 32 but not of 256 fall back one by one: Q4_K to Q5_0, Q5_K to Q5_1,
// Q6_K to Q8_0.
func TestTypesFallbacks(t *testing.T) {
	s := shape{layers: 4, embd: 192, qWidth: 192, kvWidth: 96, ff: 512, vocab: 1024}
	m := Model{Arch: "llama", Layers: 4, Heads: 6, HeadsKV: 3}
	checkTypes(t, FileQ8_0, m, s.tensors(), Options{}, expectation{embd: "Q8_0", output: "Q8_0", other: "Q8_0"})
	checkTypes(t, FileQ4_0, m, s.tensors(), Options{}, expectation{embd: "Q4_0", output: "Q8_0", other: "Q4_0"})
	// ffn_down's rows are 512 long: whole K blocks; of 4 layers, use_more_bits takes 2 and 3
	checkTypes(t, FileQ5_K_M, m, s.tensors(), Options{}, expectation{embd: "Q5_1", output: "Q8_0", other: "Q5_1",
		attnVMore: "Q8_0", ffnDown: "Q5_K", ffnDownMore: "Q6_K", more: []int{2, 3}})
}

func TestParseFileType(t *testing.T) {
	for _, c := range []struct {
		name string
		want FileType
		num  uint32 // llama.h's LLAMA_FTYPE_*: general.file_type
	}{
		{"F32", FileF32, 0}, {"f16", FileF16, 1}, {"Bf16", FileBF16, 32}, {"q8_0", FileQ8_0, 7},
		{"Q4_0", FileQ4_0, 2}, {"Q4_1", FileQ4_1, 3}, {"Q5_0", FileQ5_0, 8}, {"Q5_1", FileQ5_1, 9},
		{"Q4_K_S", FileQ4_K_S, 14}, {"q4_k_m", FileQ4_K_M, 15}, {"Q4_K", FileQ4_K_M, 15},
		{"Q5_K_S", FileQ5_K_S, 16}, {"Q5_K_M", FileQ5_K_M, 17}, {"q5_k", FileQ5_K_M, 17}, {"Q6_K", FileQ6_K, 18},
	} {
		got, err := ParseFileType(c.name)
		if err != nil || got != c.want || uint32(got) != c.num {
			t.Errorf("ParseFileType(%q) = %v (%d), %v; want %v (%d)", c.name, got, uint32(got), err, c.want, c.num)
		}
	}
	for _, bad := range []string{"", "Q4_K_L", "Q2_K", "IQ4_XS", "COPY", "q4_0 "} {
		if got, err := ParseFileType(bad); err == nil {
			t.Errorf("ParseFileType(%q) = %v, want an error", bad, got)
		}
	}
}
