package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
)

func init() {
	register(command{
		name:    "version",
		summary: "print InferPi's version (also --version)",
		run:     func(args []string) error { return noHelp(versionMain(args, os.Stdout, os.Stderr)) },
	})
}

const versionUsage = `usage: inferpi version

Prints the version: the commit the binary was built from and its time, with
"+dirty" when the tree had changes (from the build's version control stamp), or
"devel" for a build without one (go run, tests, -buildvcs=false); then the Go
version and the machine.
`

func versionMain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", versionUsage, stdout)
	pos, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError(fs, stderr, fmt.Sprintf("takes no arguments, got %q", pos))
	}
	fmt.Fprintf(stdout, "inferpi %s (%s %s/%s)\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// version is the commit and time of the build's version control stamp, or
// "devel" without one.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v // go install ...@VERSION
		}
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if at != "" {
		return rev + dirty + " " + at
	}
	return rev + dirty
}
