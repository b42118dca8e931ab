package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/kernels"
	"github.com/inferpi/inferpi/engine/modeldir"
)

// InferPi beside llama.cpp on the same file (bench --llama-bench): rounds that
// alternate between the two engines, each timing the same three cells, and the
// ratio of the two in every round.

// sideResult is one model's comparison.
type sideResult struct {
	Model        string     `json:"model"` // what InferPi loaded
	GGUF         string     `json:"gguf"`  // what llama-bench loaded
	Engine       string     `json:"engine"`
	Encoding     string     `json:"encoding"`
	Threads      int        `json:"threads"`
	PromptTokens int        `json:"prompt_tokens"`
	DecodeTokens int        `json:"decode_tokens"`
	Rounds       int        `json:"rounds"`
	Cells        []sideCell `json:"cells"`
	InferPi      struct {
		Kernels     string `json:"kernels"`
		KVCache     string `json:"kv_cache"`
		ContextSize int    `json:"context_size"`
	} `json:"inferpi"`
	LlamaCpp struct {
		Build     string `json:"build"`
		CPU       string `json:"cpu"`
		Backends  string `json:"backends"`
		ModelType string `json:"model_type"`
		TypeK     string `json:"type_k"`
		TypeV     string `json:"type_v"`
		Batch     int    `json:"n_batch"`
		UBatch    int    `json:"n_ubatch"`
		FlashAttn bool   `json:"flash_attn"`
		// Contexts are the n_ctx of its tests' contexts (its log), Repacks the
		// interleaved layouts it repacked weights into at load.
		Contexts []int    `json:"n_ctx"`
		Repacks  []string `json:"repacks"`
		// DecodeAfterPrompt says how that cell was timed: "depth" (its -d test) or
		// "pg-minus-p" (the -pg test's time less the -p test's).
		DecodeAfterPrompt string `json:"decode_after_prompt"`
	} `json:"llama_cpp"`
	CPUFeatures string  `json:"cpu_features"` // the CPU's SIMD features (/proc/cpuinfo)
	LoadAverage float64 `json:"load_average"`
}

// sideCell is one cell's speeds, one per round, and their ratios.
type sideCell struct {
	Cell     string    `json:"cell"` // decode, decode_after_prompt, prefill
	LlamaCpp []float64 `json:"llama_cpp_tokens_per_sec"`
	InferPi  []float64 `json:"inferpi_tokens_per_sec"`
	// Ratio is the median over the rounds of InferPi's speed over llama.cpp's in the
	// same round; RatioMin and RatioMax their range. A speed of 0 is a round without
	// a figure (llama.cpp's derived decoding, see llamaCells), left out of the
	// ratios; a ratio of 0, none at all.
	Ratio    float64 `json:"ratio"`
	RatioMin float64 `json:"ratio_min"`
	RatioMax float64 `json:"ratio_max"`
}

var cellNames = []string{"decode", "decode_after_prompt", "prefill"}

func (c cellSpeeds) get(i int) float64 { return [...]float64{c.decode, c.decodeAfter, c.prefill}[i] }

// sideTarget is what each engine loads: model (a GGUF file, a directory holding
// one, or any model InferPi reads) and gguf (the file llama-bench reads).
type sideTarget struct{ model, gguf string }

// parseSideTarget reads a model argument of bench --llama-bench: FILE.gguf, a
// directory with one .gguf file and no model.bin, or MODEL=FILE.gguf for the same
// weights in InferPi's own format and in a GGUF file.
func parseSideTarget(arg string) (sideTarget, error) {
	if i := strings.LastIndex(arg, "="); i > 0 && modeldir.IsGGUF(arg[i+1:]) {
		return sideTarget{arg[:i], arg[i+1:]}, nil
	}
	if modeldir.IsGGUF(arg) {
		return sideTarget{arg, arg}, nil
	}
	entries, err := os.ReadDir(arg)
	if err != nil {
		return sideTarget{}, err
	}
	var ggufs []string
	for _, e := range entries {
		if e.Name() == modeldir.ModelFile {
			ggufs = nil
			break
		}
		if !e.IsDir() && modeldir.IsGGUF(e.Name()) {
			ggufs = append(ggufs, e.Name())
		}
	}
	if len(ggufs) != 1 {
		return sideTarget{}, fmt.Errorf("%s: llama-bench reads GGUF files: give a .gguf file, a directory holding one (and no model.bin), or MODEL=FILE.gguf", arg)
	}
	return sideTarget{arg, filepath.Join(arg, ggufs[0])}, nil
}

// inferpiCells times the three cells on an InferPi session as llama-bench does:
// tokens decoded one after another with nothing in between (ids fixed in advance,
// no sampling), from an empty context and after a prompt, and the prompt in one call.
type inferpiCells struct {
	s      tokenFeeder
	prompt []int
	ids    []int
}

// warmup runs what a round runs once, untimed, as llama-bench warms up before
// each test: the first touch of the weights and caches is not a cell's.
func (c *inferpiCells) warmup() error {
	c.s.Reset()
	if _, err := c.s.FeedTokens(c.prompt); err != nil {
		return err
	}
	_, err := c.s.FeedTokens(c.ids[:1])
	return err
}

func (c *inferpiCells) decode() (time.Duration, error) {
	t0 := time.Now()
	for i := range c.ids {
		if _, err := c.s.FeedTokens(c.ids[i : i+1]); err != nil {
			return 0, err
		}
	}
	return time.Since(t0), nil
}

func (c *inferpiCells) round() (cellSpeeds, error) {
	var r cellSpeeds
	c.s.Reset()
	d, err := c.decode()
	if err != nil {
		return r, fmt.Errorf("decode: %w", err)
	}
	r.decode = float64(len(c.ids)) / d.Seconds()
	c.s.Reset()
	t0 := time.Now()
	if _, err := c.s.FeedTokens(c.prompt); err != nil {
		return r, fmt.Errorf("prefill: %w", err)
	}
	r.prefill = float64(len(c.prompt)) / time.Since(t0).Seconds()
	if d, err = c.decode(); err != nil {
		return r, fmt.Errorf("decode after the prompt: %w", err)
	}
	r.decodeAfter = float64(len(c.ids)) / d.Seconds()
	return r, nil
}

// alternate runs rounds of a and b, a first in even rounds and b first in odd
// ones, so that a drift in the machine's speed weighs on both alike.
func alternate(rounds int, a, b func() (cellSpeeds, error)) (as, bs []cellSpeeds, err error) {
	for r := range rounds {
		first, second, fa, fb := a, b, &as, &bs
		if r%2 == 1 {
			first, second, fa, fb = b, a, &bs, &as
		}
		for _, x := range []struct {
			f   func() (cellSpeeds, error)
			dst *[]cellSpeeds
		}{{first, fa}, {second, fb}} {
			c, err := x.f()
			if err != nil {
				return nil, nil, err
			}
			*x.dst = append(*x.dst, c)
		}
	}
	return as, bs, nil
}

// benchSide compares InferPi with llama-bench on one target.
func benchSide(arg string, lb *llamaBench, o benchOptions) (sideResult, error) {
	tgt, err := parseSideTarget(arg)
	if err != nil {
		return sideResult{}, err
	}
	model, err := modeldir.Open(tgt.model, modeldir.Overrides{})
	if err != nil {
		return sideResult{}, err
	}
	info := model.Info()
	if need := o.prompt + o.tokens; need > info.ContextSize {
		return sideResult{}, fmt.Errorf("%s: --prompt %d plus --tokens %d is more than the model's context of %d", tgt.model, o.prompt, o.tokens, info.ContextSize)
	}
	sess, err := model.NewSession(engine.Options{Mode: engine.Completion})
	if err != nil {
		return sideResult{}, err
	}
	s, ok := sess.(tokenFeeder)
	if !ok {
		return sideResult{}, fmt.Errorf("%s: the %s engine cannot be fed token ids, so it cannot be benchmarked", tgt.model, info.Engine)
	}
	// Random ids (fixed seed) for the prompt and the decoded tokens, as llama-bench's.
	rng := rand.New(rand.NewPCG(uint64(info.VocabSize), 2))
	ids := func(n int) []int {
		v := make([]int, n)
		for i := range v {
			v[i] = rng.IntN(info.VocabSize)
		}
		return v
	}
	ic := &inferpiCells{s: s, prompt: ids(o.prompt), ids: ids(o.tokens)}
	if err := ic.warmup(); err != nil {
		return sideResult{}, fmt.Errorf("%s: %w", tgt.model, err)
	}

	r := sideResult{Model: tgt.model, GGUF: tgt.gguf, Engine: info.Engine, Encoding: info.Encoding,
		Threads: o.threads, PromptTokens: o.prompt, DecodeTokens: o.tokens, Rounds: o.reps, LoadAverage: loadAverage()}
	r.InferPi.Kernels = kernels.Implementation()
	r.InferPi.KVCache = kvCacheOf(info)
	r.InferPi.ContextSize = info.ContextSize
	r.CPUFeatures = cpuFeatures()
	var last llamaRun
	ours, theirs, err := alternate(o.reps, func() (cellSpeeds, error) {
		c, err := ic.round()
		if err != nil {
			err = fmt.Errorf("%s: %w", tgt.model, err)
		}
		return c, err
	}, func() (cellSpeeds, error) {
		run, err := lb.run(tgt.gguf, o.threads, o.prompt, o.tokens)
		last = run
		return run.cells, err
	})
	if err != nil {
		return sideResult{}, err
	}
	t := last.tests[0]
	l := &r.LlamaCpp
	l.Build = fmt.Sprintf("%s (%d)", t.BuildCommit, t.BuildNumber)
	l.CPU, l.Backends, l.ModelType = t.CPUInfo, t.Backends, t.ModelType
	l.TypeK, l.TypeV, l.Batch, l.UBatch, l.FlashAttn = t.TypeK, t.TypeV, t.Batch, t.UBatch, t.FlashAttn
	l.Contexts, l.Repacks = last.log.contexts, last.log.repacks
	l.DecodeAfterPrompt = "pg-minus-p"
	if lb.depth {
		l.DecodeAfterPrompt = "depth"
	}
	for i, name := range cellNames {
		c := sideCell{Cell: name}
		var ratios []float64
		for k := range ours {
			a, b := ours[k].get(i), theirs[k].get(i)
			c.InferPi = append(c.InferPi, a)
			c.LlamaCpp = append(c.LlamaCpp, b)
			if a > 0 && b > 0 {
				ratios = append(ratios, a/b)
			}
		}
		if len(ratios) > 0 {
			c.Ratio = median(ratios)
			c.RatioMin, c.RatioMax = slices.Min(ratios), slices.Max(ratios)
		}
		r.Cells = append(r.Cells, c)
	}
	return r, nil
}

// figures are the positive values of v: the rounds that gave a figure.
func figures(v []float64) []float64 {
	var f []float64
	for _, x := range v {
		if x > 0 {
			f = append(f, x)
		}
	}
	return f
}

// kvCacheOf is the encoding of the model's KV cache from its details ("fp16, N
// bytes per position ..."), or "?".
func kvCacheOf(info engine.Info) string {
	for _, kv := range info.Details {
		if f := strings.Fields(strings.ReplaceAll(kv.Value, ",", " ")); kv.Key == "kv cache" && len(f) > 0 {
			return f[0]
		}
	}
	return "?"
}

func sideMain(args []string, lb *llamaBench, o benchOptions, asJSON bool, stdout io.Writer) error {
	var results []sideResult
	for _, arg := range args {
		r, err := benchSide(arg, lb, o)
		if err != nil {
			return err
		}
		if asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		results = append(results, r)
	}
	if !asJSON {
		printSideTable(stdout, results)
	}
	return nil
}

// cellLabel names a cell in the table.
func cellLabel(name string, prompt int) string {
	switch name {
	case "decode_after_prompt":
		return fmt.Sprintf("decode after %d", prompt)
	case "prefill":
		return fmt.Sprintf("prefill %d", prompt)
	}
	return "decode"
}

func printSideTable(w io.Writer, results []sideResult) {
	if len(results) == 0 {
		return
	}
	b := new(bytes.Buffer)
	fmt.Fprintf(b, "%-28s %-8s %-18s %24s %24s %18s\n", "model", "enc", "cell", "llama.cpp tok/s", "InferPi tok/s", "ratio")
	span := func(v []float64) string {
		f := func(x float64) string {
			if x >= 100 {
				return strconv.FormatFloat(x, 'f', 0, 64)
			}
			return strconv.FormatFloat(x, 'f', 1, 64)
		}
		if v = figures(v); len(v) == 0 {
			return "-"
		}
		return fmt.Sprintf("%s (%s-%s)", f(median(v)), f(slices.Min(v)), f(slices.Max(v)))
	}
	ratio := func(c sideCell) string {
		if c.Ratio == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f (%.2f-%.2f)", c.Ratio, c.RatioMin, c.RatioMax)
	}
	for _, r := range results {
		for i, c := range r.Cells {
			name, enc := "", ""
			if i == 0 {
				name, enc = filepath.Base(r.Model), strings.Fields(r.Encoding + " ?")[0]
			}
			fmt.Fprintf(b, "%-28s %-8s %-18s %24s %24s %18s\n", name, enc, cellLabel(c.Cell, r.PromptTokens),
				span(c.LlamaCpp), span(c.InferPi), ratio(c))
		}
	}
	r := results[0]
	load := 0.0
	for _, r := range results {
		load = max(load, r.LoadAverage)
	}
	fmt.Fprintf(b, "(%d threads each; %d rounds, the engines alternating which goes first; %d tokens decoded one after another with nothing in between; tok/s: median (range) over the rounds; ratio: InferPi over llama.cpp in the same round, median (range); load average up to %.2f)\n",
		r.Threads, r.Rounds, r.DecodeTokens, load)
	fmt.Fprintf(b, "What differs (same CPU for both: %q, SIMD features %s):\n", r.LlamaCpp.CPU, r.CPUFeatures)
	for _, r := range results {
		l := r.LlamaCpp
		after := fmt.Sprintf("its -pg %d,%d test less its -p %d test", r.PromptTokens, r.DecodeTokens, r.PromptTokens)
		if l.DecodeAfterPrompt == "depth" {
			after = fmt.Sprintf("its -d %d test", r.PromptTokens)
		}
		repacks := "none"
		if len(l.Repacks) > 0 {
			repacks = strings.Join(l.Repacks, ", ")
		}
		fmt.Fprintf(b, "  %s:\n    llama.cpp: build %s, %s, KV cache %s/%s, a context per test of %s positions, batch %d/%d, flash attention %s, weights repacked at load: %s; decode after the prompt: %s\n",
			filepath.Base(r.Model), l.Build, l.ModelType, l.TypeK, l.TypeV, joinInts(l.Contexts), l.Batch, l.UBatch, onOff(l.FlashAttn), repacks, after)
		fmt.Fprintf(b, "    InferPi: kernels %s, KV cache %s, a context of %d positions (the model's)\n",
			r.InferPi.Kernels, r.InferPi.KVCache, r.InferPi.ContextSize)
	}
	w.Write(b.Bytes())
}

// joinInts lists v as "512, 256, 768", or "?" when empty.
func joinInts(v []int) string {
	if len(v) == 0 {
		return "?"
	}
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
