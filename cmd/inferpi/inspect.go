package main

import (
	"fmt"
	"io"
	"os"

	"github.com/inferpi/inferpi/engine/modeldir"
)

func init() {
	register(command{
		name:    "inspect",
		summary: "show a model's engine, shape, parameter count, encoding and files",
		run:     func(args []string) error { return noHelp(inspectMain(args, os.Stdout, os.Stderr)) },
	})
}

const inspectUsage = `usage: inferpi inspect MODEL [--json]

Loads MODEL (a model directory, a model.bin file with its tokenizer.bin beside
it, or a .gguf file) and prints its engine, configuration, parameter count,
weight encoding, context size, chat template, weight bytes read per token, the
context a session gets in the memory this machine has and the sizes of its
files; for a GGUF file also its architecture, the bytes in each tensor type and
its tokenizer. --json prints one object instead:
  {"model", "engine", "config", "params", "encoding", "context_size",
   "vocab_size", "template", "weight_bytes_per_token", "notice",
   "details": [{"key", "value"}, ...], "files": [{"name", "bytes"}, ...]}
(details are the lines after the weight bytes per token; files lists those present).
`

func inspectMain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect", inspectUsage, stdout)
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	pos, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	dir, err := oneDir("inspect", pos, stderr)
	if err != nil {
		return err
	}
	model, err := openModel(dir, modeldir.Overrides{})
	if err != nil {
		return err
	}
	i := model.Info()
	i.Details = append(i.Details, contextDetails(dir)...)
	if *asJSON {
		return inspectJSON(stdout, dir, i)
	}
	row := func(k string, v any) { fmt.Fprintf(stdout, "%-28s %v\n", k+":", v) }
	row("model", dir)
	row("engine", i.Engine)
	row("config", i.Config)
	row("parameters", fmt.Sprintf("%d (%.2f M)", i.Params, float64(i.Params)/1e6))
	row("weight encoding", i.Encoding)
	row("context", fmt.Sprintf("%d tokens", i.ContextSize))
	row("vocabulary", fmt.Sprintf("%d tokens", i.VocabSize))
	row("chat template", i.Template)
	row("weight bytes per token", i.WeightBytesPerToken)
	for _, kv := range i.Details {
		row(kv.Key, kv.Value)
	}
	for _, f := range modelFiles(dir) {
		if f.Bytes < 0 {
			row("file "+f.Name, "absent")
			continue
		}
		row("file "+f.Name, fmt.Sprintf("%d bytes", f.Bytes))
	}
	return nil
}
