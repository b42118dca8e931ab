package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"strconv"
	"strings"

	"github.com/inferpi/inferpi/console"
	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/sample"
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
// positional arguments; help returns errHelp after the usage was printed. A bad
// flag or value is a usage error: its line first, then where help is.
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
			return nil, usageError(fs, stderr, valueError(fs, err))
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, checkRanges(fs, stderr)
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), checkRanges(fs, stderr)
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// usageError prints msg and where help is, and ends the command with exit status 2.
func usageError(fs *flag.FlagSet, stderr io.Writer, msg any) error {
	fmt.Fprintf(stderr, "inferpi %s: %v\nRun 'inferpi %s --help' for usage.\n", fs.Name(), msg, fs.Name())
	return exitError{2}
}

// argsError prints what the arguments lack, then the usage, and ends the
// command with exit status 2.
func argsError(name string, stderr io.Writer, msg, usage string) error {
	fmt.Fprintf(stderr, "inferpi %s: %s\n\n%s", name, msg, usage)
	return exitError{2}
}

// flagRanges are the values of the flags that a console setting also takes
// (console.Range), aliases included: both check with the same rules and name
// the same bounds.
var flagRanges = map[string]console.Range{
	"temp":    console.TempRange,
	"top-p":   console.TopPRange,
	"top-k":   console.CountRange,
	"penalty": console.PenaltyRange, "repeat-penalty": console.PenaltyRange,
	"penalty-last": console.CountRange, "repeat-last-n": console.CountRange,
	"n": console.CountRange,
	"c": console.CountRange, "ctx-size": console.CountRange,
}

// checkRanges checks the given flags of flagRanges: `--top-p 2: must be from 0
// to 1`.
func checkRanges(fs *flag.FlagSet, stderr io.Writer) error {
	var bad error
	fs.Visit(func(f *flag.Flag) {
		if r, ok := flagRanges[f.Name]; ok && bad == nil {
			v, _ := strconv.ParseFloat(f.Value.String(), 64) // the flag parsed it
			if err := r.Check(v); err != nil {
				bad = fmt.Errorf("%s %s: %v", dashed(f.Name), f.Value, err)
			}
		}
	})
	if bad != nil {
		return usageError(fs, stderr, bad)
	}
	return nil
}

// invalidValue is how package flag words a value its flag refuses.
var invalidValue = regexp.MustCompile(`^invalid value "(.*)" for flag -([^:]+): `)

// valueError words a refused flag value as the console words a refused setting:
// `--temp: "abc" is not a number from 0 to 100` for a flag of flagRanges,
// `--seed: "x" is not a whole number` for another number. Other errors are kept.
func valueError(fs *flag.FlagSet, err error) error {
	m := invalidValue.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	v, name, cause := m[1], m[2], strings.TrimPrefix(err.Error(), m[0])
	if u, uerr := strconv.Unquote(`"` + v + `"`); uerr == nil {
		v = u
	}
	if r, ok := flagRanges[name]; ok {
		if _, perr := r.Parse(v); perr != nil {
			return fmt.Errorf("%s: %v", dashed(name), perr)
		}
	}
	if f := fs.Lookup(name); f != nil && cause == "parse error" {
		switch kind, _ := flag.UnquoteUsage(f); kind {
		case "int", "uint":
			return fmt.Errorf("%s: %q is not a whole number", dashed(name), v)
		case "float":
			return fmt.Errorf("%s: %q is not a number", dashed(name), v)
		}
	}
	if strings.HasPrefix(cause, strconv.Quote(v)) { // the value's own words
		return fmt.Errorf("%s: %s", dashed(name), cause)
	}
	return fmt.Errorf("%s: %q: %s", dashed(name), v, cause)
}

// dashed is a flag's name as typed: -n, --temp.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// alias makes short another name of the flag long (with long's placeholder
// for its value, where its usage names one).
func alias(fs *flag.FlagSet, short, long string) {
	f := fs.Lookup(long)
	usage := "same as " + dashed(long)
	if name, _ := flag.UnquoteUsage(f); strings.Contains(f.Usage, "`") {
		usage += " `" + name + "`"
	}
	fs.Var(f.Value, short, usage)
}

// maxThreads is how many threads can run at once: the cores this process may use.
func maxThreads() int { return runtime.GOMAXPROCS(0) }

// given is the name under which a flag with an alias was given: short if that
// was used, else long.
func given(fs *flag.FlagSet, short, long string) string {
	if flagGiven(fs, short) {
		return short
	}
	return long
}

// checkThreads refuses a thread count of flag name beyond 1..maxThreads.
func checkThreads(name string, n int) error {
	if lim := maxThreads(); n < 1 || n > lim {
		return fmt.Errorf("%s %d: want 1 to %d (the cores this process may use)", dashed(name), n, lim)
	}
	return nil
}

// errHelp ends a command successfully after its help text.
var errHelp = errors.New("help shown")

// samplingFlags are the generation flags shared by chat and run.
type samplingFlags struct {
	temp, topP, penalty float64
	topK, lastN, max    int
	seed                seedValue
	template, system    string
	think               bool
	model               string // -m
	threads, context    int
	fs                  *flag.FlagSet // the flags' set, for the names they were given under
}

func addSamplingFlags(fs *flag.FlagSet, f *samplingFlags, defaultMax int) {
	d := console.DefaultOptions.Sampling // the firmware's defaults too
	f.fs = fs
	fs.Float64Var(&f.temp, "temp", f64(d.Temperature), "temperature, from 0 to 100; 0 is greedy (always the most likely token)")
	fs.Float64Var(&f.topP, "top-p", f64(d.TopP), "top-p (nucleus) sampling when temp > 0, from 0 to 1; 0 or 1 is off")
	fs.IntVar(&f.topK, "top-k", d.TopK, "top-k sampling when temp > 0; 0 is off")
	f.seed = seedValue(d.Seed)
	fs.Var(&f.seed, "seed", "random seed `S` (run.c's -s); 0 or -1 picks one at random (the seed used is shown by /settings and in run's --json)")
	alias(fs, "s", "seed")
	fs.Float64Var(&f.penalty, "penalty", f64(d.RepeatPenalty), "repetition penalty over the last --penalty-last tokens (e.g. 1.1), from 0 to 10; 0 or 1 is off")
	alias(fs, "repeat-penalty", "penalty")
	fs.IntVar(&f.lastN, "penalty-last", d.RepeatLastN, "how many recent tokens the repetition penalty looks at; 0 is all")
	alias(fs, "repeat-last-n", "penalty-last")
	fs.IntVar(&f.max, "n", defaultMax, "most new tokens per reply; 0 is until the model stops or the context is full")
	fs.StringVar(&f.template, "template", "", "chat template, overriding inferpi.json and a GGUF file's own (llama2.c: alpaca, none; GGUF: none, alpaca or a llama.cpp template name such as chatml, llama3, llama2, zephyr, phi3, gemma: an unknown name lists them all; GPT: nanochat, none)")
	fs.StringVar(&f.system, "system", "", "system prompt (where the template has no place for one, it opens the first user turn)")
	fs.BoolVar(&f.think, "think", false, "let a model that thinks aloud (Qwen3) think before it answers, and show its <think> block")
	fs.StringVar(&f.model, "m", "", "the model, as llama.cpp's -m: instead of MODEL")
	fs.IntVar(&f.threads, "threads", maxThreads(), "threads the matrix kernels run on (the caller and helpers), at most the cores this process may use")
	alias(fs, "t", "threads")
	fs.IntVar(&f.context, "ctx-size", 0, "positions the conversation may hold (its KV cache), fewer than the model's context for less memory; 0 is the model's context")
	alias(fs, "c", "ctx-size")
}

// seedValue is --seed: a whole number, or -1 (llama.cpp's "random").
type seedValue uint64

func (s *seedValue) String() string { return strconv.FormatUint(uint64(*s), 10) }

func (s *seedValue) Set(v string) error {
	n, err := console.ParseSeed(v)
	*s = seedValue(n)
	return err
}

// check checks what the flags' ranges do not; it sets the kernels' threads.
func (f *samplingFlags) check() error {
	if err := checkThreads(given(f.fs, "t", "threads"), f.threads); err != nil {
		return err
	}
	if f.threads != maxThreads() {
		kernels.SetWorkers(f.threads)
	}
	return nil
}

// checkContext refuses a --ctx-size beyond the context the model declares
// (0: not known yet).
func (f *samplingFlags) checkContext(declared int) error {
	if declared > 0 && f.context > declared {
		return fmt.Errorf("%s %d: the model's context holds at most %d tokens", dashed(given(f.fs, "c", "ctx-size")), f.context, declared)
	}
	return nil
}

func (f *samplingFlags) options(mode engine.Mode) engine.Options {
	seed := uint64(f.seed)
	if seed == 0 {
		seed = sample.ClockSeed()
	}
	return engine.Options{
		Mode:      mode,
		MaxTokens: f.max,
		System:    f.system,
		Think:     f.think,
		Context:   f.context,
		Sampling: engine.Sampling{
			Temperature:   float32(f.temp),
			TopP:          float32(f.topP),
			TopK:          f.topK,
			Seed:          seed,
			RepeatPenalty: float32(f.penalty),
			RepeatLastN:   f.lastN,
		},
	}
}

// oneDir checks that exactly one model (a directory or a .gguf file) was given.
func oneDir(cmd string, pos []string, stderr io.Writer) (string, error) {
	switch len(pos) {
	case 1:
		return pos[0], nil
	case 0:
		fmt.Fprintf(stderr, "inferpi %s: want one model (a directory or a .gguf file), got 0 arguments\nRun 'inferpi %s --help' for usage.\n", cmd, cmd)
	default:
		fmt.Fprintf(stderr, "inferpi %s: want one model (a directory or a .gguf file), got %d arguments (%s)\nRun 'inferpi %s --help' for usage.\n",
			cmd, len(pos), strings.Join(pos, " "), cmd)
	}
	return "", exitError{2}
}

// oneModel is oneDir for commands that also take the model as -m PATH.
func (f *samplingFlags) oneModel(cmd string, pos []string, stderr io.Writer) (string, error) {
	if f.model != "" {
		pos = append([]string{f.model}, pos...)
	}
	return oneDir(cmd, pos, stderr)
}
