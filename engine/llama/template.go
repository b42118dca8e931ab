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

// settings are the keys of inferpi.json this engine reads: {"template": NAME,
// "system": TEXT}. Other keys are left to other tools.
type settings struct {
	Template string `json:"template"`
	System   string `json:"system"`
}

// readSettings reads inferpi.json; a missing file means the defaults.
func readSettings(data []byte) (settings, error) {
	var s settings
	if len(data) == 0 {
		return s, nil
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("inferpi.json: %v", err)
	}
	return s, nil
}

// parseSettings reads a llama2.c model's inferpi.json: its template is "alpaca"
// (the default) or "none".
func parseSettings(data []byte) (Template, string, error) {
	s, err := readSettings(data)
	if err != nil {
		return 0, "", err
	}
	t, err := ParseTemplate(s.Template)
	if err != nil {
		return 0, "", fmt.Errorf("inferpi.json: %v", err)
	}
	return t, s.System, nil
}
