package llama

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/chat"
	"github.com/inferpi/inferpi/engine/gguf"
	"github.com/inferpi/inferpi/internal/testfile"
)

// chatOracle is the part of oracle/<VARIANT>.json about the chat prompt: the
// conversation, llama.cpp's rendering of it in the file's template, and the
// greedy continuation of that rendering.
type chatOracle struct {
	Chat []struct {
		Name     string
		Messages []chat.Message
		AddAss   bool `json:"add_ass"`
		Rendered string
	}
}

// TestGGUFChatAsLlamaCpp: a session in the file's own template, given the
// fixture's conversation up to its last question, renders it as llama.cpp's
// llama_chat_apply_template does, feeds llama.cpp's prompt ids, and replies with
// llama.cpp's greedy ids (stopping where they reach an end-of-generation token).
func TestGGUFChatAsLlamaCpp(t *testing.T) {
	for _, model := range ggufFixtureModels {
		for _, variant := range []string{"F32", "Q4_K_M"} {
			data, o := ggufFixture(t, model, variant)
			var co chatOracle
			testfile.JSON(t, filepath.Join(ggufFixtures, "models", model, "oracle", variant+".json"), &co)
			m, err := Load(engine.Files{Model: data, ModelName: o.File})
			if err != nil {
				t.Fatal(err)
			}
			_, loose := ggufTolerances(t, model, variant)
			conv := co.Chat[0] // with_system
			if conv.Name != "with_system" || !conv.AddAss {
				t.Fatalf("%s: chat[0] is %s", o.File, conv.Name)
			}
			// Think on: llama.cpp's rendering has no thinking switch.
			s, err := m.newSession(engine.Options{Mode: engine.Chat, MaxTokens: 32, Think: true, KVCache: "fp32"})
			if err != nil {
				t.Fatal(err)
			}
			n := len(conv.Messages)
			s.history = append(conv.Messages[:n-2:n-2], s.tmpl().Reply(conv.Messages[n-2].Content))
			reply, err := s.Turn(context.Background(), conv.Messages[n-1].Content, nil)
			if err != nil {
				t.Fatal(err)
			}
			var prompt, greedy []int
			var margins []float64
			for _, p := range o.Prompts {
				if p.Name == "chat" {
					prompt = p.IDs
				}
			}
			for _, g := range o.Greedy {
				if g.Name == "greedy_chat" {
					greedy, margins = g.IDs, g.Margin
				}
			}
			if reply.Rendered != conv.Rendered {
				t.Errorf("%s: rendered\n%q\nllama.cpp:\n%q", o.File, reply.Rendered, conv.Rendered)
			}
			if !slices.Equal(reply.PromptIDs, prompt) {
				t.Errorf("%s: prompt ids %v, llama.cpp's %v", o.File, reply.PromptIDs, prompt)
			}
			same := 0
			for i, id := range reply.IDs {
				if id != greedy[i] {
					if margins[i] > loose {
						t.Errorf("%s: reply token %d is %d, llama.cpp's %d (margin %.3f)", o.File, i, id, greedy[i], margins[i])
					}
					break
				}
				if m.gguf.vocab.IsEOG(id) && i != len(reply.IDs)-1 {
					t.Errorf("%s: the reply goes on after end-of-generation token %d", o.File, id)
				}
				same++
			}
			if len(reply.IDs) == 0 {
				t.Errorf("%s: no reply", o.File)
			}
			t.Logf("%s (%s): %d prompt tokens, %d of %d reply tokens as llama.cpp's, stop %v", o.File, conv.Name, len(reply.PromptIDs), same, len(reply.IDs), reply.Stop)
		}
	}
}

// TestGGUFChatKeepsTheCache: llama-demo (llama.cpp's Q8_0 conversion, with the
// alpaca template added to its metadata) chats over two turns: every reply is
// llama.cpp's and stops at EOS, which is not printed; the second turn feeds only
// what the template adds (the EOS that closed the reply, then the next
// instruction), so the cache grows by exactly that.
func TestGGUFChatKeepsTheCache(t *testing.T) {
	data, o := trainedFixture(t, "Q8_0")
	f, err := gguf.Parse(data, "llama-demo.Q8_0.gguf")
	if err != nil {
		t.Fatal(err)
	}
	data = rewrite(t, f, data, nil, nil, gguf.KV{Key: "tokenizer.chat_template", Value: chat.AlpacaJinja})
	m, err := Load(engine.Files{Model: data, ModelName: "llama-demo.gguf"})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Info().Template; got != "alpaca" {
		t.Fatalf("template %s", got)
	}
	s, err := m.newSession(engine.Options{Mode: engine.Chat, KVCache: "fp32"})
	if err != nil {
		t.Fatal(err)
	}
	var turns int
	for _, turn := range o.Turns {
		if turn.Conversation != 9 {
			continue
		}
		used := s.Used()
		reply, err := s.Turn(context.Background(), turn.User, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := turn.PromptIDs
		if turn.Turn > 0 {
			want = append([]int{m.gguf.vocab.EOS()}, want...)
		}
		if !slices.Equal(reply.PromptIDs, want) || s.Used() != used+len(want)+len(reply.IDs)-1 {
			t.Errorf("turn %d: fed %v (cache %d -> %d), want %v", turn.Turn, reply.PromptIDs, used, s.Used(), want)
		}
		if !slices.Equal(reply.IDs, turn.FromRunC.ReplyIDs) || reply.Text != turn.FromRunC.Reply || reply.Stop != engine.StopEnd {
			t.Errorf("turn %d: reply %v %q %v, llama.cpp's %v %q", turn.Turn, reply.IDs, reply.Text, reply.Stop, turn.FromRunC.ReplyIDs, turn.FromRunC.Reply)
		}
		turns++
	}
	if turns != 2 {
		t.Fatalf("%d turns", turns)
	}
}
