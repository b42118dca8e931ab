package llama

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine"
)

// The bundled demo model and its example chats (greedy, computed with run.c's
// encode and forward, one KV cache per conversation).
const demoDir = "../../models/llama-demo"

type demoExamples struct {
	Conversations []struct {
		Turns []struct {
			User      string `json:"user"`
			PromptIDs []int  `json:"prompt_ids"`
			ReplyIDs  []int  `json:"reply_ids"`
			Reply     string `json:"reply"`
		} `json:"turns"`
	} `json:"conversations"`
}

func TestDemoConversationsMatchRunC(t *testing.T) {
	checkDemoConversations(t, readFiles(t, demoDir))
}

// The fp16 conversion of the demo keeps every example reply, id for id.
func TestDemoFP16KeepsTheExamples(t *testing.T) {
	files := readFiles(t, demoDir)
	var err error
	if files.Model, err = ConvertFP16(files.Model); err != nil {
		t.Fatal(err)
	}
	checkDemoConversations(t, files)
}

func checkDemoConversations(t *testing.T, files engine.Files) {
	ex := readDemoExamples(t)
	if len(ex.Conversations) == 0 {
		t.Fatal("no conversations in examples.json")
	}
	m := loadModel(t, files)
	if m.template != Alpaca {
		t.Fatalf("demo model template %v, want alpaca (the default)", m.template)
	}
	multi := 0
	for ci, conv := range ex.Conversations {
		s, err := m.newSession(engine.Options{Mode: engine.Chat})
		if err != nil {
			t.Fatal(err)
		}
		used := 0
		for ti, turn := range conv.Turns {
			reply, err := s.Turn(context.Background(), turn.User, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(reply.PromptIDs, turn.PromptIDs) {
				t.Errorf("conversation %d turn %d (%q): prompt ids\n%v\nwant\n%v", ci, ti, turn.User, reply.PromptIDs, turn.PromptIDs)
			}
			if !slices.Equal(reply.IDs, turn.ReplyIDs) {
				t.Errorf("conversation %d turn %d (%q): reply ids\n%v\nwant\n%v", ci, ti, turn.User, reply.IDs, turn.ReplyIDs)
			}
			if reply.Text != turn.Reply || reply.Stop != engine.StopEnd {
				t.Errorf("conversation %d turn %d: reply %q (%v), want %q", ci, ti, reply.Text, reply.Stop, turn.Reply)
			}
			// Only the new tokens were processed: the previous reply's EOS, then this
			// turn's prompt, then the reply (its final EOS waits for the next turn).
			closing := 0
			if ti > 0 {
				closing = 1
			}
			used += closing + len(turn.PromptIDs) + len(turn.ReplyIDs) - 1
			if s.Used() != used {
				t.Errorf("conversation %d turn %d: cache holds %d positions, want %d", ci, ti, s.Used(), used)
			}
		}
		if len(conv.Turns) > 1 {
			multi++
		}
	}
	if multi == 0 {
		t.Fatal("no multi-turn conversation among the examples")
	}
}

func TestDemoChatUntilContextFull(t *testing.T) {
	m := loadModel(t, readFiles(t, demoDir))
	s, err := m.newSession(engine.Options{Mode: engine.Chat})
	if err != nil {
		t.Fatal(err)
	}
	questions := []string{"Tell me a story about a dog.", "What is the capital of Japan?", "Tell me a story."}
	full := false
	for i := 0; i < 40 && !full; i++ {
		reply, err := s.Turn(context.Background(), questions[i%len(questions)], nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.Used() > m.cfg.SeqLen {
			t.Fatalf("cache holds %d positions, seq_len is %d", s.Used(), m.cfg.SeqLen)
		}
		full = reply.Stop == engine.StopContextFull
	}
	if !full {
		t.Fatal("never reached the context limit")
	}
	// A full conversation stays refused; Reset starts over like a new session.
	if reply, _ := s.Turn(context.Background(), "Hello!", nil); reply.Stop != engine.StopContextFull {
		t.Fatalf("turn after context full: %v", reply.Stop)
	}
	s.Reset()
	reply, err := s.Turn(context.Background(), "Hello!", nil)
	if err != nil || reply.Text != "Hello! How can I help you today?" {
		t.Fatalf("after Reset: %q %v", reply.Text, err)
	}
}

func TestCancelStopsReplyAndConversationGoesOn(t *testing.T) {
	m := loadModel(t, readFiles(t, demoDir))
	s, err := m.newSession(engine.Options{Mode: engine.Chat})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	reply, err := s.Turn(ctx, "Tell me a story about a cat.", func(string) {
		if n++; n == 3 {
			cancel()
		}
	})
	if err != nil || reply.Stop != engine.StopCanceled || len(reply.IDs) != 3 {
		t.Fatalf("canceled turn: stop %v, %d ids, %v", reply.Stop, len(reply.IDs), err)
	}
	// The cut reply is closed with EOS and the chat continues.
	reply, err = s.Turn(context.Background(), "What is the capital of France?", nil)
	if err != nil || reply.Text != "The capital of France is Paris." {
		t.Fatalf("turn after cancel: %q %v", reply.Text, err)
	}
	// A context canceled before the turn processes nothing.
	used := s.Used()
	reply, _ = s.Turn(ctx, "And Kenya?", nil)
	if reply.Stop != engine.StopCanceled || s.Used() != used {
		t.Fatalf("turn with canceled context: %v, used %d -> %d", reply.Stop, used, s.Used())
	}
}

func TestMaxTokensAndTemplateNone(t *testing.T) {
	files := readFiles(t, demoDir)
	files.Settings = []byte(`{"template": "none"}`)
	m := loadModel(t, files)
	if m.Info().Template != "none" {
		t.Fatalf("template %q", m.Info().Template)
	}
	s, _ := m.newSession(engine.Options{Mode: engine.Chat, MaxTokens: 4})
	reply, err := s.Turn(context.Background(), "Once upon a time", nil)
	if err != nil || reply.Stop != engine.StopMaxTokens || len(reply.IDs) != 4 {
		t.Fatalf("max tokens: %+v %v", reply, err)
	}
	// Without a template the prompt is BOS + encode(text), like completion mode.
	if want := m.tok.Encode("Once upon a time", true, false); !slices.Equal(reply.PromptIDs, want) {
		t.Fatalf("prompt %v, want %v", reply.PromptIDs, want)
	}
	files.Settings = []byte(`{"template": "chatml"}`)
	if _, err := Load(files); err == nil || !strings.Contains(err.Error(), `inferpi.json: template "chatml"`) {
		t.Fatalf("unknown template: %v", err)
	}
	files.Settings = []byte(`{"template": `)
	if _, err := Load(files); err == nil || !strings.HasPrefix(err.Error(), "inferpi.json: ") {
		t.Fatalf("bad json: %v", err)
	}
}
