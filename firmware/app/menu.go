package app

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/inferpi/inferpi/console"
	"github.com/inferpi/inferpi/engine"
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
	actReplan                   // show the menu again: the context asked for changed
)

// showMenu lists the loadable models numbered, with the context a chat gets,
// then those that cannot load with the reason: their own, or that they cannot
// hold even a small context in free bytes of memory (models.Model.Fit, with
// requested the context asked for, 0 for each model's default, and at most
// the model's declared context). It returns the loadable ones in their numbered
// order, planned; without any, it says what to copy onto the storage.
func showMenu(out io.Writer, source string, found []models.Model, free int64, requested int) []models.Model {
	var ok, broken []models.Model
	tooBig := 0
	for _, m := range found {
		var full *engine.NoRoomError
		want := requested
		if declared := m.Footprint.Context; declared > 0 {
			want = min(want, declared)
		}
		if err := m.Fit(want, free); errors.As(err, &full) {
			m.Problem = tooLarge(full)
			tooBig++
		} else if err != nil {
			m.Problem = err.Error()
		}
		if m.OK() {
			ok = append(ok, m)
		} else {
			broken = append(broken, m)
		}
	}
	width, kindWidth, sizeWidth := 0, 0, 0
	for _, m := range found {
		width = max(width, utf8.RuneCountInString(m.Name))
	}
	for _, m := range ok {
		kindWidth = max(kindWidth, utf8.RuneCountInString(m.Kind())+2)
		sizeWidth = max(sizeWidth, len(loader.Size(m.Bytes)))
	}
	if len(ok) > 0 {
		fmt.Fprintln(out, "Available models:")
		for i, m := range ok {
			fmt.Fprintf(out, "  %d. %-*s  %-*s  %*s%s\n", i+1, width, m.Name, kindWidth, "["+m.Kind()+"]", sizeWidth, loader.Size(m.Bytes), contextNote(m.Plan))
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
	fmt.Fprintf(out, "Memory for models: %s free.\n", loader.Size(max(free-engine.Margin(free), 0)))
	return ok
}

// contextNote is the menu's column for the context a chat gets: "  context
// 4096 of 131072 (KV 96 MB)", "  context 512 (KV 1.0 MB)" for the whole
// declared context; "" when the engine does not tell.
func contextNote(p engine.Plan) string {
	if p.Context == 0 {
		return ""
	}
	s := fmt.Sprintf("  context %d", p.Context)
	if p.Context != p.Declared {
		s += fmt.Sprintf(" of %d", p.Declared)
	}
	return s + " (KV " + loader.Size(p.KVBytes) + ")"
}

// contextCommand reads /context's argument: the most positions a chat gets,
// or "default" or 0 for each model's default (its declared context, 4096 for
// long ones). Without one it says how to use it.
func contextCommand(arg string) (int, string) {
	const usage = "/context N gives each chat up to N positions of its model's context (as much as fits in memory); /context default goes back to each model's default."
	switch arg {
	case "":
		return 0, usage
	case "default":
		return 0, ""
	}
	n, err := console.CountRange.ParseInt(arg)
	if err != nil {
		return 0, err.Error() + ". " + usage
	}
	return n, ""
}

// tooLarge says why a model cannot hold even a small context in memory.
func tooLarge(e *engine.NoRoomError) string {
	session := e.SessionAt(e.Context)
	return fmt.Sprintf("needs %s of memory (%s of weights, %s for a chat of %d positions) and %s kept free, %s is free: too large for this Pi",
		loader.Size(e.ModelBytes+session), loader.Size(e.ModelBytes), loader.Size(session), e.Context, loader.Size(e.Margin), loader.Size(e.Memory))
}

// choose reads a menu answer: a model's number (spaces around it allowed,
// and a trailing dot, as the list shows "2."), or its name, in any case, or
// the start of one name. It returns the model's index in ok, or why the
// answer names none.
func choose(line string, ok []models.Model) (int, string) {
	s := strings.TrimSuffix(strings.TrimSpace(line), ".")
	notOne := fmt.Sprintf("%s is not a model's number or name: type a number from 1 to %d, or the start of a name.", quoteInput(strings.TrimSpace(line)), len(ok))
	if k, isNumber := parseNumber(s); isNumber {
		if k < 1 || k > len(ok) {
			return 0, notOne
		}
		return k - 1, ""
	}
	var starts []int
	for i, m := range ok {
		switch {
		case strings.EqualFold(m.Name, s), strings.EqualFold(strings.TrimSuffix(m.Name, ".gguf"), s):
			return i, ""
		case s != "" && len(s) <= len(m.Name) && strings.EqualFold(m.Name[:len(s)], s):
			starts = append(starts, i)
		}
	}
	switch len(starts) {
	case 1:
		return starts[0], ""
	case 0:
		return 0, notOne
	}
	names := make([]string, len(starts))
	for i, k := range starts {
		names[i] = ok[k].Name
	}
	return 0, fmt.Sprintf("%s starts %s: type more of the name, or its number.", quoteInput(s), strings.Join(names, " and "))
}

// parseNumber reads a number of at most nine digits.
func parseNumber(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	k, err := strconv.Atoi(s)
	return k, err == nil
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
