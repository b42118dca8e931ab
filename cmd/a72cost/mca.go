package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// llvm-mca runs a loop body for many iterations on its model of a CPU's pipelines
// and reports the cycles they took; over many iterations that is the loop's
// steady state: throughput-bound or bound by the chains its registers carry from
// one iteration to the next, whichever is slower.

// mcaIterations is long enough that the first iterations' start-up (the pipeline
// filling) is lost in the total.
const mcaIterations = 1000

// mcaResult is llvm-mca's summary of one loop.
type mcaResult struct {
	iterations, instructions, cycles int
	blockRThroughput                 float64 // the resources' bound per iteration, without the chains
}

// perIteration is the steady-state cost of one iteration in cycles.
func (r mcaResult) perIteration() float64 { return float64(r.cycles) / float64(r.iterations) }

var mcaField = regexp.MustCompile(`(?m)^(Iterations|Instructions|Total Cycles|Block RThroughput):\s+([0-9.]+)\s*$`)

// parseMCA reads the summary at the top of llvm-mca's report.
func parseMCA(out []byte) (mcaResult, error) {
	var r mcaResult
	seen := map[string]bool{}
	for _, m := range mcaField.FindAllSubmatch(out, -1) {
		key, val := string(m[1]), string(m[2])
		if seen[key] {
			continue // the first summary is the loop's
		}
		seen[key] = true
		var err error
		switch key {
		case "Block RThroughput":
			r.blockRThroughput, err = strconv.ParseFloat(val, 64)
		case "Iterations":
			r.iterations, err = strconv.Atoi(val)
		case "Instructions":
			r.instructions, err = strconv.Atoi(val)
		case "Total Cycles":
			r.cycles, err = strconv.Atoi(val)
		}
		if err != nil {
			return r, fmt.Errorf("llvm-mca report: %s: %q", key, val)
		}
	}
	if len(seen) < 4 {
		return r, fmt.Errorf("llvm-mca report without its summary (Iterations, Instructions, Total Cycles, Block RThroughput)")
	}
	if r.iterations < 1 || r.cycles < 1 || r.instructions < 1 || r.cycles > 1<<40 || r.instructions > 1<<40 {
		return r, fmt.Errorf("llvm-mca report: %d iterations, %d instructions, %d cycles", r.iterations, r.instructions, r.cycles)
	}
	return r, nil
}

// mcaSource is a loop as llvm-mca's input: a label for the branches, the body.
// A store that advances its base register (post-index, "st1 { v0.4s }, [x0], #16")
// is given as the store and an add: llvm-mca issues an instruction when all its
// operands are ready, so the new base would wait for the stored data, and a loop
// that loads and stores through the same register (x[i] = f(x[i])) would run its
// iterations one after another, where the core computes the address apart from
// the data and overlaps them.
// Instructions marked in mark (if not nil) get the comment "// stream".
func mcaSource(insts []inst, mark []bool) string {
	var b strings.Builder
	b.WriteString(".Lloop:\n")
	for i, in := range insts {
		for j, line := range splitWriteback(in) {
			if j == 0 && mark != nil && mark[i] {
				line += "\t// stream"
			}
			b.WriteString("\t" + line + "\n")
		}
	}
	return b.String()
}

// splitWriteback returns a post-indexed store as the store and the add of its
// base register, and any other instruction as it is.
func splitWriteback(in inst) []string {
	ops := splitOperands(in.operands)
	n := len(ops)
	if !strings.HasPrefix(in.mnemonic, "st") || n < 3 || !strings.HasPrefix(ops[n-2], "[") || strings.Contains(ops[n-2], ",") {
		return []string{in.text()}
	}
	base := strings.Trim(ops[n-2], "[]")
	if regNum(base) < 0 || !strings.HasPrefix(base, "x") {
		return []string{in.text()}
	}
	return []string{in.mnemonic + "\t" + strings.Join(ops[:n-1], ", "), "add\t" + base + ", " + base + ", " + ops[n-1]}
}

// runMCA analyses a loop body for cpu (AArch64).
func runMCA(mca, cpu, src string) (mcaResult, error) {
	cmd := exec.Command(mca, "-mtriple=aarch64", "-mcpu="+cpu, fmt.Sprintf("-iterations=%d", mcaIterations), "-")
	cmd.Stdin = strings.NewReader(src)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return mcaResult{}, fmt.Errorf("%s: %v: %s", mca, err, strings.TrimSpace(stderr.String()))
	}
	return parseMCA(out)
}
