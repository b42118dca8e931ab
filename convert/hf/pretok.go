package hf

import (
	"encoding/json"
	"fmt"
)

// The regular expressions of the published byte-level BPE pre-tokenizers, as
// their tokenizer.json files spell them (llama.cpp src/llama-vocab.cpp quotes
// them as the originals of its LLAMA_VOCAB_PRE_TYPE_QWEN2 and _LLAMA3
// expressions).
const (
	qwen2Regex  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	llama3Regex = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// preTokenizer names tokenizer.json's pre_tokenizer the way llama.cpp's
// tokenizer.ggml.pre does. llama.cpp's converter identifies a vocabulary by
// hashing its tokenization of a test text and knows only published
// vocabularies; the splitting rules themselves decide here:
//
//	Split(qwen2 regex) + ByteLevel           qwen2      (Qwen2, Qwen2.5, Qwen3)
//	Split(Llama 3 regex) + ByteLevel         llama-bpe  (Llama 3.x)
//	Digits(individual) + ByteLevel(regex)    smollm     (SmolLM, SmolLM2; StarCoder's rules)
//	ByteLevel(regex)                         gpt-2
func preTokenizer(p map[string]any) (string, error) {
	steps := []map[string]any{p}
	if p["type"] == "Sequence" {
		steps = nil
		list, _ := p["pretokenizers"].([]any)
		for _, s := range list {
			m, _ := s.(map[string]any)
			steps = append(steps, m)
		}
	}
	sig := ""
	for _, s := range steps {
		switch typ, _ := s["type"].(string); typ {
		case "ByteLevel":
			if s["add_prefix_space"] == true {
				return "", fmt.Errorf("pre_tokenizer: ByteLevel with add_prefix_space is not supported")
			}
			if s["use_regex"] == false {
				sig += "+bytes"
			} else {
				sig += "+gpt2-bytes"
			}
		case "Split":
			pat, _ := s["pattern"].(map[string]any)
			re, _ := pat["Regex"].(string)
			if s["behavior"] != "Isolated" || s["invert"] == true {
				return "", fmt.Errorf("pre_tokenizer: a Split step that is not Isolated (%v)", s)
			}
			switch re {
			case qwen2Regex:
				sig += "+qwen2"
			case llama3Regex:
				sig += "+llama3"
			default:
				return "", fmt.Errorf("pre_tokenizer: the splitting expression %q is not one InferPi knows (those of Qwen2, Llama 3, SmolLM and GPT-2)", re)
			}
		case "Digits":
			if s["individual_digits"] != true {
				return "", fmt.Errorf("pre_tokenizer: Digits without individual_digits")
			}
			sig += "+digits"
		default:
			b, _ := json.Marshal(s)
			return "", fmt.Errorf("pre_tokenizer: a %q step (%s) is not one InferPi knows", typ, b)
		}
	}
	switch sig {
	case "+qwen2+bytes":
		return "qwen2", nil
	case "+llama3+bytes":
		return "llama-bpe", nil
	case "+digits+gpt2-bytes":
		return "smollm", nil
	case "+gpt2-bytes":
		return "gpt-2", nil
	}
	b, _ := json.Marshal(p)
	return "", fmt.Errorf("pre_tokenizer %s is not one InferPi knows (those of Qwen2, Llama 3, SmolLM and GPT-2)", b)
}
