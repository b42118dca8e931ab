package llama

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/chat"
	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/engine/quantize"
)

// demoGGUF writes models/llama-demo as a GGUF file of type ft.
func demoGGUF(t testing.TB, ft quantize.FileType) []byte {
	t.Helper()
	var files engine.Files
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{"model.bin", &files.Model}, {"tokenizer.bin", &files.Tokenizer}} {
		b, err := os.ReadFile("../../models/llama-demo/" + f.name)
		if err != nil {
			t.Fatal(err)
		}
		*f.dst = b
	}
	files.ModelName = "llama-demo"
	var buf bytes.Buffer
	if err := WriteGGUF(&buf, files, ft); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestWriteGGUFIsLlamaCppConversion: llama-demo written as GGUF holds llama.cpp's
// conversion of it (testdata/gguf/trained): the same tensors, types and bytes,
// but for the copy of the token embedding llama.cpp's converter writes as
// output.weight; the same vocabulary; and what the converter gets wrong or
// leaves out put right (context 512, file type, the chat template).
func TestWriteGGUFIsLlamaCppConversion(t *testing.T) {
	for _, c := range []struct {
		variant string
		ft      quantize.FileType
	}{{"Q8_0", quantize.FileQ8_0}, {"Q4_0", quantize.FileQ4_0}} {
		data := demoGGUF(t, c.ft)
		f, err := gguf.Parse(data, "ours")
		if err != nil {
			t.Fatal(err)
		}
		refData, o := trainedFixture(t, c.variant)
		ref, err := gguf.Parse(refData, o.File)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Tensors) != len(ref.Tensors)-1 {
			t.Errorf("%s: %d tensors, llama.cpp's conversion %d (with output.weight)", c.variant, len(f.Tensors), len(ref.Tensors))
		}
		for i := range f.Tensors {
			ours := &f.Tensors[i]
			theirs, ok := ref.Tensor(ours.Name)
			if !ok || ours.Name == "output.weight" {
				t.Errorf("%s: tensor %s is not in llama.cpp's conversion", c.variant, ours.Name)
				continue
			}
			// Tied, the embedding is the output matrix too: llama-quantize's Q4_0
			// gives it Q6_K, which 192-wide rows do not fit, so Q8_0.
			wantType := theirs.Type
			if ours.Name == "token_embd.weight" && c.ft == quantize.FileQ4_0 {
				wantType = gguf.Q8_0
			}
			if ours.Type != wantType || !slices.Equal(ours.Dims, theirs.Dims) {
				t.Errorf("%s: %s is %v %v, llama.cpp's %v %v", c.variant, ours.Name, ours.Type, ours.Dims, theirs.Type, theirs.Dims)
				continue
			}
			a, _ := f.Data(data, ours)
			b, _ := ref.Data(refData, theirs)
			if ours.Type == theirs.Type && !bytes.Equal(a, b) {
				t.Errorf("%s: %s: the bytes differ from llama.cpp's", c.variant, ours.Name)
			}
		}
		for _, key := range []string{"tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
			"tokenizer.ggml.model", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
			"general.architecture", "llama.embedding_length", "llama.feed_forward_length", "llama.block_count",
			"llama.attention.head_count", "llama.attention.head_count_kv", "llama.rope.dimension_count",
			"llama.attention.layer_norm_rms_epsilon"} {
			v, _ := f.Lookup(key)
			w, _ := ref.Lookup(key)
			if !equalValues(v, w) {
				t.Errorf("%s: %s is %.80v, llama.cpp's %.80v", c.variant, key, v, w)
			}
		}
		for key, want := range map[string]any{
			"llama.context_length":    uint32(512),
			"general.file_type":       uint32(c.ft),
			"general.name":            "llama-demo",
			"tokenizer.chat_template": chat.AlpacaJinja,
		} {
			if v, _ := f.Lookup(key); v != want {
				t.Errorf("%s: %s is %v, want %v", c.variant, key, v, want)
			}
		}
		if _, ok := f.Lookup("tokenizer.ggml.padding_token_id"); ok {
			t.Errorf("%s: the converter's out-of-range padding id is written", c.variant)
		}
	}
}

// equalValues compares metadata values, arrays element by element.
func equalValues(a, b any) bool {
	switch a := a.(type) {
	case []string:
		b, ok := b.([]string)
		return ok && slices.Equal(a, b)
	case []float32:
		b, ok := b.([]float32)
		return ok && slices.Equal(a, b)
	case []int32:
		b, ok := b.([]int32)
		return ok && slices.Equal(a, b)
	}
	return a == b
}

// TestWriteGGUFChats: the written Q8_0 file chats in the alpaca template it
// carries, and each README question asked first gets llama.cpp's reply (ids,
// EOS included, and text) from llama.cpp's prompt, rendered as the fixture's.
func TestWriteGGUFChats(t *testing.T) {
	m, err := Load(engine.Files{Model: demoGGUF(t, quantize.FileQ8_0), ModelName: "llama-demo-q8_0.gguf"})
	if err != nil {
		t.Fatal(err)
	}
	info := m.Info()
	if info.Template != "alpaca" || info.ContextSize != 512 || info.Notice != "" {
		t.Fatalf("template %s, context %d, notice %q", info.Template, info.ContextSize, info.Notice)
	}
	_, o := trainedFixture(t, "Q8_0")
	firsts := 0
	for _, turn := range o.Turns {
		if turn.Turn != 0 {
			continue
		}
		s, err := m.newSession(engine.Options{Mode: engine.Chat})
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Turn(context.Background(), turn.User, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Rendered != turnText(turn.User, true) || !slices.Equal(r.PromptIDs, turn.PromptIDs) {
			t.Errorf("%q: rendered %q as %v, llama.cpp's prompt %v", turn.User, r.Rendered, r.PromptIDs, turn.PromptIDs)
		}
		if !slices.Equal(r.IDs, turn.FromRunC.ReplyIDs) || r.Text != turn.FromRunC.Reply || r.Stop != engine.StopEnd {
			t.Errorf("%q: reply %v %q (%v), llama.cpp's %v %q", turn.User, r.IDs, r.Text, r.Stop, turn.FromRunC.ReplyIDs, turn.FromRunC.Reply)
		}
		firsts++
	}
	if firsts != 12 {
		t.Errorf("%d first turns, want 12", firsts)
	}
}

// TestWriteGGUFRefuses: what cannot be written is refused with the reason.
func TestWriteGGUFRefuses(t *testing.T) {
	model, err := os.ReadFile("../../models/llama-demo/model.bin")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile("../../models/llama-demo/tokenizer.bin")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		files engine.Files
		ft    quantize.FileType
		want  string
	}{
		{"no tokenizer", engine.Files{Model: model}, quantize.FileQ8_0, "tokenizer.bin: missing"},
		{"another model's tokenizer", engine.Files{Model: model, Tokenizer: tok[:len(tok)-10]}, quantize.FileQ8_0, "tokenizer.bin: "},
		{"truncated model", engine.Files{Model: model[:1000], Tokenizer: tok}, quantize.FileQ8_0, "model.bin: "},
		{"a target quantize does not write", engine.Files{Model: model, Tokenizer: tok}, quantize.FileType(10), "model.bin as GGUF file type 10: "},
	} {
		err := WriteGGUF(&bytes.Buffer{}, c.files, c.ft)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error starting %q", c.name, err, c.want)
		}
	}
}
