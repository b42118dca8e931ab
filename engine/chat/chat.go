// Package chat turns a conversation into the text a chat model reads, the way
// llama.cpp does without a Jinja engine: a model's tokenizer.chat_template is
// recognised by substring checks as one of a fixed set of templates, and each
// template has a hand-written rendering (llama.cpp src/llama-chat.cpp,
// llm_chat_detect_template and llm_chat_apply_template, Feb 2025).
//
// Render's text holds the templates' special-token texts (<|im_start|>,
// <|eot_id|>, ...) and no BOS: tokenize it with special tokens recognised and the
// vocabulary's BOS at the start of the context only, as llama.cpp does
// (llama_tokenize with parse_special, and add_special for the first segment).
//
// # Turns
//
// A session that keeps its KV cache between turns feeds each turn's new text only.
// Its cache then holds Fed(history): every turn's text as Continue returned it and,
// after each generation prompt, the reply as the model generated it. A turn goes:
//
//	text, err := t.Continue(history, []Message{{"user", input}}, true)
//	// feed text, generate the reply (stopping at the vocabulary's end-of-generation
//	// tokens and at t.Stops())
//	history = append(history, Message{"user", input}, t.Reply(reply))
//
// reply is the generated text without the token or stop text that ended it. That
// token (say ChatML's <|im_end|>) is not fed when the reply ends; the next turn's
// text starts with the template's closing of the reply ("<|im_end|>\n<|im_start|>user
// ..."). If that text starts with the token's text, feed the token and then the
// rest of the text; otherwise leave the token out and feed the whole text (a reply
// cut short by a token limit, or ended by another end-of-generation token such as
// Qwen's <|endoftext|>). For ChatML this feeds what llama.cpp's llama-cli feeds
// (examples/main): the reply's <|im_end|>, then "\n<|im_start|>user\n...".
//
// Where the template renders the earlier turns differently once more follow (it
// trims replies, or opens an assistant turn other than its generation prompt
// does), Continue returns a *RerenderError saying how much of the cache still
// holds.
//
// # Thinking
//
// Qwen3 thinks in a <think> block before it answers. Template.NoThink is Qwen3's
// enable_thinking=false, and a ThinkFilter hides the block from the text shown.
package chat

import "slices"

// Message is one turn of a conversation. Role is "system", "user" or
// "assistant" (llama.cpp passes other roles through as the templates do).
type Message struct{ Role, Content string }

// Template is one of llama.cpp's built-in chat templates, or one of InferPi's
// own two (extensions.go). The zero Template is ChatML, llama.cpp's choice for a
// model without a template.
type Template struct {
	// NoThink ends the generation prompt with an empty think block, as Qwen3's own
	// template does with enable_thinking=false, so the model answers at once. It
	// only applies to a template that Thinks. Detect leaves it false, so Render is
	// llama.cpp's text; a chat engine sets it by default (/think off).
	NoThink bool
	// EOS is the vocabulary's end-of-sequence text, which InferPi's own templates
	// write after a reply (their Jinja originals write eos_token there). A chat
	// engine sets it from the model's vocabulary.
	EOS string

	kind   kind
	thinks bool
}

// Name is llama.cpp's name for the template ("chatml", "llama3", "gemma", ...).
func (t Template) Name() string { return kinds[t.kind].name }

func (t Template) String() string { return t.Name() }

// SystemRole reports whether a system message is a turn of its own. Where it is
// not, the template folds its text into the first user turn (gemma, orion,
// llama2 without <<SYS>>, mistral-v1/v3/v3-tekken).
func (t Template) SystemRole() bool { return kinds[t.kind].system }

// Stops are the texts that end an assistant turn in this template's rendering:
// a reply ends when the model produces one, in addition to the vocabulary's
// end-of-generation tokens. Empty where the rendering closes a turn with no
// marker of its own (the next turn's role tag, a newline).
func (t Template) Stops() []string {
	if kinds[t.kind].eos {
		if t.EOS == "" {
			return nil
		}
		return []string{t.EOS}
	}
	return slices.Clone(kinds[t.kind].stops)
}

// Thinks reports whether the template has Qwen3's thinking switch: a ChatML
// template whose text mentions enable_thinking and <think>.
func (t Template) Thinks() bool { return t.thinks }

// Detect recognises a model's tokenizer.chat_template text as llama.cpp does: a
// built-in template's name stands for itself, otherwise the first of a list of
// substring checks that matches decides (detect.go). An empty text stands for a
// model without the key, whose NULL template llama.cpp renders as ChatML. ok is
// false for a text llama.cpp does not recognise (llama_chat_apply_template
// returns -1).
func Detect(chatTemplate string) (t Template, ok bool) {
	if chatTemplate == "" {
		return Template{kind: chatml}, true
	}
	k, ok := detectOwn(chatTemplate)
	if !ok {
		k, ok = detect(chatTemplate)
	}
	if !ok {
		return Template{}, false
	}
	return Template{kind: k, thinks: k == chatml && thinkSwitch(chatTemplate)}, true
}

// ByName returns the built-in template llama.cpp (or, for InferPi's own, this
// package) calls name.
func ByName(name string) (Template, bool) {
	for k := range kinds {
		if kinds[k].name == name {
			return Template{kind: kind(k)}, true
		}
	}
	return Template{}, false
}

// Names lists the built-in templates' names in byte order, as
// llama_chat_builtin_templates does.
func Names() []string {
	names := make([]string, len(kinds))
	for k := range kinds {
		names[k] = kinds[k].name
	}
	slices.Sort(names)
	return names
}

// kind is one of llama.cpp's llm_chat_template values.
type kind int

const (
	chatml kind = iota
	llama2
	llama2Sys
	llama2SysBOS
	llama2SysStrip
	mistralV1
	mistralV3
	mistralV3Tekken
	mistralV7
	phi3
	phi4
	falcon3
	zephyr
	monarch
	gemma
	orion
	openchat
	vicuna
	vicunaOrca
	deepseek
	deepseek2
	deepseek3
	commandR
	llama3
	chatglm3
	chatglm4
	glmEdge
	minicpm
	exaone3
	rwkvWorld
	granite
	gigachat
	megrez
	alpaca    // InferPi's (extensions.go)
	zephyrEOS // InferPi's (extensions.go)
)

// kinds describes each template: llama.cpp's name (LLM_CHAT_TEMPLATES), whether
// a system message is its own turn, and the texts its rendering closes an
// assistant turn with (eos: the vocabulary's EOS text, Template.EOS).
var kinds = [...]struct {
	name   string
	system bool
	stops  []string
	eos    bool
}{
	chatml:          {"chatml", true, []string{"<|im_end|>"}, false},
	llama2:          {"llama2", false, []string{"</s>"}, false},
	llama2Sys:       {"llama2-sys", true, []string{"</s>"}, false},
	llama2SysBOS:    {"llama2-sys-bos", true, []string{"</s>"}, false},
	llama2SysStrip:  {"llama2-sys-strip", true, []string{"</s>"}, false},
	mistralV1:       {"mistral-v1", false, []string{"</s>"}, false},
	mistralV3:       {"mistral-v3", false, []string{"</s>"}, false},
	mistralV3Tekken: {"mistral-v3-tekken", false, []string{"</s>"}, false},
	mistralV7:       {"mistral-v7", true, []string{"</s>"}, false},
	phi3:            {"phi3", true, []string{"<|end|>"}, false},
	phi4:            {"phi4", true, []string{"<|im_end|>"}, false},
	falcon3:         {"falcon3", true, nil, false},
	zephyr:          {"zephyr", true, []string{"<|endoftext|>"}, false},
	monarch:         {"monarch", true, []string{"</s>"}, false},
	gemma:           {"gemma", false, []string{"<end_of_turn>"}, false},
	orion:           {"orion", false, []string{"</s>"}, false},
	openchat:        {"openchat", true, []string{"<|end_of_turn|>"}, false},
	vicuna:          {"vicuna", true, []string{"</s>"}, false},
	vicunaOrca:      {"vicuna-orca", true, []string{"</s>"}, false},
	deepseek:        {"deepseek", true, []string{"<|EOT|>"}, false},
	deepseek2:       {"deepseek2", true, []string{"<｜end▁of▁sentence｜>"}, false},
	deepseek3:       {"deepseek3", true, []string{"<｜end▁of▁sentence｜>"}, false},
	commandR:        {"command-r", true, []string{"<|END_OF_TURN_TOKEN|>"}, false},
	llama3:          {"llama3", true, []string{"<|eot_id|>"}, false},
	chatglm3:        {"chatglm3", true, nil, false},
	chatglm4:        {"chatglm4", true, nil, false},
	glmEdge:         {"glmedge", true, nil, false},
	minicpm:         {"minicpm", true, nil, false},
	exaone3:         {"exaone3", true, []string{"[|endofturn|]"}, false},
	rwkvWorld:       {"rwkv-world", true, nil, false},
	granite:         {"granite", true, []string{"<|end_of_text|>"}, false},
	gigachat:        {"gigachat", true, []string{"<|message_sep|>"}, false},
	megrez:          {"megrez", true, []string{"<|turn_end|>"}, false},
	alpaca:          {"alpaca", true, nil, true},
	zephyrEOS:       {"zephyr-eos", true, nil, true},
}
