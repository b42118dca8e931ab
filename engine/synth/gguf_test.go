package synth

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/modeldir"
	"github.com/inferpi/inferpi/engine/quantize"
)

func readGGUF(t *testing.T, path string) (*gguf.File, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(b, path)
	if err != nil {
		t.Fatal(err)
	}
	return f, b
}

// TestGGUFHoldsTheModelBin: the F32 GGUF file of a preset holds, tensor by tensor
// and layer by layer, the weights of the fp32 model.bin made from the same seed,
// under llama.cpp's names and shapes.
func TestGGUFHoldsTheModelBin(t *testing.T) {
	tied := presets["llama-tiny"]
	untied := tied // with a classifier of its own
	cfg := *tied.Llama
	cfg.SharedClassifier = false
	untied.Name, untied.Llama = "llama-tiny-untied", &cfg
	for _, p := range []Preset{tied, untied} {
		name := p.Name
		dir := t.TempDir()
		if _, err := Write(dir, p, kernels.F32, 7); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, GGUFName(p, quantize.FileF32))
		res, err := WriteGGUF(path, p, quantize.FileF32, 7)
		if err != nil {
			t.Fatal(err)
		}
		f, buf := readGGUF(t, path)
		if st, _ := os.Stat(path); res.ModelBytes != st.Size() || res.Params != p.Llama.Params() {
			t.Errorf("%s: result %+v, file %d bytes, %d parameters", name, res, st.Size(), p.Llama.Params())
		}
		bin, err := os.ReadFile(filepath.Join(dir, "model.bin"))
		if err != nil {
			t.Fatal(err)
		}
		// model.bin: the header, then llama2.c's tensors in order, float32.
		c := *p.Llama
		offsets := map[string]int{}
		off := 28
		for _, lt := range c.Tensors() {
			offsets[lt.Name] = off
			off += 4 * int(lt.Floats())
		}
		want := map[string]string{"token_embd.weight": "token_embedding", "output_norm.weight": "rms_final",
			"output.weight": "classifier", "attn_norm.weight": "rms_att", "attn_q.weight": "wq", "attn_k.weight": "wk",
			"attn_v.weight": "wv", "attn_output.weight": "wo", "ffn_norm.weight": "rms_ffn", "ffn_gate.weight": "w1",
			"ffn_down.weight": "w2", "ffn_up.weight": "w3"}
		tensors := 0
		for i := range f.Tensors {
			gt := &f.Tensors[i]
			short, layer := gt.Name, 0
			if rest, ok := strings.CutPrefix(gt.Name, "blk."); ok {
				l, s, _ := strings.Cut(rest, ".")
				if layer, err = strconv.Atoi(l); err != nil {
					t.Fatalf("%s: tensor %s", name, gt.Name)
				}
				short = s
			}
			from, ok := want[short]
			if !ok || gt.Type != gguf.F32 {
				t.Errorf("%s: tensor %s (%v)", name, gt.Name, gt.Type)
				continue
			}
			data, err := f.Data(buf, gt)
			if err != nil {
				t.Fatal(err)
			}
			start := offsets[from] + layer*len(data)
			if !bytes.Equal(data, bin[start:start+len(data)]) {
				t.Errorf("%s: %s differs from model.bin's %s, layer %d", name, gt.Name, from, layer)
			}
			tensors++
		}
		wantTensors := 2 + 9*c.NLayers
		if !c.SharedClassifier {
			wantTensors++
		}
		if tensors != wantTensors {
			t.Errorf("%s: %d tensors, want %d", name, tensors, wantTensors)
		}
		if e, _ := f.Lookup("llama.embedding_length"); e != uint32(c.Dim) {
			t.Errorf("%s: embedding_length %v", name, e)
		}
		if hd, _ := f.Lookup("llama.rope.dimension_count"); hd != uint32(c.HeadSize()) {
			t.Errorf("%s: rope.dimension_count %v", name, hd)
		}
	}
}

// TestGGUFQuantized: in a quantized file every tensor has the type llama-quantize's
// rules give it and the bytes engine/quantize makes of the F32 file's rows; the
// vocabulary is SentencePiece's.
func TestGGUFQuantized(t *testing.T) {
	p, _ := Lookup("llama-tiny")
	dir := t.TempDir()
	f32Path, qPath := filepath.Join(dir, "f32.gguf"), filepath.Join(dir, "q.gguf")
	if _, err := WriteGGUF(f32Path, p, quantize.FileF32, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteGGUF(qPath, p, quantize.FileQ4_K_M, 3); err != nil {
		t.Fatal(err)
	}
	f32, f32Buf := readGGUF(t, f32Path)
	q, qBuf := readGGUF(t, qPath)
	var qts []quantize.Tensor
	for _, tt := range f32.Tensors {
		qts = append(qts, quantize.Tensor{Name: tt.Name, Type: tt.Type, Dims: tt.Dims})
	}
	c := p.Llama
	types, err := quantize.Types(quantize.FileQ4_K_M, quantize.Model{Arch: "llama", Layers: c.NLayers, Heads: c.NHeads, HeadsKV: c.NKVHeads}, qts, quantize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[gguf.Type]bool{}
	for i := range f32.Tensors {
		ft := &f32.Tensors[i]
		qt, ok := q.Tensor(ft.Name)
		if !ok || qt.Type != types[i] || !slices.Equal(qt.Dims, ft.Dims) {
			t.Fatalf("%s: %+v, want type %v", ft.Name, qt, types[i])
		}
		seen[qt.Type] = true
		src, _ := f32.Data(f32Buf, ft)
		got, _ := q.Data(qBuf, qt)
		cols := int(ft.Dims[0])
		rowBytes, _ := quantize.RowBytes(qt.Type, cols)
		row := make([]float32, cols)
		want := make([]byte, rowBytes)
		for r := 0; r < int(ft.Rows()); r++ {
			for j := range row {
				row[j] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*(r*cols+j):]))
			}
			if err := quantize.Row(qt.Type, want, row); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[r*rowBytes:(r+1)*rowBytes], want) {
				t.Fatalf("%s row %d: not engine/quantize's %v bytes", ft.Name, r, qt.Type)
			}
		}
	}
	// llama-tiny's 64-wide rows are not whole K blocks: Q5_0 and Q8_0 stand in.
	if !seen[gguf.Q5_0] || !seen[gguf.Q8_0] || !seen[gguf.F32] {
		t.Errorf("types %v", seen)
	}
	if ft, _ := q.Lookup("general.file_type"); ft != uint32(quantize.FileQ4_K_M) {
		t.Errorf("file_type %v", ft)
	}
	tokens, err := q.GetStrings("tokenizer.ggml.tokens")
	if err != nil || len(tokens) != c.VocabSize || tokens[1] != "<s>" || tokens[2] != "</s>" || tokens[3] != "<0x00>" {
		t.Fatalf("tokens %v... %v", tokens[:4], err)
	}
	spaces := 0
	for _, tok := range tokens {
		if strings.Contains(tok, " ") {
			t.Fatalf("token %q has a space, not SentencePiece's ▁", tok)
		}
		if strings.HasPrefix(tok, "\u2581") {
			spaces++
		}
	}
	if spaces == 0 {
		t.Error("no token starts with ▁")
	}
	if _, err := WriteGGUF(filepath.Join(dir, "gpt.gguf"), presets["gpt-tiny"], quantize.FileQ8_0, 1); err == nil || !strings.Contains(err.Error(), "Llama presets") {
		t.Errorf("a GPT preset: %v", err)
	}
}

// TestGGUFRunsAsTheModelBin: InferPi's engine gives the GGUF file and the
// model.bin directory made from the same seed the same logits, bit for bit, where
// the two hold the same bytes: in F32, and in Q8_0 (llama-quantize's Q8_0 rounding
// is InferPi's). They differ in F16, where llama2.c's fp16 file holds the norms in
// fp16 too, and in Q4_0, where llama-quantize gives the tied classifier more bits.
// Both sessions keep an fp32 KV cache (a GGUF model's is fp16 by default).
func TestGGUFRunsAsTheModelBin(t *testing.T) {
	p := presets["llama-tiny"]
	for _, c := range []struct {
		enc kernels.Encoding
		ft  quantize.FileType
	}{{kernels.F32, quantize.FileF32}, {kernels.Q8_0, quantize.FileQ8_0}} {
		dir := t.TempDir()
		if _, err := Write(dir, p, c.enc, 5); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), GGUFName(p, c.ft))
		if _, err := WriteGGUF(path, p, c.ft, 5); err != nil {
			t.Fatal(err)
		}
		var logits [2][]float32
		for i, m := range []string{dir, path} {
			model, err := modeldir.Open(m, modeldir.Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			s, err := model.NewSession(engine.Options{Mode: engine.Completion, KVCache: "fp32"})
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.(feeder).FeedTokens([]int{1, 300, 301, 302, 400, 7})
			if err != nil {
				t.Fatal(err)
			}
			logits[i] = slices.Clone(out)
		}
		if !slices.Equal(logits[0], logits[1]) {
			t.Errorf("%v: the GGUF file's logits differ from model.bin's", c.enc)
		}
	}
}
