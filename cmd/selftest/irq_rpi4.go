//go:build linux && arm64 && !virt

package main

import (
	"encoding/binary"
	"fmt"
	"time"
	"unsafe"

	"github.com/inferpi/inferpi/board"
	"github.com/inferpi/inferpi/driver/reg"
	"github.com/inferpi/inferpi/metal/sys"
)

// checkWaitIRQ waits through the kernel (sys.WaitIRQ) for a real device
// interrupt: the VideoCore mailbox's "reply available" (mailbox 0 config bit 0,
// Linux bcm2835-mailbox.c: ARM_MC_IHAVEDATAIRQEN; GIC SPI 33 = INTID 65, Linux
// bcm2711.dtsi: &mailbox), raised when the firmware answers a property request.
// A wait nothing satisfies must time out too.
func checkWaitIRQ() (string, error) {
	const (
		intid      = 65
		mboxRead   = 0x00
		mboxStatus = 0x18
		mboxConfig = 0x1C
		mboxWrite  = 0x20
		empty      = 1 << 30
	)
	t0 := time.Now()
	if err := sys.WaitIRQ(intid, 30*time.Millisecond); err == nil {
		return "", fmt.Errorf("WaitIRQ returned without an interrupt")
	}
	if el := time.Since(t0); el < 30*time.Millisecond {
		return "", fmt.Errorf("timeout after %v, want 30 ms", el)
	}
	var d sys.DMA
	buf, err := d.AllocCoherent(64, 16)
	if err != nil {
		return "", err
	}
	defer d.Free(buf)
	mb := reg.At(board.Mailbox)
	for mb.Read32(mboxStatus)&empty == 0 {
		mb.Read32(mboxRead)
	}
	mb.Write32(mboxConfig, 1) // interrupt when a reply is available
	defer mb.Write32(mboxConfig, 0)
	for round := 0; round < 3; round++ {
		m := buf.Mem
		clear(m)
		le := binary.LittleEndian
		le.PutUint32(m[0:], 32)         // size
		le.PutUint32(m[8:], 0x00000001) // get firmware revision
		le.PutUint32(m[12:], 4)
		done := make(chan error, 1)
		go func() { done <- sys.WaitIRQ(intid, 5*time.Second) }()
		time.Sleep(5 * time.Millisecond) // let the waiter enable the line first
		mb.Write32(mboxWrite, uint32(uintptr(unsafe.Pointer(&m[0])))|0xC0000000|8)
		if err := <-done; err != nil {
			return "", fmt.Errorf("round %d: %v", round, err)
		}
		if mb.Read32(mboxStatus)&empty != 0 {
			return "", fmt.Errorf("woken, but no mailbox reply is waiting")
		}
		mb.Read32(mboxRead)
		if le.Uint32(m[4:]) != 0x80000000 {
			return "", fmt.Errorf("reply code %#x", le.Uint32(m[4:]))
		}
	}
	return "3 mailbox reply interrupts received, a timed-out wait too", nil
}
