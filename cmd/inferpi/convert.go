package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// converter turns a model from another format into one InferPi loads. Each kind
// lives in its own file (convert_KIND.go) and registers itself in init with
// registerConverter, so adding one touches nothing else.
type converter struct {
	summary string // one line for `inferpi convert --help`
	// run gets the arguments after the kind; help text goes to stdout, progress
	// and errors to stderr. Returning errHelp means help was shown.
	run func(args []string, stdout, stderr io.Writer) error
}

var converters = map[string]converter{}

func registerConverter(kind string, c converter) { converters[kind] = c }

func init() {
	register(command{
		name:    "convert",
		summary: "convert a model into InferPi's formats (see 'inferpi convert --help')",
		run:     func(args []string) error { return noHelp(convertMain(args, os.Stdout, os.Stderr)) },
	})
}

func convertUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: inferpi convert KIND [ARGS]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "kinds:")
	kinds := make([]string, 0, len(converters))
	for k := range converters {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "  %-10s %s\n", k, converters[k].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'inferpi convert KIND --help' for a kind's arguments.")
}

// inOut says that a conversion wants two arguments, IN and OUT.
func inOut(pos []string) string {
	if len(pos) == 0 {
		return "want IN and OUT, got no arguments"
	}
	return fmt.Sprintf("want IN and OUT, got %d arguments (%s)", len(pos), strings.Join(pos, " "))
}

func convertMain(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, "inferpi convert: want a KIND\n\n")
		convertUsage(stderr)
		return exitError{2}
	}
	switch args[0] {
	case "-h", "--help", "help":
		convertUsage(stdout)
		return nil
	}
	c, ok := converters[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "inferpi convert: unknown kind %q\n\n", args[0])
		convertUsage(stderr)
		return exitError{2}
	}
	return c.run(args[1:], stdout, stderr)
}
