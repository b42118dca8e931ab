package llama

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/internal/testfile"
)

// TestContainerRoundTrip writes llama-tiny (dim 64, hidden_dim 172) and llama-demo
// (dim 192, hidden_dim 512) in every encoding: the file says the encoding, stores
// each tensor as the narrow-width rule says, at its place holds exactly
// EncodeRow's bytes of the fp32 rows, widens back to fp32 as exactly the values
// those bytes decode to, and loads.
func TestContainerRoundTrip(t *testing.T) {
	for _, dir := range []string{tinyDir, demoDir} {
		files := readFiles(t, dir)
		_, from, err := ParseModel(files.Model)
		if err != nil {
			t.Fatal(err)
		}
		source := map[string][]float32{}
		for _, p := range from.Tensors {
			source[p.Name] = decodeTensor(files.Model, p)
		}
		for _, enc := range kernels.Encodings {
			b := convert(t, files.Model, enc)
			_, l, err := ParseModel(b)
			if err != nil || l.Enc != enc || l.Container != (enc != kernels.F32 && enc != kernels.F16) {
				t.Fatalf("%s %v: parsed as %+v, %v", dir, enc, l, err)
			}
			back := b
			if enc != kernels.F32 {
				back = convert(t, b, kernels.F32)
			}
			_, fp32, _ := ParseModel(back)
			backTensors := map[string]Placed{}
			for _, p := range fp32.Tensors {
				backTensors[p.Name] = p
			}
			for _, p := range l.Tensors {
				want := enc // a legacy file's
				switch {
				case p.isRopeTable():
					continue
				case !l.Container:
				case p.Name == "rms_att" || p.Name == "rms_ffn" || p.Name == "rms_final":
					want = kernels.F32
				default:
					want = enc.StoredAs(p.Cols, kernels.F16)
				}
				if p.Enc != want {
					t.Errorf("%s %v: %s [%d] stored as %v, want %v", dir, enc, p.Name, p.Cols, p.Enc, want)
				}
				rb := p.Enc.RowBytes(p.Cols)
				row := make([]byte, rb)
				src := source[p.Name]
				for r := range p.Count * p.Rows {
					if err := kernels.EncodeRow(p.Enc, row, src[r*p.Cols:(r+1)*p.Cols]); err != nil {
						t.Fatal(err)
					}
					if off := p.Offset + int64(r*rb); !bytes.Equal(b[off:off+int64(rb)], row) {
						t.Fatalf("%s %v: %s row %d is not EncodeRow's", dir, enc, p.Name, r)
					}
				}
				if !slices.Equal(decodeTensor(back, backTensors[p.Name]), decodeTensor(b, p)) {
					t.Errorf("%s %v: %s widened to fp32 differs from its decoded values", dir, enc, p.Name)
				}
			}
			m := loadModel(t, engine.Files{Model: b, Tokenizer: files.Tokenizer})
			if m.Info().Encoding != enc.String() {
				t.Errorf("%s %v: loads as %s", dir, enc, m.Info().Encoding)
			}
		}
	}
}

// With a K-quant, a matrix whose rows are not a whole number of 256-weight
// super-blocks takes llama-quantize's fallback when they are a whole number of
// 32 (every matrix but w2 of llama-demo, dim 192), and fp16 otherwise (w2 of
// llama-tiny, hidden_dim 172). inspect shows the bytes in each.
func TestKQuantFallbacks(t *testing.T) {
	for _, c := range []struct {
		dir      string
		enc      kernels.Encoding
		matrices kernels.Encoding // every matrix but w2
		w2       kernels.Encoding
		summary  string
	}{
		{demoDir, kernels.Q4_K, kernels.Q5_0, kernels.Q4_K, "q5_0 957.0 KB, q4_k 216.0 KB, fp32 6.8 KB"},
		{demoDir, kernels.Q5_K, kernels.Q5_1, kernels.Q5_K, "q5_1 1.0 MB, q5_k 264.0 KB, fp32 6.8 KB"},
		{demoDir, kernels.Q6_K, kernels.Q8_0, kernels.Q6_K, "q8_0 1.4 MB, q6_k 315.0 KB, fp32 6.8 KB"},
		{tinyDir, kernels.Q4_K, kernels.Q5_0, kernels.F16, "q5_0 1.4 MB, fp16 43.0 KB, fp32 1.2 KB"},
		{tinyDir, kernels.Q6_K, kernels.Q8_0, kernels.F16, "q8_0 2.1 MB, fp16 43.0 KB, fp32 1.2 KB"},
	} {
		_, l, err := ParseModel(convert(t, readFiles(t, c.dir).Model, c.enc))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range l.Tensors {
			want := c.matrices
			switch p.Name {
			case "w2":
				want = c.w2
			case "rms_att", "rms_ffn", "rms_final":
				want = kernels.F32
			}
			if p.Enc != want {
				t.Errorf("%s %v: %s stored as %v, want %v", c.dir, c.enc, p.Name, p.Enc, want)
			}
		}
		if got := l.encodingSummary(); got != c.summary {
			t.Errorf("%s %v: tensors by encoding %q, want %q", c.dir, c.enc, got, c.summary)
		}
	}
}

// compatSource is a small fp32 llama2.c model.bin (dim 32, hidden_dim 64, one
// layer, smallModel's 260 tokens with a separate classifier) whose i-th weight
// is sin(0.37 (i mod 97))/2 (97 is prime to the blocks' 32, so the blocks
// differ, and the file compresses), but for a zero embedding row, whose blocks
// quantizers treat apart. testdata/container-v1 holds it as an earlier build converted it
// (gzipped).
func compatSource() []byte {
	var m bytes.Buffer
	for _, v := range []int32{32, 64, 1, 2, 1, -260, 16} {
		binary.Write(&m, binary.LittleEndian, v)
	}
	c, _ := ParseConfig(m.Bytes())
	for i := range c.Floats() {
		v := float32(math.Sin(float64(i%97)*0.37) / 2)
		if i < 32 {
			v = 0 // token 0's embedding row
		}
		binary.Write(&m, binary.LittleEndian, v)
	}
	return m.Bytes()
}

// TestVersion1FilesLoad: containers written before the encodings 4-10 (by
// InferPi at commit ca6af3b) load and compute the logits of this build's
// conversion of the same model. Its q8_0 bytes are this build's; in q4_0 the
// blocks of zeros differ in the sign of their zero scale alone (that build wrote
// +0, llama.cpp's rounding -0).
func TestVersion1FilesLoad(t *testing.T) {
	src := compatSource()
	_, tok := smallModel(t)
	for _, enc := range []kernels.Encoding{kernels.Q8_0, kernels.Q4_0} {
		old := testfile.Read(t, "testdata/container-v1/"+enc.String()+".bin.gz")
		now := convert(t, src, enc)
		if len(old) != len(now) || !bytes.Equal(old[:containerHeader], now[:containerHeader]) {
			t.Fatalf("%v: the old file's header or size differs", enc)
		}
		var differ []int
		for i := range old {
			if old[i] != now[i] {
				differ = append(differ, i)
			}
		}
		if enc == kernels.Q4_0 {
			// token 0's row: one block at the embedding's start, scale bytes 0x0000 then 0x0080
			if off := int(mustLayout(t, now).Tensors[0].Offset); !slices.Equal(differ, []int{off + 1}) || old[off+1] != 0 || now[off+1] != 0x80 {
				t.Errorf("q4_0: bytes %v differ, want the sign of the zero block's scale at %d", differ, off+1)
			}
		} else if len(differ) != 0 {
			t.Errorf("%v: bytes %v differ", enc, differ)
		}
		a := loadModel(t, engine.Files{Model: old, Tokenizer: tok})
		b := loadModel(t, engine.Files{Model: now, Tokenizer: tok})
		ra, rb := a.runState(), b.runState()
		for pos, id := range []int{1, 0, 200, 7, 0} {
			la := forward(a.w, a.cfg, ra, id, pos, true)
			lb := forward(b.w, b.cfg, rb, id, pos, true)
			if !slices.Equal(la, lb) {
				t.Fatalf("%v: logits at position %d differ", enc, pos)
			}
		}
	}
}

func mustLayout(t *testing.T, model []byte) Layout {
	t.Helper()
	_, l, err := ParseModel(model)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
