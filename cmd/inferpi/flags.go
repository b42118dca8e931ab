package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/inferpi/inferpi/console"
	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
)

// dtypeNames lists what --dtype may name when writing a model.bin: every weight
// encoding, which the Llama container and nanochat's format both hold.
const dtypeNames = "fp32, fp16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k or q6_k"

// parseDType reads a --dtype for a model.bin.
func parseDType(dtype string) (kernels.Encoding, error) {
	enc, err := kernels.ParseEncoding(dtype)
	if err != nil {
		return 0, fmt.Errorf("--dtype %q: want %s", dtype, dtypeNames)
	}
	return enc, nil
}

// f64 widens a float32 setting for a float64 flag without showing its binary
// rounding (0.9, not 0.8999999761581421).
func f64(x float32) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
	return v
}

// newFlags makes a flag set whose -h/--help prints usage (the text before the
// flag list) and the flags, if any, to stdout.
func newFlags(name, usage string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, usage)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseArgs parses flags that may come before, between or after the positional
// arguments (`run DIR -p TEXT` as well as `run -p TEXT DIR`). It returns the
// positional arguments; help returns errHelp after the usage was printed.
func parseArgs(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, error) {
	var pos []string
	help := fs.Output()
	for {
		// flag.Parse prints the usage on errors too: silenced, so that an error
		// prints its one line on stderr, and only help the usage (on stdout).
		fs.SetOutput(io.Discard)
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(help)
			fs.Usage()
			return nil, errHelp
		}
		if err != nil {
			fmt.Fprintf(stderr, "inferpi %s: %v\nRun 'inferpi %s --help' for usage.\n", fs.Name(), err, fs.Name())
			return nil, exitError{2}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// errHelp ends a command successfully after its help text.
var errHelp = errors.New("help shown")

// samplingFlags are the generation flags shared by chat and run.
type samplingFlags struct {
	temp, topP, penalty float64
	topK, lastN, max    int
	seed                uint64
	template, system    string
	think               bool
	model               string // -m
}

func addSamplingFlags(fs *flag.FlagSet, f *samplingFlags, defaultMax int) {
	d := console.DefaultOptions.Sampling // the firmware's defaults too
	fs.Float64Var(&f.temp, "temp", f64(d.Temperature), "temperature; 0 is greedy (always the most likely token)")
	fs.Float64Var(&f.topP, "top-p", f64(d.TopP), "top-p (nucleus) sampling when temp > 0; 0 or 1 is off")
	fs.IntVar(&f.topK, "top-k", d.TopK, "top-k sampling when temp > 0; 0 is off")
	fs.Uint64Var(&f.seed, "seed", d.Seed, "random seed (run.c's -s); 0 picks one from the clock")
	fs.Float64Var(&f.penalty, "penalty", f64(d.RepeatPenalty), "repetition penalty over the last --penalty-last tokens (e.g. 1.1); 0 or 1 is off")
	fs.IntVar(&f.lastN, "penalty-last", d.RepeatLastN, "how many recent tokens the repetition penalty looks at; 0 is all")
	fs.IntVar(&f.max, "n", defaultMax, "most new tokens per reply; 0 is until the model stops or the context is full")
	fs.StringVar(&f.template, "template", "", "chat template, overriding inferpi.json and a GGUF file's own (llama2.c: alpaca, none; GGUF: none, alpaca or a llama.cpp template name such as chatml, llama3, llama2, zephyr, phi3, gemma: an unknown name lists them all; GPT: nanochat, none)")
	fs.StringVar(&f.system, "system", "", "system prompt (where the template has no place for one, it opens the first user turn)")
	fs.BoolVar(&f.think, "think", false, "let a model that thinks aloud (Qwen3) think before it answers, and show its <think> block")
	fs.StringVar(&f.model, "m", "", "the model, as llama.cpp's -m: instead of MODEL")
}

func (f *samplingFlags) check() error {
	switch {
	case math.IsNaN(f.temp) || math.IsNaN(f.topP) || math.IsNaN(f.penalty):
		return fmt.Errorf("--temp, --top-p and --penalty must be numbers")
	case f.temp < 0:
		return fmt.Errorf("--temp %g: must be >= 0", f.temp)
	case f.topP < 0 || f.topP > 1:
		return fmt.Errorf("--top-p %g: must be from 0 to 1", f.topP)
	case f.topK < 0:
		return fmt.Errorf("--top-k %d: must be >= 0", f.topK)
	case f.max < 0:
		return fmt.Errorf("-n %d: must be >= 0", f.max)
	case f.penalty < 0:
		return fmt.Errorf("--penalty %g: must be >= 0", f.penalty)
	case f.lastN < 0:
		return fmt.Errorf("--penalty-last %d: must be >= 0", f.lastN)
	}
	return nil
}

func (f *samplingFlags) options(mode engine.Mode) engine.Options {
	return engine.Options{
		Mode:      mode,
		MaxTokens: f.max,
		System:    f.system,
		Think:     f.think,
		Sampling: engine.Sampling{
			Temperature:   float32(f.temp),
			TopP:          float32(f.topP),
			TopK:          f.topK,
			Seed:          f.seed,
			RepeatPenalty: float32(f.penalty),
			RepeatLastN:   f.lastN,
		},
	}
}

// oneDir checks that exactly one model (a directory or a .gguf file) was given.
func oneDir(cmd string, pos []string, stderr io.Writer) (string, error) {
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "inferpi %s: want one model (a directory or a .gguf file), got %d arguments (%s)\nRun 'inferpi %s --help' for usage.\n",
			cmd, len(pos), strings.Join(pos, " "), cmd)
		return "", exitError{2}
	}
	return pos[0], nil
}

// oneModel is oneDir for commands that also take the model as -m PATH.
func (f *samplingFlags) oneModel(cmd string, pos []string, stderr io.Writer) (string, error) {
	if f.model != "" {
		pos = append([]string{f.model}, pos...)
	}
	return oneDir(cmd, pos, stderr)
}
