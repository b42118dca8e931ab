package app

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/inferpi/inferpi/firmware/loader"
	"github.com/inferpi/inferpi/firmware/models"
)

// MenuPrompt is printed before the user's choice, with the highest number.
const MenuPrompt = "Select model (1-%d): "

// menuAction is what the user chose at the menu.
type menuAction int

const (
	actLoad   menuAction = iota // load the chosen model
	actRescan                   // start the storage again
)

// showMenu lists the loadable models numbered, then those that cannot load
// with the reason: their own, or that they do not fit in freeForModels bytes.
// It returns the loadable ones in their numbered order; without any, it says
// what to copy onto the storage.
func showMenu(out io.Writer, source string, found []models.Model, freeForModels int64) []models.Model {
	var ok, broken []models.Model
	tooBig := 0
	for _, m := range found {
		if m.OK() && m.ModelBytes+m.SessionBytes > freeForModels {
			m.Problem = tooLarge(m, max(freeForModels, 0))
			tooBig++
		}
		if m.OK() {
			ok = append(ok, m)
		} else {
			broken = append(broken, m)
		}
	}
	width, kindWidth := 0, 0
	for _, m := range found {
		width = max(width, utf8.RuneCountInString(m.Name))
	}
	for _, m := range ok {
		kindWidth = max(kindWidth, utf8.RuneCountInString(m.Kind())+2)
	}
	if len(ok) > 0 {
		fmt.Fprintln(out, "Available models:")
		for i, m := range ok {
			fmt.Fprintf(out, "  %d. %-*s  %-*s  %s\n", i+1, width, m.Name, kindWidth, "["+m.Kind()+"]", loader.Size(m.Bytes))
		}
	}
	if len(broken) > 0 {
		fmt.Fprintln(out, "Not loadable:")
		for _, m := range broken {
			fmt.Fprintf(out, "     %-*s  %s\n", width, m.Name, m.Problem)
		}
	}
	switch {
	case len(ok) == 0 && tooBig > 0:
		fmt.Fprintln(out, "No model here fits in this Pi's memory.")
		fmt.Fprintln(out, "Copy a smaller model onto it (a smaller size or a smaller quantization) and press ENTER to look again.")
		return nil
	case len(ok) == 0:
		fmt.Fprintf(out, "No models on the %s. A model is a .gguf file at the top level, or a top-level directory holding model.bin and tokenizer.bin.\n", source)
		fmt.Fprintln(out, "Copy a model onto it and press ENTER to look again.")
		return nil
	}
	fmt.Fprintf(out, "Memory for models: %s free.\n", loader.Size(max(freeForModels, 0)))
	return ok
}

// tooLarge says why m does not fit in free bytes.
func tooLarge(m models.Model, free int64) string {
	need := loader.Size(m.ModelBytes+m.SessionBytes) + " of memory"
	if m.SessionBytes > 0 {
		need += fmt.Sprintf(" (%s of weights, %s for a chat)", loader.Size(m.ModelBytes), loader.Size(m.SessionBytes))
	}
	return fmt.Sprintf("needs %s, %s is free for models: too large for this Pi", need, loader.Size(free))
}

// parseChoice reads a menu answer: a number from 1 to n, spaces around it
// allowed, and a trailing dot (as the list shows "2.").
func parseChoice(line string, n int) (int, bool) {
	s := strings.TrimSuffix(strings.TrimSpace(line), ".")
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	k, err := strconv.Atoi(s)
	if err != nil || k < 1 || k > n {
		return 0, false
	}
	return k, true
}

// quoteInput shows what the user typed in an error message: quoted, control
// and invalid bytes escaped, and cut short, so a pasted 10 KB line or binary
// noise does not flood the terminal.
func quoteInput(s string) string {
	const keep = 24
	if utf8.RuneCountInString(s) > keep {
		r := []rune(s)
		return strconv.Quote(string(r[:keep])) + "..."
	}
	return strconv.Quote(s)
}
