// Package qemu runs InferPi firmware in QEMU for tests and demos: it starts
// qemu-system-aarch64 with the board's options, connects to the emulated UART over
// a loopback socket (QEMU connects to us, so no early output is lost), and lets a
// test wait for text and type input like a person at a serial terminal.
package qemu

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Config describes one emulated machine.
type Config struct {
	Board  string // "rpi4" (QEMU raspi4b) or "virt"
	Kernel string // raspi4b: the flat kernel8.img (the Pi's boot path: EL2, spin table); virt: the ELF
	SMP    int    // cores (default 4)
	Memory string // virt only (default 2G); raspi4b is fixed at 2 GiB
	SD     string // raspi4b: raw SD card image (size must be a power of two)
	USB    string // virt: raw image behind qemu-xhci + usb-storage
	USBHub bool   // virt: put the stick behind a usb-hub
	Extra  []string
}

// Machine is a running QEMU.
type Machine struct {
	cmd     *exec.Cmd
	conn    net.Conn
	monitor string
	mu      sync.Mutex
	out     bytes.Buffer
	cursor  int
	changed chan struct{}
	exited  chan struct{}
	exitErr error
	killed  bool // Stop killed it (not a crash)
	stderr  bytes.Buffer
}

// Args returns QEMU's command line for cfg, with the UART on chardev "uart".
func Args(cfg Config) []string {
	smp := cfg.SMP
	if smp == 0 {
		smp = 4
	}
	args := []string{"-smp", fmt.Sprint(smp), "-display", "none", "-no-reboot"}
	switch cfg.Board {
	case "virt":
		mem := cfg.Memory
		if mem == "" {
			mem = "2G"
		}
		args = append(args, "-M", "virt", "-cpu", "cortex-a72", "-m", mem, "-nic", "none", "-kernel", cfg.Kernel)
		if cfg.USB != "" {
			args = append(args, "-device", "qemu-xhci,id=xhci",
				"-drive", "if=none,id=stick,format=raw,file="+cfg.USB)
			if cfg.USBHub {
				args = append(args, "-device", "usb-hub,bus=xhci.0,port=1,id=hub",
					"-device", "usb-storage,bus=xhci.0,port=1.2,drive=stick,id=stickdev")
			} else {
				args = append(args, "-device", "usb-storage,bus=xhci.0,drive=stick,id=stickdev")
			}
		}
	default:
		args = append(args, "-M", "raspi4b", "-kernel", cfg.Kernel)
		if cfg.SD != "" {
			args = append(args, "-drive", "if=sd,format=raw,file="+cfg.SD)
		}
	}
	return append(args, cfg.Extra...)
}

// Start boots cfg. The machine is killed when Stop is called.
func Start(cfg Config) (*Machine, error) {
	if _, err := exec.LookPath("qemu-system-aarch64"); err != nil {
		return nil, errors.New("qemu-system-aarch64 not found: run scripts/install-deps.sh")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	dir, err := os.MkdirTemp("", "inferpi-qemu")
	if err != nil {
		return nil, err
	}
	m := &Machine{changed: make(chan struct{}, 1), exited: make(chan struct{}), monitor: filepath.Join(dir, "monitor.sock")}
	args := append(Args(cfg),
		"-chardev", fmt.Sprintf("socket,id=uart,host=127.0.0.1,port=%d,server=off", port),
		"-serial", "chardev:uart",
		"-monitor", "unix:"+m.monitor+",server=on,wait=off")
	m.cmd = exec.Command("qemu-system-aarch64", args...)
	m.cmd.Stderr = &m.stderr
	if err := m.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		m.exitErr = m.cmd.Wait()
		os.RemoveAll(dir)
		close(m.exited)
	}()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(30 * time.Second))
	m.conn, err = ln.Accept()
	if err != nil {
		m.Stop()
		return nil, fmt.Errorf("QEMU did not connect to the UART socket: %v (stderr: %s)", err, m.stderr.String())
	}
	go m.read()
	return m, nil
}

func (m *Machine) read() {
	buf := make([]byte, 4096)
	for {
		n, err := m.conn.Read(buf)
		if n > 0 {
			m.mu.Lock()
			m.out.Write(buf[:n])
			m.mu.Unlock()
			select {
			case m.changed <- struct{}{}:
			default:
			}
		}
		if err != nil {
			close(m.changed)
			return
		}
	}
}

// Log returns everything the UART printed so far.
func (m *Machine) Log() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.out.String()
}

// Expect waits until the output after the previous match matches pattern (a
// regular expression) and returns the text up to and including the match.
func (m *Machine) Expect(pattern string, timeout time.Duration) (string, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return "", err
	}
	deadline := time.After(timeout)
	for {
		m.mu.Lock()
		rest := m.out.Bytes()[m.cursor:]
		if loc := re.FindIndex(rest); loc != nil {
			s := string(rest[:loc[1]])
			m.cursor += loc[1]
			m.mu.Unlock()
			return s, nil
		}
		m.mu.Unlock()
		select {
		case _, ok := <-m.changed:
			if !ok {
				// The UART closed (QEMU exited): one last look, then give up.
				m.mu.Lock()
				rest := m.out.Bytes()[m.cursor:]
				loc := re.FindIndex(rest)
				m.mu.Unlock()
				if loc != nil {
					continue
				}
				return "", fmt.Errorf("QEMU exited before %q appeared", pattern)
			}
		case <-deadline:
			return "", fmt.Errorf("timed out after %v waiting for %q", timeout, pattern)
		}
	}
}

// Send types s on the UART.
func (m *Machine) Send(s string) error {
	_, err := m.conn.Write([]byte(s))
	return err
}

// SendSlowly types s in small pieces, like a person or a slow paste.
func (m *Machine) SendSlowly(s string, chunk int, pause time.Duration) error {
	for len(s) > 0 {
		n := min(chunk, len(s))
		if err := m.Send(s[:n]); err != nil {
			return err
		}
		s = s[n:]
		time.Sleep(pause)
	}
	return nil
}

// Monitor runs a human-monitor command (e.g. "device_del stickdev") and returns its output.
func (m *Machine) Monitor(command string) (string, error) {
	c, err := net.DialTimeout("unix", m.monitor, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var out bytes.Buffer
	buf := make([]byte, 4096)
	readUntilPrompt := func() error {
		for !strings.HasSuffix(out.String(), "(qemu) ") {
			n, err := c.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := readUntilPrompt(); err != nil {
		return out.String(), err
	}
	out.Reset()
	if _, err := c.Write([]byte(command + "\n")); err != nil {
		return "", err
	}
	err = readUntilPrompt()
	return out.String(), err
}

// Wait waits for QEMU to exit (the firmware reset or powered off).
func (m *Machine) Wait(timeout time.Duration) error {
	select {
	case <-m.exited:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("QEMU still running after %v", timeout)
	}
}

// Stop kills QEMU if it still runs.
func (m *Machine) Stop() {
	if m.cmd.Process != nil {
		select {
		case <-m.exited:
		default:
			m.killed = true
			m.cmd.Process.Kill()
		}
	}
	<-m.exited
	if m.conn != nil {
		m.conn.Close()
	}
}

// CrashedBySignal reports whether QEMU has exited because of a signal (its own
// segmentation fault, say), as opposed to the guest resetting or powering off.
//
// It waits up to 5 s for QEMU's exit: the UART closes (and Expect gives up) a
// moment before the exit status is in, and a QEMU that crashed in that moment was
// once taken for one still running, which turned QEMU's own segfault into a
// failed test instead of a retry.
func (m *Machine) CrashedBySignal() bool {
	select {
	case <-m.exited:
	case <-time.After(5 * time.Second):
		return false
	}
	var ee *exec.ExitError
	if errors.As(m.exitErr, &ee) {
		if ws, ok := ee.Sys().(interface{ Signaled() bool }); ok {
			return ws.Signaled() && m.cmd.ProcessState != nil && !m.killed
		}
	}
	return false
}

// Stderr is what QEMU itself printed, and how it exited if it has.
func (m *Machine) Stderr() string {
	select {
	case <-m.exited:
		status := "exited normally"
		if m.exitErr != nil {
			status = m.exitErr.Error()
		}
		return m.stderr.String() + "(QEMU: " + status + ")"
	default:
		return m.stderr.String()
	}
}
