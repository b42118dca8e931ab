package gpt_test

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/convert/nanochat"
	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/gpt"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/internal/testfile"
)

// TestEncodingsRoundTrip re-encodes the fp32 export of nanochat-tiny (n_embd 64,
// mlp_hidden 256) in every encoding: the header says the encoding, each tensor
// is stored as the narrow-width rule says and holds exactly EncodeRow's bytes of
// its fp32 rows, the file widens back to fp32 as exactly the values those bytes
// decode to, it loads, and the exporter writes the same file.
func TestEncodingsRoundTrip(t *testing.T) {
	fp32 := tinyBytes(t, "fp32")
	h32, _ := gpt.ParseHeader(fp32.Model)
	specs32, _, _ := h32.Layout()
	for _, enc := range kernels.Encodings {
		b, err := gpt.Reencode(fp32.Model, enc)
		if err != nil {
			t.Fatal(err)
		}
		h, err := gpt.ParseHeader(b)
		code, _ := gpt.EncodingOf(enc)
		if err != nil || h.MatrixEnc != code || h.EmbedEnc != code || uint32(code) != uint32(enc) {
			t.Fatalf("%v: header %+v, %v", enc, h, err)
		}
		back, err := gpt.Reencode(b, kernels.F32)
		if err != nil {
			t.Fatal(err)
		}
		specs, _, _ := h.Layout()
		for i, s := range specs {
			want := enc.StoredAs(s.Cols, kernels.F16)
			if strings.HasSuffix(s.Name, "lambda") || strings.HasSuffix(s.Name, "lambdas") {
				want = kernels.F32
			}
			if uint32(s.Enc) != uint32(want) {
				t.Errorf("%v: %s [%d x %d] stored as %v, want %v", enc, s.Name, s.Rows, s.Cols, s.Enc, want)
				continue
			}
			src := decodeSpec(fp32.Model, specs32[i], kernels.F32)
			rb := want.RowBytes(s.Cols)
			row := make([]byte, rb)
			for r := range s.Rows {
				if err := kernels.EncodeRow(want, row, src[r*s.Cols:(r+1)*s.Cols]); err != nil {
					t.Fatal(err)
				}
				if off := s.Offset + int64(r*rb); !bytes.Equal(b[off:off+int64(rb)], row) {
					t.Fatalf("%v: %s row %d is not EncodeRow's", enc, s.Name, r)
				}
			}
			if !slices.Equal(decodeSpec(back, specs32[i], kernels.F32), decodeSpec(b, s, want)) {
				t.Errorf("%v: %s widened to fp32 differs from its decoded values", enc, s.Name)
			}
		}
		exported := export(t, nanochat.Options{BaseDir: tinyDir, Step: -1, DType: enc.String()}).Model
		if !bytes.Equal(exported, b) {
			t.Errorf("%v: the export differs from the fp32 export re-encoded", enc)
		}
		m, err := gpt.Load(engine.Files{Model: b, Tokenizer: fp32.Tokenizer}) // takes b over
		if err != nil || m.Info().Encoding != enc.String() {
			t.Fatalf("%v: %v", enc, err)
		}
	}
}

// decodeSpec widens a tensor of model stored in enc to float32.
func decodeSpec(model []byte, s gpt.TensorSpec, enc kernels.Encoding) []float32 {
	v := make([]float32, s.Rows*s.Cols)
	kernels.DecodeRow(enc, model[s.Offset:s.Offset+s.Size], v)
	return v
}

// With a K-quant, nanochat-tiny's tensors 64 or 32 wide take llama-quantize's
// fallback, mlp.c_proj (256 wide) the K-quant, the gates (24 and 12 wide) fp16.
func TestKQuantFallbacks(t *testing.T) {
	for _, c := range []struct {
		enc, fallback gpt.Encoding
		summary       string
	}{
		{gpt.EncQ4_K, gpt.EncQ5_0, "q5_0 144.2 KB, q4_k 36.0 KB, fp16 144 B, fp32 40 B"},
		{gpt.EncQ5_K, gpt.EncQ5_1, "q5_1 157.3 KB, q5_k 44.0 KB, fp16 144 B, fp32 40 B"},
		{gpt.EncQ6_K, gpt.EncQ8_0, "q8_0 222.8 KB, q6_k 52.5 KB, fp16 144 B, fp32 40 B"},
	} {
		files := export(t, nanochat.Options{BaseDir: tinyDir, Step: -1, DType: c.enc.String()})
		h, err := gpt.ParseHeader(files.Model)
		if err != nil {
			t.Fatal(err)
		}
		specs, _, _ := h.Layout()
		for _, s := range specs {
			want := c.fallback
			switch {
			case strings.HasSuffix(s.Name, "lambda") || strings.HasSuffix(s.Name, "lambdas"):
				want = gpt.EncF32
			case s.Name == "smear_gate.weight" || strings.HasSuffix(s.Name, "ve_gate.weight"):
				want = gpt.EncF16
			case strings.HasSuffix(s.Name, "mlp.c_proj.weight"):
				want = c.enc
			}
			if s.Enc != want {
				t.Errorf("%v: %s [%d x %d] stored as %v, want %v", c.enc, s.Name, s.Rows, s.Cols, s.Enc, want)
			}
		}
		if got := h.EncodingSummary(); got != c.summary {
			t.Errorf("%v: tensors by encoding %q, want %q", c.enc, got, c.summary)
		}
	}
}

// compatModel is a small GPT model.bin in enc (one layer, n_embd 32, the tiny
// fixture's 521 tokens, value embeddings, smear, backout) whose i-th weight in
// file order is sin(0.37 (i mod 97))/2 (97 is prime to the blocks' 32, so the
// blocks differ, and the file compresses), but for a zero row of wte, whose
// blocks quantizers treat apart. testdata/container-v1 holds it as an earlier build
// wrote it (gzipped).
func compatModel(enc gpt.Encoding) ([]byte, error) {
	h := &gpt.Header{NLayer: 1, NEmbd: 32, NHead: 2, NKVHead: 1, HeadDim: 16, MLPHidden: 128,
		VocabSize: 521, PaddedVocab: 521, SeqLen: 32, Windows: []int{32}, ValueEmbeds: []bool{true},
		VEGateChannels: 12, SmearChannels: 24, BackoutLayer: 0, RopeBase: 10000, QKScale: 1.2,
		VEGateScale: 3, Softcap: 15, NormEps: 1e-6, MatrixEnc: enc, EmbedEnc: enc}
	var b bytes.Buffer
	i := 0
	_, err := gpt.WriteModel(&b, h, func(s gpt.TensorSpec) ([]float32, error) {
		v := make([]float32, s.Rows*s.Cols)
		for j := range v {
			v[j] = float32(math.Sin(float64(i%97)*0.37) / 2)
			i++
		}
		if s.Name == "transformer.wte.weight" {
			clear(v[:s.Cols]) // token 0's row
		}
		return v, nil
	})
	return b.Bytes(), err
}

// TestVersion1FilesLoad: files written before the encodings 4-10 (by InferPi at
// commit ca6af3b) load and compute the logits of this build's writing of the
// same model. Its q8_0 bytes are this build's; in q4_0 the blocks of zeros
// differ in the sign of their zero scale alone (that build wrote +0, llama.cpp's
// rounding -0).
func TestVersion1FilesLoad(t *testing.T) {
	tok := tinyBytes(t, "fp32").Tokenizer
	for _, enc := range []gpt.Encoding{gpt.EncQ8_0, gpt.EncQ4_0} {
		old := testfile.Read(t, "testdata/container-v1/"+enc.String()+".bin.gz")
		now, err := compatModel(enc)
		if err != nil {
			t.Fatal(err)
		}
		if len(old) != len(now) {
			t.Fatalf("%v: the old file has %d bytes, this build writes %d", enc, len(old), len(now))
		}
		var differ []int
		for i := range old {
			if old[i] != now[i] {
				differ = append(differ, i)
			}
		}
		if enc == gpt.EncQ4_0 {
			h, _ := gpt.ParseHeader(now)
			specs, _, _ := h.Layout()
			var wte int64
			for _, s := range specs {
				if s.Name == "transformer.wte.weight" {
					wte = s.Offset
				}
			}
			// token 0's row: one block, scale bytes 0x0000 then 0x0080
			if !slices.Equal(differ, []int{int(wte) + 1}) || old[wte+1] != 0 || now[wte+1] != 0x80 {
				t.Errorf("q4_0: bytes %v differ, want the sign of the zero block's scale at %d", differ, wte+1)
			}
		} else if len(differ) != 0 {
			t.Errorf("%v: bytes %v differ", enc, differ)
		}
		a, err := gpt.Load(engine.Files{Model: old, Tokenizer: tok})
		if err != nil {
			t.Fatal(err)
		}
		b, err := gpt.Load(engine.Files{Model: now, Tokenizer: tok})
		if err != nil {
			t.Fatal(err)
		}
		ids := []int{0, 17, 200, 0, 3}
		la, lb := a.ForwardAll(ids, nil), b.ForwardAll(ids, nil)
		for pos := range la {
			if !slices.Equal(la[pos], lb[pos]) {
				t.Fatalf("%v: logits at position %d differ", enc, pos)
			}
		}
	}
}
