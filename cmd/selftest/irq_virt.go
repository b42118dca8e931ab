//go:build linux && arm64 && virt

package main

import (
	"fmt"
	"time"

	"github.com/inferpi/inferpi/metal/sys"
)

// checkWaitIRQ: QEMU virt has no free-running device timer to program here, so
// only the timed-out wait is checked (the USB tests use real device interrupts).
func checkWaitIRQ() (string, error) {
	t0 := time.Now()
	if err := sys.WaitIRQ(100, 30*time.Millisecond); err == nil {
		return "", fmt.Errorf("WaitIRQ returned without an interrupt")
	}
	if el := time.Since(t0); el < 30*time.Millisecond {
		return "", fmt.Errorf("timeout after %v, want 30 ms", el)
	}
	return "timed-out wait only (no device timer on virt)", nil
}
