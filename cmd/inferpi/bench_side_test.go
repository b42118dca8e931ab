package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readLlamaSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "llama-bench", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLlamaBenchRecorded: the tests and cells of a real llama-bench run (February
// 2025 build: -pg, no -d), and of the form with -d.
func TestLlamaBenchRecorded(t *testing.T) {
	tests, err := parseLlamaBench(readLlamaSample(t, "pg.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tests) != 3 {
		t.Fatalf("%d tests, want 3", len(tests))
	}
	first := tests[0]
	if first.CPUInfo != "AMD EPYC" || first.Backends != "CPU" || first.TypeK != "f16" || first.TypeV != "f16" ||
		first.Threads != 2 || first.Batch != 2048 || first.UBatch != 512 || first.FlashAttn || first.ModelType != "llama ?B Q4_0" ||
		first.ModelFile != "llama-spm.Q4_0.gguf" || first.ModelSize != 382848 || first.BuildCommit != "unknown" {
		t.Errorf("first test read as %+v", first)
	}
	c, err := llamaCells(tests, 16, 8, false)
	if err != nil {
		t.Fatal(err)
	}
	// samples_ns: -p 16 331049, -n 8 950777, -pg 16,8 1177209
	want := cellSpeeds{prefill: 16 / 331049e-9, decode: 8 / 950777e-9, decodeAfter: 8 / (1177209e-9 - 331049e-9)}
	if rel(c.prefill, want.prefill) > 1e-12 || rel(c.decode, want.decode) > 1e-12 || rel(c.decodeAfter, want.decodeAfter) > 1e-12 {
		t.Errorf("cells %+v, want %+v", c, want)
	}
	if _, err := llamaCells(tests, 16, 8, true); err == nil || !strings.Contains(err.Error(), "n_depth 16") {
		t.Errorf("asking a -pg run for its depth test: %v", err)
	}
	if _, err := llamaCells(tests, 32, 8, false); err == nil || !strings.Contains(err.Error(), "n_prompt 32") {
		t.Errorf("asking for a test it did not run: %v", err)
	}

	log := parseLlamaLog(readLlamaSample(t, "pg.stderr"))
	if !slices.Equal(log.contexts, []int{32, 32, 32}) || !slices.Equal(log.repacks, []string{"q4_0_8x8"}) {
		t.Errorf("log read as %+v", log)
	}

	// The prompt test slower than the combined one: no decoding after the prompt.
	slow, err := parseLlamaBench(readLlamaSample(t, "pg-slow-prompt.json"))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := llamaCells(slow, 16, 8, false); err != nil || c.decodeAfter != 0 || c.decode <= 0 || c.prefill <= 0 {
		t.Errorf("slow prompt test: %+v, %v; want no decode-after figure and the others", c, err)
	}

	deep, err := parseLlamaBench(readLlamaSample(t, "depth.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, err = llamaCells(deep, 16, 8, true)
	want = cellSpeeds{prefill: 16 / 331049e-9, decode: 8 / 950777e-9, decodeAfter: 8 / 1013342e-9}
	if err != nil || rel(c.prefill, want.prefill) > 1e-12 || rel(c.decode, want.decode) > 1e-12 || rel(c.decodeAfter, want.decodeAfter) > 1e-12 {
		t.Errorf("depth run: cells %+v, %v; want %+v", c, err, want)
	}
}

func TestLlamaBenchErrors(t *testing.T) {
	good := `[{"n_prompt": 16, "n_gen": 0, "n_threads": 2, "samples_ns": [1000, 3000, 2000]}]`
	tests, err := parseLlamaBench([]byte(good))
	if err != nil || medianNS(tests[0]) != 2000 {
		t.Fatalf("%v, median %v", err, medianNS(tests[0]))
	}
	for _, c := range []struct{ out, want string }{
		{"", "not llama-bench's -o json"},
		{"| model | size |", "not llama-bench's -o json"},
		{"[]", "no test"},
		{`[{"n_prompt": 0, "n_gen": 0, "n_threads": 2, "samples_ns": [1]}]`, "is not a test"},
		{`[{"n_prompt": -1, "n_gen": 4, "n_threads": 2, "samples_ns": [1]}]`, "is not a test"},
		{`[{"n_prompt": 16, "n_gen": 0, "n_threads": 2, "samples_ns": []}]`, "no samples_ns"},
		{`[{"n_prompt": 16, "n_gen": 0, "n_threads": 2, "samples_ns": [0]}]`, "sample of 0 ns"},
		{`[{"n_prompt": 16, "n_gen": 0, "n_threads": 2, "samples_ns": [-5]}]`, "sample of -5 ns"},
		{`[{"n_prompt": 16, "n_gen": 0, "n_threads": 0, "samples_ns": [5]}]`, "n_threads 0"},
		{`[{"n_prompt": 16, "n_gen": 0, "n_threads": 2, "samples_ns": [1e30]}]`, "not llama-bench's -o json"},
		{`[{"n_prompt": 16, "n_gen": 0, "n_threads": 2, "samples_ns": [90000000000000000]}]`, "sample of"},
		{`[{"n_prompt": "16"}]`, "not llama-bench's -o json"},
	} {
		if _, err := parseLlamaBench([]byte(c.out)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want an error with %q", c.out, err, c.want)
		}
	}
}

func FuzzParseLlamaBench(f *testing.F) {
	for _, name := range []string{"pg.json", "pg-slow-prompt.json", "depth.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "llama-bench", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`[{"n_prompt": 16, "n_gen": 0, "n_threads": 2, "samples_ns": [1000]}]`))
	f.Add([]byte(`[{"n_prompt": 16, "n_gen": 8, "n_depth": 3, "n_threads": 2, "samples_ns": [1, 2]}]`))
	f.Fuzz(func(t *testing.T, out []byte) {
		tests, err := parseLlamaBench(out)
		if err != nil {
			return
		}
		for _, tt := range tests {
			if len(tt.SamplesNS) == 0 || medianNS(tt) <= 0 || tt.Prompt+tt.Gen <= 0 {
				t.Fatalf("accepted %+v", tt)
			}
		}
		for _, depth := range []bool{false, true} {
			c, err := llamaCells(tests, 16, 8, depth)
			if err != nil {
				continue
			}
			for _, v := range []float64{c.decode, c.decodeAfter, c.prefill} {
				if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("cells %+v from %q", c, out)
				}
			}
		}
	})
}

func FuzzParseLlamaLog(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "llama-bench", "pg.stderr"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("n_ctx = 99999999999999999999999\nrepack tensor x with \n"))
	f.Fuzz(func(t *testing.T, log []byte) {
		l := parseLlamaLog(log)
		for _, n := range l.contexts {
			if n < 0 {
				t.Fatalf("context %d from %q", n, log)
			}
		}
		for i, r := range l.repacks {
			if r == "" || slices.Contains(l.repacks[:i], r) {
				t.Fatalf("repacks %q from %q", l.repacks, log)
			}
		}
	})
}

// TestAlternate: the engines take turns to go first, round after round, and an
// error stops the rounds.
func TestAlternate(t *testing.T) {
	var order []string
	n := 0
	run := func(name string) func() (cellSpeeds, error) {
		return func() (cellSpeeds, error) {
			order = append(order, name)
			n++
			return cellSpeeds{decode: float64(n)}, nil
		}
	}
	as, bs, err := alternate(4, run("a"), run("b"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "b", "a", "a", "b", "b", "a"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	var ad, bd []float64
	for i := range as {
		ad, bd = append(ad, as[i].decode), append(bd, bs[i].decode)
	}
	if !slices.Equal(ad, []float64{1, 4, 5, 8}) || !slices.Equal(bd, []float64{2, 3, 6, 7}) {
		t.Errorf("results a %v, b %v: not each engine's own, in round order", ad, bd)
	}
	order = nil
	_, _, err = alternate(3, run("a"), func() (cellSpeeds, error) { return cellSpeeds{}, fmt.Errorf("broken") })
	if err == nil || err.Error() != "broken" || !slices.Equal(order, []string{"a"}) {
		t.Errorf("an error in round 1: %v after %v", err, order)
	}
}

func TestParseSideTarget(t *testing.T) {
	dir := t.TempDir()
	one := filepath.Join(dir, "one")
	both := filepath.Join(dir, "both")
	for _, f := range []string{"one/m.GGUF", "both/m.gguf", "both/model.bin"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644)
	}
	for _, c := range []struct {
		arg, model, gguf, err string
	}{
		{"a/b.gguf", "a/b.gguf", "a/b.gguf", ""},
		{"build/synth/llama-50m-q4_0=x/llama-50m.Q4_0.gguf", "build/synth/llama-50m-q4_0", "x/llama-50m.Q4_0.gguf", ""},
		{"a=b/c.gguf", "a", "b/c.gguf", ""},
		{one, one, filepath.Join(one, "m.GGUF"), ""},
		{both, "", "", "llama-bench reads GGUF files"},
		{filepath.Join(dir, "none"), "", "", "no such file"},
		{"=x.gguf", "=x.gguf", "=x.gguf", ""},
	} {
		got, err := parseSideTarget(c.arg)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v, want an error with %q", c.arg, err, c.err)
			}
			continue
		}
		if err != nil || got != (sideTarget{c.model, c.gguf}) {
			t.Errorf("%s: %+v, %v; want %s and %s", c.arg, got, err, c.model, c.gguf)
		}
	}
}

// fakeLlamaBench writes a shell script standing in for llama-bench: --help prints
// the given help, any other call appends its arguments to the returned log and
// prints out (stdout) and the recorded -v log (stderr).
func fakeLlamaBench(t *testing.T, help string, out []byte) (path, argsLog string) {
	t.Helper()
	dir := t.TempDir()
	path, argsLog = filepath.Join(dir, "llama-bench"), filepath.Join(dir, "args")
	files := map[string][]byte{"help": []byte(help), "out": out, "err": readLlamaSample(t, "pg.stderr")}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := fmt.Sprintf("#!/bin/sh\nif [ \"$1\" = --help ]; then cat %s/help; exit 0; fi\necho \"$@\" >> %s\ncat %s/err >&2\ncat %s/out\n",
		dir, argsLog, dir, dir)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, argsLog
}

// llamaOutput is llama-bench's JSON for the tests given as {prompt, gen, depth, ns}.
func llamaOutput(threads int, tests ...[4]int64) []byte {
	var all []map[string]any
	for _, tt := range tests {
		all = append(all, map[string]any{"build_commit": "c392e50", "build_number": 4743, "cpu_info": "Fake CPU",
			"backends": "CPU", "model_type": "llama 50M Q4_0", "n_batch": 2048, "n_ubatch": 512, "n_threads": threads,
			"type_k": "f16", "type_v": "f16", "flash_attn": false,
			"n_prompt": tt[0], "n_gen": tt[1], "n_depth": tt[2], "samples_ns": []int64{tt[3]}})
	}
	b, _ := json.Marshal(all)
	return b
}

const pgHelp = "usage: llama-bench [options]\n  -p, --n-prompt <n>\n  -n, --n-gen <n>\n  -pg <pp,tg>\n"

// TestBenchLlamaBench: bench --llama-bench runs llama-bench once per round with
// the same threads, prompt and generation lengths as InferPi, on the GGUF file,
// and reports both engines' cells and their ratios; a fake llama-bench stands in.
func TestBenchLlamaBench(t *testing.T) {
	model := synthDir(t, "llama-tiny", "q8_0")
	for _, depth := range []bool{false, true} {
		help, out := pgHelp, llamaOutput(2, [4]int64{16, 0, 0, 2e6}, [4]int64{0, 4, 0, 1e6}, [4]int64{16, 4, 0, 6e6})
		if depth {
			help += "  -d, --n-depth <n>\n"
			out = llamaOutput(2, [4]int64{16, 0, 0, 2e6}, [4]int64{16, 0, 16, 3e6}, [4]int64{0, 4, 0, 1e6}, [4]int64{0, 4, 16, 2e6})
		}
		lb, argsLog := fakeLlamaBench(t, help, out)
		gguf := filepath.Join(t.TempDir(), "llama-tiny.Q8_0.gguf")
		var stdout, stderr bytes.Buffer
		err := benchMain([]string{"--llama-bench", lb, "--llama-bench-args", "-ctk f32 -ctv f32", "--json", "--prompt", "16", "--tokens", "4",
			"--reps", "3", "--threads", "2", model + "=" + gguf}, &stdout, &stderr)
		if err != nil {
			t.Fatalf("depth %v: %v\n%s", depth, err, stderr.String())
		}
		var r sideResult
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatalf("%v\n%s", err, stdout.String())
		}
		args, _ := os.ReadFile(argsLog)
		want := "-m " + gguf + " -t 2 -p 16 -n 4 -pg 16,4 -r 1 -o json -v -ctk f32 -ctv f32\n"
		if depth {
			want = strings.Replace(want, "-pg 16,4", "-d 0,16", 1)
		}
		if string(args) != strings.Repeat(want, 3) {
			t.Errorf("depth %v: llama-bench called with\n%s\nwant 3 times\n%s", depth, args, want)
		}
		if r.Model != model || r.GGUF != gguf || r.Engine != "Llama" || r.Threads != 2 || r.PromptTokens != 16 || r.DecodeTokens != 4 || r.Rounds != 3 {
			t.Errorf("depth %v: settings %+v", depth, r)
		}
		after := 4 / 4e-3 // -pg's 6 ms less -p's 2 ms
		if depth {
			after = 4 / 2e-3
		}
		wantLlama := map[string]float64{"decode": 4 / 1e-3, "decode_after_prompt": after, "prefill": 16 / 2e-3}
		if len(r.Cells) != 3 {
			t.Fatalf("depth %v: cells %+v", depth, r.Cells)
		}
		for i, c := range r.Cells {
			if c.Cell != cellNames[i] || len(c.LlamaCpp) != 3 || len(c.InferPi) != 3 {
				t.Fatalf("depth %v: cell %+v", depth, c)
			}
			var ratios []float64
			for k := range 3 {
				if rel(c.LlamaCpp[k], wantLlama[c.Cell]) > 1e-12 || c.InferPi[k] <= 0 {
					t.Errorf("depth %v: %s round %d: llama.cpp %v (want %v), InferPi %v", depth, c.Cell, k, c.LlamaCpp[k], wantLlama[c.Cell], c.InferPi[k])
				}
				ratios = append(ratios, c.InferPi[k]/c.LlamaCpp[k])
			}
			slices.Sort(ratios)
			if rel(c.Ratio, ratios[1]) > 1e-12 || c.RatioMin != ratios[0] || c.RatioMax != ratios[2] {
				t.Errorf("depth %v: %s: ratio %v (%v-%v), want the median of %v", depth, c.Cell, c.Ratio, c.RatioMin, c.RatioMax, ratios)
			}
		}
		l := r.LlamaCpp
		wantHow := map[bool]string{false: "pg-minus-p", true: "depth"}[depth]
		if l.Build != "c392e50 (4743)" || l.CPU != "Fake CPU" || l.TypeK != "f16" || l.ModelType != "llama 50M Q4_0" ||
			!slices.Equal(l.Contexts, []int{32, 32, 32}) || !slices.Equal(l.Repacks, []string{"q4_0_8x8"}) || l.DecodeAfterPrompt != wantHow {
			t.Errorf("depth %v: llama.cpp's setup %+v", depth, l)
		}
		if r.InferPi.KVCache != "fp32" || r.InferPi.ContextSize != 128 || r.InferPi.Kernels == "" {
			t.Errorf("depth %v: InferPi's setup %+v", depth, r.InferPi)
		}
	}
}

// TestBenchLlamaBenchText: the table, one row per cell, and what differs; a round
// without a derived figure shows as such.
func TestBenchLlamaBenchText(t *testing.T) {
	// One GGUF file for both engines.
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := synthMain([]string{"--gguf", "--preset", "llama-tiny", "--dtype", "f16", "--output-dir", dir}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	gguf := filepath.Join(dir, "llama-tiny.F16.gguf")
	lb, argsLog := fakeLlamaBench(t, pgHelp, llamaOutput(2, [4]int64{16, 0, 0, 9e6}, [4]int64{0, 4, 0, 1e6}, [4]int64{16, 4, 0, 6e6}))
	err := benchMain([]string{"--llama-bench", lb, "--prompt", "16", "--tokens", "4", "--reps", "2", "--threads", "2", gguf}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if args, _ := os.ReadFile(argsLog); !strings.HasPrefix(string(args), "-m "+gguf+" ") {
		t.Errorf("llama-bench called with %q", args)
	}
	lines := strings.Split(stdout.String(), "\n")
	if len(lines) < 9 || !strings.HasPrefix(lines[0], "model") || !strings.HasPrefix(lines[1], "llama-tiny.F16.gguf") ||
		!strings.Contains(lines[1], "decode ") || !strings.Contains(lines[2], "decode after 16") || !strings.Contains(lines[3], "prefill 16") {
		t.Fatalf("table:\n%s", stdout.String())
	}
	// -pg (6 ms) took less than -p (9 ms): no figure for decoding after the prompt.
	if f := strings.Fields(lines[2]); f[len(f)-1] != "-" || !strings.Contains(lines[2], " - ") {
		t.Errorf("decode after the prompt without a figure: %q", lines[2])
	}
	for _, want := range []string{"2 threads each; 2 rounds", "What differs", "KV cache f16/f16", "repacked at load: q4_0_8x8",
		"its -pg 16,4 test less its -p 16 test", "KV cache fp16, a context of 128 positions"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestBenchLlamaBenchErrors(t *testing.T) {
	model := synthDir(t, "llama-tiny", "fp32")
	lb, _ := fakeLlamaBench(t, pgHelp, llamaOutput(2, [4]int64{16, 0, 0, 2e6}, [4]int64{0, 4, 0, 1e6}, [4]int64{16, 4, 0, 6e6}))
	notLB, _ := fakeLlamaBench(t, "usage: something else\n", nil)
	gguf := model + "=" + filepath.Join(t.TempDir(), "m.gguf")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--llama-bench-args", "-ctk f32", model}, "--llama-bench-args needs --llama-bench"},
		{[]string{"--llama-bench", lb, "--runc", lb, gguf}, "do not apply"},
		{[]string{"--llama-bench", lb, "--back-to-back", gguf}, "do not apply"},
		{[]string{"--llama-bench", lb, "--evict-mib", "0", gguf}, "do not apply"},
		{[]string{"--llama-bench", lb, "--llama-bench-args", "-t 4", gguf}, "-t is set by bench itself"},
		{[]string{"--llama-bench", notLB, gguf}, "not llama.cpp's llama-bench"},
		{[]string{"--llama-bench", filepath.Join(t.TempDir(), "missing"), gguf}, "--llama-bench"},
		{[]string{"--llama-bench", lb, model}, "llama-bench reads GGUF files"},
		{[]string{"--llama-bench", lb, "--threads", "1", "--prompt", "16", "--tokens", "4", gguf}, "ran on 2 threads, asked for 1"},
		{[]string{"--llama-bench", lb, "--prompt", "100", "--tokens", "40", gguf}, "context of 128"},
		{[]string{"--llama-bench", lb, "--prompt", "32", "--tokens", "4", gguf}, "no test with n_prompt 32"},
	} {
		var stdout, stderr bytes.Buffer
		err := benchMain(c.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error with %q", c.args, err, c.want)
		}
	}
}

// TestBenchBackToBack: the decode mode without anything between the tokens still
// reports a read bandwidth (measured apart) and no eviction.
func TestBenchBackToBack(t *testing.T) {
	dir := synthDir(t, "llama-tiny", "q4_0")
	var out, errOut bytes.Buffer
	if err := benchMain([]string{"--json", "--back-to-back", "--prompt", "20", "--tokens", "8", "--reps", "2", "--read-mib", "16", dir}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r["back_to_back"] != true || r["evict_bytes"] != 0.0 || r["read_buffer_bytes"] != float64(16<<20) {
		t.Errorf("back to back: %s", out.String())
	}
	for _, k := range benchKeys {
		if v, ok := r[k].(float64); !ok || !(v > 0) {
			t.Errorf("%s = %v", k, r[k])
		}
	}
	out.Reset()
	if err := benchMain([]string{"--back-to-back", "--prompt", "20", "--tokens", "8", "--reps", "1", "--read-mib", "16", dir}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "tokens back to back") {
		t.Errorf("list without the mode:\n%s", out.String())
	}
	if err := benchMain([]string{"--back-to-back", "--evict-mib", "8", dir}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "--evict-mib does not apply") {
		t.Errorf("--back-to-back with --evict-mib: %v", err)
	}
}
