package chat

import "strings"

// InferPi's own templates, for formats llama.cpp's non-Jinja path does not
// render as the models were trained. Detect tries them first; each matches only
// a template text that states its format.
//
//   - alpaca: the instruction format of InferPi's demo model (and the seed
//     product's Supra-50M-Instruct): a preamble, then "### Instruction:" and
//     "### Response:" sections, each reply closed by the EOS token. llama.cpp
//     has no such template (its "deepseek" one has these headings with <|EOT|>).
//   - zephyr-eos: Zephyr's format as TinyLlama-1.1B-Chat and zephyr-7b-beta write
//     it, every turn closed by eos_token ("</s>"). llama.cpp takes these
//     templates for glmedge (they have <|user|> and <|assistant|> but neither
//     </s> nor <|end|> as text) and renders them with no turn ends; its own
//     zephyr template writes <|endoftext|>, a token these vocabularies lack.

// AlpacaPreamble is the system text of the alpaca template when the
// conversation has no system message: the demo model was trained with it.
const AlpacaPreamble = "Below is an instruction that describes a task. Write a response that appropriately completes the request."

// AlpacaJinja is a Jinja chat template (tokenizer.chat_template) for the alpaca
// format: InferPi writes it into the demo's GGUF file, Detect recognises it, and
// a Jinja engine (llama.cpp --jinja, Hugging Face) renders it as Render does.
const AlpacaJinja = `{%- if messages[0]['role'] == 'system' -%}{{ messages[0]['content'] }}{%- set rest = messages[1:] -%}` +
	`{%- else -%}{{ '` + AlpacaPreamble + `' }}{%- set rest = messages -%}{%- endif -%}` +
	`{%- for message in rest -%}{%- if message['role'] == 'user' -%}{{ '\n\n### Instruction:\n' + message['content'] + '\n\n### Response:\n' }}` +
	`{%- else -%}{{ message['content'] + eos_token }}{%- endif -%}{%- endfor -%}`

// detectOwn recognises the template texts of InferPi's own templates.
func detectOwn(tmpl string) (kind, bool) {
	has := func(s string) bool { return strings.Contains(tmpl, s) }
	switch {
	case has("### Instruction:") && has("### Response:") && has("eos_token") && !has("<|EOT|>"):
		return alpaca, true
	case has("<|user|>") && has("<|assistant|>") && has("eos_token") && !has("<|end|>") && !has("</s>"):
		return zephyrEOS, true
	}
	return 0, false
}

// renderAlpaca writes the alpaca format: the system message (or the preamble),
// then per user turn its instruction and the response heading, per reply its
// text and eos. It has no separate generation prompt: a user turn ends with the
// response heading.
func renderAlpaca(b *strings.Builder, msgs []Message, eos string) {
	if len(msgs) > 0 && msgs[0].Role == "system" {
		b.WriteString(msgs[0].Content)
		msgs = msgs[1:]
	} else {
		b.WriteString(AlpacaPreamble)
	}
	for _, m := range msgs {
		if m.Role == "user" {
			b.WriteString("\n\n### Instruction:\n" + m.Content + "\n\n### Response:\n")
		} else {
			b.WriteString(m.Content + eos)
		}
	}
}
