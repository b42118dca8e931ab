package gpt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/convert/nanochat"
	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/all"
)

const (
	demoSrc    = "../../testdata/nanochat-demo" // the nanochat checkpoint (sft, d4)
	demoBundle = "../../models/nanochat-demo"   // what `inferpi convert nanochat` made of it
	demoBinSrc = demoSrc + "/examples.json"     // greedy chats from nanochat's Engine
)

type demoExamples struct {
	Conversations []struct {
		Turns []struct {
			User      string `json:"user"`
			PromptIDs []int  `json:"prompt_ids"`
			ReplyIDs  []int  `json:"reply_ids"`
			Sampled   []int  `json:"reply_sampled"`
			Rendered  string `json:"reply_rendered"`
		} `json:"turns"`
	} `json:"conversations"`
}

func loadDemoExamples(t *testing.T) *demoExamples {
	t.Helper()
	b, err := os.ReadFile(demoBinSrc)
	if err != nil {
		t.Fatal(err)
	}
	var ex demoExamples
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatal(err)
	}
	if len(ex.Conversations) < 10 {
		t.Fatalf("only %d example conversations", len(ex.Conversations))
	}
	return &ex
}

// replayDemo runs every example conversation through one Session each, with the
// KV cache kept across turns, and checks every id, including the calculator's.
func replayDemo(t *testing.T, files engine.Files) {
	t.Helper()
	ex := loadDemoExamples(t)
	m, err := all.Load(files) // detection by magic, as inferpi chat does it
	if err != nil {
		t.Fatal(err)
	}
	if info := m.Info(); info.Engine != "GPT" || info.Template != "nanochat" {
		t.Fatalf("loaded as %s/%s", info.Engine, info.Template)
	}
	forced := 0
	for ci, c := range ex.Conversations {
		s, err := m.NewSession(engine.Options{Mode: engine.Chat, MaxTokens: 256})
		if err != nil {
			t.Fatal(err)
		}
		for ti, turn := range c.Turns {
			r, err := s.Turn(context.Background(), turn.User, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.PromptIDs, turn.PromptIDs) {
				t.Errorf("conversation %d turn %d %q: prompt %v, want %v", ci, ti, turn.User, r.PromptIDs, turn.PromptIDs)
			}
			if !reflect.DeepEqual(r.IDs, turn.ReplyIDs) {
				t.Errorf("conversation %d turn %d %q:\n got %v\nwant %v", ci, ti, turn.User, r.IDs, turn.ReplyIDs)
				continue
			}
			for _, s := range turn.Sampled {
				forced += 1 - s
			}
			if want := strings.TrimSuffix(turn.Rendered, "<|assistant_end|>"); r.Text != want || r.Stop != engine.StopEnd {
				t.Errorf("conversation %d turn %d: text %q (%v), want %q", ci, ti, r.Text, r.Stop, want)
			}
		}
	}
	if forced == 0 {
		t.Error("no example used the calculator: the tool is untested")
	}
}

// TestDemoBundle replays the examples on the model bundled in models/.
func TestDemoBundle(t *testing.T) {
	model, err := os.ReadFile(demoBundle + "/model.bin")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile(demoBundle + "/tokenizer.bin")
	if err != nil {
		t.Fatal(err)
	}
	replayDemo(t, engine.Files{Model: model, Tokenizer: tok})
}

// TestDemoExport converts the demo checkpoint (other widths, heads, vocabulary and
// context than the fixture) and checks that the bundle is exactly what the
// exporter makes, and that an fp32 export reproduces the examples too.
func TestDemoExport(t *testing.T) {
	fp16 := export(t, nanochat.Options{BaseDir: demoSrc, Source: "sft", Step: -1})
	bundled, err := os.ReadFile(demoBundle + "/model.bin")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile(demoBundle + "/tokenizer.bin")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fp16.Model, bundled) || !bytes.Equal(fp16.Tokenizer, tok) {
		t.Error("models/nanochat-demo differs from a fresh export of the demo checkpoint")
	}
	replayDemo(t, export(t, nanochat.Options{BaseDir: demoSrc, Source: "sft", Step: -1, DType: "fp32"}))
}
