package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
)

// The kernels' Go assembly says which register receives which argument
// ("MOVD w+8(FP), R1"): that is where a kernel's counted stream starts, found by
// the argument's name rather than by position, so that a kernel may change
// registers without the table below changing.

var (
	textLine = regexp.MustCompile(`(?m)^TEXT\s+·(\w+)\(SB\)`)
	argLoad  = regexp.MustCompile(`(?m)^\s*MOVD\s+(\w+)\+\d+\(FP\),\s*R(\d+)\b`)
)

// argRegisters maps each TEXT symbol of the *_arm64.s files in dir to its
// arguments' registers (the first register each argument is loaded into).
func argRegisters(dir string) (map[string]map[string]int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_arm64.s"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no *_arm64.s files", dir)
	}
	regs := map[string]map[string]int{}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		for name, args := range parseArgRegisters(src) {
			regs[name] = args
		}
	}
	return regs, nil
}

// parseArgRegisters reads one assembly file.
func parseArgRegisters(src []byte) map[string]map[string]int {
	regs := map[string]map[string]int{}
	texts := textLine.FindAllSubmatchIndex(src, -1)
	for i, t := range texts {
		end := len(src)
		if i+1 < len(texts) {
			end = texts[i+1][0]
		}
		args := map[string]int{}
		for _, m := range argLoad.FindAllSubmatch(src[t[1]:end], -1) {
			r, err := strconv.Atoi(string(m[2]))
			if _, seen := args[string(m[1])]; err == nil && r <= 30 && !seen {
				args[string(m[1])] = r
			}
		}
		regs[string(src[t[2]:t[3]])] = args
	}
	return regs
}
