package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/modeldir"
)

func init() {
	register(command{
		name:    "run",
		summary: "generate one completion (or one chat reply) for scripts",
		run: func(args []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			return noHelp(runMain(ctx, args, os.Stdout, os.Stderr))
		},
	})
}

const runUsage = `usage: inferpi run MODEL -p TEXT [-n N] [--temp T] [--top-p P] [--top-k K] [--seed S] [--penalty R] [--penalty-last N] [--chat] [--template NAME] [--system TEXT] [--think] [--json]

Generates one continuation of TEXT with MODEL: a model directory (model.bin,
tokenizer.bin, optional inferpi.json) or a .gguf file (also given as -m PATH).
Without --chat, TEXT is continued as is (BOS + TEXT, like llama2.c's run.c and
llama.cpp's completion); with --chat it is one user turn in the model's chat
template, after --system's prompt where given.

Plain output is the text (in completion mode preceded by TEXT, as run.c prints it),
then statistics on standard error. --json prints one object instead:
  {"engine", "template", "mode", "prompt", "rendered", "prompt_ids", "ids", "text",
   "stop", "prompt_ms", "gen_ms", "tokens_per_sec"}
rendered is the text fed (TEXT in the chat template, before tokenization); ids are
the generated tokens, the stop token included when the model ended the reply; stop
is "end", "max_tokens", "context_full" or "canceled".
Ctrl-C stops the generation and prints what was generated.
`

// runResult is the --json output.
type runResult struct {
	Engine       string  `json:"engine"`
	Template     string  `json:"template"`
	Mode         string  `json:"mode"`
	Prompt       string  `json:"prompt"`
	Rendered     string  `json:"rendered"`
	PromptIDs    []int   `json:"prompt_ids"`
	IDs          []int   `json:"ids"`
	Text         string  `json:"text"`
	Stop         string  `json:"stop"`
	PromptMS     float64 `json:"prompt_ms"`
	GenMS        float64 `json:"gen_ms"`
	TokensPerSec float64 `json:"tokens_per_sec"`
}

func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", runUsage, stdout)
	var sf samplingFlags
	addSamplingFlags(fs, &sf, 256)
	prompt := fs.String("p", "", "the prompt TEXT (required)")
	chat := fs.Bool("chat", false, "wrap TEXT in the model's chat template (one user turn)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the text")
	pos, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	dir, err := sf.oneModel("run", pos, stderr)
	if err != nil {
		return err
	}
	if err := sf.check(); err != nil {
		return err
	}
	if !flagGiven(fs, "p") {
		fmt.Fprintln(stderr, "inferpi run: -p TEXT is required (it may be empty: -p '')")
		return exitError{2}
	}
	mode, modeName := engine.Completion, "completion"
	if *chat {
		mode, modeName = engine.Chat, "chat"
	}
	opts := sf.options(mode)
	plan, err := planSession(dir, &opts, stderr)
	if err != nil {
		return err
	}
	model, err := modeldir.Open(dir, modeldir.Overrides{Template: sf.template})
	if err != nil {
		return err
	}
	if n := model.Info().Notice; n != "" {
		fmt.Fprintln(stderr, n)
	}
	sess, err := model.NewSession(opts)
	if err != nil {
		return err
	}

	var emit func(string)
	if !*asJSON {
		if mode == engine.Completion {
			fmt.Fprint(stdout, *prompt)
		}
		emit = func(p string) { io.WriteString(stdout, p) }
	}
	reply, err := sess.Turn(ctx, *prompt, emit)
	if err != nil {
		return err
	}
	info := planned(model.Info(), plan)
	if *asJSON {
		res := runResult{
			Engine: info.Engine, Template: info.Template, Mode: modeName,
			Prompt: *prompt, Rendered: reply.Rendered, PromptIDs: nonNil(reply.PromptIDs), IDs: nonNil(reply.IDs), Text: reply.Text,
			Stop:         reply.Stop.String(),
			PromptMS:     float64(reply.PromptTime.Microseconds()) / 1000,
			GenMS:        float64(reply.GenTime.Microseconds()) / 1000,
			TokensPerSec: reply.TokensPerSec(),
		}
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(res)
	}
	fmt.Fprintln(stdout)
	if reply.Stop == engine.StopContextFull {
		fmt.Fprintf(stderr, "[context full: the model's context holds %d tokens]\n", info.ContextSize)
	}
	fmt.Fprintf(stderr, "---\nGeneration: %d tokens in %d ms (%.1f tokens/sec); prompt: %d tokens in %d ms\n",
		len(reply.IDs), reply.GenTime.Milliseconds(), reply.TokensPerSec(), len(reply.PromptIDs), reply.PromptTime.Milliseconds())
	return nil
}

func nonNil(ids []int) []int {
	if ids == nil {
		return []int{}
	}
	return ids
}

func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// noHelp turns the "help was shown" outcome into success.
func noHelp(err error) error {
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}
