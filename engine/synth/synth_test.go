package synth

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/gpt"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/modeldir"
)

// Parameter counts of the big presets from their shapes alone (writing them takes
// seconds and hundreds of MB): the seed's models are 286M and ~51M parameters.
func TestPresetSizes(t *testing.T) {
	h, err := gptHeader(presets["gpt-286m"], kernels.F16)
	if err != nil {
		t.Fatal(err)
	}
	specs, size, err := h.Layout()
	if err != nil {
		t.Fatal(err)
	}
	var params, matmul int64
	for _, s := range specs {
		n := int64(s.Rows) * int64(s.Cols)
		params += n
		// Matrices read per token: lm_head and the blocks' (the ve gates are 6x12).
		if s.Name == "lm_head.weight" || strings.HasPrefix(s.Name, "transformer.h.") && !strings.HasSuffix(s.Name, "ve_gate.weight") {
			matmul += n
		}
	}
	if params < 286e6 || params > 287e6 {
		t.Errorf("gpt-286m: %d parameters, want 286M", params)
	}
	// Read per token: ~110M matmul weights, ~220 MB in fp16 (the token and value
	// embeddings are row lookups).
	if matmul < 109e6 || matmul > 111e6 {
		t.Errorf("gpt-286m: %d matmul weights, want ~110M", matmul)
	}
	if h.NHead != 6 || h.NKVHead != 6 || h.NEmbd != 768 || h.Windows[0] != 512 || h.Windows[3] != 2048 || h.Windows[11] != 2048 {
		t.Errorf("gpt-286m header: %+v", h)
	}
	t.Logf("gpt-286m: %d parameters, %d matmul weights, fp16 model.bin %d bytes", params, matmul, size)

	c := presets["llama-50m"].Llama
	if p := c.Params(); p < 51e6 || p > 52.5e6 {
		t.Errorf("llama-50m: %d parameters, want ~51.8M", p)
	}
}

// TestTinyPresetsLoadAndRun writes the small presets in every encoding, loads them
// the way inferpi does, and generates with them.
func TestTinyPresetsLoadAndRun(t *testing.T) {
	for _, name := range []string{"gpt-tiny", "llama-tiny"} {
		p, _ := Lookup(name)
		for _, enc := range kernels.Encodings { // model.bin holds every one
			dir := filepath.Join(t.TempDir(), name+"-"+enc.String())
			res, err := Write(dir, p, enc, 1)
			if err != nil {
				t.Fatal(err)
			}
			m, err := modeldir.Open(dir, modeldir.Overrides{})
			if err != nil {
				t.Fatalf("%s %v: %v", name, enc, err)
			}
			info := m.Info()
			if info.Engine != p.Engine() || info.Encoding[:len(enc.String())] != enc.String() {
				t.Errorf("%s %v: loaded as %s %s", name, enc, info.Engine, info.Encoding)
			}
			if info.Params != res.Params {
				t.Errorf("%s %v: engine counts %d parameters, writer %d", name, enc, info.Params, res.Params)
			}
			s, err := m.NewSession(engine.Options{Mode: engine.Completion, MaxTokens: 20})
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.Turn(context.Background(), "the quick brown fox jumps over the lazy dog", nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.PromptIDs) < 5 || len(r.PromptIDs) > 40 || len(r.IDs) == 0 {
				t.Errorf("%s %v: prompt of %d tokens, %d generated", name, enc, len(r.PromptIDs), len(r.IDs))
			}
			t.Logf("%s %v: model.bin %d bytes, %d weight bytes per token, prompt %d tokens, %d generated",
				name, enc, res.ModelBytes, info.WeightBytesPerToken, len(r.PromptIDs), len(r.IDs))
		}
	}
}

// TestDeterministic: the same seed gives the same files, another seed other weights,
// and every encoding stores the same values (fp32 against q8_0 within its rounding).
func TestDeterministic(t *testing.T) {
	for _, name := range []string{"gpt-tiny", "llama-tiny"} {
		p, _ := Lookup(name)
		read := func(seed uint64, enc kernels.Encoding) (model, tok []byte) {
			dir := t.TempDir()
			if _, err := Write(dir, p, enc, seed); err != nil {
				t.Fatal(err)
			}
			model, _ = os.ReadFile(filepath.Join(dir, "model.bin"))
			tok, _ = os.ReadFile(filepath.Join(dir, "tokenizer.bin"))
			return model, tok
		}
		m1, t1 := read(7, kernels.F32)
		m2, t2 := read(7, kernels.F32)
		m3, _ := read(8, kernels.F32)
		if !bytes.Equal(m1, m2) || !bytes.Equal(t1, t2) {
			t.Errorf("%s: two writes with seed 7 differ", name)
		}
		if bytes.Equal(m1, m3) {
			t.Errorf("%s: seeds 7 and 8 gave the same model", name)
		}
		if p.GPT == nil {
			continue
		}
		// The last tensor (lm_head) in fp32 and in q8_0 holds the same weights.
		q8, _ := read(7, kernels.Q8_0)
		h32, _ := gpt.ParseHeader(m1)
		h8, _ := gpt.ParseHeader(q8)
		s32, _, _ := h32.Layout()
		s8, _, _ := h8.Layout()
		a, b := s32[len(s32)-1], s8[len(s8)-1]
		row := make([]float32, a.Cols)
		m, err := kernels.NewMatrix(q8[b.Offset:b.Offset+b.Size], b.Rows, b.Cols, kernels.Q8_0)
		if err != nil {
			t.Fatal(err)
		}
		m.Row(3, row)
		for j, v := range row {
			w := math.Float32frombits(binary.LittleEndian.Uint32(m1[a.Offset+int64(4*(3*a.Cols+j)):]))
			if math.Abs(float64(v-w)) > 0.01*math.Abs(float64(w))+0.002 {
				t.Fatalf("%s lm_head row 3 column %d: q8_0 %v, fp32 %v", name, j, v, w)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	if _, err := Lookup("gpt-2b"); err == nil {
		t.Error("unknown preset accepted")
	}
	for _, n := range Names() {
		p, err := Lookup(n)
		if err != nil || p.Name != n || (p.GPT == nil) == (p.Llama == nil) {
			t.Errorf("preset %q: %+v %v", n, p, err)
		}
	}
}
