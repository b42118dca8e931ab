package gpt

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/tokenizer/bpe"
)

// readCompanions reads the files beside model.bin into m: tokenizer.bin, which
// must match the header's vocabulary and hold nanochat's special tokens, and
// the optional inferpi.json.
func (m *Model) readCompanions(files engine.Files) error {
	if files.Tokenizer == nil {
		return errors.New("tokenizer.bin: missing (a GPT model needs the tokenizer.bin written beside its model.bin)")
	}
	tok, err := bpe.Parse(files.Tokenizer)
	if err != nil {
		return err
	}
	if tok.VocabSize() != m.h.VocabSize {
		return fmt.Errorf("tokenizer.bin: %d tokens, but model.bin has a vocabulary of %d: they do not belong together", tok.VocabSize(), m.h.VocabSize)
	}
	m.tok, m.template = tok, "nanochat"
	if len(files.Settings) > 0 {
		var settings struct {
			Template string `json:"template"`
		}
		if err := json.Unmarshal(files.Settings, &settings); err != nil {
			return fmt.Errorf("inferpi.json: %v", err)
		}
		switch settings.Template {
		case "", "nanochat":
		case "none":
			m.template = "none"
		default:
			return fmt.Errorf("inferpi.json: template %q does not exist for GPT (nanochat) models: use \"nanochat\" or \"none\"", settings.Template)
		}
	}
	for _, s := range []struct {
		text string
		id   *int
	}{
		{"<|bos|>", &m.ids.bos}, {"<|user_start|>", &m.ids.userStart}, {"<|user_end|>", &m.ids.userEnd},
		{"<|assistant_start|>", &m.ids.assistantStart}, {"<|assistant_end|>", &m.ids.assistantEnd},
		{"<|python_start|>", &m.ids.pythonStart}, {"<|python_end|>", &m.ids.pythonEnd},
		{"<|output_start|>", &m.ids.outputStart}, {"<|output_end|>", &m.ids.outputEnd},
	} {
		id, ok := tok.SpecialID(s.text)
		if !ok {
			return fmt.Errorf("tokenizer.bin: no special token %s, which nanochat's chat format needs", s.text)
		}
		*s.id = id
	}
	return nil
}
