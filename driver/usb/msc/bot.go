// Package msc is the USB mass-storage class driver: bulk-only transport (BOT)
// carrying SCSI commands, exposed as a storage/block.Device.
//
// References (facts only): USB Mass Storage Class Bulk-Only Transport 1.0 (BOT);
// SCSI Primary Commands (SPC-4) and Block Commands (SBC-3); U-Boot
// common/usb_storage.c; Circle lib/usb/usbmassdevice.cpp; Linux
// drivers/usb/storage/transport.c.
package msc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/inferpi/inferpi/driver/usb"
)

// Bulk-only transport wrappers (BOT §5.1, §5.2).
const (
	cbwSignature = 0x43425355 // "USBC"
	cswSignature = 0x53425355 // "USBS"
	cbwLen       = 31
	cswLen       = 13
)

// CSW status values (BOT table 5.3).
const (
	StatusPassed     = 0
	StatusFailed     = 1
	StatusPhaseError = 2
)

// CBW is a command block wrapper.
type CBW struct {
	Tag        uint32
	DataLength uint32
	In         bool // data stage moves data to the host
	LUN        uint8
	CDB        []byte // 1..16 bytes
}

// Marshal encodes the CBW into its 31 bytes.
func (c CBW) Marshal() ([cbwLen]byte, error) {
	var b [cbwLen]byte
	if len(c.CDB) < 1 || len(c.CDB) > 16 {
		return b, fmt.Errorf("msc: command block of %d bytes (1 to 16 allowed)", len(c.CDB))
	}
	if c.LUN > 15 {
		return b, fmt.Errorf("msc: LUN %d (0 to 15 allowed)", c.LUN)
	}
	binary.LittleEndian.PutUint32(b[0:], cbwSignature)
	binary.LittleEndian.PutUint32(b[4:], c.Tag)
	binary.LittleEndian.PutUint32(b[8:], c.DataLength)
	if c.In {
		b[12] = 0x80
	}
	b[13] = c.LUN
	b[14] = byte(len(c.CDB))
	copy(b[15:], c.CDB)
	return b, nil
}

// ParseCBW decodes a CBW (what a device does with it; used by tests and fuzzing).
func ParseCBW(b []byte) (CBW, error) {
	if len(b) != cbwLen {
		return CBW{}, fmt.Errorf("msc: CBW is %d bytes, want %d", len(b), cbwLen)
	}
	if s := binary.LittleEndian.Uint32(b); s != cbwSignature {
		return CBW{}, fmt.Errorf("msc: CBW signature %#08x, want %#08x", s, cbwSignature)
	}
	n := int(b[14] & 0x1F)
	if n < 1 || n > 16 {
		return CBW{}, fmt.Errorf("msc: CBW command block length %d", n)
	}
	return CBW{
		Tag:        binary.LittleEndian.Uint32(b[4:]),
		DataLength: binary.LittleEndian.Uint32(b[8:]),
		In:         b[12]&0x80 != 0,
		LUN:        b[13] & 0x0F,
		CDB:        append([]byte(nil), b[15:15+n]...),
	}, nil
}

// CSW is a command status wrapper.
type CSW struct {
	Tag     uint32
	Residue uint32 // expected minus processed data bytes
	Status  uint8
}

// ParseCSW decodes and checks a CSW ("valid" in BOT §6.3.1: 13 bytes with the
// right signature; the tag is checked by the caller).
func ParseCSW(b []byte) (CSW, error) {
	if len(b) != cswLen {
		return CSW{}, fmt.Errorf("CSW is %d bytes, want %d", len(b), cswLen)
	}
	if s := binary.LittleEndian.Uint32(b); s != cswSignature {
		return CSW{}, fmt.Errorf("CSW signature %#08x, want %#08x", s, cswSignature)
	}
	return CSW{
		Tag:     binary.LittleEndian.Uint32(b[4:]),
		Residue: binary.LittleEndian.Uint32(b[8:]),
		Status:  b[12],
	}, nil
}

// Pipes is what the transport needs from a USB device; *usb.Device has it.
type Pipes interface {
	Name() string
	Control(s usb.Setup, data []byte) (int, error)
	Bulk(ep uint8, buf []byte, timeout time.Duration) (int, error)
	ClearHalt(ep uint8) error
}

// errFailed is a command that completed with CSW status "failed" (a SCSI CHECK
// CONDITION): REQUEST SENSE says why.
var errFailed = errors.New("command failed")

// errTransport marks failures after which the transport was reset.
var errTransport = errors.New("transport error")

// errUnrecoverable marks failures after which reset recovery failed too: the
// device does not answer even on its control endpoint, and retrying would only
// stretch the failure out.
var errUnrecoverable = errors.New("device does not recover")

// transport runs SCSI commands over bulk-only transport.
type transport struct {
	p       Pipes
	iface   uint8
	in, out uint8
	lun     uint8
	tag     uint32
	opt     *Options
}

// command runs one command: CBW, optional data stage straight into or out of
// data, CSW. It returns the bytes moved in the data stage. A CSW status of
// "failed" gives errFailed; every transport-level problem (stalled CBW, bad CSW,
// phase error, timeout) triggers reset recovery and gives an error wrapping
// errTransport. A device that went away gives usb.ErrDisconnected at once.
func (t *transport) command(cdb []byte, data []byte, in bool, dataTimeout time.Duration) (int, error) {
	t.tag++
	cbw, err := CBW{Tag: t.tag, DataLength: uint32(len(data)), In: in, LUN: t.lun, CDB: cdb}.Marshal()
	if err != nil {
		return 0, err
	}
	if _, err := t.p.Bulk(t.out, cbw[:], t.opt.commandTimeout()); err != nil {
		return 0, t.fail(fmt.Errorf("send CBW: %w", err))
	}
	n := 0
	if len(data) > 0 {
		ep := t.out
		if in {
			ep = t.in
		}
		n, err = t.p.Bulk(ep, data, dataTimeout)
		switch {
		case errors.Is(err, usb.ErrStall):
			// The device ended the data stage early with a STALL (BOT §6.7.2): clear
			// it, then the CSW tells how the command ended.
			if err := t.p.ClearHalt(ep); err != nil {
				return n, t.fail(fmt.Errorf("clear halt after stalled data stage: %w", err))
			}
		case err != nil:
			return n, t.fail(fmt.Errorf("data stage: %w", err))
		}
	}
	csw, err := t.readCSW()
	if err != nil {
		return n, t.fail(err)
	}
	if csw.Tag != t.tag {
		return n, t.fail(fmt.Errorf("CSW tag %#x does not match CBW tag %#x", csw.Tag, t.tag))
	}
	switch csw.Status {
	case StatusPassed, StatusFailed:
	case StatusPhaseError:
		return n, t.fail(errors.New("device reports a phase error"))
	default:
		return n, t.fail(fmt.Errorf("CSW status %d", csw.Status))
	}
	// "Meaningful" CSW (BOT §6.3.2): the residue cannot exceed the request.
	if csw.Residue > uint32(len(data)) {
		return n, t.fail(fmt.Errorf("CSW residue %d exceeds the %d-byte transfer", csw.Residue, len(data)))
	}
	if csw.Status == StatusFailed {
		return n, errFailed
	}
	if in && csw.Residue == 0 && n < len(data) {
		return n, fmt.Errorf("device sent %d of %d bytes but reports no residue", n, len(data))
	}
	return n, nil
}

// readCSW reads the status wrapper; a STALL is cleared and the read tried once
// more (BOT §6.7.2, as U-Boot and Circle do).
func (t *transport) readCSW() (CSW, error) {
	var b [cswLen]byte
	n, err := t.p.Bulk(t.in, b[:], t.opt.commandTimeout())
	if errors.Is(err, usb.ErrStall) {
		if err := t.p.ClearHalt(t.in); err != nil {
			return CSW{}, fmt.Errorf("clear halt before CSW: %w", err)
		}
		n, err = t.p.Bulk(t.in, b[:], t.opt.commandTimeout())
	}
	if err != nil {
		return CSW{}, fmt.Errorf("read CSW: %w", err)
	}
	return ParseCSW(b[:n])
}

// fail runs reset recovery after a transport failure and returns the error to
// report. A device that has gone away is reported as such, without recovery.
func (t *transport) fail(err error) error {
	if errors.Is(err, usb.ErrDisconnected) {
		return err
	}
	logf(t.opt.Log, "%s: %v; bulk-only reset recovery", t.p.Name(), err)
	if rerr := t.resetRecovery(); rerr != nil {
		return fmt.Errorf("%w: %w (reset recovery failed: %w)", errUnrecoverable, err, rerr)
	}
	return fmt.Errorf("%w: %w", errTransport, err)
}

// resetRecovery is BOT §5.3.4: Bulk-Only Mass Storage Reset, then clear HALT on
// the bulk-in and bulk-out endpoints.
func (t *transport) resetRecovery() error {
	s := usb.Setup{RequestType: usb.DirOut | usb.TypeClass | usb.RecipInterface, Request: 0xFF, Index: uint16(t.iface)}
	if _, err := t.p.Control(s, nil); err != nil {
		return fmt.Errorf("bulk-only mass storage reset: %w", err)
	}
	t.opt.sleep(t.opt.resetDelay())
	if err := t.p.ClearHalt(t.in); err != nil {
		return fmt.Errorf("bulk-in: %w", err)
	}
	if err := t.p.ClearHalt(t.out); err != nil {
		return fmt.Errorf("bulk-out: %w", err)
	}
	return nil
}

// maxLUN asks GET MAX LUN (BOT §3.2); devices that stall it have one LUN.
func (t *transport) maxLUN() int {
	b := make([]byte, 1)
	s := usb.Setup{RequestType: usb.DirIn | usb.TypeClass | usb.RecipInterface, Request: 0xFE, Index: uint16(t.iface), Length: 1}
	n, err := t.p.Control(s, b)
	if err != nil || n != 1 || b[0] > 15 {
		return 0
	}
	return int(b[0])
}
