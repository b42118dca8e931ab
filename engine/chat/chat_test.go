package chat

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/internal/testfile"
)

const ggufDir = "../../testdata/gguf/"

// fixtureModels are the GGUF fixtures with the built-in template llama.cpp chose
// for each file's tokenizer.chat_template.
var fixtureModels = []struct {
	dir, name string
	thinks    bool
}{
	{"llama-spm", "llama2-sys-strip", false}, // Llama-2-7b-chat-hf's template
	{"llama3-bpe", "llama3", false},          // Llama-3.2-3B-Instruct's
	{"qwen2-bpe", "chatml", false},           // Qwen2.5-7B-Instruct's
	{"qwen3-bpe", "chatml", true},            // a Qwen3-style ChatML template with enable_thinking
}

type oracleChat struct {
	Name     string    `json:"name"`
	Messages []Message `json:"messages"`
	AddAss   bool      `json:"add_ass"`
	RC       int       `json:"rc"`
	Rendered string    `json:"rendered"`
}

type oracleFile struct {
	Chat []oracleChat `json:"chat"`
	Meta struct {
		Metadata map[string]any `json:"metadata_as_llama_cpp_prints_it"`
	} `json:"meta"`
}

func readOracle(t *testing.T, path string) oracleFile {
	t.Helper()
	var o oracleFile
	testfile.JSON(t, path, &o)
	return o
}

// fixtureTemplate is the model's tokenizer.chat_template, from the metadata llama.cpp
// printed for the F32 file (the GGUF string exactly; the other variants carry the
// same key).
func fixtureTemplate(t *testing.T, dir string) string {
	t.Helper()
	o := readOracle(t, ggufDir+"models/"+dir+"/oracle/F32.json")
	s, ok := o.Meta.Metadata["tokenizer.chat_template"].(string)
	if !ok {
		t.Fatalf("%s: no tokenizer.chat_template", dir)
	}
	return s
}

// Every chat rendering llama.cpp made for the fixtures, in every variant's oracle.
func TestFixtureChats(t *testing.T) {
	for _, fm := range fixtureModels {
		t.Run(fm.dir, func(t *testing.T) {
			tmpl, ok := Detect(fixtureTemplate(t, fm.dir))
			if !ok || tmpl.Name() != fm.name || tmpl.Thinks() != fm.thinks {
				t.Fatalf("Detect = %s (thinks %v), %v; want %s (thinks %v)", tmpl, tmpl.Thinks(), ok, fm.name, fm.thinks)
			}
			files, _ := filepath.Glob(ggufDir + "models/" + fm.dir + "/oracle/*.json")
			seen := 0
			for _, f := range files {
				for _, c := range readOracle(t, f).Chat {
					got := tmpl.Render(c.Messages, c.AddAss)
					if got != c.Rendered || len(got) != c.RC {
						t.Errorf("%s %s:\n got %q\nwant %q (rc %d)", filepath.Base(f), c.Name, got, c.Rendered, c.RC)
					}
					seen++
				}
			}
			if seen < 3*13 {
				t.Errorf("only %d chat renderings in the oracles", seen)
			}
		})
	}
}

// A model without a template (llama-demo converted from llama2.c) gets ChatML.
func TestNoTemplateIsChatML(t *testing.T) {
	var o struct {
		Chat struct {
			Messages string `json:"messages"`
			AddAss   bool   `json:"add_ass"`
			Rendered string `json:"rendered"`
		} `json:"chat_apply_template_without_template"`
	}
	testfile.JSON(t, ggufDir+"trained/oracle/F32.json", &o)
	if o.Chat.Messages != "user Hello! / assistant Hi. / user Bye!" {
		t.Fatalf("the oracle's conversation changed: %q", o.Chat.Messages)
	}
	msgs := []Message{{"user", "Hello!"}, {"assistant", "Hi."}, {"user", "Bye!"}}
	tmpl, ok := Detect("")
	if !ok || tmpl.Name() != "chatml" {
		t.Fatalf("Detect(\"\") = %s, %v", tmpl, ok)
	}
	if got := tmpl.Render(msgs, o.Chat.AddAss); got != o.Chat.Rendered {
		t.Errorf("got %q\nwant %q", got, o.Chat.Rendered)
	}
	if got := (Template{}).Render(msgs, o.Chat.AddAss); got != o.Chat.Rendered {
		t.Errorf("zero Template: got %q", got)
	}
}

// The fixtures' conversation.
var fixtureConversation = []Message{
	{"system", "You are a helpful assistant."},
	{"user", "Hello! What is 2+2?"},
	{"assistant", "2+2 is 4."},
	{"user", "And 3*3?"},
}

// Real templates of the models the engine aims at (testdata/templates/README.md
// says where each comes from): what llama.cpp recognises them as and renders.
func TestRealTemplates(t *testing.T) {
	const chatmlText = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello! What is 2+2?<|im_end|>\n" +
		"<|im_start|>assistant\n2+2 is 4.<|im_end|>\n<|im_start|>user\nAnd 3*3?<|im_end|>\n<|im_start|>assistant\n"
	for _, c := range []struct {
		file, name string
		thinks     bool
		want       string
	}{
		// TinyLlama's zephyr-style template has <|user|> and <|assistant|> but neither
		// <|end|> nor </s> (its turns end in eos_token): llama.cpp takes it for
		// glmedge, whose turns have no end marker; InferPi renders it as the
		// template does (extensions.go), with the vocabulary's EOS.
		{"TinyLlama-1.1B-Chat-v1.0", "zephyr-eos", false,
			"<|system|>\nYou are a helpful assistant.</s>\n<|user|>\nHello! What is 2+2?</s>\n<|assistant|>\n2+2 is 4.</s>\n" +
				"<|user|>\nAnd 3*3?</s>\n<|assistant|>\n"},
		{"Qwen3-0.6B", "chatml", true, chatmlText},
		{"SmolLM2-360M-Instruct", "chatml", false, chatmlText}, // without SmolLM2's default system prompt
		{"Phi-3.5-mini-instruct", "phi3", false,
			"<|system|>\nYou are a helpful assistant.<|end|>\n<|user|>\nHello! What is 2+2?<|end|>\n<|assistant|>\n2+2 is 4.<|end|>\n" +
				"<|user|>\nAnd 3*3?<|end|>\n<|assistant|>\n"},
		{"gemma-2-2b-it", "gemma", false,
			"<start_of_turn>user\nYou are a helpful assistant.\n\nHello! What is 2+2?<end_of_turn>\n<start_of_turn>model\n2+2 is 4.<end_of_turn>\n" +
				"<start_of_turn>user\nAnd 3*3?<end_of_turn>\n<start_of_turn>model\n"},
	} {
		text, err := os.ReadFile("testdata/templates/" + c.file + ".jinja")
		if err != nil {
			t.Fatal(err)
		}
		tmpl, ok := Detect(string(text))
		tmpl.EOS = "</s>"
		if !ok || tmpl.Name() != c.name || tmpl.Thinks() != c.thinks {
			t.Errorf("%s: Detect = %s (thinks %v), %v; want %s (thinks %v)", c.file, tmpl, tmpl.Thinks(), ok, c.name, c.thinks)
			continue
		}
		if got := tmpl.Render(fixtureConversation, true); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.file, got, c.want)
		}
	}
}

// Every built-in template on one conversation, each expected text read off
// llama.cpp's llm_chat_apply_template. The system message and the reply carry
// spaces at both ends, which some templates trim.
func TestBuiltinRenderings(t *testing.T) {
	conv := []Message{{"system", " Be brief. "}, {"user", "Hi!"}, {"assistant", " Hello. "}, {"user", "2+2?"}}
	want := map[string]string{
		"chatml": "<|im_start|>system\n Be brief. <|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n Hello. <|im_end|>\n" +
			"<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n",
		"llama2":            "[INST]  Be brief. \nHi! [/INST] Hello. </s>[INST] 2+2? [/INST]",
		"llama2-sys":        "[INST] <<SYS>>\n Be brief. \n<</SYS>>\n\nHi! [/INST] Hello. </s>[INST] 2+2? [/INST]",
		"llama2-sys-bos":    "[INST] <<SYS>>\n Be brief. \n<</SYS>>\n\nHi! [/INST] Hello. </s><s>[INST] 2+2? [/INST]",
		"llama2-sys-strip":  "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi! [/INST]Hello.</s>[INST] 2+2? [/INST]",
		"mistral-v1":        " [INST]  Be brief. \n\nHi! [/INST]  Hello. </s> [INST] 2+2? [/INST]",
		"mistral-v3":        "[INST]  Be brief. \n\nHi![/INST] Hello.</s>[INST] 2+2?[/INST]",
		"mistral-v3-tekken": "[INST] Be brief. \n\nHi![/INST] Hello. </s>[INST]2+2?[/INST]",
		"mistral-v7":        "[SYSTEM_PROMPT]  Be brief. [/SYSTEM_PROMPT][INST] Hi![/INST]  Hello. </s>[INST] 2+2?[/INST]",
		"phi3":              "<|system|>\n Be brief. <|end|>\n<|user|>\nHi!<|end|>\n<|assistant|>\n Hello. <|end|>\n<|user|>\n2+2?<|end|>\n<|assistant|>\n",
		"phi4": "<|im_start|>system<|im_sep|> Be brief. <|im_end|><|im_start|>user<|im_sep|>Hi!<|im_end|>" +
			"<|im_start|>assistant<|im_sep|> Hello. <|im_end|><|im_start|>user<|im_sep|>2+2?<|im_end|><|im_start|>assistant<|im_sep|>",
		"falcon3": "<|system|>\n Be brief. \n<|user|>\nHi!\n<|assistant|>\n Hello. \n<|user|>\n2+2?\n<|assistant|>\n",
		"zephyr": "<|system|>\n Be brief. <|endoftext|>\n<|user|>\nHi!<|endoftext|>\n<|assistant|>\n Hello. <|endoftext|>\n" +
			"<|user|>\n2+2?<|endoftext|>\n<|assistant|>\n",
		"monarch": "system\n Be brief. </s>\n<s>user\nHi!</s>\n<s>assistant\n Hello. </s>\n<s>user\n2+2?</s>\n<s>assistant\n",
		"gemma": "<start_of_turn>user\nBe brief.\n\nHi!<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n" +
			"<start_of_turn>user\n2+2?<end_of_turn>\n<start_of_turn>model\n",
		"orion": "Human:  Be brief. \n\nHi!\n\nAssistant: </s> Hello. </s>Human: 2+2?\n\nAssistant: </s>",
		"openchat": " Be brief. <|end_of_turn|>GPT4 Correct User: Hi!<|end_of_turn|>GPT4 Correct Assistant:  Hello. <|end_of_turn|>" +
			"GPT4 Correct User: 2+2?<|end_of_turn|>GPT4 Correct Assistant:",
		"vicuna":      " Be brief. \n\nUSER: Hi!\nASSISTANT:  Hello. </s>\nUSER: 2+2?\nASSISTANT:",
		"vicuna-orca": "SYSTEM:  Be brief. \nUSER: Hi!\nASSISTANT:  Hello. </s>\nUSER: 2+2?\nASSISTANT:",
		"deepseek":    " Be brief. ### Instruction:\nHi!\n### Response:\n Hello. \n<|EOT|>\n### Instruction:\n2+2?\n### Response:\n",
		"deepseek2":   " Be brief. \n\nUser: Hi!\n\nAssistant:  Hello. <｜end▁of▁sentence｜>User: 2+2?\n\nAssistant:",
		"deepseek3":   " Be brief. \n\n<｜User｜>Hi!<｜Assistant｜> Hello. <｜end▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜>",
		"command-r": "<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>Be brief.<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hi!<|END_OF_TURN_TOKEN|>" +
			"<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>Hello.<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>2+2?<|END_OF_TURN_TOKEN|>" +
			"<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>",
		"llama3": "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>" +
			"<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>" +
			"<|start_header_id|>assistant<|end_header_id|>\n\n",
		"chatglm3":   "[gMASK]sop<|system|>\n  Be brief. <|user|>\n Hi!<|assistant|>\n  Hello. <|user|>\n 2+2?<|assistant|>",
		"chatglm4":   "[gMASK]<sop><|system|>\n Be brief. <|user|>\nHi!<|assistant|>\n Hello. <|user|>\n2+2?<|assistant|>",
		"glmedge":    "<|system|>\n Be brief. <|user|>\nHi!<|assistant|>\n Hello. <|user|>\n2+2?<|assistant|>",
		"minicpm":    "Be brief.<用户>Hi!<AI>Hello.<用户>2+2?<AI>",
		"exaone3":    "[|system|]Be brief.[|endofturn|]\n[|user|]Hi!\n[|assistant|]Hello.[|endofturn|]\n[|user|]2+2?\n[|assistant|]",
		"rwkv-world": " Be brief. \n\nUser: Hi!\n\nAssistant: Hello. \n\nUser: 2+2?\n\nAssistant:",
		"granite": "<|start_of_role|>system<|end_of_role|> Be brief. <|end_of_text|>\n<|start_of_role|>user<|end_of_role|>Hi!<|end_of_text|>\n" +
			"<|start_of_role|>assistant<|end_of_role|> Hello. <|end_of_text|>\n<|start_of_role|>user<|end_of_role|>2+2?<|end_of_text|>\n" +
			"<|start_of_role|>assistant<|end_of_role|>\n",
		"gigachat": "<s> Be brief. <|message_sep|>user<|role_sep|>Hi!<|message_sep|>available functions<|role_sep|>[]<|message_sep|>" +
			"assistant<|role_sep|> Hello. <|message_sep|>user<|role_sep|>2+2?<|message_sep|>available functions<|role_sep|>[]<|message_sep|>" +
			"assistant<|role_sep|>",
		"megrez": "<|role_start|>system<|role_end|> Be brief. <|turn_end|><|role_start|>user<|role_end|>Hi!<|turn_end|>" +
			"<|role_start|>assistant<|role_end|> Hello. <|turn_end|><|role_start|>user<|role_end|>2+2?<|turn_end|><|role_start|>assistant<|role_end|>",
		// InferPi's own (EOS "</s>").
		"alpaca":     " Be brief. \n\n### Instruction:\nHi!\n\n### Response:\n Hello. </s>\n\n### Instruction:\n2+2?\n\n### Response:\n",
		"zephyr-eos": "<|system|>\n Be brief. </s>\n<|user|>\nHi!</s>\n<|assistant|>\n Hello. </s>\n<|user|>\n2+2?</s>\n<|assistant|>\n",
	}
	if len(want) != len(Names()) {
		t.Errorf("%d expected renderings for %d templates", len(want), len(Names()))
	}
	for _, name := range Names() {
		tmpl, ok := ByName(name)
		if !ok {
			t.Fatalf("ByName(%q) failed", name)
		}
		tmpl.EOS = "</s>"
		got := tmpl.Render(conv, true)
		if got != want[name] {
			t.Errorf("%s:\n got %q\nwant %q", name, got, want[name])
		}
		if noGen := tmpl.Render(conv, false); !strings.HasPrefix(got, noGen) {
			t.Errorf("%s: the generation prompt is not an ending: %q", name, noGen)
		}
		if tmpl.Fed(nil) != "" {
			t.Errorf("%s: Fed(nil) = %q", name, tmpl.Fed(nil))
		}
	}
}

func TestDetect(t *testing.T) {
	// A name is its own template (llama.cpp tries LLM_CHAT_TEMPLATES first).
	for _, name := range Names() {
		if tmpl, ok := Detect(name); !ok || tmpl.Name() != name {
			t.Errorf("Detect(%q) = %s, %v", name, tmpl, ok)
		}
	}
	// One text per substring check, some matching a later check too, so the
	// order counts.
	for _, c := range []struct{ text, name string }{
		{"{{ '<|im_start|>' + role }}", "chatml"},
		{"<|im_start|>{{ role }}<|im_sep|>", "phi4"},
		{"mistral anything", "llama2"},
		{"[INST] <<SYS>> {{ m }} [/INST]", "llama2-sys"},
		{"{{ bos_token + '[INST] ' }} <<SYS>>", "llama2-sys-bos"},
		{"[INST] {{ content.strip() }} bos_token + '[INST]", "llama2-sys-strip"},
		{"[INST] [SYSTEM_PROMPT] <|im_end|>", "mistral-v7"},
		{"{{ ' [INST] ' + system_message }}", "mistral-v1"},
		{`[AVAILABLE_TOOLS] {{ "[INST]" }}`, "mistral-v3-tekken"},
		{"[AVAILABLE_TOOLS]{{ '[INST]' }}", "mistral-v3"},
		{"<|user|> <|assistant|> <|end|> <start_of_turn>", "phi3"},
		{"<|user|> <|assistant|> </s>", "falcon3"},
		{"<|user|> <|assistant|>", "glmedge"},
		{"<|user|> <|endoftext|>", "zephyr"},
		{"{{ bos_token + message['role'] }}", "monarch"},
		{"<start_of_turn>model", "gemma"},
		{`{{ '\n\nAssistant: ' + eos_token }}`, "orion"},
		{"GPT4 Correct User:", "openchat"},
		{"USER: ASSISTANT: ", "vicuna"},
		{"SYSTEM: USER: ASSISTANT: ", "vicuna-orca"},
		{"### Instruction: <|EOT|>", "deepseek"},
		{"<|START_OF_TURN_TOKEN|><|USER_TOKEN|>", "command-r"},
		{"<|start_header_id|>user<|end_header_id|>", "llama3"},
		{"[gMASK]sop", "chatglm3"},
		{"[gMASK]<sop>", "chatglm4"},
		{"<用户>", "minicpm"},
		{"{{ 'Assistant: ' + message['content'] + eos_token }}", "deepseek2"},
		{"<｜User｜><｜Assistant｜><｜end▁of▁sentence｜>", "deepseek3"},
		{"[|system|][|assistant|][|endofturn|]", "exaone3"},
		{"a rwkv-world template", "rwkv-world"},
		{"<|start_of_role|>", "granite"},
		{"message['role'] + additional_special_tokens[0] + message['content'] + additional_special_tokens[1]", "gigachat"},
		{"<|role_start|>", "megrez"},
	} {
		if tmpl, ok := Detect(c.text); !ok || tmpl.Name() != c.name {
			t.Errorf("Detect(%q) = %s, %v; want %s", c.text, tmpl, ok, c.name)
		}
	}
	for _, text := range []string{"INVALID TEMPLATE", "{{ messages }}", "<|assistant|>", "Chatml"} {
		if tmpl, ok := Detect(text); ok {
			t.Errorf("Detect(%q) = %s, want not recognised", text, tmpl)
		}
	}
}

func TestNamesAndProperties(t *testing.T) {
	names := Names()
	if len(names) != 35 || !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Fatalf("Names() = %q", names)
	}
	if _, ok := ByName("tinyllama"); ok {
		t.Error("ByName accepted an unknown name")
	}
	for _, c := range []struct {
		name   string
		system bool
		stops  []string
	}{
		{"chatml", true, []string{"<|im_end|>"}},
		{"llama3", true, []string{"<|eot_id|>"}},
		{"llama2", false, []string{"</s>"}},
		{"llama2-sys-strip", true, []string{"</s>"}},
		{"zephyr", true, []string{"<|endoftext|>"}},
		{"phi3", true, []string{"<|end|>"}},
		{"gemma", false, []string{"<end_of_turn>"}},
		{"glmedge", true, nil},
	} {
		tmpl, _ := ByName(c.name)
		if tmpl.SystemRole() != c.system || !slices.Equal(tmpl.Stops(), c.stops) {
			t.Errorf("%s: system %v stops %q; want %v %q", c.name, tmpl.SystemRole(), tmpl.Stops(), c.system, c.stops)
		}
	}
	// Every stop text is where the template closes an assistant turn.
	for _, name := range names {
		tmpl, _ := ByName(name)
		r := tmpl.Render([]Message{{"user", "u"}, {"assistant", "reply"}, {"user", "v"}}, false)
		for _, s := range tmpl.Stops() {
			if !strings.Contains(r, "reply"+s) && !strings.Contains(r, "reply\n"+s) {
				t.Errorf("%s: %q does not close the reply in %q", name, s, r)
			}
		}
	}
}
