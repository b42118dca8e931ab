package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine/modeldir"
)

// synthDir makes a small synthetic model with `inferpi synth` in a temporary dir.
func synthDir(t *testing.T, preset, dtype string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), preset+"-"+dtype)
	var o, e bytes.Buffer
	if err := synthMain([]string{"--preset", preset, "--dtype", dtype, "--output-dir", dir}, &o, &e); err != nil {
		t.Fatalf("synth %s %s: %v\n%s", preset, dtype, err, e.String())
	}
	return dir
}

// The keys --json must print, and the relations between them.
var benchKeys = []string{"decode_tokens_per_sec", "prefill_tokens_per_sec", "weight_bytes_per_token",
	"achieved_gbps", "machine_read_gbps", "bandwidth_ratio"}

func TestBenchJSON(t *testing.T) {
	dirs := []string{synthDir(t, "gpt-tiny", "fp16"), synthDir(t, "llama-tiny", "q8_0")}
	var out, errOut bytes.Buffer
	threads := min(2, runtime.GOMAXPROCS(0)) // bench refuses more than it can use
	args := append([]string{"--json", "--prompt", "40", "--tokens", "8", "--reps", "2", "--threads", strconv.Itoa(threads), "--read-mib", "64", "--evict-mib", "8"}, dirs...)
	if err := benchMain(args, &out, &errOut); err != nil {
		t.Fatalf("bench: %v\n%s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(dirs) {
		t.Fatalf("%d lines of output for %d models:\n%s", len(lines), len(dirs), out.String())
	}
	for i, line := range lines {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", i, err, line)
		}
		num := func(k string) float64 {
			v, ok := r[k].(float64)
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%s: key %s is %v, want a number", dirs[i], k, r[k])
			}
			return v
		}
		for _, k := range benchKeys {
			if num(k) <= 0 {
				t.Errorf("%s: %s = %v, want > 0", dirs[i], k, r[k])
			}
		}
		m, err := modeldir.Open(dirs[i], modeldir.Overrides{})
		if err != nil {
			t.Fatal(err)
		}
		info := m.Info()
		if int64(num("weight_bytes_per_token")) != info.WeightBytesPerToken || r["engine"] != info.Engine || r["model"] != dirs[i] {
			t.Errorf("%s: reported %v bytes per token (%v, %v), the model reads %d (%s)", dirs[i], r["weight_bytes_per_token"], r["engine"], r["model"], info.WeightBytesPerToken, info.Engine)
		}
		achieved := num("weight_bytes_per_token") * num("decode_tokens_per_sec") / 1e9
		if rel(num("achieved_gbps"), achieved) > 1e-9 || rel(num("bandwidth_ratio"), achieved/num("machine_read_gbps")) > 1e-9 {
			t.Errorf("%s: achieved %v GB/s and ratio %v do not follow from the other figures", dirs[i], r["achieved_gbps"], r["bandwidth_ratio"])
		}
		// Sane: any machine reads memory at 0.1-1000 GB/s, and nothing in a decoding
		// step makes weights arrive faster than memory by orders of magnitude (these
		// tiny models are in cache, so above 1 is possible).
		if v := num("machine_read_gbps"); v < 0.1 || v > 1000 {
			t.Errorf("%s: machine read %v GB/s", dirs[i], v)
		}
		if v := num("bandwidth_ratio"); v > 50 {
			t.Errorf("%s: bandwidth ratio %v", dirs[i], v)
		}
		if int64(num("read_bytes")) != min(info.WeightBytesPerToken, 64<<20) {
			t.Errorf("%s: read samples of %v bytes, want the token's %d", dirs[i], r["read_bytes"], info.WeightBytesPerToken)
		}
		if num("threads") != float64(threads) || num("prompt_tokens") != 40 || num("decode_tokens") != 8 || num("reps") != 2 ||
			num("read_buffer_bytes") != 72<<20 || num("evict_bytes") != 8<<20 {
			t.Errorf("%s: settings not reported as given: %s", dirs[i], line)
		}
		if _, ok := r["runc_tokens_per_sec"]; ok {
			t.Errorf("%s: run.c figure without --runc", dirs[i])
		}
		if v := num("load_average"); v < 0 && v != -1 {
			t.Errorf("%s: load average %v", dirs[i], v)
		}
	}
}

func rel(a, b float64) float64 { return math.Abs(a-b) / math.Max(math.Abs(b), 1e-300) }

func TestBenchText(t *testing.T) {
	gpt, llama := synthDir(t, "gpt-tiny", "q4_0"), synthDir(t, "llama-tiny", "fp32")
	var out, errOut bytes.Buffer
	if err := benchMain([]string{gpt, "--prompt", "20", "--tokens", "4", "--reps", "1", "--read-mib", "16", "--evict-mib", "0"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"prefill:", "decode:", "machine read:", "bandwidth ratio:", "(GPT, q4_0,"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("single-model output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := benchMain([]string{gpt, llama, "--prompt", "20", "--tokens", "4", "--reps", "1", "--read-mib", "16", "--evict-mib", "0"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "model") || !strings.HasPrefix(lines[1], "gpt-tiny-q4_0") || !strings.HasPrefix(lines[2], "llama-tiny-fp32") {
		t.Errorf("table:\n%s", out.String())
	}
}

// TestBenchRunC: --runc runs the given binary on fp32 Llama models only, with
// run.c's arguments, and reports the speed it prints. A shell script stands in for
// llama2.c's run.
func TestBenchRunC(t *testing.T) {
	llama32, llama16 := synthDir(t, "llama-tiny", "fp32"), synthDir(t, "llama-tiny", "fp16")
	argsFile := filepath.Join(t.TempDir(), "args")
	run := filepath.Join(t.TempDir(), "run")
	script := "#!/bin/sh\necho \"$@\" >> " + argsFile + "\necho 'Once upon a time ...'\necho 'achieved tok/s: 1234.5' >&2\n"
	if err := os.WriteFile(run, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err := benchMain([]string{"--json", "--runc", run, "--prompt", "8", "--tokens", "16", "--reps", "1", "--read-mib", "16", llama32, llama16}, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var r32, r16 map[string]any
	json.Unmarshal([]byte(lines[0]), &r32)
	json.Unmarshal([]byte(lines[1]), &r16)
	if r32["runc_tokens_per_sec"] != 1234.5 {
		t.Errorf("fp32 model: runc_tokens_per_sec = %v, want 1234.5", r32["runc_tokens_per_sec"])
	}
	if _, ok := r16["runc_tokens_per_sec"]; ok {
		t.Errorf("fp16 model (which run.c cannot read) has a run.c figure")
	}
	args, _ := os.ReadFile(argsFile)
	want := filepath.Join(llama32, "model.bin") + " -z " + filepath.Join(llama32, "tokenizer.bin") + " -t 0 -n 24 -i Once upon a time\n"
	if string(args) != want {
		t.Errorf("run called with %q, want %q", args, want)
	}

	os.WriteFile(run, []byte("#!/bin/sh\necho nothing\n"), 0o755)
	if err := benchMain([]string{"--runc", run, "--prompt", "8", "--tokens", "4", "--reps", "1", "--read-mib", "16", llama32}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "achieved tok/s") {
		t.Errorf("run without a speed line: %v", err)
	}
}

func TestBenchErrors(t *testing.T) {
	tiny := synthDir(t, "llama-tiny", "fp16") // context 128
	var out, errOut bytes.Buffer
	if err := benchMain(nil, &out, &errOut); err == nil || !strings.Contains(errOut.String(), "want at least one model") {
		t.Errorf("no directory: %v %q", err, errOut.String())
	}
	err := benchMain([]string{tiny, "--prompt", "120", "--tokens", "20", "--read-mib", "16", "--evict-mib", "0"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), tiny) || !strings.Contains(err.Error(), "context of 128") {
		t.Errorf("prompt beyond the context: %v", err)
	}
	if err := benchMain([]string{tiny, "--reps", "0"}, &out, &errOut); err == nil {
		t.Error("--reps 0 accepted")
	}
	if err := benchMain([]string{tiny, "--evict-mib", "-2"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "--evict-mib") {
		t.Errorf("--evict-mib -2: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "nothing")
	if err := benchMain([]string{missing, "--read-mib", "16", "--evict-mib", "0"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing directory: %v", err)
	}
}

func TestSynthCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	dir := filepath.Join(t.TempDir(), "m")
	if err := synthMain([]string{"--preset", "gpt-tiny", "--dtype", "q4_0", "--seed", "3", "--output-dir", dir}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "(q4_0, gpt-tiny,") || !strings.Contains(errOut.String(), "seed 3") {
		t.Errorf("progress output %q", errOut.String())
	}
	m, err := modeldir.Open(dir, modeldir.Overrides{})
	if err != nil || m.Info().Engine != "GPT" || !strings.HasPrefix(m.Info().Encoding, "q4_0") {
		t.Fatalf("synthesized model: %v %+v", err, m)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--preset", "gpt-9b", "--output-dir", dir}, "no preset \"gpt-9b\""},
		{[]string{"--preset", "gpt-tiny", "--dtype", "q3_k", "--output-dir", dir}, `--dtype "q3_k": want fp32, fp16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k or q6_k`},
	} {
		if err := synthMain(c.args, &out, &errOut); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error with %q", c.args, err, c.want)
		}
	}
	// --gguf: one GGUF file named after the preset and the file type.
	errOut.Reset()
	if err := synthMain([]string{"--gguf", "--preset", "llama-tiny", "--dtype", "q4_k_m", "--output-dir", dir}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	g, err := os.ReadFile(filepath.Join(dir, "llama-tiny.Q4_K_M.gguf"))
	if err != nil || !bytes.HasPrefix(g, []byte("GGUF")) || !strings.Contains(errOut.String(), "(Q4_K_M, llama-tiny,") {
		t.Errorf("--gguf: %v, %q", err, errOut.String())
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--gguf", "--preset", "gpt-tiny", "--dtype", "q8_0", "--output-dir", dir}, "Llama presets"},
		{[]string{"--gguf", "--preset", "llama-tiny", "--dtype", "q3_k", "--output-dir", dir}, "unknown target"},
	} {
		if err := synthMain(c.args, &out, &errOut); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error with %q", c.args, err, c.want)
		}
	}
	errOut.Reset()
	if err := synthMain([]string{"--preset", "gpt-tiny"}, &out, &errOut); err == nil || !strings.Contains(errOut.String(), "usage: inferpi synth") {
		t.Errorf("missing --output-dir: %v %q", err, errOut.String())
	}
}

func FuzzParseRunCSpeed(f *testing.F) {
	f.Add([]byte("Once upon a time\nachieved tok/s: 312.500000\n"))
	f.Add([]byte("achieved tok/s: 0\n"))
	f.Add([]byte("achieved tok/s: 1e400"))
	f.Add([]byte("achieved tok/s: 99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, out []byte) {
		v, err := parseRunCSpeed(out)
		if err == nil && (v <= 0 || math.IsInf(v, 0) || math.IsNaN(v)) {
			t.Fatalf("speed %v accepted from %q", v, out)
		}
		if err == nil && !bytes.Contains(out, []byte("achieved tok/s: ")) {
			t.Fatalf("speed %v found in %q", v, out)
		}
	})
}

// TestLargestCache: the eviction read's default comes from sysfs sizes in the
// kernel's spellings, and never from a value it cannot read.
func TestLargestCache(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		text string
		want int64
		ok   bool
	}{{"48K\n", 48 << 10, true}, {"307200K\n", 300 << 20, true}, {"1M", 1 << 20, true}, {"2G", 2 << 30, true},
		{"", 0, false}, {"K", 0, false}, {"-4K", 0, false}, {"12Q", 0, false}} {
		p := filepath.Join(dir, "size")
		if err := os.WriteFile(p, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		if n, ok := parseCacheSize(p); n != c.want || ok != c.ok {
			t.Errorf("%q: %d, %v; want %d, %v", c.text, n, ok, c.want, c.ok)
		}
	}
	if _, ok := parseCacheSize(filepath.Join(dir, "missing")); ok {
		t.Error("a missing file gave a size")
	}
	if n := largestCache(); n < 32<<10 {
		t.Errorf("largest cache %d bytes", n)
	}
}
