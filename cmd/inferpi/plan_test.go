package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/engine"
	"github.com/inferpi/inferpi/engine/modeldir"
)

// withMemory makes the host say that bytes are available while a test runs.
func withMemory(t *testing.T, bytes int64) {
	saved := hostMemory
	hostMemory = func() (int64, string) { return bytes, "test" }
	t.Cleanup(func() { hostMemory = saved })
}

// A model declaring 32768 positions gets 4096 by default, fewer when memory
// is short (said on standard error), and none when not even 256 fit: refused
// before loading, with the numbers.
func TestRunPlansTheContext(t *testing.T) {
	file := filepath.Join(ggufModels, "qwen2-bpe", "qwen2-bpe.Q8_0.gguf")
	withMemory(t, 1<<30)
	if out, errOut, err := runCLI(t, "run", file, "-p", "Hello", "-n", "2", "--temp", "0"); err != nil || strings.Contains(errOut, "instead of") {
		t.Fatalf("1 GiB: %q, %q, %v", out, errOut, err)
	}
	// 64 MiB kept free, the weights and a session of 1024 positions.
	fp, err := modeldir.Check(file)
	if err != nil {
		t.Fatal(err)
	}
	short := 64<<20 + fp.ModelBytes + fp.SessionAt(1024)
	withMemory(t, short)
	_, errOut, err := runCLI(t, "run", file, "-p", "Hello", "-n", "2", "--temp", "0")
	want := "context 1024 instead of 4096: what fits in the " + engine.FormatBytes(short) + " available (test) beside the weights, with 64.0 MB kept free\n"
	if err != nil || !strings.HasPrefix(errOut, want) {
		t.Errorf("%d bytes: %q, %v; want %q first", short, errOut, err, want)
	}
	withMemory(t, 64<<20)
	_, errOut, err = runCLI(t, "run", file, "-p", "Hello", "-n", "2")
	if err == nil || !strings.HasPrefix(err.Error(), file+": needs ") || !strings.Contains(err.Error(), "for a 256-position context) and keeps 64.0 MB free, 64.0 MB is available (test)") {
		t.Errorf("64 MiB: %v, %q", err, errOut)
	}

	var out bytes.Buffer
	if err := inspectMain([]string{file}, &out, &out); err != nil || !strings.Contains(out.String(), "session context:             none: too large for this machine\n") {
		t.Errorf("inspect in 64 MiB: %v\n%s", err, out.String())
	}
}
