package gpt_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/convert/nanochat"
	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/gpt"
	"github.com/inferpi/inferpi/engine/kernels"
)

// TestQuantizedExportLayout exports the fixture in q8_0: the header records it,
// the narrow gates (smear 24 columns, ve_gate 12) fall back to fp16 and the
// lambdas stay fp32, and the file loads with the encoding shown.
func TestQuantizedExportLayout(t *testing.T) {
	for _, c := range []struct {
		dtype string
		code  gpt.Encoding
		size  int64
	}{{"q8_0", gpt.EncQ8_0, 0}, {"q4_0", gpt.EncQ4_0, 0}} {
		files := export(t, nanochat.Options{BaseDir: tinyDir, Step: -1, DType: c.dtype})
		h, err := gpt.ParseHeader(files.Model)
		if err != nil {
			t.Fatal(err)
		}
		if h.MatrixEnc != c.code || h.EmbedEnc != c.code {
			t.Fatalf("%s: header encodings %v/%v", c.dtype, h.MatrixEnc, h.EmbedEnc)
		}
		specs, size, _ := h.Layout()
		if size != int64(len(files.Model)) {
			t.Fatalf("%s: layout %d bytes, file %d", c.dtype, size, len(files.Model))
		}
		counts := map[gpt.Encoding]int{}
		for _, s := range specs {
			want := c.code
			switch {
			case strings.HasSuffix(s.Name, "lambda") || strings.HasSuffix(s.Name, "lambdas"):
				want = gpt.EncF32
			case s.Name == "smear_gate.weight" || strings.HasSuffix(s.Name, "ve_gate.weight"):
				want = gpt.EncF16
			}
			if s.Enc != want {
				t.Errorf("%s: %s [%d x %d] stored as %v, want %v", c.dtype, s.Name, s.Rows, s.Cols, s.Enc, want)
			}
			counts[s.Enc]++
		}
		// 1 smear gate + 2 ve gates (layers 1 and 3); 2 + 2 lambda tensors.
		if counts[gpt.EncF16] != 3 || counts[gpt.EncF32] != 4 {
			t.Errorf("%s: encodings %v", c.dtype, counts)
		}
		m, err := gpt.Load(files)
		if err != nil {
			t.Fatal(err)
		}
		info := m.Info()
		if info.Encoding != c.dtype {
			t.Errorf("%s: info encoding %q", c.dtype, info.Encoding)
		}
		var summary string
		for _, kv := range info.Details {
			if kv.Key == "tensors by encoding" {
				summary = kv.Value
			}
		}
		if !strings.HasPrefix(summary, c.dtype+" ") || !strings.Contains(summary, "fp16 ") || !strings.Contains(summary, "fp32 ") {
			t.Errorf("%s: tensors by encoding %q", c.dtype, summary)
		}
	}
}

// Re-encoding an fp32 export gives byte for byte what exporting in the
// encoding gives; re-encoding is refused for damaged files.
func TestReencode(t *testing.T) {
	fp32 := export(t, nanochat.Options{BaseDir: tinyDir, Step: -1, DType: "fp32"}).Model
	for _, dtype := range []string{"fp32", "fp16", "q8_0", "q4_0"} {
		enc, _ := kernels.ParseEncoding(dtype)
		got, err := gpt.Reencode(fp32, enc)
		if err != nil {
			t.Fatal(err)
		}
		want := export(t, nanochat.Options{BaseDir: tinyDir, Step: -1, DType: dtype}).Model
		if !bytes.Equal(got, want) {
			t.Errorf("fp32 re-encoded to %s differs from the %s export", dtype, dtype)
		}
	}
	// q4_0 and q8_0 widened to fp32 hold exactly the quantized values: encoding
	// them again gives back the same blocks, byte for byte.
	for _, dtype := range []string{"q4_0", "q8_0"} {
		q := export(t, nanochat.Options{BaseDir: tinyDir, Step: -1, DType: dtype})
		back, err := gpt.Reencode(q.Model, kernels.F32)
		if err != nil {
			t.Fatal(err)
		}
		if m, err := gpt.Load(engine.Files{Model: back, Tokenizer: q.Tokenizer}); err != nil || m.Info().Encoding != "fp32" {
			t.Fatalf("%s -> fp32: %v", dtype, err)
		}
		enc, _ := kernels.ParseEncoding(dtype)
		again, err := gpt.Reencode(back, enc)
		if err != nil || !bytes.Equal(again, q.Model) {
			t.Errorf("%s -> fp32 -> %s is not the %s file (%v)", dtype, dtype, dtype, err)
		}
	}
	q4 := export(t, nanochat.Options{BaseDir: tinyDir, Step: -1, DType: "q4_0"})
	for _, bad := range [][]byte{q4.Model[:len(q4.Model)-1], []byte("NCHT")} {
		if _, err := gpt.Reencode(bad, kernels.Q8_0); err == nil || !strings.HasPrefix(err.Error(), "model.bin: ") {
			t.Errorf("damaged input: %v", err)
		}
	}
}

// TestQuantizedDemoChats replays the demo's example chats on q8_0 and q4_0
// exports. q8_0 reproduces every token. q4_0 may not: each turn whose reply
// leaves the example's is logged with where and why (the fp32 model's margin
// between its choice and q4_0's at that step), and their number is bounded by
// what was measured (1 turn of 14; docs/accuracy.md).
func TestQuantizedDemoChats(t *testing.T) {
	opts := nanochat.Options{BaseDir: demoSrc, Source: "sft", Step: -1}
	replayDemo(t, export(t, withDType(opts, "q8_0")))

	opts.DType = "fp32"
	ref, err := gpt.Load(export(t, opts))
	if err != nil {
		t.Fatal(err)
	}
	files := export(t, withDType(opts, "q4_0"))
	m, err := gpt.Load(files)
	if err != nil {
		t.Fatal(err)
	}
	ex := loadDemoExamples(t)
	turns, differ, tokens := 0, 0, 0
	for ci, c := range ex.Conversations {
		s, _ := m.NewSession(engine.Options{Mode: engine.Chat, MaxTokens: 256})
		var history []int // the conversation as the q4_0 session holds it
		for ti, turn := range c.Turns {
			r, err := s.Turn(context.Background(), turn.User, nil)
			if err != nil {
				t.Fatal(err)
			}
			turns++
			tokens += len(turn.ReplyIDs)
			history = append(history, r.PromptIDs...)
			if k := firstDiff(r.IDs, turn.ReplyIDs); k >= 0 {
				differ++
				if k >= len(r.IDs) || k >= len(turn.ReplyIDs) {
					t.Logf("q4_0 conversation %d turn %d: reply %v, example %v", ci, ti, r.IDs, turn.ReplyIDs)
					history = append(history, r.IDs...)
					continue
				}
				ctx := append(slices.Clone(history), r.IDs[:k]...)
				logits := ref.ForwardAll(ctx, nil)
				last := logits[len(logits)-1]
				t.Logf("q4_0 conversation %d turn %d %q: reply leaves the example at token %d of %d: fp32 prefers %q over q4_0's %q by %.3f\n  example: %q\n  q4_0:    %q",
					ci, ti, turn.User, k, len(turn.ReplyIDs), m.Tokenizer().Decode([]int{turn.ReplyIDs[k]}),
					m.Tokenizer().Decode([]int{r.IDs[k]}), last[turn.ReplyIDs[k]]-last[r.IDs[k]],
					strings.TrimSuffix(turn.Rendered, "<|assistant_end|>"), r.Text)
			}
			history = append(history, r.IDs...)
		}
	}
	t.Logf("q4_0: %d of %d turns (%d reply tokens) reproduce the examples exactly", turns-differ, turns, tokens)
	if differ > 2 {
		t.Errorf("q4_0: %d of %d turns leave the examples; 1 was measured", differ, turns)
	}
}

func withDType(o nanochat.Options, dtype string) nanochat.Options {
	o.DType = dtype
	return o
}

// firstDiff is the first index where a and b differ (a length difference counts),
// or -1.
func firstDiff(a, b []int) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}
