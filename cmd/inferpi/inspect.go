package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/inferpi/inferpi/engine/modeldir"
)

func init() {
	register(command{
		name:    "inspect",
		summary: "show a model's engine, shape, parameter count, encoding and files",
		run:     func(args []string) error { return noHelp(inspectMain(args, os.Stdout, os.Stderr)) },
	})
}

const inspectUsage = `usage: inferpi inspect MODEL

Loads MODEL (a model directory, or a .gguf file) and prints its engine,
configuration, parameter count, weight encoding, context size, chat template,
weight bytes read per token, the context a session gets in the memory this
machine has and the sizes of its files; for a GGUF file also its architecture,
the bytes in each tensor type and its tokenizer.
`

func inspectMain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect", inspectUsage, stdout)
	pos, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	dir, err := oneDir("inspect", pos, stderr)
	if err != nil {
		return err
	}
	model, err := modeldir.Open(dir, modeldir.Overrides{})
	if err != nil {
		return err
	}
	i := model.Info()
	i.Details = append(i.Details, contextDetails(dir)...)
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
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		row("file "+filepath.Base(dir), fmt.Sprintf("%d bytes", st.Size()))
		return nil
	}
	names := []string{modeldir.ModelFile, modeldir.TokenizerFile, modeldir.SettingsFile}
	if ggufs, _ := filepath.Glob(filepath.Join(dir, "*")); ggufs != nil {
		for _, p := range ggufs {
			if modeldir.IsGGUF(p) {
				names = append(names, filepath.Base(p))
			}
		}
	}
	for _, name := range names {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			row("file "+name, "absent")
			continue
		}
		row("file "+name, fmt.Sprintf("%d bytes", st.Size()))
	}
	return nil
}
