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
	"strings"

	"github.com/inferpi/inferpi/console"
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

const runUsage = `usage: inferpi run MODEL -p TEXT [-n N] [--temp T] [--top-p P] [--top-k K] [-s S] [--penalty R] [--penalty-last N] [-t N] [-c N] [--chat] [--template NAME] [--system TEXT] [--think] [--json]
       inferpi run MODEL -f FILE [the same flags]

Generates one continuation of TEXT with MODEL: a model directory (model.bin,
tokenizer.bin, optional inferpi.json), a model.bin file with its tokenizer.bin
beside it, or a .gguf file (also given as -m PATH). -f FILE reads TEXT from a
file, -p - from standard input (less a final newline). Without --chat, TEXT is
continued as is (BOS + TEXT, like llama2.c's run.c and llama.cpp's completion);
with --chat it is one user turn in the model's chat template, after --system's
prompt where given. A prompt longer than the context is refused (exit status 1).

llama.cpp's names work too: -t for --threads, -c for --ctx-size, -s for --seed
(-1 is a random seed, as 0 is), --repeat-penalty for --penalty and
--repeat-last-n for --penalty-last.

Plain output is the text (in completion mode preceded by TEXT, as run.c prints it),
then statistics on standard error. --json prints one object instead:
  {"engine", "template", "mode", "prompt", "rendered", "prompt_ids", "ids", "text",
   "stop", "prompt_ms", "gen_ms", "tokens_per_sec", "seed", "context"}
rendered is the text fed (TEXT in the chat template, before tokenization); ids are
the generated tokens, the stop token included when the model ended the reply; stop
is "end", "max_tokens", "context_full" or "canceled"; seed is the seed used (the
one picked when it was random) and context the positions the session holds.
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
	Seed         uint64  `json:"seed"`
	Context      int     `json:"context"`
}

func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runWith(ctx, args, os.Stdin, stdout, stderr)
}

// runWith is runMain with the standard input that -p - reads.
func runWith(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("run", runUsage, stdout)
	var sf samplingFlags
	addSamplingFlags(fs, &sf, 256)
	promptFlag := fs.String("p", "", "the prompt TEXT (- reads it from standard input)")
	promptFile := fs.String("f", "", "read the prompt from FILE")
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
	var prompt string
	switch p, f := flagGiven(fs, "p"), flagGiven(fs, "f"); {
	case p && f:
		return usageError(fs, stderr, "-p and -f both give the prompt: give one")
	case !p && !f:
		return usageError(fs, stderr, "-p TEXT is required, or -f FILE (the prompt may be empty: -p '')")
	case f:
		b, err := os.ReadFile(*promptFile)
		if err != nil {
			return fmt.Errorf("-f: %w", err)
		}
		prompt = promptText(b)
	case *promptFlag == "-":
		b, err := io.ReadAll(stdin)
		if err != nil {
			return fmt.Errorf("-p -: standard input: %w", err)
		}
		prompt = promptText(b)
	default:
		prompt = *promptFlag
	}
	if err := sf.check(); err != nil {
		return usageError(fs, stderr, err)
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
	if err := sf.checkContext(plan.Declared); err != nil {
		return usageError(fs, stderr, err)
	}
	model, err := openModel(dir, modeldir.Overrides{Template: sf.template})
	if err != nil {
		return err
	}
	info := planned(model.Info(), plan)
	if err := sf.checkContext(info.ContextSize); plan.Declared == 0 && err != nil {
		return usageError(fs, stderr, err)
	}
	if n := info.Notice; n != "" {
		fmt.Fprintln(stderr, n)
	}
	sess, err := model.NewSession(opts)
	if err != nil {
		return err
	}
	size := console.ContextSize(sess, info)

	// In completion mode the prompt is printed before the reply, as run.c does:
	// once the prompt fits.
	echoed := *asJSON || mode != engine.Completion
	echo := func() {
		if !echoed {
			fmt.Fprint(stdout, prompt)
			echoed = true
		}
	}
	var emit func(string)
	if !*asJSON {
		emit = func(p string) { echo(); io.WriteString(stdout, p) }
	}
	reply, err := sess.Turn(ctx, prompt, emit)
	if err != nil {
		return err
	}
	if reply.Stop == engine.StopContextFull && len(reply.IDs) == 0 {
		fmt.Fprintf(stderr, "inferpi run: the prompt is too long: %d tokens, and the context holds %d\n", len(reply.PromptIDs), size)
		return exitError{1}
	}
	echo()
	if *asJSON {
		res := runResult{
			Engine: info.Engine, Template: info.Template, Mode: modeName,
			Prompt: prompt, Rendered: reply.Rendered, PromptIDs: nonNil(reply.PromptIDs), IDs: nonNil(reply.IDs), Text: reply.Text,
			Stop:         reply.Stop.String(),
			PromptMS:     float64(reply.PromptTime.Microseconds()) / 1000,
			GenMS:        float64(reply.GenTime.Microseconds()) / 1000,
			TokensPerSec: reply.TokensPerSec(),
			Seed:         sess.Options().Sampling.Seed,
			Context:      size,
		}
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(res)
	}
	fmt.Fprintln(stdout)
	if reply.Stop == engine.StopContextFull {
		fmt.Fprintf(stderr, "[context full: the context holds %d tokens]\n", size)
	}
	fmt.Fprintf(stderr, "---\nGeneration: %d tokens in %d ms (%.1f tokens/sec); prompt: %d tokens in %d ms\n",
		len(reply.IDs), reply.GenTime.Milliseconds(), reply.TokensPerSec(), len(reply.PromptIDs), reply.PromptTime.Milliseconds())
	return nil
}

// promptText is a prompt read from a file or standard input: its text less one
// final newline, which ends the file's last line rather than belonging to the
// prompt (llama.cpp common/arg.cpp's -f drops it too).
func promptText(b []byte) string {
	return strings.TrimSuffix(string(b), "\n")
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
