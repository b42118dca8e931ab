package gpt

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Calculate is nanochat's calculator tool (engine.py use_calculator), evaluated
// without Python: it returns str(result) and true, or false where nanochat's
// tool returns None (bad characters, "**", a syntax error, division by zero,
// anything but the two supported forms).
//
// After commas are removed, an expression made only of 0123456789*+-/.() and
// spaces is Python arithmetic: int (unbounded) and float literals, unary + and -,
// + - * / //, and parentheses, with Python's int/float rules and str() output
// ("47", "3.0", "1e+16"). Otherwise the expression may use letters, digits,
// quotes, parentheses, '.', '_' and spaces, must contain ".count(", must avoid
// nanochat's list of dangerous words, and may only be string literals and
// str.count calls: "strawberry".count("r") gives "3".
//
// Deliberately not a Python interpreter: forms that nanochat's eval would also
// accept but that a calculator never needs (other string methods, string
// prefixes such as b"", the empty tuple, Ellipsis) are refused.
func Calculate(expr string) (string, bool) {
	expr = strings.ReplaceAll(expr, ",", "")
	if onlyChars(expr, "0123456789*+-/.() ") {
		if strings.Contains(expr, "**") {
			return "", false // nanochat refuses the power operator
		}
		v, err := evalArithmetic(expr)
		if err != nil {
			return "", false
		}
		return v.String()
	}
	if !onlyChars(expr, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'\"()._ ") {
		return "", false
	}
	lower := strings.ToLower(expr)
	for _, bad := range []string{"__", "import", "exec", "eval", "compile", "open", "file", "input",
		"raw_input", "globals", "locals", "vars", "dir", "getattr", "setattr", "delattr", "hasattr"} {
		if strings.Contains(lower, bad) {
			return "", false
		}
	}
	if !strings.Contains(expr, ".count(") {
		return "", false
	}
	return evalCount(expr)
}

func onlyChars(s, allowed string) bool {
	for _, r := range s {
		if !strings.ContainsRune(allowed, r) {
			return false
		}
	}
	return true
}

// maxIntDigits is Python's default limit on int <-> decimal string conversion
// (sys.int_info.default_max_str_digits, Python 3.11+): longer ints fail.
const maxIntDigits = 4300

var errCalc = errors.New("calculator: not evaluable")

// number is a Python int or float.
type number struct {
	isFloat bool
	i       *big.Int
	f       float64
}

// String is Python's str() of the number.
func (n number) String() (string, bool) {
	if !n.isFloat {
		s := n.i.String()
		if len(strings.TrimPrefix(s, "-")) > maxIntDigits {
			return "", false
		}
		return s, true
	}
	return pythonFloatRepr(n.f), true
}

// pythonFloatRepr formats f as Python's repr/str: the shortest digits that read
// back as f, in positional notation when the decimal exponent is in -4..15 (with
// ".0" for whole numbers), else as d.ddde±XX (CPython's float_repr_style 'short').
func pythonFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // "-d.ddde±XX"
	sign := ""
	if e[0] == '-' {
		sign, e = "-", e[1:]
	}
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	decpt := x + 1 // digits d1d2... mean 0.d1d2... * 10^decpt
	if decpt <= -4 || decpt > 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		es := "+"
		if x < 0 {
			es, x = "-", -x
		}
		return sign + m + "e" + es + leftPad(strconv.Itoa(x), 2)
	}
	switch {
	case decpt <= 0:
		return sign + "0." + strings.Repeat("0", -decpt) + digits
	case decpt >= len(digits):
		return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
	}
	return sign + digits[:decpt] + "." + digits[decpt:]
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

// arithmetic tokens
type arithParser struct {
	toks []string
	i    int
}

// tokenizeArithmetic splits into numbers and the operators + - * / // ( ),
// following Python's tokenizer for these characters.
func tokenizeArithmetic(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ':
			i++
		case c == '/' && i+1 < len(s) && s[i+1] == '/':
			toks = append(toks, "//")
			i += 2
		case strings.IndexByte("+-*/()", c) >= 0:
			toks = append(toks, string(c))
			i++
		case c >= '0' && c <= '9' || c == '.':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			intDigits := j - i
			if j < len(s) && s[j] == '.' {
				j++
				k := j
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
				if intDigits == 0 && j == k {
					return nil, errCalc // a lone '.'
				}
			} else if intDigits > 1 && s[i] == '0' && strings.Trim(s[i:j], "0") != "" {
				return nil, errCalc // Python 3 forbids leading zeros in integers ("012")
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			return nil, errCalc
		}
	}
	return toks, nil
}

func evalArithmetic(s string) (number, error) {
	toks, err := tokenizeArithmetic(s)
	if err != nil {
		return number{}, err
	}
	p := &arithParser{toks: toks}
	v, err := p.expr(0)
	if err != nil {
		return number{}, err
	}
	if p.i != len(p.toks) {
		return number{}, errCalc // e.g. "1 2" or "2(3)"
	}
	return v, nil
}

func (p *arithParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

// maxDepth bounds nesting ("((((...") so that recursion stays shallow.
const maxDepth = 200

// expr := term (('+'|'-') term)*
func (p *arithParser) expr(depth int) (number, error) {
	v, err := p.term(depth)
	for err == nil && (p.peek() == "+" || p.peek() == "-") {
		op := p.toks[p.i]
		p.i++
		var w number
		if w, err = p.term(depth); err == nil {
			v, err = arith(op, v, w)
		}
	}
	return v, err
}

// term := factor (('*'|'/'|'//') factor)*
func (p *arithParser) term(depth int) (number, error) {
	v, err := p.factor(depth)
	for err == nil && (p.peek() == "*" || p.peek() == "/" || p.peek() == "//") {
		op := p.toks[p.i]
		p.i++
		var w number
		if w, err = p.factor(depth); err == nil {
			v, err = arith(op, v, w)
		}
	}
	return v, err
}

// factor := ('+'|'-') factor | number | '(' expr ')'
func (p *arithParser) factor(depth int) (number, error) {
	if depth > maxDepth {
		return number{}, errCalc
	}
	t := p.peek()
	p.i++
	switch {
	case t == "+" || t == "-":
		v, err := p.factor(depth + 1)
		if err != nil || t == "+" {
			return v, err
		}
		if v.isFloat {
			return number{isFloat: true, f: -v.f}, nil
		}
		return number{i: new(big.Int).Neg(v.i)}, nil
	case t == "(":
		v, err := p.expr(depth + 1)
		if err != nil {
			return v, err
		}
		if p.peek() != ")" {
			return v, errCalc
		}
		p.i++
		return v, nil
	case t != "" && (t[0] >= '0' && t[0] <= '9' || t[0] == '.'):
		if strings.Contains(t, ".") {
			f, err := strconv.ParseFloat(t, 64)
			if err != nil && !errors.Is(err, strconv.ErrRange) { // Python gives inf for huge literals
				return number{}, errCalc
			}
			return number{isFloat: true, f: f}, nil
		}
		if len(t) > maxIntDigits {
			return number{}, errCalc
		}
		i, _ := new(big.Int).SetString(t, 10)
		return number{i: i}, nil
	}
	return number{}, errCalc
}

// toFloat is Python's int.__float__: correctly rounded, OverflowError when too big.
func (n number) toFloat() (float64, error) {
	if n.isFloat {
		return n.f, nil
	}
	f, _ := new(big.Float).SetInt(n.i).Float64()
	if math.IsInf(f, 0) {
		return 0, errCalc
	}
	return f, nil
}

func arith(op string, a, b number) (number, error) {
	if !a.isFloat && !b.isFloat {
		x, y := a.i, b.i
		switch op {
		case "+":
			return number{i: new(big.Int).Add(x, y)}, nil
		case "-":
			return number{i: new(big.Int).Sub(x, y)}, nil
		case "*":
			if x.BitLen()+y.BitLen() > 1<<20 {
				return number{}, errCalc // far beyond what str() could print anyway
			}
			return number{i: new(big.Int).Mul(x, y)}, nil
		case "//":
			if y.Sign() == 0 {
				return number{}, errCalc
			}
			q, r := new(big.Int).QuoRem(x, y, new(big.Int))
			if r.Sign() != 0 && r.Sign() != y.Sign() {
				q.Sub(q, big.NewInt(1)) // floor, not truncation
			}
			return number{i: q}, nil
		case "/":
			if y.Sign() == 0 {
				return number{}, errCalc
			}
			// Python's int / int is the correctly rounded quotient.
			f, _ := new(big.Rat).SetFrac(x, y).Float64()
			if math.IsInf(f, 0) {
				return number{}, errCalc
			}
			return number{isFloat: true, f: f}, nil
		}
		return number{}, errCalc
	}
	x, err := a.toFloat()
	if err != nil {
		return number{}, err
	}
	y, err := b.toFloat()
	if err != nil {
		return number{}, err
	}
	var r float64
	switch op {
	case "+":
		r = x + y
	case "-":
		r = x - y
	case "*":
		r = x * y
	case "/":
		if y == 0 {
			return number{}, errCalc
		}
		r = x / y
	case "//":
		if y == 0 {
			return number{}, errCalc
		}
		r = floorDiv(x, y)
	}
	return number{isFloat: true, f: r}, nil
}

// floorDiv is CPython's float_floor_div (Objects/floatobject.c, float_divmod).
func floorDiv(vx, wx float64) float64 {
	mod := math.Mod(vx, wx)
	div := (vx - mod) / wx
	if mod != 0 {
		if (wx < 0) != (mod < 0) {
			div -= 1
		}
	}
	if div != 0 {
		floor := math.Floor(div)
		if div-floor > 0.5 {
			floor += 1
		}
		return floor
	}
	return math.Copysign(0, vx/wx)
}

// evalCount evaluates string literals (adjacent ones concatenate, as in Python)
// and .count(...) calls on them.
func evalCount(s string) (string, bool) {
	p := &countParser{s: s}
	v, ok := p.value(0)
	if !ok {
		return "", false
	}
	p.space()
	if p.i != len(p.s) {
		return "", false
	}
	if v.isInt {
		return strconv.Itoa(v.n), true
	}
	return v.str, true
}

type countParser struct {
	s string
	i int
}

type countValue struct {
	isInt bool
	n     int
	str   string
}

func (p *countParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *countParser) lit(want string) bool {
	p.space()
	if strings.HasPrefix(p.s[p.i:], want) {
		p.i += len(want)
		return true
	}
	return false
}

// value := atom ('.' 'count' '(' value ')')*
func (p *countParser) value(depth int) (countValue, bool) {
	v, ok := p.atom(depth)
	for ok && p.lit(".") {
		// Only str.count: an int has no count, and other names are not supported.
		if v.isInt || !p.lit("count") || !p.lit("(") {
			return v, false
		}
		var arg countValue
		if arg, ok = p.value(depth + 1); !ok || arg.isInt || !p.lit(")") {
			return v, false
		}
		v = countValue{isInt: true, n: strings.Count(v.str, arg.str)}
	}
	return v, ok
}

// atom := string+ | '(' value ')'
func (p *countParser) atom(depth int) (countValue, bool) {
	if depth > maxDepth {
		return countValue{}, false
	}
	if p.lit("(") {
		v, ok := p.value(depth + 1)
		if !ok || !p.lit(")") {
			return v, false
		}
		return v, true
	}
	var sb strings.Builder
	n := 0
	for {
		p.space()
		if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
			break
		}
		q := p.s[p.i]
		end := strings.IndexByte(p.s[p.i+1:], q)
		if end < 0 {
			return countValue{}, false // unterminated string
		}
		sb.WriteString(p.s[p.i+1 : p.i+1+end])
		p.i += end + 2
		n++
	}
	return countValue{str: sb.String()}, n > 0
}
