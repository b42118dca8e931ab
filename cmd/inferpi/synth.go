package main

import (
	"errors"
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
       inferpi synth --gguf --preset NAME [--dtype TYPE] [--seed N] --output-dir DIR

Writes DIR/model.bin and DIR/tokenizer.bin: a model with random weights (seeded,
so the same arguments give the same files) of a real model's shape, for
'inferpi bench' without downloading anything. The weights mean nothing; what an
engine reads per token is exactly what a real model of that shape needs.

With --gguf (Llama presets) it writes the same weights as one GGUF file of
llama.cpp's "llama" architecture, DIR/NAME.TYPE.gguf, for 'inferpi bench
--llama-bench': --dtype is then a file type as llama-quantize names it (f32, f16,
bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_s, q4_k_m, q5_k_s, q5_k_m, q6_k), and
each matrix gets the type llama-quantize gives it, in llama-quantize's bytes.

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
	dtype := fs.String("dtype", "fp16", "weight encoding: "+dtypeNames+" (as 'inferpi convert model'; with --gguf: a llama-quantize file type)")
	seed := fs.Uint64("seed", 1, "random seed")
	out := fs.String("output-dir", "", "directory to write model.bin and tokenizer.bin to (required)")
	asGGUF := fs.Bool("gguf", false, "write one GGUF file, DIR/NAME.TYPE.gguf, --dtype a llama-quantize file type (Llama presets)")
	pos, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	switch {
	case *preset == "" || *out == "":
		return argsError("synth", stderr, "--preset NAME and --output-dir DIR are required", usage)
	case len(pos) != 0:
		return argsError("synth", stderr, fmt.Sprintf("takes no arguments besides its flags, got %q", pos), usage)
	}
	p, err := synth.Lookup(*preset)
	if err != nil {
		return bare(err)
	}
	if *asGGUF {
		ft, err := parseTarget(*dtype)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return err
		}
		path := filepath.Join(*out, synth.GGUFName(p, ft))
		start := time.Now()
		res, err := synth.WriteGGUF(path, p, ft, *seed)
		if err != nil {
			return bare(err)
		}
		fmt.Fprintf(stderr, "wrote %s: %d bytes (%v, %s, %.1fM parameters, seed %d) in %.1f s\n",
			path, res.ModelBytes, ft, p.Name, float64(res.Params)/1e6, *seed, time.Since(start).Seconds())
		return nil
	}
	enc, err := parseDType(*dtype)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := synth.Write(*out, p, enc, *seed)
	if err != nil {
		return bare(err)
	}
	fmt.Fprintf(stderr, "wrote %s: %d bytes (%v, %s, %.1fM parameters, seed %d) in %.1f s\n",
		filepath.Join(*out, "model.bin"), res.ModelBytes, enc, p.Name, float64(res.Params)/1e6, *seed, time.Since(start).Seconds())
	fmt.Fprintf(stderr, "wrote %s: %d bytes\n", filepath.Join(*out, "tokenizer.bin"), res.TokenizerBytes)
	return nil
}

// bare drops package synth's "synth: " from its errors: main's "inferpi synth: "
// names the command already.
func bare(err error) error {
	if msg, ok := strings.CutPrefix(err.Error(), "synth: "); ok {
		return errors.New(msg)
	}
	return err
}
