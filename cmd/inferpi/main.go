// Command inferpi is InferPi's hosted tool: chat with a model, run one completion,
// inspect and convert models, read disk images, benchmark.
//
// Each sub-command lives in its own file and registers itself in init, so adding one
// touches nothing else.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one sub-command of inferpi.
type command struct {
	name    string
	summary string // one line for the command list
	run     func(args []string) error
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

// exitError carries a specific exit status out of a command.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func usage(w io.Writer) {
	fmt.Fprintln(w, "inferpi: LLM inference for the Raspberry Pi 4 (hosted tools)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "usage: inferpi COMMAND [ARGS]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'inferpi COMMAND --help' for a command's options.")
}

// unknownCommand says that name is not a command (or, starting with a dash,
// that flags come after the command), then where help is.
func unknownCommand(w io.Writer, name string) {
	if strings.HasPrefix(name, "-") {
		fmt.Fprintf(w, "inferpi: flag %s before a command: flags come after it (inferpi COMMAND [ARGS])\n", name)
	} else {
		fmt.Fprintf(w, "inferpi: unknown command %q\n", name)
	}
	fmt.Fprintln(w, "Run 'inferpi --help' for the commands.")
}

func main() {
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	name := os.Args[1]
	switch name {
	case "-h", "--help", "help":
		usage(os.Stdout)
		return
	case "--version", "-version":
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		unknownCommand(os.Stderr, name)
		os.Exit(2)
	}
	if err := c.run(os.Args[2:]); err != nil {
		if e, ok := err.(exitError); ok {
			os.Exit(e.code)
		}
		fmt.Fprintf(os.Stderr, "inferpi %s: %v\n", name, err)
		os.Exit(1)
	}
}
