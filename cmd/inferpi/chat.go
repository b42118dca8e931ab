package main

import (
	"io"
	"os"
	"os/signal"

	"github.com/inferpi/inferpi/console"
	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/modeldir"
)

func init() {
	register(command{
		name:    "chat",
		summary: "chat with a model in the terminal (the console the firmware has)",
		run: func(args []string) error {
			// Ctrl-C stops the running reply, not the program (/exit or Ctrl-D ends it).
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, os.Interrupt)
			defer signal.Stop(sig)
			irq := make(chan struct{}, 1)
			go func() {
				for range sig {
					select {
					case irq <- struct{}{}:
					default:
					}
				}
			}()
			var in console.LineReader = console.NewLines(os.Stdin)
			if t := newTermLines(os.Stdin, os.Stdout); t != nil {
				in = t
			}
			return noHelp(chatWith(args, in, os.Stdout, os.Stderr, irq))
		},
	})
}

const chatUsage = `usage: inferpi chat MODEL [--temp T] [--top-p P] [--top-k K] [-s S] [--penalty R] [--penalty-last N] [-n N] [-t N] [-c N] [--template NAME] [--system TEXT] [--think] [--completion]

Chats with MODEL: a model directory (model.bin, tokenizer.bin, optional
inferpi.json), a model.bin file with its tokenizer.bin beside it, or a .gguf
file (also given as -m PATH), in the same console the firmware shows on its
UART. Each line you type is one turn in the model's chat template; the
conversation stays in the model's context (KV cache) until /reset. On a
terminal, lines are edited as on the firmware's console (backspace, Ctrl-U, the
arrow keys; up and down recall earlier lines). Ctrl-C stops a reply, and at the
prompt starts a fresh line; /exit or Ctrl-D leaves. /help lists the commands
(/temp, /topp, /topk, /seed, /max, /penalty, /system, /think, /settings, ...).

llama.cpp's names work too: -t for --threads, -c for --ctx-size, -s for --seed
(-1 is a random seed, as 0 is; /settings shows the seed used), --repeat-penalty
for --penalty and --repeat-last-n for --penalty-last.
`

func chatMain(args []string, stdin io.Reader, stdout, stderr io.Writer, interrupt <-chan struct{}) error {
	return chatWith(args, console.NewLines(stdin), stdout, stderr, interrupt)
}

// chatWith is chatMain reading lines from in (the line editor on a terminal).
func chatWith(args []string, in console.LineReader, stdout, stderr io.Writer, interrupt <-chan struct{}) error {
	fs := newFlags("chat", chatUsage, stdout)
	var sf samplingFlags
	addSamplingFlags(fs, &sf, 0)
	completion := fs.Bool("completion", false, "continue your text as is instead of using the chat template (base models)")
	pos, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	dir, err := sf.oneModel("chat", pos, stderr)
	if err != nil {
		return err
	}
	if err := sf.check(); err != nil {
		return usageError(fs, stderr, err)
	}
	mode := engine.Chat
	if *completion {
		mode = engine.Completion
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
	if err := sf.checkContext(model.Info().ContextSize); plan.Declared == 0 && err != nil {
		return usageError(fs, stderr, err)
	}
	sess, err := model.NewSession(opts)
	if err != nil {
		return err
	}
	c := &console.Console{
		Session:   sess,
		Info:      planned(model.Info(), plan),
		In:        in,
		Out:       stdout,
		Interrupt: interrupt,
	}
	return c.Run()
}
