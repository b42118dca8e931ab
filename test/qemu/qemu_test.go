// Package qemu_test boots InferPi firmware in QEMU and checks what it prints. These
// tests need qemu-system-aarch64 (>= 9, scripts/install-deps.sh installs it) and run
// when INFERPI_QEMU=1 (make test and the make qemu-* targets set it); they take
// minutes under emulation.
package qemu_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inferpi/inferpi/internal/fwbuild"
	"github.com/inferpi/inferpi/internal/qemu"
)

func requireQEMU(t *testing.T) {
	t.Helper()
	if os.Getenv("INFERPI_QEMU") != "1" {
		t.Skip("set INFERPI_QEMU=1 to run QEMU tests (make test does)")
	}
}

// build compiles a firmware package for a board into dir and returns the path
// QEMU boots: the flat image for raspi4b (the Pi's own boot path), the ELF for virt.
func build(t *testing.T, board, pkg string) string {
	t.Helper()
	dir := t.TempDir()
	b := fwbuild.Boards[board]
	o := fwbuild.Options{Board: b, Package: pkg, OutELF: filepath.Join(dir, "fw.elf"), OutImg: filepath.Join(dir, "fw.img"), Dir: "../.."}
	if err := fwbuild.Build(o); err != nil {
		t.Fatal(err)
	}
	if board == "virt" {
		return o.OutELF
	}
	return o.OutImg
}

// logOnFailure prints the whole UART log if the test failed.
func logOnFailure(t *testing.T, m *qemu.Machine) {
	t.Cleanup(func() {
		if t.Failed() {
			// Where every core is, if the machine still runs (a hang).
			if regs, err := m.Monitor("info registers -a"); err == nil {
				var pcs []string
				for _, line := range strings.Split(regs, "\n") {
					if strings.Contains(line, "PC=") || strings.HasPrefix(strings.TrimSpace(line), "CPU#") {
						pcs = append(pcs, strings.TrimSpace(line))
					}
				}
				t.Logf("cores at the failure:\n%s", strings.Join(pcs, "\n"))
			}
		}
		m.Stop()
		if t.Failed() {
			t.Logf("UART log:\n%s\nQEMU stderr:\n%s", m.Log(), m.Stderr())
		}
	})
}

var summary = regexp.MustCompile(`(\d+) passed, (\d+) failed`)

func runSelftest(t *testing.T, board string) {
	requireQEMU(t)
	kernel := build(t, board, "./cmd/selftest")
	start := time.Now()
	m, err := qemu.Start(qemu.Config{Board: board, Kernel: kernel})
	if err != nil {
		t.Fatal(err)
	}
	logOnFailure(t, m)
	if _, err := m.Expect(`kernel: starting the Go runtime`, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	boot := time.Since(start)
	if _, err := m.Expect(`selftest: waiting for input`, 8*time.Minute); err != nil {
		t.Fatal(err)
	}
	// Typed slowly, then a 10 KB line in one go (a paste).
	m.SendSlowly("selftest-input tok-4711\r\n", 3, 20*time.Millisecond)
	if _, err := m.Expect(`got token tok-4711`, time.Minute); err != nil {
		t.Fatal(err)
	}
	var long strings.Builder
	for i := 0; i < 10240; i++ {
		long.WriteByte(byte('0' + i%10))
	}
	m.Send(long.String() + "\n")
	out, err := m.Expect(`\d+ passed, \d+ failed`, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	s := summary.FindStringSubmatch(out)
	passed, _ := strconv.Atoi(s[1])
	failed, _ := strconv.Atoi(s[2])
	for _, line := range strings.Split(m.Log(), "\n") {
		if strings.HasPrefix(line, "ok ") || strings.HasPrefix(line, "FAIL ") || strings.HasPrefix(line, "selftest:") {
			t.Log(strings.TrimRight(line, "\r"))
		}
	}
	t.Logf("boot to Go runtime: %v (not asserted)", boot.Round(time.Millisecond))
	if failed != 0 || passed < 10 {
		t.Fatalf("self-test: %d passed, %d failed", passed, failed)
	}
	if err := m.Wait(time.Minute); err != nil {
		t.Errorf("firmware did not reset after the self-test: %v", err)
	}
	fmt.Printf("%s self-test: %d passed, %d failed\n", board, passed, failed)
}

func TestSelftestRaspi4b(t *testing.T) { runSelftest(t, "rpi4") }

func TestSelftestVirt(t *testing.T) { runSelftest(t, "virt") }

// bootMetalDemo starts the platform demo on QEMU raspi4b and waits for its prompt.
func bootMetalDemo(t *testing.T) *qemu.Machine {
	requireQEMU(t)
	kernel := build(t, "rpi4", "./cmd/metal-demo")
	m, err := qemu.Start(qemu.Config{Board: "rpi4", Kernel: kernel})
	if err != nil {
		t.Fatal(err)
	}
	logOnFailure(t, m)
	if _, err := m.Expect(`metal> `, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMetalDemoConsole drives the platform demo like a person at a serial
// terminal: typing with corrections, then the cores and memory commands.
func TestMetalDemoConsole(t *testing.T) {
	m := bootMetalDemo(t)
	m.SendSlowly("helo\x7flo world\r", 2, 10*time.Millisecond)
	if _, err := m.Expect(`you typed "hello world" \(11 bytes\)`, time.Minute); err != nil {
		t.Fatal(err)
	}
	m.Send("cores\r\n")
	if _, err := m.Expect(`4 goroutines used cores \[0 1 2 3\]`, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	m.Send("mem\r")
	if _, err := m.Expect(`VideoCore +0x0003c000000 - 0x00040000000 +64 MiB  \(never used\)`, time.Minute); err != nil {
		t.Fatal(err)
	}
	m.Send("reboot\r")
	if err := m.Wait(time.Minute); err != nil {
		t.Error(err)
	}
}

// TestFaultReport makes a thread fault that the Go runtime cannot take (SIGSEGV
// blocked) and checks the kernel's report: what happened, the fault address,
// the step the firmware named, registers, and the faulting PC with its Go
// function's name; then the halt.
func TestFaultReport(t *testing.T) {
	m := bootMetalDemo(t)
	m.Send("crash\r")
	report, err := m.Expect(`system halted`, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`\*\*\* fatal: data abort in thread \d+ on cpu\d`,
		`fault address 0x38`, // p[7] of a nil *[64]uint64
		`no step recorded`,   // the step line: the platform demo names none
		`PC 0x[0-9a-f]+ main\.crash\+0x[0-9a-f]+`,
		`LR 0x[0-9a-f]+ main\.`,
		`x0=0x[0-9a-f]+  x1=`,
		`called from 0x[0-9a-f]+ main\.main\+0x[0-9a-f]+`,
		`called from 0x[0-9a-f]+ runtime\.main\+`,
	} {
		if !regexp.MustCompile(want).MatchString(report) {
			t.Errorf("report lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("report:\n%s", report)
	}
}
