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
			return noHelp(chatMain(args, os.Stdin, os.Stdout, os.Stderr, irq))
		},
	})
}

const chatUsage = `usage: inferpi chat MODEL [--temp T] [--top-p P] [--top-k K] [--seed S] [--penalty R] [--penalty-last N] [-n N] [--template NAME] [--system TEXT] [--think] [--completion]

Chats with MODEL: a model directory (model.bin, tokenizer.bin, optional
inferpi.json) or a .gguf file (also given as -m PATH), in the same console the
firmware shows on its UART. Each line you type is one turn in the model's chat
template; the conversation stays in the model's context (KV cache) until /reset.
Ctrl-C stops a reply; /exit or Ctrl-D leaves. /help lists the commands (/temp,
/topp, /topk, /seed, /max, /penalty, /system, /think, /settings, ...).
`

func chatMain(args []string, stdin io.Reader, stdout, stderr io.Writer, interrupt <-chan struct{}) error {
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
		return err
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
	model, err := modeldir.Open(dir, modeldir.Overrides{Template: sf.template})
	if err != nil {
		return err
	}
	sess, err := model.NewSession(opts)
	if err != nil {
		return err
	}
	c := &console.Console{
		Session:   sess,
		Info:      planned(model.Info(), plan),
		In:        console.NewLines(stdin),
		Out:       stdout,
		Interrupt: interrupt,
	}
	return c.Run()
}
