package llama

import (
	"encoding/json"
	"fmt"
)

// Template is how a chat turn is turned into text for the model.
type Template int

const (
	// Alpaca is the instruction template the demo model (and Supra-50M-Instruct)
	// was trained on; it is the default.
	Alpaca Template = iota
	// None feeds the user's text as is, like completion mode (base models).
	None
)

// The Alpaca template exactly as the demo model's README states it.
const (
	alpacaPreamble = "Below is an instruction that describes a task. Write a response that appropriately completes the request."
	alpacaTurn     = "\n\n### Instruction:\n%s\n\n### Response:\n"
)

func (t Template) String() string {
	if t == None {
		return "none"
	}
	return "alpaca"
}

// ParseTemplate reads a template name: "alpaca" or "none".
func ParseTemplate(s string) (Template, error) {
	switch s {
	case "alpaca", "":
		return Alpaca, nil
	case "none":
		return None, nil
	}
	return 0, fmt.Errorf("template %q is not one the Llama engine knows (alpaca, none)", s)
}

// parseSettings reads inferpi.json: {"template": "alpaca" | "none"}. Other keys are
// left to other tools; a missing file means the defaults.
func parseSettings(data []byte) (Template, error) {
	if len(data) == 0 {
		return Alpaca, nil
	}
	var s struct {
		Template string `json:"template"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return 0, fmt.Errorf("inferpi.json: %v", err)
	}
	t, err := ParseTemplate(s.Template)
	if err != nil {
		return 0, fmt.Errorf("inferpi.json: %v", err)
	}
	return t, nil
}
