package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Loops: a loop is the code from a backward branch's destination to the branch,
// inside one function; an innermost loop holds no other loop. A kernel's main loop
// is the innermost loop that reads the most bytes from its counted stream (the
// weights of a matrix kernel, the cache of an attention kernel): the unrolled body,
// not the tails that finish a row.

// loop is one loop: its instructions (with an inner loop's repeated, see
// mainLoop), and the bytes it reads per iteration through registers that point
// into the stream.
type loop struct {
	insts       []inst
	streamBytes int
	stream      []bool // which of insts read the stream
	from, to    int    // f.insts[from:to+1] in the function, to is the backward branch
}

// loops returns every loop of f, innermost or not.
func loops(f function) []loop {
	index := map[uint64]int{}
	for i, in := range f.insts {
		index[in.addr] = i
	}
	var ls []loop
	for i, in := range f.insts {
		if j, ok := index[in.target]; in.branch && ok && j <= i {
			ls = append(ls, loop{insts: f.insts[j : i+1], from: j, to: i})
		}
	}
	return ls
}

// inside reports whether loop a lies within loop b (and is not b).
func (a loop) inside(b loop) bool {
	return a.from >= b.from && a.to <= b.to && (a.from != b.from || a.to != b.to)
}

// innermostLoops returns the loops of f that hold no other loop.
func innermostLoops(f function) []loop {
	all := loops(f)
	var inner []loop
	for _, l := range all {
		innermost := true
		for _, m := range all {
			if m.inside(l) {
				innermost = false
				break
			}
		}
		if innermost {
			inner = append(inner, l)
		}
	}
	return inner
}

// enclosing returns the smallest loop of f around l.
func enclosing(f function, l loop) (loop, bool) {
	var best loop
	found := false
	for _, m := range loops(f) {
		if l.inside(m) && (!found || m.inside(best)) {
			best, found = m, true
		}
	}
	return best, found
}

// xreg matches a general register operand (x0-x30, w0-w30, sp).
var xreg = regexp.MustCompile(`^[xw]([0-9]|[12][0-9]|30)$`)

// regNum returns the number of general register x/wN, or -1.
func regNum(op string) int {
	op = strings.TrimSpace(op)
	if !xreg.MatchString(op) {
		return -1
	}
	n, _ := strconv.Atoi(op[1:])
	return n
}

// streamRegs finds the registers that point into a stream which starts in
// register start (at f's entry, or where f loads it from its arguments on the
// stack) and follows f's instructions in address order: a register is added when
// it is computed from one of the set (mov, add, sub) and dropped when anything
// else writes it. It returns the set as it stands
// at each instruction (before it).
func streamRegs(f function, start int) []map[int]bool {
	cur := map[int]bool{start: true}
	at := make([]map[int]bool, len(f.insts))
	for i, in := range f.insts {
		at[i] = cur
		ops := splitOperands(in.operands)
		if len(ops) == 0 || writesMemoryOrNothing(in) {
			continue
		}
		dst := regNum(ops[0])
		if dst < 0 {
			continue
		}
		derived := false
		switch in.mnemonic {
		case "ldr":
			// A Go function loads its arguments from the stack: the stream's
			// argument lands in start.
			derived = dst == start && strings.HasPrefix(strings.Join(ops[1:], ","), "[sp")
		case "mov", "add", "sub":
			for _, op := range ops[1:] {
				if f := strings.Fields(op); len(f) > 0 && regNum(f[0]) >= 0 && cur[regNum(f[0])] {
					derived = true
				}
			}
		}
		if derived == cur[dst] {
			continue
		}
		next := make(map[int]bool, len(cur)+1)
		for r := range cur {
			next[r] = true
		}
		if derived {
			next[dst] = true
		} else {
			delete(next, dst)
		}
		cur = next
	}
	return at
}

// writesMemoryOrNothing reports instructions whose first operand is not a
// register they write: stores, compares, branches, prefetches.
func writesMemoryOrNothing(in inst) bool {
	m := in.mnemonic
	return strings.HasPrefix(m, "st") || strings.HasPrefix(m, "cmp") || strings.HasPrefix(m, "cmn") ||
		strings.HasPrefix(m, "tst") || strings.HasPrefix(m, "prfm") || strings.HasPrefix(m, "fcmp") || in.branch
}

// splitOperands splits an operand list at the commas outside braces and brackets.
func splitOperands(s string) []string {
	var ops []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case ',':
			if depth == 0 {
				ops = append(ops, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if t := strings.TrimSpace(s[start:]); t != "" {
		ops = append(ops, t)
	}
	return ops
}

// loadBytes returns the bytes a load instruction reads and its base register, or
// (0, -1) for anything else.
func loadBytes(in inst) (int, int) {
	m := in.mnemonic
	if !strings.HasPrefix(m, "ld") || strings.HasPrefix(m, "ldx") || strings.HasPrefix(m, "lda") {
		return 0, -1
	}
	ops := splitOperands(in.operands)
	var mem string
	for _, op := range ops {
		if strings.HasPrefix(op, "[") {
			mem = op
			break
		}
	}
	if mem == "" {
		return 0, -1
	}
	base := regNum(strings.Trim(strings.SplitN(mem, ",", 2)[0], "[] "))
	if base < 0 {
		return 0, -1 // sp, or something not a register
	}
	switch {
	case strings.HasPrefix(m, "ld1") || strings.HasPrefix(m, "ld2") || strings.HasPrefix(m, "ld3") || strings.HasPrefix(m, "ld4"):
		return vectorListBytes(m, ops[0]), base
	case m == "ldp" || m == "ldnp" || m == "ldpsw":
		n := scalarBytes(m, ops[0])
		return 2 * n, base
	}
	return scalarBytes(m, ops[0]), base
}

// vectorListBytes is what ld1-ld4 read into the list "{ v0.4s, v1.4s }" or
// "{ v0.s }[1]" (one lane), or "{ v0.4s }" for ld1r (one element, replicated); 0
// for a list it cannot read.
func vectorListBytes(m, list string) int {
	inner, _, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(list), "{"), "}")
	if !ok {
		return 0
	}
	regs := strings.Split(inner, ",")
	_, arr, _ := strings.Cut(strings.TrimSpace(regs[0]), ".")
	if arr == "" {
		return 0
	}
	e := map[byte]int{'b': 1, 'h': 2, 's': 4, 'd': 8, 'q': 16}[arr[len(arr)-1]]
	if strings.Contains(list, "}[") || strings.HasSuffix(m, "r") {
		n := len(regs)
		if len(m) > 2 && m[2] >= '2' && m[2] <= '4' {
			n = int(m[2] - '0')
		}
		return n * e
	}
	lanes, err := strconv.Atoi(arr[:len(arr)-1])
	if err != nil || lanes > 16 {
		return 0
	}
	return len(regs) * lanes * e
}

// scalarBytes is what an ldr-family load reads into register r.
func scalarBytes(m, r string) int {
	switch {
	case strings.HasSuffix(m, "b"):
		return 1 // ldrb, ldrsb, ldurb
	case strings.HasSuffix(m, "h"):
		return 2
	case strings.HasSuffix(m, "sw"):
		return 4
	case r == "":
		return 0
	}
	switch r[0] {
	case 'q':
		return 16
	case 'x', 'd':
		return 8
	case 'w', 's':
		return 4
	case 'h':
		return 2
	case 'b':
		return 1
	}
	return 0
}

// mainLoop picks f's main loop over the stream that starts in register start:
// the innermost loop reading most bytes through the stream's registers (the
// longer one when two read as many). With innerTrips > 0 the main loop is the
// loop around that one, with the inner loop's body repeated innerTrips times:
// an iteration of the outer loop as the core runs it when the inner loop has that
// many iterations (a K-quant superblock whose sub-blocks are a loop).
func mainLoop(f function, start, innerTrips int) (loop, error) {
	regs := streamRegs(f, start)
	index := map[uint64]int{}
	for i, in := range f.insts {
		index[in.addr] = i
	}
	count := func(l *loop) {
		l.streamBytes, l.stream = 0, make([]bool, len(l.insts))
		for i, in := range l.insts {
			if n, base := loadBytes(in); n > 0 && regs[index[in.addr]][base] {
				l.streamBytes += n
				l.stream[i] = true
			}
		}
	}
	var best loop
	for _, l := range innermostLoops(f) {
		count(&l)
		if l.streamBytes > best.streamBytes || l.streamBytes == best.streamBytes && l.streamBytes > 0 && len(l.insts) > len(best.insts) {
			best = l
		}
	}
	if best.streamBytes == 0 {
		return loop{}, fmt.Errorf("%s: no loop reads through x%d", f.name, start)
	}
	if innerTrips == 0 {
		return best, nil
	}
	outer, ok := enclosing(f, best)
	if !ok {
		return loop{}, fmt.Errorf("%s: the main loop is not inside another loop", f.name)
	}
	var insts []inst
	insts = append(insts, f.insts[outer.from:best.from]...)
	for range innerTrips {
		insts = append(insts, best.insts...)
	}
	insts = append(insts, f.insts[best.to+1:outer.to+1]...)
	l := loop{insts: insts, from: outer.from, to: outer.to}
	count(&l)
	return l, nil
}
