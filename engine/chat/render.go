package chat

import "strings"

// Render returns the conversation as the model reads it: llama.cpp's
// llm_chat_apply_template output. addAssistant appends the opening of the
// assistant's turn (the generation prompt) where the template has one; some
// (llama2, mistral, orion, minicpm, rwkv-world) end every user turn with it
// instead and ignore addAssistant. With NoThink set on a template that Thinks,
// the generation prompt is followed by an empty think block.
func (t Template) Render(msgs []Message, addAssistant bool) string {
	s := t.render(msgs, addAssistant)
	if addAssistant {
		s += t.prefill()
	}
	return s
}

// render is llm_chat_apply_template for t's kind.
func (t Template) render(msgs []Message, addAss bool) string {
	var b strings.Builder
	w := b.WriteString
	// genPrompt appends the opening of the assistant's turn when asked.
	genPrompt := func(s string) {
		if addAss {
			w(s)
		}
	}
	switch t.kind {
	case chatml:
		for _, m := range msgs {
			w("<|im_start|>" + m.Role + "\n" + m.Content + "<|im_end|>\n")
		}
		genPrompt("<|im_start|>assistant\n")
	case mistralV7:
		for _, m := range msgs {
			switch m.Role {
			case "system":
				w("[SYSTEM_PROMPT] " + m.Content + "[/SYSTEM_PROMPT]")
			case "user":
				w("[INST] " + m.Content + "[/INST]")
			default:
				w(" " + m.Content + "</s>")
			}
		}
	case mistralV1, mistralV3, mistralV3Tekken:
		renderMistral(&b, t.kind, msgs)
	case llama2, llama2Sys, llama2SysBOS, llama2SysStrip:
		renderLlama2(&b, t.kind, msgs)
	case phi3:
		for _, m := range msgs {
			w("<|" + m.Role + "|>\n" + m.Content + "<|end|>\n")
		}
		genPrompt("<|assistant|>\n")
	case phi4:
		for _, m := range msgs {
			w("<|im_start|>" + m.Role + "<|im_sep|>" + m.Content + "<|im_end|>")
		}
		genPrompt("<|im_start|>assistant<|im_sep|>")
	case falcon3:
		for _, m := range msgs {
			w("<|" + m.Role + "|>\n" + m.Content + "\n")
		}
		genPrompt("<|assistant|>\n")
	case zephyr:
		for _, m := range msgs {
			w("<|" + m.Role + "|>\n" + m.Content + "<|endoftext|>\n")
		}
		genPrompt("<|assistant|>\n")
	case monarch:
		// mlabonne/AlphaMonarch-7B: BOS inside the history, not before the first message.
		for i, m := range msgs {
			if i > 0 {
				w("<s>")
			}
			w(m.Role + "\n" + m.Content + "</s>\n")
		}
		genPrompt("<s>assistant\n")
	case gemma:
		renderGemma(&b, msgs)
		genPrompt("<start_of_turn>model\n")
	case orion:
		// OrionStarAI/Orion-14B-Chat: the system text opens the next user turn.
		system := ""
		for _, m := range msgs {
			switch m.Role {
			case "system":
				system = m.Content
			case "user":
				w("Human: ")
				if system != "" {
					w(system + "\n\n")
					system = ""
				}
				w(m.Content + "\n\nAssistant: </s>")
			default:
				w(m.Content + "</s>")
			}
		}
	case openchat:
		for _, m := range msgs {
			if m.Role == "system" {
				w(m.Content + "<|end_of_turn|>")
				continue
			}
			w("GPT4 Correct " + upperFirst(m.Role) + ": " + m.Content + "<|end_of_turn|>")
		}
		genPrompt("GPT4 Correct Assistant:")
	case vicuna, vicunaOrca:
		for _, m := range msgs {
			switch m.Role {
			case "system":
				if t.kind == vicunaOrca {
					w("SYSTEM: " + m.Content + "\n")
				} else {
					w(m.Content + "\n\n")
				}
			case "user":
				w("USER: " + m.Content + "\n")
			case "assistant":
				w("ASSISTANT: " + m.Content + "</s>\n")
			}
		}
		genPrompt("ASSISTANT:")
	case deepseek:
		for _, m := range msgs {
			switch m.Role {
			case "system":
				w(m.Content)
			case "user":
				w("### Instruction:\n" + m.Content + "\n")
			case "assistant":
				w("### Response:\n" + m.Content + "\n<|EOT|>\n")
			}
		}
		genPrompt("### Response:\n")
	case commandR:
		for _, m := range msgs {
			switch m.Role {
			case "system":
				w("<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>" + trim(m.Content) + "<|END_OF_TURN_TOKEN|>")
			case "user":
				w("<|START_OF_TURN_TOKEN|><|USER_TOKEN|>" + trim(m.Content) + "<|END_OF_TURN_TOKEN|>")
			case "assistant":
				w("<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>" + trim(m.Content) + "<|END_OF_TURN_TOKEN|>")
			}
		}
		genPrompt("<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>")
	case llama3:
		for _, m := range msgs {
			w("<|start_header_id|>" + m.Role + "<|end_header_id|>\n\n" + trim(m.Content) + "<|eot_id|>")
		}
		genPrompt("<|start_header_id|>assistant<|end_header_id|>\n\n")
	case chatglm3:
		w("[gMASK]sop")
		for _, m := range msgs {
			w("<|" + m.Role + "|>\n " + m.Content)
		}
		genPrompt("<|assistant|>")
	case chatglm4:
		w("[gMASK]<sop>")
		for _, m := range msgs {
			w("<|" + m.Role + "|>\n" + m.Content)
		}
		genPrompt("<|assistant|>")
	case glmEdge:
		for _, m := range msgs {
			w("<|" + m.Role + "|>\n" + m.Content)
		}
		genPrompt("<|assistant|>")
	case minicpm:
		for _, m := range msgs {
			if m.Role == "user" {
				w("<用户>" + trim(m.Content) + "<AI>")
			} else {
				w(trim(m.Content))
			}
		}
	case deepseek2:
		for _, m := range msgs {
			switch m.Role {
			case "system":
				w(m.Content + "\n\n")
			case "user":
				w("User: " + m.Content + "\n\n")
			case "assistant":
				w("Assistant: " + m.Content + "<｜end▁of▁sentence｜>")
			}
		}
		genPrompt("Assistant:")
	case deepseek3:
		for _, m := range msgs {
			switch m.Role {
			case "system":
				w(m.Content + "\n\n")
			case "user":
				w("<｜User｜>" + m.Content)
			case "assistant":
				w("<｜Assistant｜>" + m.Content + "<｜end▁of▁sentence｜>")
			}
		}
		genPrompt("<｜Assistant｜>")
	case exaone3:
		for _, m := range msgs {
			switch m.Role {
			case "system":
				w("[|system|]" + trim(m.Content) + "[|endofturn|]\n")
			case "user":
				w("[|user|]" + trim(m.Content) + "\n")
			case "assistant":
				w("[|assistant|]" + trim(m.Content) + "[|endofturn|]\n")
			}
		}
		genPrompt("[|assistant|]")
	case rwkvWorld:
		// The model's vocabulary has "\n\n" as its end-of-turn token.
		for _, m := range msgs {
			if m.Role == "user" {
				w("User: " + m.Content + "\n\nAssistant:")
			} else {
				w(m.Content + "\n\n")
			}
		}
	case granite:
		for _, m := range msgs {
			w("<|start_of_role|>" + m.Role + "<|end_of_role|>")
			if m.Role == "assistant_tool_call" {
				w("<|tool_call|>")
			}
			w(m.Content + "<|end_of_text|>\n")
		}
		genPrompt("<|start_of_role|>assistant<|end_of_role|>\n")
	case gigachat:
		renderGigaChat(&b, msgs)
		genPrompt("assistant<|role_sep|>")
	case megrez:
		for _, m := range msgs {
			w("<|role_start|>" + m.Role + "<|role_end|>" + m.Content + "<|turn_end|>")
		}
		genPrompt("<|role_start|>assistant<|role_end|>")
	case alpaca:
		renderAlpaca(&b, msgs, t.EOS)
	case zephyrEOS:
		for _, m := range msgs {
			w("<|" + m.Role + "|>\n" + m.Content + t.EOS + "\n")
		}
		genPrompt("<|assistant|>\n")
	}
	return b.String()
}

// renderLlama2 writes Llama 2's [INST] format: no BOS before the first turn (the
// tokenizer adds it), "<s>" before later ones only in llama2-sys-bos; a system
// message in <<SYS>> where the variant has it, else as a line of the user turn.
func renderLlama2(b *strings.Builder, k kind, msgs []Message) {
	inTurn := true
	b.WriteString("[INST] ")
	for _, m := range msgs {
		content := m.Content
		if k == llama2SysStrip {
			content = trim(content)
		}
		if !inTurn {
			inTurn = true
			if k == llama2SysBOS {
				b.WriteString("<s>")
			}
			b.WriteString("[INST] ")
		}
		switch m.Role {
		case "system":
			if k == llama2 {
				b.WriteString(content + "\n")
			} else {
				b.WriteString("<<SYS>>\n" + content + "\n<</SYS>>\n\n")
			}
		case "user":
			b.WriteString(content + " [/INST]")
		default:
			b.WriteString(content + "</s>")
			inTurn = false
		}
	}
}

// renderMistral writes Mistral's official v1, v3 and v3-tekken formats: they
// differ in the spaces around [INST] and [/INST] and in v3 trimming replies.
func renderMistral(b *strings.Builder, k kind, msgs []Message) {
	lead, trail := "", " "
	if k == mistralV1 {
		lead = " "
	}
	if k == mistralV3Tekken {
		trail = ""
	}
	inTurn := false
	for _, m := range msgs {
		if !inTurn {
			b.WriteString(lead + "[INST]" + trail)
			inTurn = true
		}
		switch m.Role {
		case "system":
			b.WriteString(m.Content + "\n\n")
		case "user":
			b.WriteString(m.Content + lead + "[/INST]")
		default:
			content := m.Content
			if k == mistralV3 {
				content = trim(content)
			}
			b.WriteString(trail + content + "</s>")
			inTurn = false
		}
	}
}

// renderGemma writes google/gemma-7b-it's format. Gemma has no system role: the
// (trimmed) system text opens the next user turn, followed by a blank line. The
// assistant's role is "model".
func renderGemma(b *strings.Builder, msgs []Message) {
	system := ""
	for _, m := range msgs {
		if m.Role == "system" {
			system = trim(m.Content)
			continue
		}
		role := m.Role
		if role == "assistant" {
			role = "model"
		}
		b.WriteString("<start_of_turn>" + role + "\n")
		if system != "" && role != "model" {
			b.WriteString(system + "\n\n")
			system = ""
		}
		b.WriteString(trim(m.Content) + "<end_of_turn>\n")
	}
}

// renderGigaChat writes GigaChat's format: a system message counts only as the
// first message; only user and assistant turns follow.
func renderGigaChat(b *strings.Builder, msgs []Message) {
	b.WriteString("<s>")
	if len(msgs) > 0 && msgs[0].Role == "system" {
		b.WriteString(msgs[0].Content + "<|message_sep|>")
		msgs = msgs[1:]
	}
	for _, m := range msgs {
		switch m.Role {
		case "user":
			b.WriteString("user<|role_sep|>" + m.Content + "<|message_sep|>" +
				"available functions<|role_sep|>[]<|message_sep|>")
		case "assistant":
			b.WriteString("assistant<|role_sep|>" + m.Content + "<|message_sep|>")
		}
	}
}

// trim removes what C's isspace calls space from both ends (llama-chat.cpp's trim).
func trim(s string) string { return strings.Trim(s, " \t\n\v\f\r") }

// upperFirst upper-cases an ASCII first letter, as C's toupper does.
func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
