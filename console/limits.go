package console

import (
	"fmt"
	"math"
	"strconv"

	"github.com/inferpi/inferpi/engine/sample"
)

// Range is the values a numeric setting takes. The console's /commands and the
// hosted command line's flags check values against the same ranges, so both
// accept the same values and refuse the others naming the same bounds.
type Range struct {
	Lo, Hi float64 // a range of whole numbers with Hi 0 has no upper bound
	Whole  bool
}

// The ranges of the numeric settings.
var (
	TempRange    = Range{Lo: 0, Hi: 100}
	TopPRange    = Range{Lo: 0, Hi: 1}
	PenaltyRange = Range{Lo: 0, Hi: 10}
	// CountRange takes top-k, the tokens per reply, the penalty's window and the
	// context size.
	CountRange = Range{Whole: true}
)

// String is what r takes: "a number from 0 to 100", "a whole number >= 0".
func (r Range) String() string {
	if r.Whole {
		return "a whole number " + r.bounds()
	}
	return "a number " + r.bounds()
}

func (r Range) bounds() string {
	lo, hi := strconv.FormatFloat(r.Lo, 'g', -1, 64), strconv.FormatFloat(r.Hi, 'g', -1, 64)
	if r.Whole && r.Hi == 0 {
		return ">= " + lo
	}
	return "from " + lo + " to " + hi
}

// Check reports whether v is in r, or says what r wants: "must be from 0 to 1"
// (the command line's words: it names the flag and the value before them).
func (r Range) Check(v float64) error {
	switch {
	case r.Whole && v != math.Trunc(v):
		return fmt.Errorf("must be %s", r)
	case !(v >= r.Lo) || (!r.Whole || r.Hi > 0) && v > r.Hi: // NaN fails too
		return fmt.Errorf("must be %s", r.bounds())
	}
	return nil
}

// Parse reads v, a value of r, or says what r wants in the console's words:
// `"-1" is not a number from 0 to 100`.
func (r Range) Parse(v string) (float64, error) {
	if r.Whole {
		n, err := r.ParseInt(v)
		return float64(n), err
	}
	f, err := strconv.ParseFloat(v, 32)
	if err != nil || r.Check(f) != nil {
		return 0, fmt.Errorf("%q is not %s", v, r)
	}
	return f, nil
}

// ParseInt is Parse for a range of whole numbers.
func (r Range) ParseInt(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || r.Check(float64(n)) != nil {
		return 0, fmt.Errorf("%q is not %s", v, r)
	}
	return n, nil
}

// randomSeedHelp names the seeds that ask for a random one: 0, as run.c's -s
// does, and -1, as llama.cpp's --seed does.
const randomSeedHelp = "0 or -1 picks one at random"

// ParseSeed reads a seed: a whole number >= 0, or -1. Both 0 and -1 mean a
// random seed, which ParseSeed picks (sample.ClockSeed), so the seed in use can
// be shown and given again to repeat a reply.
func ParseSeed(v string) (uint64, error) {
	if v == "-1" || v == "0" {
		return sample.ClockSeed(), nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number >= 0, or -1 (%s)", v, randomSeedHelp)
	}
	return n, nil
}
