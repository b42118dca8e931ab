package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// llama.cpp's llama-bench, run on the same GGUF file as InferPi (bench --llama-bench).
// Its tests are named by their token counts: a prompt test (-p P: n_prompt P,
// n_gen 0) times one batch of P tokens, a generation test (-n N: n_prompt 0, n_gen N)
// times N tokens decoded one after another from an empty context, and a combined
// test (-pg P,N) times both in one go. Builds from mid-2025 on also have -d (n_depth):
// the context is filled with that many tokens before the timed part.
// (examples/llama-bench/llama-bench.cpp: test_prompt, test_gen and the main loop.)

// llamaBenchTest is one test of llama-bench's -o json output (an array of them).
type llamaBenchTest struct {
	BuildCommit string  `json:"build_commit"`
	BuildNumber int     `json:"build_number"`
	CPUInfo     string  `json:"cpu_info"`
	Backends    string  `json:"backends"`
	ModelFile   string  `json:"model_filename"`
	ModelType   string  `json:"model_type"`
	ModelSize   int64   `json:"model_size"`
	Batch       int     `json:"n_batch"`
	UBatch      int     `json:"n_ubatch"`
	Threads     int     `json:"n_threads"`
	TypeK       string  `json:"type_k"`
	TypeV       string  `json:"type_v"`
	FlashAttn   bool    `json:"flash_attn"`
	Prompt      int     `json:"n_prompt"`
	Gen         int     `json:"n_gen"`
	Depth       int     `json:"n_depth"` // absent (0) before -d existed
	SamplesNS   []int64 `json:"samples_ns"`
}

// maxSampleNS bounds a plausible test time (a day), so that a garbled number is an
// error rather than a speed.
const maxSampleNS = 86400e9

// parseLlamaBench reads llama-bench's -o json output and checks every test.
func parseLlamaBench(out []byte) ([]llamaBenchTest, error) {
	var tests []llamaBenchTest
	if err := json.Unmarshal(bytes.TrimSpace(out), &tests); err != nil {
		return nil, fmt.Errorf("output is not llama-bench's -o json: %v", err)
	}
	if len(tests) == 0 {
		return nil, errors.New("output holds no test")
	}
	for i, t := range tests {
		switch {
		case t.Prompt < 0 || t.Gen < 0 || t.Depth < 0 || t.Prompt+t.Gen == 0:
			return nil, fmt.Errorf("test %d: n_prompt %d, n_gen %d, n_depth %d is not a test", i, t.Prompt, t.Gen, t.Depth)
		case len(t.SamplesNS) == 0:
			return nil, fmt.Errorf("test %d (n_prompt %d, n_gen %d): no samples_ns", i, t.Prompt, t.Gen)
		case t.Threads < 1:
			return nil, fmt.Errorf("test %d: n_threads %d", i, t.Threads)
		}
		for _, ns := range t.SamplesNS {
			if ns <= 0 || ns > maxSampleNS {
				return nil, fmt.Errorf("test %d (n_prompt %d, n_gen %d): sample of %d ns", i, t.Prompt, t.Gen, ns)
			}
		}
	}
	return tests, nil
}

// findLlamaTest returns the test with these counts.
func findLlamaTest(tests []llamaBenchTest, prompt, gen, depth int) (llamaBenchTest, error) {
	for _, t := range tests {
		if t.Prompt == prompt && t.Gen == gen && t.Depth == depth {
			return t, nil
		}
	}
	return llamaBenchTest{}, fmt.Errorf("no test with n_prompt %d, n_gen %d, n_depth %d in its output", prompt, gen, depth)
}

// medianNS is the middle sample of a test (the mean of the two middle ones).
func medianNS(t llamaBenchTest) float64 {
	s := make([]float64, len(t.SamplesNS))
	for i, ns := range t.SamplesNS {
		s[i] = float64(ns)
	}
	return median(s)
}

// cellSpeeds are one round's tokens/s in the three cells of the comparison (0: no
// figure).
type cellSpeeds struct {
	decode      float64 // --tokens tokens decoded from an empty context
	decodeAfter float64 // the same after a prompt of --prompt tokens
	prefill     float64 // a prompt of --prompt tokens in one batch
}

// llamaCells takes the three cells from one run of llama-bench. Decoding after the
// prompt is its own test where llama-bench has -d (depth); otherwise it is derived
// from the combined test: gen tokens in the time of the -pg test less that of the
// prompt test (0 when that is not positive).
func llamaCells(tests []llamaBenchTest, prompt, gen int, depth bool) (cellSpeeds, error) {
	var c cellSpeeds
	pp, err := findLlamaTest(tests, prompt, 0, 0)
	if err != nil {
		return c, err
	}
	tg, err := findLlamaTest(tests, 0, gen, 0)
	if err != nil {
		return c, err
	}
	c.prefill = float64(prompt) / medianNS(pp) * 1e9
	c.decode = float64(gen) / medianNS(tg) * 1e9
	if depth {
		deep, err := findLlamaTest(tests, 0, gen, prompt)
		if err != nil {
			return c, err
		}
		c.decodeAfter = float64(gen) / medianNS(deep) * 1e9
		return c, nil
	}
	pg, err := findLlamaTest(tests, prompt, gen, 0)
	if err != nil {
		return c, err
	}
	// A prompt test slower than the combined one (a hiccup of the machine in
	// either) leaves no time to derive: no figure (0) in this run.
	if genNS := medianNS(pg) - medianNS(pp); genNS > 0 {
		c.decodeAfter = float64(gen) / genNS * 1e9
	}
	return c, nil
}

// llamaLog is what llama-bench's verbose log (-v, on stderr) tells beyond its
// JSON: the contexts it made (one per test, sized to the test's tokens and
// padded) and the tensors it repacked into an interleaved layout at load, with
// the layout's name, which says which of its kernels run.
type llamaLog struct {
	contexts []int    // n_ctx of each context, in order
	repacks  []string // the layouts ("q4_0_8x8"), each once
}

var (
	logContext = regexp.MustCompile(`\bn_ctx\s+=\s+(\d+)`)
	logRepack  = regexp.MustCompile(`repack tensor \S+ with (\w+)`)
)

// parseLlamaLog reads llama-bench's verbose log; lines it does not know are skipped.
func parseLlamaLog(log []byte) llamaLog {
	var l llamaLog
	for _, m := range logContext.FindAllSubmatch(log, -1) {
		if n, err := strconv.Atoi(string(m[1])); err == nil {
			l.contexts = append(l.contexts, n)
		}
	}
	for _, m := range logRepack.FindAllSubmatch(log, -1) {
		if r := string(m[1]); !slices.Contains(l.repacks, r) {
			l.repacks = append(l.repacks, r)
		}
	}
	return l
}

// llamaBench is a llama-bench binary and what it is run with.
type llamaBench struct {
	path  string
	depth bool     // it has -d (--n-depth)
	extra []string // --llama-bench-args
}

// llamaBenchFlags are the arguments bench sets itself; --llama-bench-args may not.
var llamaBenchFlags = []string{"-m", "--model", "-p", "--n-prompt", "-n", "--n-gen", "-pg", "-d", "--n-depth",
	"-t", "--threads", "-r", "--repetitions", "-o", "--output", "-oe", "--output-err"}

// newLlamaBench checks the binary (its --help must be llama-bench's) and the extra
// arguments.
func newLlamaBench(path, args string) (*llamaBench, error) {
	lb := &llamaBench{path: path, extra: strings.Fields(args)}
	for _, a := range lb.extra {
		if slices.Contains(llamaBenchFlags, a) {
			return nil, fmt.Errorf("--llama-bench-args: %s is set by bench itself", a)
		}
	}
	help, err := exec.Command(path, "--help").CombinedOutput()
	if err != nil && len(help) == 0 {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if !bytes.Contains(help, []byte("--n-prompt")) || !bytes.Contains(help, []byte("-pg")) {
		return nil, fmt.Errorf("%s: its --help is not llama.cpp's llama-bench's (no -p/--n-prompt, -pg)", path)
	}
	lb.depth = bytes.Contains(help, []byte("--n-depth"))
	return lb, nil
}

// args are one run's arguments: every test once (-r 1) after llama-bench's own
// warm-up, the prompt, generation and, as this build allows, depth or combined tests.
func (lb *llamaBench) args(file string, threads, prompt, gen int) []string {
	a := []string{"-m", file, "-t", strconv.Itoa(threads), "-p", strconv.Itoa(prompt), "-n", strconv.Itoa(gen)}
	if lb.depth {
		a = append(a, "-d", "0,"+strconv.Itoa(prompt))
	} else {
		a = append(a, "-pg", strconv.Itoa(prompt)+","+strconv.Itoa(gen))
	}
	a = append(a, "-r", "1", "-o", "json", "-v")
	return append(a, lb.extra...)
}

// llamaRun is one run of llama-bench.
type llamaRun struct {
	tests []llamaBenchTest
	log   llamaLog
	cells cellSpeeds
}

// run runs llama-bench once on file.
func (lb *llamaBench) run(file string, threads, prompt, gen int) (llamaRun, error) {
	cmd := exec.Command(lb.path, lb.args(file, threads, prompt, gen)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return llamaRun{}, fmt.Errorf("%s: %v: %s", lb.path, err, lastLines(stderr.String(), 5))
	}
	r := llamaRun{log: parseLlamaLog(stderr.Bytes())}
	if r.tests, err = parseLlamaBench(out); err != nil {
		return llamaRun{}, fmt.Errorf("%s: %v", lb.path, err)
	}
	for _, t := range r.tests {
		if t.Threads != threads {
			return llamaRun{}, fmt.Errorf("%s: ran on %d threads, asked for %d", lb.path, t.Threads, threads)
		}
	}
	if r.cells, err = llamaCells(r.tests, prompt, gen, lb.depth); err != nil {
		return llamaRun{}, fmt.Errorf("%s: %v", lb.path, err)
	}
	return r, nil
}

// cpuFeatures lists the SIMD features the CPU has (Linux's /proc/cpuinfo, "flags"
// on x86 and "Features" on Arm), among those either engine's kernels can use.
func cpuFeatures() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	var have []string
	for _, line := range strings.Split(string(b), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if k := strings.TrimSpace(key); !ok || k != "flags" && k != "Features" {
			continue
		}
		for _, f := range strings.Fields(val) {
			if simdFeatures[f] {
				have = append(have, f)
			}
		}
		break
	}
	if len(have) == 0 {
		return "?"
	}
	return strings.Join(have, " ")
}

var simdFeatures = map[string]bool{
	"avx": true, "avx2": true, "fma": true, "f16c": true, "avx512f": true, "avx512bw": true, "avx512vl": true,
	"avx512_vnni": true, "avx_vnni": true, "avx512_bf16": true, "avx512_fp16": true, "amx_tile": true,
	"asimd": true, "asimdhp": true, "fphp": true, "asimddp": true, "i8mm": true, "bf16": true, "sve": true, "sve2": true,
}

// lastLines is the end of a program's error output, for messages.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
