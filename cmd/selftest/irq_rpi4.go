//go:build linux && arm64 && !virt

package main

import (
	"fmt"
	"time"
	"unsafe"

	"github.com/inferpi/inferpi/driver/reg"
	"github.com/inferpi/inferpi/metal/sys"
	"github.com/inferpi/inferpi/soc/bcm2711"
)

// checkWaitIRQ waits through the kernel (sys.WaitIRQ) for a real device
// interrupt: the VideoCore mailbox's "reply available" (mailbox 0 config bit 0,
// Linux bcm2835-mailbox.c: ARM_MC_IHAVEDATAIRQEN; GIC SPI 33 = INTID 65, Linux
// bcm2711.dtsi: &mailbox), raised when the firmware answers a property request.
// A wait nothing satisfies must time out too.
func checkWaitIRQ() (string, error) {
	const (
		mboxRead   = 0x00
		mboxStatus = 0x18
		mboxConfig = 0x1C
		mboxWrite  = 0x20
		empty      = 1 << 30
	)
	t0 := time.Now()
	if err := sys.WaitIRQ(bcm2711.MailboxIRQ, 30*time.Millisecond); err == nil {
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
	mb := reg.At(bcm2711.Mailbox)
	for mb.Read32(mboxStatus)&empty == 0 {
		mb.Read32(mboxRead)
	}
	mb.Write32(mboxConfig, 1) // interrupt when a reply is available
	defer mb.Write32(mboxConfig, 0)
	msg := unsafe.Slice((*uint32)(unsafe.Pointer(&buf.Mem[0])), len(buf.Mem)/4)
	for round := 0; round < 3; round++ {
		tags := []*bcm2711.Tag{{ID: bcm2711.TagFirmwareRevision, Response: make([]uint32, 1)}}
		if bcm2711.Encode(msg, tags) == 0 {
			return "", fmt.Errorf("a firmware revision request does not fit %d bytes", len(buf.Mem))
		}
		done := make(chan error, 1)
		go func() { done <- sys.WaitIRQ(bcm2711.MailboxIRQ, 5*time.Second) }()
		time.Sleep(5 * time.Millisecond) // let the waiter enable the line first
		mb.Write32(mboxWrite, uint32(uintptr(unsafe.Pointer(&msg[0])))|0xC0000000|8)
		if err := <-done; err != nil {
			return "", fmt.Errorf("round %d: %v", round, err)
		}
		if mb.Read32(mboxStatus)&empty != 0 {
			return "", fmt.Errorf("woken, but no mailbox reply is waiting")
		}
		mb.Read32(mboxRead)
		if f, _ := bcm2711.Decode(msg, tags); f != bcm2711.ReplyOK {
			return "", fmt.Errorf("reply code %#x: fault %d", msg[1], f)
		}
	}
	return "3 mailbox reply interrupts received, a timed-out wait too", nil
}
