package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/modeldir"
	"github.com/inferpi/inferpi/engine/sample"
	"github.com/inferpi/inferpi/internal/hugepage"
)

func init() {
	register(command{
		name:    "bench",
		summary: "measure prefill and decode speed against the machine's own read bandwidth",
		run:     func(args []string) error { return noHelp(benchMain(args, os.Stdout, os.Stderr)) },
	})
}

const benchUsage = `usage: inferpi bench MODEL... [--prompt N] [--tokens N] [--threads N] [--reps N] [--read-mib N] [--evict-mib N] [--back-to-back] [--json] [--runc PATH]
       inferpi bench --llama-bench PATH [--llama-bench-args ARGS] MODEL... [--prompt N] [--tokens N] [--threads N] [--reps N] [--json]

Measures each model (a model directory or a GGUF file): prefill (a prompt of
--prompt random tokens fed in batches) and decode (--tokens tokens after it, one
at a time, each the greedy pick of the one before) in tokens per second, and, in
the same run and on as many threads, the machine's own read bandwidth: just
before every decoded token, one plain sequential read (kernels.StreamRead) of as
many bytes as the token's weights, each from further along a buffer larger than
the caches. --threads (-t) is at most the cores this process may use.

Before that timed read comes an untimed one of --evict-mib MiB (by default twice
the largest CPU cache the system reports, 64 MiB where it reports none), which
pushes the last token's weights out of the caches: every token then reads its
weights from memory, as on a Raspberry Pi, whose caches hold no model, even on a
machine whose last-level cache could keep a small model between tokens (0 turns
this off). The buffer is --read-mib plus --evict-mib.

Decoding streams every weight matrix through the CPU once per token, so the
headline is the bandwidth ratio: weight bytes per token (matrices only; embedding
rows are lookups, and the KV cache is not counted) times decode tokens/s, over the
machine's read bandwidth. 1.0 means decoding runs at the speed of memory. Decode
tokens/s and read bandwidth are medians over the read-and-token pairs of all
--reps repetitions (the machine may be busy with other work); prefill is the best
repetition.

With one MODEL the results are a list, with several a table. --json prints one
object per model, one per line, with the keys
  decode_tokens_per_sec, prefill_tokens_per_sec, weight_bytes_per_token,
  achieved_gbps, machine_read_gbps, bandwidth_ratio
and model, engine, encoding, params, threads, kernels, prompt_tokens,
decode_tokens, reps, read_buffer_bytes, read_bytes (one read sample),
evict_bytes (the untimed read before it), back_to_back,
prefill_speedup (prefill over decode tokens/s), load_average (the 1-minute load
average at the start: other work on the machine makes every figure lower), and
runc_tokens_per_sec with --runc.

--back-to-back decodes the tokens one after another with nothing in between, as
llama.cpp's llama-bench does (random ids instead of greedy picks, no read and no
eviction before each token: --evict-mib does not apply); the read-bandwidth
samples, one of the token's bytes per token, are taken just before each
repetition's tokens instead.

--runc PATH also times llama2.c's run.c (a 'run' binary) on every fp32 Llama model
(the only kind it reads), greedy, generating --tokens after a short prompt, and
reports its own "achieved tok/s" (which includes its prompt, fed one token at a
time like every other token).

--llama-bench PATH compares InferPi with llama.cpp's llama-bench on the same files
instead (llama-bench is not part of InferPi: build it from llama.cpp, see
docs/bench.md). Each MODEL is then a .gguf file, a directory holding one, or
MODEL=FILE.gguf (InferPi loads MODEL, llama-bench FILE.gguf: the same weights in
two formats). In --reps rounds, the two engines taking turns to go first, each
times three cells on --threads threads: decode (--tokens random ids decoded one
after another from an empty context, nothing in between), decode after a prompt
(the same after a prompt of --prompt tokens, 512 unless given) and prefill (that
prompt in one call). llama-bench runs with -p, -n and -d, or -pg where the build
has no -d (its decoding after the prompt is then the -pg test's time less the -p
test's, and no figure, "-", where the -pg test was the faster), and -r 1, after
its own warm-up; InferPi warms up once. The table gives each engine's tokens/s
and the ratio InferPi/llama.cpp of each round (median and range), then what
differs between the two runs: KV cache, context, batch, repacked weights,
kernels, CPU features, llama.cpp's build (from its JSON and its -v log).
--llama-bench-args adds arguments to llama-bench's (e.g. "-ctk f32 -ctv f32" for
a float32 KV cache), but not -m, -t, -p, -n, -pg, -d, -r or -o. --json prints one object per model with the keys
model, gguf, engine, encoding, threads, prompt_tokens, decode_tokens, rounds,
cells (each with cell, llama_cpp_tokens_per_sec and inferpi_tokens_per_sec, one
per round, 0 where a round gave no figure, ratio, ratio_min, ratio_max),
inferpi, llama_cpp, cpu_features and load_average.
`

// benchResult is one model's figures; the first six fields are the headline keys.
type benchResult struct {
	DecodeTokensPerSec  float64 `json:"decode_tokens_per_sec"`
	PrefillTokensPerSec float64 `json:"prefill_tokens_per_sec"`
	WeightBytesPerToken int64   `json:"weight_bytes_per_token"`
	AchievedGBps        float64 `json:"achieved_gbps"`
	MachineReadGBps     float64 `json:"machine_read_gbps"`
	BandwidthRatio      float64 `json:"bandwidth_ratio"`

	Model           string  `json:"model"`
	Engine          string  `json:"engine"`
	Encoding        string  `json:"encoding"`
	Params          int64   `json:"params"`
	Threads         int     `json:"threads"`
	Kernels         string  `json:"kernels"`
	PromptTokens    int     `json:"prompt_tokens"`
	DecodeTokens    int     `json:"decode_tokens"`
	Reps            int     `json:"reps"`
	ReadBufferBytes int64   `json:"read_buffer_bytes"`
	ReadBytes       int64   `json:"read_bytes"`  // each read-bandwidth sample
	EvictBytes      int64   `json:"evict_bytes"` // the untimed read before each sample
	BackToBack      bool    `json:"back_to_back"`
	PrefillSpeedup  float64 `json:"prefill_speedup"`
	// LoadAverage is the machine's 1-minute load average when the model's
	// measurement started (Linux; -1 elsewhere): other work competes for the cores.
	LoadAverage      float64  `json:"load_average"`
	RunCTokensPerSec *float64 `json:"runc_tokens_per_sec,omitempty"`
}

// tokenFeeder is what bench needs from a session beyond engine.Session: feeding
// token ids directly (both engines' sessions have it), so that the prompt length
// and the number of decoded tokens are exact whatever the tokenizer and the model.
type tokenFeeder interface {
	engine.Session
	FeedTokens(ids []int) ([]float32, error)
}

type benchOptions struct {
	prompt, tokens, threads, reps int
	readBytes, evictBytes         int64
	backToBack                    bool
	runc                          string
}

// firstBelow1 names the first of the int flags whose value is below 1, as typed.
func firstBelow1(fs *flag.FlagSet, names ...string) string {
	for _, n := range names {
		if v, _ := strconv.Atoi(fs.Lookup(n).Value.String()); v < 1 {
			return fmt.Sprintf("%s %d:", dashed(n), v)
		}
	}
	return ""
}

func benchMain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", benchUsage, stdout)
	var o benchOptions
	fs.IntVar(&o.prompt, "prompt", 128, "prompt length in tokens (prefill; 512 with --llama-bench unless given)")
	fs.IntVar(&o.tokens, "tokens", 64, "tokens to decode after the prompt")
	fs.IntVar(&o.threads, "threads", maxThreads(), "cores to use (the caller and helper threads)")
	alias(fs, "t", "threads")
	fs.IntVar(&o.reps, "reps", 3, "repetitions of prompt and decoding (medians of decoding and reads, best prefill; with --llama-bench, rounds)")
	readMiB := fs.Int("read-mib", 1024, "MiB of the read-bandwidth buffer for the timed reads (it must be larger than the caches)")
	evictMiB := fs.Int("evict-mib", -1, "MiB read untimed before each token's timed read, to push the last token's weights out of the caches (-1: twice the largest cache the system reports; 0: none)")
	fs.BoolVar(&o.backToBack, "back-to-back", false, "decode token after token with nothing in between, as llama-bench does (reads apart, no eviction)")
	asJSON := fs.Bool("json", false, "print one JSON object per model")
	fs.StringVar(&o.runc, "runc", "", "path of llama2.c's run binary, to time it on the fp32 Llama models too")
	llamaBenchPath := fs.String("llama-bench", "", "path of llama.cpp's llama-bench, to compare with it on the same GGUF files")
	llamaBenchArgs := fs.String("llama-bench-args", "", "more arguments for llama-bench, e.g. \"-ctk f32 -ctv f32\"")
	dirs, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case len(dirs) == 0:
		fmt.Fprintf(stderr, "inferpi bench: want at least one model\nRun 'inferpi bench --help' for usage.\n")
		return exitError{2}
	case o.prompt < 1 || o.tokens < 1 || o.reps < 1 || *readMiB < 1:
		return fmt.Errorf("%s must be at least 1", firstBelow1(fs, "prompt", "tokens", "reps", "read-mib"))
	case *evictMiB < -1:
		return fmt.Errorf("--evict-mib must be -1 (automatic), 0 (none) or a size in MiB")
	case o.backToBack && set["evict-mib"]:
		return fmt.Errorf("--evict-mib does not apply with --back-to-back (nothing runs between the tokens)")
	case *llamaBenchPath == "" && set["llama-bench-args"]:
		return fmt.Errorf("--llama-bench-args needs --llama-bench")
	case *llamaBenchPath != "" && (o.backToBack || o.runc != "" || set["read-mib"] || set["evict-mib"]):
		return fmt.Errorf("--llama-bench compares decoding back to back and reads no bandwidth: --back-to-back, --runc, --read-mib and --evict-mib do not apply")
	}
	if err := checkThreads(given(fs, "t", "threads"), o.threads); err != nil {
		return err
	}
	kernels.SetWorkers(o.threads)
	if *llamaBenchPath != "" {
		lb, err := newLlamaBench(*llamaBenchPath, *llamaBenchArgs)
		if err != nil {
			return fmt.Errorf("--llama-bench: %w", err)
		}
		if !set["prompt"] {
			o.prompt = 512
		}
		return sideMain(dirs, lb, o, *asJSON, stdout)
	}
	o.readBytes = int64(*readMiB) << 20
	o.evictBytes = int64(*evictMiB) << 20
	switch {
	case o.backToBack:
		o.evictBytes = 0
	case *evictMiB < 0:
		o.evictBytes = 2 * largestCache()
	}

	buf := readBuffer(o.readBytes + o.evictBytes)
	var results []benchResult
	for _, dir := range dirs {
		r, err := benchModel(dir, o, buf)
		if err != nil {
			return err
		}
		if o.runc != "" && r.Engine == "Llama" && r.Encoding == "fp32" {
			tps, err := runcSpeed(o.runc, dir, o)
			if err != nil {
				return fmt.Errorf("--runc: %w", err)
			}
			r.RunCTokensPerSec = &tps
		}
		results = append(results, r)
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(r); err != nil {
				return err
			}
		} else if len(dirs) == 1 {
			printBenchList(stdout, r)
		}
	}
	if !*asJSON && len(dirs) > 1 {
		printBenchTable(stdout, results)
	}
	return nil
}

// readBuffer allocates the buffer for the read-bandwidth measurement, with every
// page touched so that reads hit memory rather than the shared zero page, in huge
// pages where the host allows, as the models' weights are (modeldir.Open): the
// plain read and the tokens then pay the same for their page tables.
func readBuffer(n int64) []byte {
	buf := make([]byte, n)
	for i := int64(0); i < n; i += 4096 {
		buf[i] = byte(i >> 12)
	}
	hugepage.Advise(buf)
	return buf
}

var benchSink uint64

// benchModel measures one model directory.
func benchModel(dir string, o benchOptions, readBuf []byte) (benchResult, error) {
	model, err := modeldir.Open(dir, modeldir.Overrides{})
	if err != nil {
		return benchResult{}, err
	}
	info := model.Info()
	if need := o.prompt + o.tokens; need > info.ContextSize {
		return benchResult{}, fmt.Errorf("%s: --prompt %d plus --tokens %d is more than the model's context of %d", dir, o.prompt, o.tokens, info.ContextSize)
	}
	sess, err := model.NewSession(engine.Options{Mode: engine.Completion})
	if err != nil {
		return benchResult{}, err
	}
	s, ok := sess.(tokenFeeder)
	if !ok {
		return benchResult{}, fmt.Errorf("%s: the %s engine cannot be fed token ids, so it cannot be benchmarked", dir, info.Engine)
	}
	// The prompt is random ids (fixed seed), the same for every model of a vocabulary.
	rng := rand.New(rand.NewPCG(uint64(info.VocabSize), 1))
	prompt := make([]int, o.prompt)
	for i := range prompt {
		prompt[i] = rng.IntN(info.VocabSize)
	}

	r := benchResult{
		Model: dir, Engine: info.Engine, Encoding: info.Encoding, Params: info.Params,
		Threads: o.threads, Kernels: kernels.Implementation(), PromptTokens: o.prompt,
		DecodeTokens: o.tokens, Reps: o.reps, ReadBufferBytes: int64(len(readBuf)), EvictBytes: o.evictBytes,
		BackToBack: o.backToBack, WeightBytesPerToken: info.WeightBytesPerToken, LoadAverage: loadAverage(),
	}
	// Every decoded token is paired with a read, just before it, of as many bytes as
	// the token's weights (at most --read-mib), taken in turn from along the buffer,
	// so each read comes from memory: a bandwidth sample under the same conditions
	// as its token. Before it, the untimed read of EvictBytes leaves none of the last
	// token's weights in the caches. Medians over all pairs keep a burst of other
	// work on a shared machine out of both figures.
	window := int(min(o.readBytes, max(r.WeightBytesPerToken, 1)))
	cursor := 0
	next := func(n int) []byte { // the next n bytes of the buffer, round and round
		if cursor+n > len(readBuf) {
			cursor = 0
		}
		cursor += n
		return readBuf[cursor-n : cursor]
	}
	// Back to back, the tokens are random ids fixed in advance, as llama-bench's.
	ids := make([]int, o.tokens)
	for i := range ids {
		ids[i] = rng.IntN(info.VocabSize)
	}
	var bestPrefill time.Duration
	var reads, tokens []time.Duration
	for rep := 0; rep < o.reps; rep++ {
		s.Reset()
		t0 := time.Now()
		logits, err := s.FeedTokens(prompt)
		if err != nil {
			return benchResult{}, fmt.Errorf("%s: prefill: %w", dir, err)
		}
		bestPrefill = minPositive(bestPrefill, time.Since(t0))

		if o.backToBack {
			for range o.tokens {
				timed := next(window)
				t0 = time.Now()
				benchSink ^= kernels.DefaultPool().StreamRead(timed)
				reads = append(reads, time.Since(t0))
			}
			for i := range ids {
				t0 = time.Now()
				if _, err = s.FeedTokens(ids[i : i+1]); err != nil {
					return benchResult{}, fmt.Errorf("%s: decode: %w", dir, err)
				}
				tokens = append(tokens, time.Since(t0))
			}
			continue
		}
		for range o.tokens {
			if o.evictBytes > 0 {
				benchSink ^= kernels.DefaultPool().StreamRead(next(int(o.evictBytes)))
			}
			timed := next(window)
			t0 = time.Now()
			benchSink ^= kernels.DefaultPool().StreamRead(timed)
			reads = append(reads, time.Since(t0))
			t0 = time.Now()
			if logits, err = s.FeedTokens([]int{sample.Argmax(logits)}); err != nil {
				return benchResult{}, fmt.Errorf("%s: decode: %w", dir, err)
			}
			tokens = append(tokens, time.Since(t0))
		}
	}
	r.ReadBytes = int64(window)
	r.MachineReadGBps = float64(window) / median(reads).Seconds() / 1e9
	r.PrefillTokensPerSec = float64(o.prompt) / bestPrefill.Seconds()
	r.DecodeTokensPerSec = 1 / median(tokens).Seconds()
	r.AchievedGBps = float64(r.WeightBytesPerToken) * r.DecodeTokensPerSec / 1e9
	r.BandwidthRatio = r.AchievedGBps / r.MachineReadGBps
	r.PrefillSpeedup = r.PrefillTokensPerSec / r.DecodeTokensPerSec
	return r, nil
}

// loadAverage is the 1-minute load average from /proc/loadavg, or -1.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// median is the middle value of v (the mean of the two middle ones for an even
// count); v is sorted in place.
func median[T time.Duration | float64](v []T) T {
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

func minPositive(best, d time.Duration) time.Duration {
	if best == 0 || d < best {
		return d
	}
	return best
}

func printBenchList(w io.Writer, r benchResult) {
	row := func(k, format string, args ...any) {
		fmt.Fprintf(w, "%-22s "+format+"\n", append([]any{k + ":"}, args...)...)
	}
	row("model", "%s (%s, %s, %.1fM parameters)", r.Model, r.Engine, r.Encoding, float64(r.Params)/1e6)
	row("threads", "%d (kernels %s)", r.Threads, r.Kernels)
	row("prefill", "%.1f tokens/s (%d-token prompt; %.1fx decode)", r.PrefillTokensPerSec, r.PromptTokens, r.PrefillSpeedup)
	row("decode", "%.1f tokens/s (%d tokens after the prompt)", r.DecodeTokensPerSec, r.DecodeTokens)
	row("weight bytes/token", "%d (%.1f MB, matrices only)", r.WeightBytesPerToken, float64(r.WeightBytesPerToken)/1e6)
	row("achieved", "%.2f GB/s of weights", r.AchievedGBps)
	row("machine read", "%.2f GB/s (reads of %.1f MB on %d threads, one before each token)", r.MachineReadGBps, float64(r.ReadBytes)/1e6, r.Threads)
	row("bandwidth ratio", "%.2f", r.BandwidthRatio)
	if r.RunCTokensPerSec != nil {
		row("run.c", "%.1f tokens/s (ratio %.2f)", *r.RunCTokensPerSec, runcRatio(r))
	}
	if r.BackToBack {
		fmt.Fprintf(w, "(decode: median of %d x %d tokens back to back; read: median of as many reads just before each repetition's tokens; prefill: best of %d; load average %.2f at the start)\n", r.Reps, r.DecodeTokens, r.Reps, r.LoadAverage)
		return
	}
	fmt.Fprintf(w, "(decode and read: medians of %d x %d pairs, each after an untimed read of %d MiB to empty the caches; prefill: best of %d; load average %.2f at the start)\n", r.Reps, r.DecodeTokens, r.EvictBytes>>20, r.Reps, r.LoadAverage)
}

func runcRatio(r benchResult) float64 {
	return float64(r.WeightBytesPerToken) * *r.RunCTokensPerSec / 1e9 / r.MachineReadGBps
}

func printBenchTable(w io.Writer, results []benchResult) {
	tw := new(bytes.Buffer)
	fmt.Fprintf(tw, "%-28s %-6s %-6s %9s %9s %8s %8s %8s %6s\n",
		"model", "engine", "enc", "decode/s", "prefill/s", "MB/tok", "GB/s", "read", "ratio")
	for _, r := range results {
		fmt.Fprintf(tw, "%-28s %-6s %-6s %9.1f %9.1f %8.1f %8.2f %8.2f %6.2f\n",
			filepath.Base(r.Model), r.Engine, strings.Fields(r.Encoding)[0], r.DecodeTokensPerSec, r.PrefillTokensPerSec,
			float64(r.WeightBytesPerToken)/1e6, r.AchievedGBps, r.MachineReadGBps, r.BandwidthRatio)
		if r.RunCTokensPerSec != nil {
			fmt.Fprintf(tw, "%-28s %-6s %-6s %9.1f %9s %8.1f %8.2f %8.2f %6.2f\n",
				filepath.Base(r.Model)+" (run.c)", "run.c", "fp32", *r.RunCTokensPerSec, "-",
				float64(r.WeightBytesPerToken)/1e6, float64(r.WeightBytesPerToken)**r.RunCTokensPerSec/1e9, r.MachineReadGBps, runcRatio(r))
		}
	}
	if len(results) > 0 {
		r := results[0]
		load := 0.0
		for _, r := range results {
			load = max(load, r.LoadAverage)
		}
		if r.BackToBack {
			fmt.Fprintf(tw, "(%d threads, kernels %s; %d-token prompt; decode: medians of %d x %d tokens back to back; read: medians of as many reads of the token's MB just before each repetition's tokens, from a %d MiB buffer; load average up to %.2f)\n",
				r.Threads, r.Kernels, r.PromptTokens, r.Reps, r.DecodeTokens, r.ReadBufferBytes>>20, load)
		} else {
			fmt.Fprintf(tw, "(%d threads, kernels %s; %d-token prompt; decode and read: medians of %d x %d pairs, before each token an untimed read of %d MiB to empty the caches and a read of the token's MB, from a %d MiB buffer; load average up to %.2f)\n",
				r.Threads, r.Kernels, r.PromptTokens, r.Reps, r.DecodeTokens, r.EvictBytes>>20, r.ReadBufferBytes>>20, load)
		}
	}
	w.Write(tw.Bytes())
}

// runcAchieved is the line run.c prints after generating (on stderr).
var runcAchieved = regexp.MustCompile(`achieved tok/s: ([0-9]+(\.[0-9]*)?)`)

// parseRunCSpeed finds run.c's "achieved tok/s: X" in its output.
func parseRunCSpeed(out []byte) (float64, error) {
	m := runcAchieved.FindSubmatch(out)
	if m == nil {
		return 0, errors.New(`no "achieved tok/s" line in its output`)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) {
		return 0, fmt.Errorf("achieved tok/s %q is not a speed", m[1])
	}
	return v, nil
}

// runcSpeed runs llama2.c's run binary on dir's model greedily and returns the
// tokens/s it reports (best of the repetitions).
func runcSpeed(run, dir string, o benchOptions) (float64, error) {
	best := 0.0
	for rep := 0; rep < o.reps; rep++ {
		// run.c's -n counts every position, its prompt's included.
		cmd := exec.Command(run, filepath.Join(dir, modeldir.ModelFile), "-z", filepath.Join(dir, modeldir.TokenizerFile),
			"-t", "0", "-n", strconv.Itoa(o.tokens+8), "-i", "Once upon a time")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return 0, fmt.Errorf("%s: %v: %s", run, err, strings.TrimSpace(stderr.String()))
		}
		v, err := parseRunCSpeed(append(out, stderr.Bytes()...))
		if err != nil {
			return 0, fmt.Errorf("%s: %v", run, err)
		}
		best = max(best, v)
	}
	return best, nil
}

// largestCache is the size of the largest CPU cache Linux reports for cpu0 (its
// last level: 1 MiB of L2 on a Raspberry Pi 4, 300 MiB of L3 on the development
// machine), or 64 MiB where it reports none (other systems).
func largestCache() int64 {
	var largest int64
	paths, _ := filepath.Glob("/sys/devices/system/cpu/cpu0/cache/index*/size")
	for _, p := range paths {
		if n, ok := parseCacheSize(p); ok {
			largest = max(largest, n)
		}
	}
	if largest == 0 {
		return 64 << 20
	}
	return largest
}

// parseCacheSize reads a sysfs cache size such as "48K", "2048K" or "1M".
func parseCacheSize(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	s := strings.TrimSpace(string(b))
	unit := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		unit, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		unit, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		unit, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n * unit, true
}
