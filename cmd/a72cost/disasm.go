package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// Disassembly: llvm-objdump's listing of chosen functions of an AArch64 ELF file
// (a Go test binary, or an object compiled by gcc), in LLVM's syntax, which is
// what llvm-mca reads back.

// inst is one disassembled instruction.
type inst struct {
	addr     uint64
	mnemonic string // "ld1", "b.ne", "fmla"
	operands string // "{ v0.4s }, [x1], #16"
	target   uint64 // a branch's destination
	branch   bool
}

// text is the instruction as llvm-mca is given it: branch destinations become
// the label .Lloop (llvm-mca does not follow them; it needs them to assemble).
func (in inst) text() string {
	if !in.branch {
		return in.mnemonic + "\t" + in.operands
	}
	ops := in.operands
	if i := strings.Index(ops, "0x"); i >= 0 {
		ops = ops[:i] + ".Lloop"
	}
	return in.mnemonic + "\t" + ops
}

// function is one symbol's instructions in address order.
type function struct {
	name  string
	insts []inst
}

// symbols returns the function symbols of an ELF file whose names satisfy keep.
func symbols(path string, keep func(string) bool) ([]string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 {
		return nil, fmt.Errorf("%s: not an AArch64 file (%v)", path, f.Machine)
	}
	syms, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	var names []string
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && keep(s.Name) {
			names = append(names, s.Name)
		}
	}
	return names, nil
}

// disassemble lists the named functions of path with llvm-objdump.
func disassemble(objdump, path string, names []string) ([]function, error) {
	if len(names) == 0 {
		return nil, nil
	}
	cmd := exec.Command(objdump, "-d", "--no-show-raw-insn", "--disassemble-symbols="+strings.Join(names, ","), path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %s", objdump, err, strings.TrimSpace(stderr.String()))
	}
	return parseObjdump(out)
}

// parseObjdump reads llvm-objdump -d --no-show-raw-insn output: a line
// "ADDR <name>:" opens a function, lines "  ADDR:  mnemonic  operands" are its
// instructions; everything else (file and section headers, blank lines) is skipped.
func parseObjdump(out []byte) ([]function, error) {
	var fns []function
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasSuffix(line, ">:") && !strings.HasPrefix(line, " ") {
			i := strings.Index(line, " <")
			if i < 0 {
				return nil, fmt.Errorf("line %d: %q: no symbol name", n, line)
			}
			fns = append(fns, function{name: line[i+2 : len(line)-2]})
			continue
		}
		addr, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(line, " ") {
			continue
		}
		a, err := strconv.ParseUint(addr, 16, 64)
		if err != nil {
			continue // not an instruction line
		}
		if len(fns) == 0 {
			return nil, fmt.Errorf("line %d: an instruction before any symbol", n)
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return nil, fmt.Errorf("line %d: %q: no instruction", n, line)
		}
		in := inst{addr: a, mnemonic: fields[0], operands: strings.Join(fields[1:], " ")}
		if isBranch(in.mnemonic) {
			// The destination is the operand "0xADDR <sym+off>" (the last register
			// operand comes first for cbz, tbz).
			i := strings.Index(in.operands, "0x")
			if i < 0 {
				return nil, fmt.Errorf("line %d: %q: a branch without a destination", n, line)
			}
			t, _, _ := strings.Cut(in.operands[i+2:], " ")
			if in.target, err = strconv.ParseUint(t, 16, 64); err != nil {
				return nil, fmt.Errorf("line %d: %q: destination %q", n, line, t)
			}
			in.branch = true
		}
		f := &fns[len(fns)-1]
		if k := len(f.insts); k > 0 && f.insts[k-1].addr >= a {
			return nil, fmt.Errorf("line %d: address %#x does not follow %#x", n, a, f.insts[k-1].addr)
		}
		f.insts = append(f.insts, in)
	}
	return fns, sc.Err()
}

// isBranch reports whether m is a direct branch with a destination in the code
// (not a call, a return or a register branch).
func isBranch(m string) bool {
	switch m {
	case "b", "cbz", "cbnz", "tbz", "tbnz":
		return true
	}
	return strings.HasPrefix(m, "b.")
}
