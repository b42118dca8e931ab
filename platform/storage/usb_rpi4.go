//go:build linux && arm64 && !virt

package storage

import (
	"fmt"
	"io"

	"github.com/inferpi/inferpi/board"
	"github.com/inferpi/inferpi/driver/dma"
	"github.com/inferpi/inferpi/driver/pci"
	"github.com/inferpi/inferpi/driver/pcie/bcm2711"
	"github.com/inferpi/inferpi/driver/reg"
	"github.com/inferpi/inferpi/metal/sys"
	"github.com/inferpi/inferpi/platform/bootlog"
	"github.com/inferpi/inferpi/platform/mailbox"
)

// rcRegsSize is the extent of the root complex's register block (DT
// pcie@7d500000 reg size 0x9310 in bcm2711.dtsi).
const rcRegsSize = 0x9310

// OpenUSB brings USB up on the Raspberry Pi 4: the BCM2711 PCIe root complex
// (reset, SerDes, windows, link), the VL805 behind it (bus numbers, BAR0 in the
// outbound window, then the VideoCore's "notify xHCI reset" that loads its
// firmware), then the xHCI and the mass-storage devices, one boot-log line per
// step with the values read back. Every wait is bounded, so a Pi 4 owner can
// report where it stops. A previous start-up still running is stopped first.
func OpenUSB(log io.Writer) (*USB, error) {
	return restart(log, func() (*USB, error) {
		l := bootlog.New(log, "usb")
		rc, err := sys.MapDevice(board.PCIeRC, rcRegsSize)
		if err != nil {
			return nil, fmt.Errorf("PCIe root complex registers: %w", err)
		}
		fw := notifier{log: l}
		if mb, err := mailbox.Firmware(); err != nil {
			fw.err = err
		} else {
			fw.mb = mb
		}
		// The first line, before any register is touched: if the board dies on
		// the first access (an SError), the log still says where it was.
		l.Printf("PCIe root complex at %#x; the VL805 will appear at CPU %#x", uint64(board.PCIeRC), uint64(board.PCIeWindowCPU))
		// Where devices see RAM depends on the chip's stepping, which the board
		// revision tells. The xHCI driver bounces transfers for memory beyond
		// the window's reach (a model buffer above 3 GiB on a B0 board).
		var rev uint32
		if info, err := sys.Info(); err == nil {
			rev = info.BoardRevision
		}
		inbound, reach, why := bcm2711.InboundFor(rev)
		l.Printf("inbound window for %s", why)
		u, err := StartPi4USB(log, Pi4USB{
			RCAddr:      board.PCIeRC,
			RootComplex: reg.At(rc),
			Firmware:    fw,
			PCIe: bcm2711.Options{
				Outbound: pci.Window{CPU: board.PCIeWindowCPU, Bus: bcm2711.DefaultOutbound.Bus, Size: bcm2711.DefaultOutbound.Size},
				Inbound:  inbound,
			},
			MapXHCI: func(pa, size uint64) (reg.Bank, error) {
				va, err := sys.MapDevice(pa, size)
				return reg.At(va), err
			},
			DMA:      func(busOffset uint64) dma.Memory { return &sys.DMA{BusOffset: busOffset} },
			DMAReach: reach,
		})
		if err != nil {
			if info, ierr := sys.Info(); ierr == nil && info.IsQEMU != 0 {
				err = fmt.Errorf("%w (QEMU raspi4b models no PCIe, so no USB)", err)
			}
			return nil, err
		}
		return u, nil
	})
}

// An SError while the USB start-up touches the root complex or the VL805
// becomes a fault of the start-up's thread (the kernel reports it), which
// guardFaults turns into an error: the firmware goes on to the SD card.
func init() {
	catchSErrors = func(addr uint64) func() {
		if sys.CatchSError(addr) != nil {
			return func() {}
		}
		return func() { sys.CatchSError(0) }
	}
}

// notifier is the VideoCore call of the bring-up. Firmware that does not know
// the tag is from before boards without a VL805 EEPROM (which load the VL805
// themselves): that is logged, not fatal; the firmware-version check that
// follows tells whether the VL805 runs.
type notifier struct {
	mb  *mailbox.Client
	err error
	log *bootlog.Logger
}

func (n notifier) NotifyXHCIReset(addr uint32) error {
	if n.mb == nil {
		return n.err
	}
	err := n.mb.NotifyXHCIReset(addr)
	if mailbox.IsUnsupported(err) {
		n.log.Printf("the VideoCore firmware does not know tag 0x00030058 (%v); assuming the VL805 loads its own firmware", err)
		return nil
	}
	return err
}
