//go:build linux && arm64 && virt

package storage

import (
	"fmt"
	"io"

	"github.com/inferpi/inferpi/board"
	"github.com/inferpi/inferpi/driver/pci"
	"github.com/inferpi/inferpi/driver/reg"
	"github.com/inferpi/inferpi/metal/sys"
	"github.com/inferpi/inferpi/platform/bootlog"
)

// OpenUSB brings USB up on QEMU virt: it enumerates the PCIe bus through ECAM,
// assigning BARs from the 32-bit MMIO window (no firmware has: see FindXHCI),
// finds the xHCI (qemu-xhci), starts it and attaches the mass-storage
// devices, logging each step. A previous start-up still running is stopped
// first. Close the result before starting again.
func OpenUSB(log io.Writer) (*USB, error) {
	return restart(log, func() (*USB, error) {
		l := bootlog.New(log, "usb")
		ecam, err := sys.MapDevice(board.PCIeECAM, board.PCIeECAMSize)
		if err != nil {
			return nil, fmt.Errorf("PCIe configuration space: %w", err)
		}
		l.Printf("PCIe ECAM at %#x, BARs from %#x-%#x", uint64(board.PCIeECAM), board.PCIeMMIO32, board.PCIeMMIO32+board.PCIeMMIO32Size-1)
		w := pci.Window{CPU: board.PCIeMMIO32, Bus: board.PCIeMMIO32, Size: board.PCIeMMIO32Size}
		f, bar, err := FindXHCI(log, pci.ECAM{Bank: reg.At(ecam)}, pci.Windows{Mem: w})
		if err != nil {
			return nil, err
		}
		regs, err := sys.MapDevice(bar.CPU, bar.Size)
		if err != nil {
			return nil, fmt.Errorf("xHCI %v registers: %w", f.Addr, err)
		}
		l.Printf("xHCI %v at %#x", f, bar.CPU)
		// QEMU's DMA sees physical addresses as they are (no IOMMU, no offset).
		return StartXHCI(log, reg.At(regs), &sys.DMA{}, USBOptions{})
	})
}
