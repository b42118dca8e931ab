package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/inferpi/inferpi/engine/synth"
)

func init() {
	register(command{
		name:    "synth",
		summary: "make a random-weight model of a realistic shape for benchmarks (--preset NAME --output-dir DIR)",
		run:     func(args []string) error { return noHelp(synthMain(args, os.Stdout, os.Stderr)) },
	})
}

func synthUsage() string {
	var b strings.Builder
	b.WriteString(`usage: inferpi synth --preset NAME [--dtype DTYPE] [--seed N] --output-dir DIR

Writes DIR/model.bin and DIR/tokenizer.bin: a model with random weights (seeded,
so the same arguments give the same files) of a real model's shape, for
'inferpi bench' without downloading anything. The weights mean nothing; what an
engine reads per token is exactly what a real model of that shape needs.

presets:
`)
	for _, n := range synth.Names() {
		p, _ := synth.Lookup(n)
		fmt.Fprintf(&b, "  %-11s %s: %s\n", n, p.Engine(), p.Description)
	}
	return b.String()
}

func synthMain(args []string, stdout, stderr io.Writer) error {
	usage := synthUsage()
	fs := newFlags("synth", usage, stdout)
	preset := fs.String("preset", "", "model shape (required; see the list above)")
	dtype := fs.String("dtype", "fp16", "weight encoding: "+dtypeNames+" (as 'inferpi convert model')")
	seed := fs.Uint64("seed", 1, "random seed")
	out := fs.String("output-dir", "", "directory to write model.bin and tokenizer.bin to (required)")
	pos, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	if *preset == "" || *out == "" || len(pos) != 0 {
		fmt.Fprint(stderr, usage)
		return exitError{2}
	}
	p, err := synth.Lookup(*preset)
	if err != nil {
		return err
	}
	enc, err := parseDType(*dtype)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := synth.Write(*out, p, enc, *seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s: %d bytes (%v, %s, %.1fM parameters, seed %d) in %.1f s\n",
		filepath.Join(*out, "model.bin"), res.ModelBytes, enc, p.Name, float64(res.Params)/1e6, *seed, time.Since(start).Seconds())
	fmt.Fprintf(stderr, "wrote %s: %d bytes\n", filepath.Join(*out, "tokenizer.bin"), res.TokenizerBytes)
	return nil
}
