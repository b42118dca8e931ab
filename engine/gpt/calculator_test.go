package gpt

import (
	"math"
	"strings"
	"testing"
)

// TestCalculateLikeNanochat: every expected value was produced by running
// nanochat's own use_calculator (engine.py at 92d63d4e) on the expression
// (null there is false here).
func TestCalculateLikeNanochat(t *testing.T) {
	cases := []struct {
		expr, want string
		ok         bool
	}{
		{"12+35", "47", true},
		{"7*8", "56", true},
		{"4/2", "2.0", true},
		{"3/2", "1.5", true},
		{"1/3", "0.3333333333333333", true},
		{"10//3", "3", true},
		{"-7//2", "-4", true},
		{"7//-2", "-4", true},
		{"-7.5//2", "-4.0", true},
		{"2**3", "", false},
		{"1,000+1", "1001", true},
		{"1 + + 2", "3", true},
		{"--5", "5", true},
		{"(1+2)*3", "9", true},
		{"2(3)", "", false},
		{"1 2", "", false},
		{"", "", false},
		{"  ", "", false},
		{"012", "", false},
		{"00", "0", true},
		{"01.5", "1.5", true},
		{"1.", "1.0", true},
		{"1..2", "", false},
		{".5+.5", "1.0", true},
		{"1e5", "", false},
		{"99999999999*99999999999", "9999999999800000000001", true},
		{"10000000000000000.0", "1e+16", true},
		{"1/0", "", false},
		{"1.0/0", "", false},
		{"0.0001*1", "0.0001", true},
		{"0.00001*1", "1e-05", true},
		{"1/7*1e0", "", false},
		{"5-10", "-5", true},
		{"0-0.0", "0.0", true},
		{"-0.0", "-0.0", true},
		{"(((1)))", "1", true},
		{"1+", "", false},
		{"abc", "", false},
		{"'strawberry'.count('r')", "3", true},
		{"\"banana\".count(\"an\")", "2", true},
		{"'a' 'b'.count('b')", "1", true},
		{"'dir'.count('d')", "", false},
		{"'abc'.count(1)", "", false},
		{"('aaa').count('a')", "3", true},
		{"'aaa'.count('')", "4", true},
		{"'x'.count('x').count('x')", "", false},
		{"'hello'", "", false},
		{"'a.count(b)'", "a.count(b)", true},
		{"\"abc\" .count ( \"b\" )", "", false},
		{"2*3.5", "7.0", true},
		{"1/3+1/3", "0.6666666666666666", true},
		{"100000000000000000000/3", "3.333333333333333e+19", true},
		{"3.14159*2", "6.28318", true},
		{"2-3*4", "-10", true},
		{"12+35 ", "47", true},
		{"7 * 8", "56", true},
	}
	for _, c := range cases {
		got, ok := Calculate(c.expr)
		if ok != c.ok || got != c.want {
			t.Errorf("Calculate(%q) = %q, %v; nanochat gives %q, %v", c.expr, got, ok, c.want, c.ok)
		}
	}
}

// TestCalculateRefusesMore lists the forms nanochat's eval accepts that this
// calculator deliberately refuses: it is not a Python interpreter.
func TestCalculateRefusesMore(t *testing.T) {
	for _, expr := range []string{
		"()",                       // nanochat: "()" (the empty tuple)
		"'abc'.upper().count('A')", // nanochat: "1" (other str methods)
		"b'abc'.count(b'a')",       // nanochat: "1" (bytes literals)
		"__import__('os').count('x')",
		"open('f').count('x')",
		"'a'.count('a') + 1",
	} {
		if got, ok := Calculate(expr); ok {
			t.Errorf("Calculate(%q) = %q, want a refusal", expr, got)
		}
	}
}

func TestCalculateLimits(t *testing.T) {
	// Python refuses int literals and str() results beyond 4300 digits.
	if _, ok := Calculate(strings.Repeat("9", 4301)); ok {
		t.Error("a 4301-digit literal was accepted")
	}
	if got, ok := Calculate(strings.Repeat("9", 4300) + "+0"); !ok || len(got) != 4300 {
		t.Error("a 4300-digit literal was refused")
	}
	if _, ok := Calculate(strings.Repeat("9", 3000) + "*" + strings.Repeat("9", 3000)); ok {
		t.Error("a 6000-digit result was printed")
	}
	// Deep nesting must neither crash nor recurse without bound.
	if _, ok := Calculate(strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000)); ok {
		t.Error("100000 nested parentheses were evaluated")
	}
	if got, ok := Calculate(strings.Repeat("-", 150) + "1"); !ok || got != "1" {
		t.Errorf("150 unary minus signs: %q %v", got, ok)
	}
	// Division results too large for a float are an OverflowError in Python.
	if _, ok := Calculate("1" + strings.Repeat("0", 400) + "/3"); ok {
		t.Error("an overflowing division was accepted")
	}
}

func TestPythonFloatRepr(t *testing.T) {
	cases := map[float64]string{
		1: "1.0", 0.1: "0.1", 1e16: "1e+16", 1234567890123456: "1234567890123456.0",
		1e-4: "0.0001", 1e-5: "1e-05", 1.5e-7: "1.5e-07", 1e100: "1e+100", 123.456: "123.456",
		math.Inf(1): "inf", math.Inf(-1): "-inf", math.Copysign(0, -1): "-0.0", 2.5e20: "2.5e+20",
	}
	for f, want := range cases {
		if got := pythonFloatRepr(f); got != want {
			t.Errorf("repr(%v) = %q, want %q", f, got, want)
		}
	}
}

func FuzzCalculate(f *testing.F) {
	for _, s := range []string{"12+35", "7*8/3", "'strawberry'.count('r')", "((1)", "1..2", "-7.5//2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		Calculate(expr) // must not panic or hang
	})
}
