package main

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const kpkg = "github.com/inferpi/inferpi/engine/kernels."

// recordedKernels is llvm-objdump's listing of five NEON kernels (testdata).
func recordedKernels(t *testing.T) map[string]function {
	t.Helper()
	out, err := os.ReadFile(filepath.Join("testdata", "kernels.objdump"))
	if err != nil {
		t.Fatal(err)
	}
	fns, err := parseObjdump(out)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]function{}
	for _, f := range fns {
		m[strings.TrimSuffix(strings.TrimPrefix(f.name, kpkg), ".abi0")] = f
	}
	return m
}

func TestParseObjdump(t *testing.T) {
	fns := recordedKernels(t)
	if len(fns) != 5 {
		t.Fatalf("%d functions, want 5", len(fns))
	}
	q4 := fns["matVecQ4NEON"]
	first, last := q4.insts[0], q4.insts[len(q4.insts)-1]
	if first.addr != 0x1b1ff0 || first.mnemonic != "ldr" || first.operands != "x0, [sp, #8]" || last.mnemonic != "ret" {
		t.Errorf("matVecQ4NEON from %+v to %+v", first, last)
	}
	branches := 0
	for _, in := range q4.insts {
		if in.branch {
			branches++
			if in.target < q4.insts[0].addr || in.target > last.addr {
				t.Errorf("%+v: destination outside the function", in)
			}
		}
	}
	// q4by8 (BLT out, B back), q4by1 (CBZ out, B back), BNE back to q4row
	if branches != 5 {
		t.Errorf("%d branches in matVecQ4NEON, want 5", branches)
	}
	b := inst{mnemonic: "b.lt", operands: "0x1b21a0 <x+0x1b0>", branch: true}
	if b.text() != "b.lt\t.Lloop" {
		t.Errorf("branch for llvm-mca: %q", b.text())
	}
	c := inst{mnemonic: "cbz", operands: "x6, 0x1b21a0 <x+0x1b0>", branch: true}
	if c.text() != "cbz\tx6, .Lloop" {
		t.Errorf("cbz for llvm-mca: %q", c.text())
	}
	for _, bad := range []string{
		"  1000:  \tldr x0, [sp]\n",                           // before any symbol
		"0000000000001000 <f>:\n  1004:\tnop\n  1000:\tnop\n", // addresses backwards
		"0000000000001000 <f>:\n  1000:\tb.ne\tsomewhere\n",   // no destination
		"0000000000001000 <f>:\n  1000:\tb\t0xzz <f>\n",       // bad destination
		"0000000000001000 f>:\n",                              // no name
	} {
		if _, err := parseObjdump([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestMainLoops: each kernel's main loop, found by its backward branch and the
// bytes it reads from its stream, is the unrolled body, and the elements per
// iteration follow from those bytes.
func TestMainLoops(t *testing.T) {
	fns := recordedKernels(t)
	for _, c := range []struct {
		name        string
		streamReg   int
		bytes       int
		insts       int
		firstInLoop string
	}{
		{"matVecQ4NEON", 1, 144, 93, "cmp\tx6, #8"},         // 8 blocks of 18 bytes: 256 weights
		{"matVecF16NEON", 1, 64, 23, "cmp\tx6, #32"},        // 32 fp16 weights
		{"scoresNEON", 1, 64, 13, "prfm\tpldl1keep, [x11]"}, // 4 keys x 4 values, through x7-x10
		{"mixNEON", 1, 128, 15, "ldr\ts16, [x2], #4"},       // 32 values of a position, through x8
		{"swigluNEON", 0, 16, 34, "ld1\t{ v0.4s }, [x0]"},
	} {
		l, err := mainLoop(fns[c.name], c.streamReg, 0)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if l.streamBytes != c.bytes || len(l.insts) != c.insts || l.insts[0].text() != c.firstInLoop || !l.insts[len(l.insts)-1].branch {
			t.Errorf("%s: %d bytes, %d instructions from %q; want %d, %d from %q", c.name, l.streamBytes, len(l.insts), l.insts[0].text(), c.bytes, c.insts, c.firstInLoop)
		}
	}
	// The loop counts only the stream's loads: x's (R2, copied to x5 for each
	// row) are not the weights'.
	if l, _ := mainLoop(fns["matVecQ4NEON"], 2, 0); l.streamBytes != 256 {
		t.Errorf("x stream of matVecQ4NEON: %d bytes per iteration, want 256", l.streamBytes)
	}
	if _, err := mainLoop(fns["matVecQ4NEON"], 20, 0); err == nil {
		t.Error("a stream no loop reads gave a loop")
	}
	// matVecQ4NEON's by8 loop is inside the row loop: with its body twice, the
	// row loop reads 288 bytes through x1, plus the by1 tail's 18.
	if l, err := mainLoop(fns["matVecQ4NEON"], 1, 2); err != nil || l.streamBytes != 2*144+18 {
		t.Errorf("row loop with the block loop twice: %d bytes, %v", l.streamBytes, err)
	}
	if _, err := mainLoop(fns["swigluNEON"], 0, 2); err == nil {
		t.Error("a loop with nothing around it was expanded")
	}
}

func TestLoadBytes(t *testing.T) {
	for _, c := range []struct {
		m, ops  string
		n, base int
	}{
		{"ld1", "{ v0.16b, v1.16b, v2.16b, v3.16b }, [x1], #64", 64, 1},
		{"ld1", "{ v24.8h }, [x1], #16", 16, 1},
		{"ld1", "{ v5.4h }, [x7], #8", 8, 7},
		{"ld1", "{ v0.s }[1], [x3]", 4, 3},
		{"ld1r", "{ v0.4s }, [x2]", 4, 2},
		{"ld2", "{ v0.8b, v1.8b }, [x4], #16", 16, 4},
		{"ldr", "q2, [x8, #64]", 16, 8},
		{"ldr", "s16, [x2], #4", 4, 2},
		{"ldr", "x0, [sp, #8]", 0, -1},
		{"ldur", "h7, [x4, #-2]", 2, 4},
		{"ldurh", "w5, [x4, #-4]", 2, 4},
		{"ldrh", "w9, [x1], #2", 2, 1},
		{"ldursb", "w21, [x0, #-7]", 1, 0},
		{"ldrsw", "x3, [x9, x2, lsl #2]", 4, 9},
		{"ldp", "q6, q16, [x2]", 32, 2},
		{"ldp", "d7, d6, [x2]", 16, 2},
		{"ldr", "w0, 0x1000", 0, -1},
		{"st1", "{ v0.4s }, [x0], #16", 0, -1},
		{"ld1", "{ v0 }, [x0]", 0, 0},
		{"ld1", "{ v0.xx }, [x0]", 0, 0},
		{"ld1", "v0.4s, [x0]", 0, 0},
	} {
		n, base := loadBytes(inst{mnemonic: c.m, operands: c.ops})
		if n != c.n || (n > 0 && base != c.base) {
			t.Errorf("%s %s: %d bytes through x%d, want %d through x%d", c.m, c.ops, n, base, c.n, c.base)
		}
	}
}

func TestSplitWriteback(t *testing.T) {
	for _, c := range []struct {
		m, ops string
		want   []string
	}{
		{"st1", "{ v0.4s }, [x0], #16", []string{"st1\t{ v0.4s }, [x0]", "add\tx0, x0, #16"}},
		{"str", "s17, [x1], #4", []string{"str\ts17, [x1]", "add\tx1, x1, #4"}},
		{"stp", "q0, q1, [x3], x5", []string{"stp\tq0, q1, [x3]", "add\tx3, x3, x5"}},
		{"st1", "{ v0.4s }, [x0]", []string{"st1\t{ v0.4s }, [x0]"}},
		{"str", "q0, [x0, #16]", []string{"str\tq0, [x0, #16]"}},
		{"str", "q0, [sp], #16", []string{"str\tq0, [sp], #16"}},
		{"ld1", "{ v0.4s }, [x0], #16", []string{"ld1\t{ v0.4s }, [x0], #16"}},
	} {
		got := splitWriteback(inst{mnemonic: c.m, operands: c.ops})
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s %s: %q, want %q", c.m, c.ops, got, c.want)
		}
	}
}

func TestParseMCA(t *testing.T) {
	out, err := os.ReadFile(filepath.Join("testdata", "bf16-shll.mca"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := parseMCA(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.iterations != 1000 || r.instructions != 23000 || r.cycles != 16023 || r.blockRThroughput != 12 || r.perIteration() != 16.023 {
		t.Errorf("%+v", r)
	}
	for _, bad := range []string{"", "Iterations: 10\nInstructions: 10\nTotal Cycles: 10\n",
		"Iterations: 0\nInstructions: 10\nTotal Cycles: 10\nBlock RThroughput: 1.0\n",
		"Iterations: 99999999999999999999\nInstructions: 10\nTotal Cycles: 10\nBlock RThroughput: 1.0\n"} {
		if _, err := parseMCA([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestArgRegisters reads the kernels' own assembly: where each argument goes.
func TestArgRegisters(t *testing.T) {
	regs, err := argRegisters(filepath.Join("..", "..", "engine", "kernels"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sym, arg string
		reg      int
	}{{"matVecQ4NEON", "w", 1}, {"matVecQ4NEON", "xq", 2}, {"scoresF16x2NEON", "k", 1}, {"mixNEON", "v", 1}, {"swigluNEON", "h", 0}} {
		if r, ok := regs[c.sym][c.arg]; !ok || r != c.reg {
			t.Errorf("%s %s: R%d (%v), want R%d", c.sym, c.arg, r, ok, c.reg)
		}
	}
	// Every kernel of the table that exists names its stream's register.
	for _, k := range kernels {
		for name, args := range regs {
			if _, ok := args[k.stream]; k.symbol.MatchString(name) && !ok {
				t.Errorf("%s: no register for its stream %s", name, k.stream)
			}
		}
	}
	src := []byte("TEXT ·a(SB), NOSPLIT, $0-16\n\tMOVD p+0(FP), R3\n\tMOVD p+0(FP), R4\nTEXT ·b(SB), NOSPLIT, $0-8\n\tMOVD q+8(FP), R31\n")
	got := parseArgRegisters(src)
	if got["a"]["p"] != 3 || len(got["b"]) != 0 {
		t.Errorf("%v", got)
	}
}

// TestModelBytes: the bytes per token of the models, from their shapes and
// llama-quantize's rules.
func TestModelBytes(t *testing.T) {
	want := map[string]typeBytes{
		// 110.1M matrix weights in fp16, as engine/gpt counts gpt-286m's
		"gpt-286m fp16": {"F16": 2 * 110100480},
		// 51.77M, as README's 103.5 MB
		"llama-50m fp16": {"F16": 2 * 51773440},
	}
	for _, m := range models {
		tb, err := m.bytesPerToken()
		if err != nil {
			t.Fatal(err)
		}
		if w, ok := want[m.name]; ok {
			if len(tb) != 1 || tb["F16"] != w["F16"] {
				t.Errorf("%s: %v, want %v", m.name, tb, w)
			}
		}
		switch m.name {
		case "TinyLlama-1.1B Q4_K_M":
			// the output matrix in Q6_K, attn_v and ffn_down in Q6_K in the 10 of 22
			// layers of use_more_bits (0, 1, 4, 7, 10, 13, 16, 19, 20, 21)
			out := int64(32000 * 2048 / 256 * 210)
			v := int64(10 * 256 * 2048 / 256 * 210)
			down := int64(10 * 2048 * 5632 / 256 * 210)
			if tb["Q6_K"] != out+v+down || len(tb) != 2 {
				t.Errorf("%s: %v, want Q6_K %d", m.name, tb, out+v+down)
			}
		case "Qwen2.5-0.5B Q4_K_M":
			// rows of 896 are not whole K blocks: Q5_0 and Q8_0 stand in
			if tb["Q8_0"] < 151936*896/32*34 || tb["Q5_0"] == 0 || tb["Q4_K"] == 0 {
				t.Errorf("%s: %v", m.name, tb)
			}
		}
	}
}

func TestFlags(t *testing.T) {
	ref, err := parseRef("q4_0=11.77, F16=32.05,")
	if err != nil || ref["Q4_0"] != 11.77 || ref["F16"] != 32.05 || len(ref) != 2 {
		t.Errorf("%v %v", ref, err)
	}
	for _, bad := range []string{"Q4_0", "Q4_0=x", "Q4_0=-1", "Q4_0=NaN", "Q4_0=1e9"} {
		if _, err := parseRef(bad); err == nil {
			t.Errorf("-ref %q accepted", bad)
		}
	}
	if n, d, err := parseFraction("18/32"); n != 18 || d != 32 || err != nil {
		t.Errorf("18/32: %d/%d %v", n, d, err)
	}
	if n, d, err := parseFraction("4"); n != 4 || d != 1 || err != nil {
		t.Errorf("4: %d/%d %v", n, d, err)
	}
	for _, bad := range []string{"", "0/1", "1/0", "a/b", "-2/3"} {
		if _, _, err := parseFraction(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	r := result{elems: 256, num: 18, den: 32, mca: mcaResult{iterations: 1000, cycles: 48000}}
	// 48 cycles per 8 blocks: 6 per 32; 144 bytes per 48 cycles on 4 cores at 1.5 GHz
	if r.cyclesPer32() != 6 || math.Abs(r.gbps(options{ghz: 1.5, cores: 4})-18) > 1e-9 {
		t.Errorf("%v cycles per 32, %v GB/s", r.cyclesPer32(), r.gbps(options{ghz: 1.5, cores: 4}))
	}
}

// TestWithLLVM runs llvm-mca on a hand-written loop and the whole report on the
// kernels, where LLVM is installed (scripts/a72-cost.sh installs it).
func TestWithLLVM(t *testing.T) {
	for _, tool := range []string{"llvm-mca", "llvm-objdump"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	o := options{objdump: "llvm-objdump", mca: "llvm-mca", cpu: "cortex-a72", ghz: 1.5, cores: 4, memGBps: 4.4}
	var out bytes.Buffer
	if err := runAsm(&out, o, filepath.Join("testdata", "bf16-shll.s"), 32, "2/1"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "| bf16-shll.s | ") {
		t.Errorf("report:\n%s", out.String())
	}
	if testing.Short() {
		t.Skip("building the kernels for arm64 takes a while")
	}
	out.Reset()
	if err := runKernels(&out, o, filepath.Join("..", "..", "engine", "kernels"), ""); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| matvec q4_0 | matVecQ4NEON | ", "| attention mix, fp16 cache | mixF16NEON | ", "| llama-50m fp16 | 103.5 "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func FuzzParseObjdump(f *testing.F) {
	out, err := os.ReadFile(filepath.Join("testdata", "kernels.objdump"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(out)
	f.Add([]byte("0000000000001000 <f>:\n  1000:\tld1\t{ v0.4s }, [x0], #16\n  1004:\tb.ne\t0x1000 <f>\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		fns, err := parseObjdump(out)
		if err != nil {
			return
		}
		for _, fn := range fns {
			for start := range 3 {
				for trips := range 3 {
					if l, err := mainLoop(fn, start, trips); err == nil && (l.streamBytes <= 0 || len(l.insts) == 0) {
						t.Fatalf("%s: loop %+v", fn.name, l)
					}
				}
			}
			for _, in := range fn.insts {
				splitWriteback(in)
			}
		}
	})
}

func FuzzParseMCA(f *testing.F) {
	out, err := os.ReadFile(filepath.Join("testdata", "bf16-shll.mca"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(out)
	f.Fuzz(func(t *testing.T, out []byte) {
		r, err := parseMCA(out)
		if err == nil && !(r.perIteration() > 0) {
			t.Fatalf("%+v", r)
		}
	})
}

func FuzzParseArgRegisters(f *testing.F) {
	src, err := os.ReadFile(filepath.Join("..", "..", "engine", "kernels", "blocks_arm64.s"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(src)
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, args := range parseArgRegisters(src) {
			for _, r := range args {
				if r < 0 || r > 30 {
					t.Fatalf("register %d", r)
				}
			}
		}
	})
}
