// Package diag is the firmware's board diagnostic, /diag at the model menu: a
// list of steps (RAM, cores, clocks and temperature, UART, SD card, USB, PCIe,
// decoding speed), run in order, each of which passes, fails, or cannot run on
// this machine (what QEMU or the board lacks is "not available here", not a
// failure). Every step logs a boot-log line as it starts and one with its
// outcome and measurements, and is named to the kernel (bootlog.Step), so a
// board that stops in a step says which; the last line counts the outcomes.
// What it prints is what a Raspberry Pi 4 owner pastes into a bug report.
//
// The steps' work is portable and host-tested here (a RAM pattern pass, work on
// every core, timed reads from a block device, decoding with a synthetic
// model); cmd/firmware gives them the hardware.
package diag

import (
	"fmt"
	"io"

	"github.com/inferpi/inferpi/platform/bootlog"
)

// Outcome is how a step ended.
type Outcome int

const (
	Pass         Outcome = iota
	Fail                 // the board did something wrong
	NotAvailable         // the machine lacks what the step tests (QEMU, no card, ...)
)

func (o Outcome) String() string {
	switch o {
	case Pass:
		return "pass"
	case Fail:
		return "FAIL"
	}
	return "not available here"
}

// Result is a step's outcome and its one line of detail: the measurements, or
// what failed or is missing.
type Result struct {
	Outcome Outcome
	Detail  string
}

// Passed, Failed and Unavailable make Results.
func Passed(format string, args ...any) Result { return Result{Pass, fmt.Sprintf(format, args...)} }
func Failed(format string, args ...any) Result { return Result{Fail, fmt.Sprintf(format, args...)} }
func Unavailable(format string, args ...any) Result {
	return Result{NotAvailable, fmt.Sprintf(format, args...)}
}

// Step is one check.
type Step struct {
	Name  string // short, for the log and the kernel's fault report: "ram"
	About string // what it does, logged as it starts
	// Run does the check; it may log progress lines to log.
	Run func(log *bootlog.Logger) Result
}

// Summary counts the outcomes.
type Summary struct{ Passed, Failed, NotAvailable int }

// String is the diagnostic's last line.
func (s Summary) String() string {
	return fmt.Sprintf("diag: %d passed, %d failed, %d not available here", s.Passed, s.Failed, s.NotAvailable)
}

// Run runs steps in order, logging to w, and ends with the summary line. A
// step that panics has failed (with the panic's message); the others still run.
func Run(w io.Writer, steps []Step) Summary {
	bootlog.New(w, "diag").Printf("%d steps; please paste every diag: line, up to the summary at the end, into bug reports", len(steps))
	var sum Summary
	for _, s := range steps {
		bootlog.Step("diag: " + s.Name)
		log := bootlog.New(w, "diag: "+s.Name)
		log.Printf("%s", s.About)
		r := run(s, log)
		log.Printf("%s: %s", r.Outcome, r.Detail)
		switch r.Outcome {
		case Pass:
			sum.Passed++
		case Fail:
			sum.Failed++
		default:
			sum.NotAvailable++
		}
	}
	bootlog.Step("")
	fmt.Fprintln(w, sum)
	return sum
}

func run(s Step, log *bootlog.Logger) (r Result) {
	defer func() {
		if p := recover(); p != nil {
			r = Failed("the step panicked: %v", p)
		}
	}()
	return s.Run(log)
}
