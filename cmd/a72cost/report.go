package main

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// The report: markdown tables, ready for docs/a72-cost-model.md.

func printKernels(w io.Writer, o options, results []result, pending []kernel) {
	withRef := len(o.ref) > 0
	fmt.Fprintf(w, "llvm-mca -mcpu=%s, %d iterations; throughput: %d cores at %.1f GHz, against %.1f GB/s of memory\n\n",
		o.cpu, mcaIterations, o.cores, o.ghz, o.memGBps)
	head := "| kernel | symbol | loop instructions | elements per iteration | cycles per iteration | cycles per 32 | GB/s | x memory |"
	rule := "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
	if withRef {
		head += " llama.cpp cycles per 32 | InferPi / llama.cpp |"
		rule += " ---: | ---: |"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, rule)
	for _, r := range results {
		line := fmt.Sprintf("| %s | %s | %d | %g | %.2f | %.2f | %.1f | %.2f |", r.label, r.symbol, r.insts, r.elems,
			r.mca.perIteration(), r.cyclesPer32(), r.gbps(o), r.gbps(o)/o.memGBps)
		if withRef {
			if c, ok := o.ref[strings.ToUpper(r.typ)]; ok && r.typ != "" {
				line += fmt.Sprintf(" %.2f | %.2f |", c, r.cyclesPer32()/c)
			} else {
				line += " | |"
			}
		}
		fmt.Fprintln(w, line)
	}
	for _, k := range pending {
		line := fmt.Sprintf("| %s | pending: no NEON kernel | | | | | | |", k.label)
		if withRef {
			if c, ok := o.ref[strings.ToUpper(k.typ)]; ok && k.typ != "" {
				line += fmt.Sprintf(" %.2f | |", c)
			} else {
				line += " | |"
			}
		}
		fmt.Fprintln(w, line)
	}
}

// typeGBps is what the cores stream through each weight type's matrix kernel.
type typeGBps map[string]float64

// compute is the time per token the matrix kernels take for tb, and the types
// without a kernel.
func (g typeGBps) compute(tb typeBytes) (seconds float64, missing []string) {
	for _, t := range tb.names() {
		v, ok := g[t]
		if !ok {
			missing = append(missing, t)
			continue
		}
		seconds += float64(tb[t]) / (v * 1e9)
	}
	return seconds, missing
}

// printModels prints the implied Pi 4 tokens/s of the models: bytes per
// token over the slower of memory and the matrix kernels.
func printModels(w io.Writer, o options, results []result) error {
	ours, theirs := typeGBps{}, typeGBps{}
	for _, r := range results {
		if r.typ != "" {
			ours[r.typ] = r.gbps(o)
		}
	}
	for _, k := range kernels {
		if c, ok := o.ref[strings.ToUpper(k.typ)]; ok && k.typ != "" {
			theirs[k.typ] = 32 * float64(k.num) / float64(k.den) / c * o.ghz * float64(o.cores)
		}
	}
	fmt.Fprintf(w, "\nImplied tokens/s on %d cores at %.1f GHz with %.1f GB/s of memory (weight matrices only; KV cache and work between matrices not counted)\n\n", o.cores, o.ghz, o.memGBps)
	head := "| model | MB per token, by type | memory-bound tok/s | InferPi kernels' bound tok/s | InferPi implied tok/s |"
	rule := "| --- | --- | ---: | ---: | ---: |"
	if len(theirs) > 0 {
		head += " llama.cpp kernels' bound tok/s | llama.cpp implied tok/s |"
		rule += " ---: | ---: |"
	}
	head += " seed tok/s |"
	rule += " ---: |"
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, rule)
	for _, m := range models {
		tb, err := m.bytesPerToken()
		if err != nil {
			return err
		}
		var parts []string
		for _, t := range tb.names() {
			parts = append(parts, fmt.Sprintf("%s %.1f", t, float64(tb[t])/1e6))
		}
		mem := float64(tb.total()) / (o.memGBps * 1e9)
		line := fmt.Sprintf("| %s | %.1f (%s) | %.1f |", m.name, float64(tb.total())/1e6, strings.Join(parts, ", "), 1/mem)
		for i, g := range []typeGBps{ours, theirs} {
			if i == 1 && len(theirs) == 0 {
				break
			}
			c, missing := g.compute(tb)
			if len(missing) > 0 {
				line += fmt.Sprintf(" pending (%s) | %.1f at most |", strings.Join(missing, ", "), 1/math.Max(mem, c))
				continue
			}
			line += fmt.Sprintf(" %.1f | %.1f |", 1/c, 1/math.Max(mem, c))
		}
		line += fmt.Sprintf(" %s |", m.seed)
		fmt.Fprintln(w, line)
	}
	return nil
}
