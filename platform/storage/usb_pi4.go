package storage

import (
	"fmt"
	"io"
	"sync/atomic"

	"github.com/inferpi/inferpi/driver/dma"
	"github.com/inferpi/inferpi/driver/pcie/bcm2711"
	"github.com/inferpi/inferpi/driver/reg"
)

// Pi4USB is the hardware the Raspberry Pi 4's USB start-up reaches, as values,
// so that the same start-up runs on the board (OpenUSB) and against fakes in
// the host tests (driver/pcie/bcm2711/rcfake, driver/xhci/xhcifake).
type Pi4USB struct {
	// RCAddr is the root complex's physical address, for messages.
	RCAddr uint64
	// RootComplex is its register block.
	RootComplex reg.Bank
	// Firmware is the VideoCore's "notify xHCI reset" call.
	Firmware bcm2711.Firmware
	// PCIe chooses the windows and the sleeps; its Log is set here.
	PCIe bcm2711.Options
	// MapXHCI maps the xHCI registers the bring-up found at physical address
	// pa. It is called only once the VL805 runs its firmware and decodes them.
	MapXHCI func(pa, size uint64) (reg.Bank, error)
	// DMA is the memory the controller reaches RAM through, given the inbound
	// window's bus offset.
	DMA func(busOffset uint64) dma.Memory
	// DMAReach is how much RAM the inbound window reaches, from CPU address 0.
	DMAReach uint64
	// USB are the controller's and the class driver's options;
	// XHCI.DMALimit is set here.
	USB USBOptions
}

// PCIeReport is what the last Pi 4 USB start-up found: the link and the
// VL805's firmware, or why the bring-up failed.
type PCIeReport struct {
	Link     string // "Gen 2 x1"
	Firmware uint32 // the VL805's firmware version
	Inbound  bcm2711.Inbound
	Err      error
}

var lastPCIe atomic.Pointer[PCIeReport]

// LastPCIe returns the report of the last Pi 4 USB start-up; ok is false when
// none has run (QEMU virt has no BCM2711 root complex).
func LastPCIe() (r PCIeReport, ok bool) {
	if p := lastPCIe.Load(); p != nil {
		return *p, true
	}
	return PCIeReport{}, false
}

// StartPi4USB brings up the BCM2711 root complex and the VL805 behind it
// (bcm2711.BringUp), then the xHCI and the mass-storage devices on it, one
// boot-log line per step. A bring-up that fails (no link, no VL805 firmware,
// a VL805 that does not decode its registers) returns its error before the
// xHCI registers are mapped or touched, so the caller goes on to the SD card;
// faults while touching the hardware become errors too (guardFaults).
func StartPi4USB(log io.Writer, hw Pi4USB) (*USB, error) {
	opt := hw.PCIe
	opt.Log = newLogWriter(log)
	var x *bcm2711.XHCI
	err := guardFaults(fmt.Sprintf("the PCIe root complex at %#x", hw.RCAddr), hw.RCAddr, func() error {
		var err error
		x, err = bcm2711.BringUp(hw.RootComplex, hw.Firmware, opt)
		return err
	})
	rep := PCIeReport{Err: err}
	if x != nil {
		rep.Link, rep.Firmware, rep.Inbound = x.Link, x.Firmware, opt.Inbound
		if rep.Inbound.Size == 0 {
			rep.Inbound = bcm2711.DefaultInbound
		}
	}
	lastPCIe.Store(&rep)
	if err != nil {
		return nil, err
	}
	regs, err := hw.MapXHCI(x.Base, x.Function.BARs[0].Size)
	if err != nil {
		return nil, fmt.Errorf("xHCI registers: %w", err)
	}
	// The controller reaches RAM through the inbound window: bus address =
	// physical address + DMAOffset, which the DMA memory applies to every buffer.
	uo := hw.USB
	uo.XHCI.DMALimit = x.DMAOffset + hw.DMAReach
	var u *USB
	err = guardFaults(fmt.Sprintf("the xHCI at %#x", x.Base), x.Base, func() error {
		var err error
		u, err = StartXHCI(log, regs, hw.DMA(x.DMAOffset), uo)
		return err
	})
	return u, err
}
