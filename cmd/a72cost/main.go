// Command a72cost is the Cortex-A72 cost model of InferPi's NEON kernels: it builds
// engine/kernels for arm64, disassembles each kernel's main loop from the binary
// (llvm-objdump), runs the loop through llvm-mca's model of the Cortex-A72, and
// prints the steady-state cycles per iteration and per 32 elements, what four cores
// at 1.5 GHz would stream through each kernel against a Raspberry Pi 4's memory
// (about 4.4 GB/s), and the tokens/s that implies for the models of the speed
// issue. scripts/a72-cost.sh installs Debian's llvm and runs it; the method and
// the results are in docs/a72-cost-model.md.
//
//	go run ./cmd/a72cost [-ref Q4_0=7.4,Q8_0=5.1,...]
//
// The same analysis for any AArch64 function (llama.cpp's kernels, compiled with
// aarch64-linux-gnu-gcc) or for a hand-written loop body:
//
//	go run ./cmd/a72cost -bin FILE.o -sym NAME -stream x3 -elem-bytes 18/32
//	go run ./cmd/a72cost -asm LOOP.s -elems 32 -elem-bytes 2/1
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

type options struct {
	objdump, mca, cpu string
	ghz, memGBps      float64
	cores             int
	ref               map[string]float64 // llama.cpp's cycles per 32 weights, by GGUF type
	list              io.Writer          // where -list prints each analysed loop, or nil
}

const usage = `usage: go run ./cmd/a72cost [-ref TYPE=CYCLES,...] [-kernels DIR] [-bin FILE]
       go run ./cmd/a72cost -bin FILE -sym NAME -stream xN -elem-bytes NUM/DEN [-inner-trips N] [-elems N]
       go run ./cmd/a72cost -asm LOOP.s -elems N -elem-bytes NUM/DEN

The Cortex-A72 cost model (docs/a72-cost-model.md). The first form builds the
kernels for arm64 and prints, for every NEON kernel of its table, the main loop's
steady-state cycles per iteration and per 32 elements of its stream (llvm-mca),
the GB/s of that stream -cores cores at -ghz would sustain against -mem GB/s of
memory, and the models' implied tokens/s. The second analyses one function of any
AArch64 ELF file (llama.cpp's kernels compiled with aarch64-linux-gnu-gcc), the
third a hand-written loop body. Needs llvm-objdump and llvm-mca
(scripts/a72-cost.sh installs them).

flags:
`

func main() {
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	var o options
	flag.StringVar(&o.objdump, "objdump", "llvm-objdump", "LLVM's disassembler")
	flag.StringVar(&o.mca, "mca", "llvm-mca", "LLVM's machine-code analyser")
	flag.StringVar(&o.cpu, "cpu", "cortex-a72", "the CPU llvm-mca models")
	flag.Float64Var(&o.ghz, "ghz", 1.5, "clock in GHz, for throughputs")
	flag.IntVar(&o.cores, "cores", 4, "cores, for throughputs")
	flag.Float64Var(&o.memGBps, "mem", 4.4, "memory read bandwidth in GB/s the throughputs are held against")
	kdir := flag.String("kernels", "engine/kernels", "the kernels' package directory (built for arm64; its *_arm64.s name the argument registers)")
	bin := flag.String("bin", "", "an AArch64 ELF file to analyse instead of building the kernels (with -sym)")
	sym := flag.String("sym", "", "with -bin: the function to analyse")
	stream := flag.String("stream", "", "with -sym: the register holding the counted stream at the function's entry (x0-x30)")
	asm := flag.String("asm", "", "a loop body in LLVM's assembly syntax to analyse as it is")
	elems := flag.Float64("elems", 0, "with -asm: the elements one iteration of the loop handles; with -sym, instead of the bytes the loop reads from the stream (for a loop that reads some bytes twice)")
	innerTrips := flag.Int("inner-trips", 0, "with -sym: analyse the loop around the main loop, that loop's body repeated this many times (a loop over a superblock's sub-blocks)")
	elemBytes := flag.String("elem-bytes", "", "with -sym or -asm: bytes per element as NUM/DEN (18/32 for q4_0)")
	list := flag.Bool("list", false, "print each analysed loop as llvm-mca reads it, the loads of the counted stream marked, on standard error")
	ref := flag.String("ref", "", "llama.cpp's cycles per 32 weights by type, TYPE=CYCLES,... (from -sym on ggml's kernels), to compare with")
	flag.Parse()
	if *list {
		o.list = os.Stderr
	}
	var err error
	if o.ref, err = parseRef(*ref); err != nil {
		fail(err)
	}
	switch {
	case *asm != "":
		err = runAsm(os.Stdout, o, *asm, *elems, *elemBytes)
	case *sym != "":
		err = runSymbol(os.Stdout, o, *bin, *sym, *stream, *elemBytes, *innerTrips, *elems)
	default:
		err = runKernels(os.Stdout, o, *kdir, *bin)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "a72cost: %v\n", err)
	os.Exit(1)
}

// parseRef reads -ref: "Q4_0=7.4,Q8_0=5.1".
func parseRef(s string) (map[string]float64, error) {
	ref := map[string]float64{}
	for _, kv := range strings.Split(s, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		t, v, ok := strings.Cut(kv, "=")
		c, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil || !(c > 0 && c < 1e6) {
			return nil, fmt.Errorf("-ref: %q is not TYPE=CYCLES", kv)
		}
		ref[strings.ToUpper(t)] = c
	}
	return ref, nil
}

// parseFraction reads NUM/DEN (or NUM).
func parseFraction(s string) (num, den int, err error) {
	n, d, ok := strings.Cut(s, "/")
	if !ok {
		d = "1"
	}
	num, err1 := strconv.Atoi(n)
	den, err2 := strconv.Atoi(d)
	if err1 != nil || err2 != nil || num < 1 || den < 1 || num > 1<<20 || den > 1<<20 {
		return 0, 0, fmt.Errorf("-elem-bytes %q: want NUM/DEN, e.g. 18/32", s)
	}
	return num, den, nil
}

// result is one analysed loop.
type result struct {
	label, symbol string
	typ           string  // a matrix kernel's GGUF type
	insts         int     // instructions in the loop
	elems         float64 // elements of the stream one iteration handles
	num, den      int     // bytes per element
	mca           mcaResult
}

func (r result) cyclesPer32() float64 { return r.mca.perIteration() * 32 / r.elems }

// gbps is what o.cores cores at o.ghz stream through the loop, in GB/s of the stream.
func (r result) gbps(o options) float64 {
	bytesPerCycle := r.elems * float64(r.num) / float64(r.den) / r.mca.perIteration()
	return bytesPerCycle * o.ghz * float64(o.cores)
}

// analyse finds fn's main loop over the stream starting in register start (with
// its inner loop repeated innerTrips times, see mainLoop), and runs it through
// llvm-mca.
func analyse(o options, fn function, start, innerTrips, num, den int) (result, error) {
	l, err := mainLoop(fn, start, innerTrips)
	if err != nil {
		return result{}, err
	}
	r := result{symbol: fn.name, insts: len(l.insts), num: num, den: den,
		elems: float64(l.streamBytes) * float64(den) / float64(num)}
	if o.list != nil {
		fmt.Fprintf(o.list, "// %s: %d bytes of the stream per iteration\n%s\n", fn.name, l.streamBytes, mcaSource(l.insts, l.stream))
	}
	if r.mca, err = runMCA(o.mca, o.cpu, mcaSource(l.insts, nil)); err != nil {
		return result{}, fmt.Errorf("%s: %v", fn.name, err)
	}
	return r, nil
}

// runAsm analyses a hand-written loop body.
func runAsm(w io.Writer, o options, path string, elems float64, elemBytes string) error {
	num, den, err := parseFraction(elemBytes)
	if err != nil {
		return err
	}
	if !(elems > 0) {
		return errors.New("-asm needs -elems, the elements one iteration handles")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	r := result{label: filepath.Base(path), symbol: path, elems: elems, num: num, den: den}
	if r.mca, err = runMCA(o.mca, o.cpu, string(src)); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	r.insts = r.mca.instructions / r.mca.iterations
	printKernels(w, o, []result{r}, nil)
	return nil
}

// runSymbol analyses one function of an ELF file.
func runSymbol(w io.Writer, o options, bin, sym, stream, elemBytes string, innerTrips int, elems float64) error {
	if bin == "" {
		return errors.New("-sym needs -bin, the file that holds it")
	}
	start := regNum(stream)
	if start < 0 || !strings.HasPrefix(stream, "x") {
		return fmt.Errorf("-stream %q: want the register x0-x30 that holds the stream at the function's entry", stream)
	}
	num, den, err := parseFraction(elemBytes)
	if err != nil {
		return err
	}
	if innerTrips < 0 || innerTrips > 64 {
		return fmt.Errorf("-inner-trips %d: want 0 to 64", innerTrips)
	}
	fns, err := disassemble(o.objdump, bin, []string{sym})
	if err != nil {
		return err
	}
	if len(fns) == 0 {
		return fmt.Errorf("%s: no function %s", bin, sym)
	}
	r, err := analyse(o, fns[0], start, innerTrips, num, den)
	if err != nil {
		return err
	}
	if elems > 0 {
		r.elems = elems
	}
	r.label = sym
	printKernels(w, o, []result{r}, nil)
	return nil
}

// runKernels builds the kernels for arm64 (unless bin is given) and analyses
// every kernel of the table that exists.
func runKernels(w io.Writer, o options, dir, bin string) error {
	regs, err := argRegisters(dir)
	if err != nil {
		return err
	}
	if bin == "" {
		tmp, err := os.MkdirTemp("", "a72cost-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		bin = filepath.Join(tmp, "kernels.test")
		cmd := exec.Command("go", "test", "-c", "-o", bin, "./"+filepath.ToSlash(filepath.Clean(dir)))
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building %s for arm64: %v", dir, err)
		}
	}
	// Assembly functions are the ".abi0" symbols; the kernels end in NEON.
	short := func(sym string) string {
		s := strings.TrimSuffix(sym, ".abi0")
		return s[strings.LastIndex(s, ".")+1:]
	}
	names, err := symbols(bin, func(s string) bool {
		return strings.HasSuffix(s, "NEON.abi0") && strings.Contains(s, "/kernels.")
	})
	if err != nil {
		return err
	}
	fns, err := disassemble(o.objdump, bin, names)
	if err != nil {
		return err
	}
	byName := map[string]function{}
	for _, f := range fns {
		byName[short(f.name)] = f
	}
	var results []result
	var pending []kernel
	listed := map[string]bool{}
	for _, kn := range kernels {
		var fn function
		found := false
		for name, f := range byName {
			if kn.symbol.MatchString(name) {
				fn, found = f, true
				listed[name] = true
			}
		}
		if !found {
			pending = append(pending, kn)
			continue
		}
		reg, ok := regs[short(fn.name)][kn.stream]
		if !ok {
			return fmt.Errorf("%s: no MOVD %s+N(FP), Rn in its assembly", short(fn.name), kn.stream)
		}
		r, err := analyse(o, fn, reg, kn.innerTrips, kn.num, kn.den)
		if err != nil {
			return err
		}
		r.label, r.symbol, r.typ = kn.label, short(fn.name), kn.typ
		results = append(results, r)
	}
	printKernels(w, o, results, pending)
	var unlisted []string
	for name := range byName {
		if !listed[name] {
			unlisted = append(unlisted, name)
		}
	}
	sort.Strings(unlisted)
	if len(unlisted) > 0 {
		fmt.Fprintf(w, "\nNEON kernels not in the table (cmd/a72cost/kernels.go): %s\n", strings.Join(unlisted, ", "))
	}
	return printModels(w, o, results)
}
