package chat

import "testing"

// The alpaca template renders the demo model's training format: the trained
// GGUF fixture's first-turn prompt, and a later turn as the EOS that closed the
// reply and the next instruction.
func TestAlpaca(t *testing.T) {
	tmpl, ok := Detect(AlpacaJinja)
	if !ok || tmpl.Name() != "alpaca" {
		t.Fatalf("Detect(AlpacaJinja) = %s, %v", tmpl, ok)
	}
	tmpl.EOS = "</s>"
	q := Message{"user", "What is the capital of France?"}
	first := tmpl.Render([]Message{q}, true)
	want := "Below is an instruction that describes a task. Write a response that appropriately completes the request." +
		"\n\n### Instruction:\nWhat is the capital of France?\n\n### Response:\n"
	if first != want {
		t.Fatalf("first turn %q", first)
	}
	prev := []Message{q, tmpl.Reply("The capital of France is Paris.")}
	next, err := tmpl.Continue(prev, []Message{{"user", "And Kenya?"}}, true)
	if err != nil || next != "</s>\n\n### Instruction:\nAnd Kenya?\n\n### Response:\n" {
		t.Fatalf("next turn %q, %v", next, err)
	}
	if got := tmpl.Render([]Message{{"system", "Be brief."}, q}, true); got != "Be brief.\n\n### Instruction:\nWhat is the capital of France?\n\n### Response:\n" {
		t.Fatalf("with a system message %q", got)
	}
	if s := tmpl.Stops(); len(s) != 1 || s[0] != "</s>" {
		t.Fatalf("stops %q", s)
	}
	// llama.cpp's deepseek template has the same headings with <|EOT|>: still deepseek.
	if d, _ := Detect("### Instruction:\n ... ### Response:\n ... eos_token <|EOT|>"); d.Name() != "deepseek" {
		t.Fatalf("deepseek taken for %s", d)
	}
}
