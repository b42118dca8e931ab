package chat

import (
	"errors"
	"strings"
	"testing"
)

// A session's turns on Qwen2.5's template feed exactly llama.cpp's rendering of
// the whole conversation: the first turn's prompt, the reply, then the text after
// the reply, which starts with the ChatML end token the reply ended on.
func TestContinueChatML(t *testing.T) {
	tmpl, _ := Detect(fixtureTemplate(t, "qwen2-bpe"))
	var want string
	for _, c := range readOracle(t, ggufDir+"models/qwen2-bpe/oracle/F32.json").Chat {
		if c.Name == "with_system" {
			want = c.Rendered
		}
	}
	first, err := tmpl.Continue(nil, fixtureConversation[:2], true)
	if err != nil || first != tmpl.Render(fixtureConversation[:2], true) {
		t.Fatalf("first turn: %q, %v", first, err)
	}
	history := append(fixtureConversation[:2:2], tmpl.Reply("2+2 is 4."))
	second, err := tmpl.Continue(history, fixtureConversation[3:], true)
	if err != nil {
		t.Fatal(err)
	}
	if second != "<|im_end|>\n<|im_start|>user\nAnd 3*3?<|im_end|>\n<|im_start|>assistant\n" {
		t.Errorf("second turn: %q", second)
	}
	if fed := first + "2+2 is 4." + second; fed != want {
		t.Errorf("fed %q\nllama.cpp renders %q", fed, want)
	}
}

// Every template through three turns: each turn's text extends what was fed to
// the rendering of the whole conversation, or Continue says where they part. They
// part after a reply where the generation prompt is not how the template opens an
// assistant turn (a space or newline more, or fewer).
func TestContinueEveryTemplate(t *testing.T) {
	rerenders := map[string]bool{
		"mistral-v1": true, "mistral-v3": true, "mistral-v7": true, // "[/INST]" then " " + reply
		"openchat": true, "vicuna": true, "vicuna-orca": true, "deepseek2": true, // "Assistant:" then " " + reply
		"chatglm3": true, "chatglm4": true, "glmedge": true, // "<|assistant|>" then "\n" + reply
		"granite": true, // "<|end_of_role|>\n", then "<|end_of_role|>" + reply
	}
	turns := [][]Message{
		{{"system", "Be brief."}, {"user", "Hi!"}},
		{{"user", "2+2?"}},
		{{"user", "Thanks!"}},
	}
	replies := []string{"Hello.", "4."}
	for _, name := range Names() {
		tmpl, _ := ByName(name)
		var history []Message
		for i, next := range turns {
			fed := tmpl.Fed(history)
			text, err := tmpl.Continue(history, next, true)
			full := tmpl.Render(append(history[:len(history):len(history)], next...), true)
			var re *RerenderError
			switch {
			case err == nil:
				if fed+text != full {
					t.Errorf("%s turn %d: %q + %q != %q", name, i, fed, text, full)
				}
				if rerenders[name] && i > 0 {
					t.Errorf("%s turn %d: no rerender reported", name, i)
				}
			case errors.As(err, &re):
				if re.At >= len(fed) || fed[:re.At] != full[:re.At] || re.At < len(full) && fed[re.At] == full[re.At] {
					t.Errorf("%s turn %d: At %d for %q vs %q", name, i, re.At, fed, full)
				}
				if !rerenders[name] {
					t.Errorf("%s turn %d: %v", name, i, err)
				}
			default:
				t.Fatalf("%s: %v", name, err)
			}
			history = append(history, next...)
			if i < len(replies) {
				history = append(history, tmpl.Reply(replies[i]))
			}
		}
	}
}

// A trimming template renders a reply that ends in white space without it: the
// text fed is right up to that white space.
func TestContinueTrimmedReply(t *testing.T) {
	tmpl, _ := ByName("llama3")
	history := []Message{{"user", "Hi!"}, tmpl.Reply("Hello.\n")}
	_, err := tmpl.Continue(history, []Message{{"user", "2+2?"}}, true)
	var re *RerenderError
	if !errors.As(err, &re) || re.At != len(tmpl.Fed(history))-1 || re.Template != "llama3" {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), "llama3") {
		t.Errorf("error does not name the template: %v", err)
	}
}

// Gemma folds the system message into the next user turn: fed alone it renders
// as nothing, and the first user turn brings it.
func TestContinueFoldedSystem(t *testing.T) {
	tmpl, _ := ByName("gemma")
	sys := []Message{{"system", "Be brief."}}
	text, err := tmpl.Continue(nil, sys, false)
	if err != nil || text != "" {
		t.Fatalf("system alone: %q, %v", text, err)
	}
	text, err = tmpl.Continue(sys, []Message{{"user", "Hi!"}}, true)
	if err != nil || text != "<start_of_turn>user\nBe brief.\n\nHi!<end_of_turn>\n<start_of_turn>model\n" {
		t.Fatalf("first user turn: %q, %v", text, err)
	}
}
