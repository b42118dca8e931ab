package chat

import "strings"

// detect is llama.cpp's llm_chat_detect_template: a built-in template's name, or
// else the first of these substring checks that matches, in llama.cpp's order
// (the order matters: TinyLlama's zephyr-style template, for one, has <|user|>
// and <|assistant|> but not </s>, so it is taken for glmedge).
func detect(tmpl string) (kind, bool) {
	for k := range kinds {
		if kinds[k].name == tmpl {
			return kind(k), true
		}
	}
	has := func(s string) bool { return strings.Contains(tmpl, s) }
	switch {
	case has("<|im_start|>"):
		if has("<|im_sep|>") {
			return phi4, true
		}
		return chatml, true
	case strings.HasPrefix(tmpl, "mistral") || has("[INST]"):
		return detectInst(has), true
	case has("<|assistant|>") && has("<|end|>"):
		return phi3, true
	case has("<|assistant|>") && has("<|user|>"):
		if has("</s>") {
			return falcon3, true
		}
		return glmEdge, true
	case has("<|user|>") && has("<|endoftext|>"):
		return zephyr, true
	case has("bos_token + message['role']"):
		return monarch, true
	case has("<start_of_turn>"):
		return gemma, true
	case has(`'\n\nAssistant: ' + eos_token`): // OrionStarAI/Orion-14B-Chat
		return orion, true
	case has("GPT4 Correct "): // openchat/openchat-3.5-0106
		return openchat, true
	case has("USER: ") && has("ASSISTANT: "): // eachadea/vicuna-13b-1.1 and Orca-Vicuna
		if has("SYSTEM: ") {
			return vicunaOrca, true
		}
		return vicuna, true
	case has("### Instruction:") && has("<|EOT|>"): // deepseek-ai/deepseek-coder-33b-instruct
		return deepseek, true
	case has("<|START_OF_TURN_TOKEN|>") && has("<|USER_TOKEN|>"): // CohereForAI/c4ai-command-r-plus
		return commandR, true
	case has("<|start_header_id|>") && has("<|end_header_id|>"):
		return llama3, true
	case has("[gMASK]sop"): // chatglm3-6b
		return chatglm3, true
	case has("[gMASK]<sop>"):
		return chatglm4, true
	case has("<用户>"): // MiniCPM-3B-OpenHermes-2.5-v2
		return minicpm, true
	case has("'Assistant: ' + message['content'] + eos_token"):
		return deepseek2, true
	case has("<｜Assistant｜>") && has("<｜User｜>") && has("<｜end▁of▁sentence｜>"):
		return deepseek3, true
	case has("[|system|]") && has("[|assistant|]") && has("[|endofturn|]"): // EXAONE-3.0-7.8B-Instruct
		return exaone3, true
	case has("rwkv-world"):
		return rwkvWorld, true
	case has("<|start_of_role|>"):
		return granite, true
	case has("message['role'] + additional_special_tokens[0] + message['content'] + additional_special_tokens[1]"):
		return gigachat, true
	case has("<|role_start|>"):
		return megrez, true
	}
	return 0, false
}

// detectInst tells the [INST] templates apart: Mistral's official v7, v1, v3 and
// v3-tekken templates, else Llama 2's and its variants (system message in
// <<SYS>>, BOS inside the history, stripped messages).
func detectInst(has func(string) bool) kind {
	switch {
	case has("[SYSTEM_PROMPT]"):
		return mistralV7
	case has("' [INST] ' + system_message") || has("[AVAILABLE_TOOLS]"):
		switch {
		case has(" [INST]"):
			return mistralV1
		case has(`"[INST]"`):
			return mistralV3Tekken
		}
		return mistralV3
	case has("content.strip()"):
		return llama2SysStrip
	case has("bos_token + '[INST]"):
		return llama2SysBOS
	case has("<<SYS>>"):
		return llama2Sys
	}
	return llama2
}

// thinkSwitch reports whether a ChatML template has Qwen3's enable_thinking
// switch and its <think> tags.
func thinkSwitch(tmpl string) bool {
	return strings.Contains(tmpl, "enable_thinking") && strings.Contains(tmpl, "<think>")
}
