package bcm2711

import (
	"fmt"
	"time"

	"github.com/inferpi/inferpi/driver/pci"
	"github.com/inferpi/inferpi/driver/reg"
)

// XHCI says where the brought-up USB controller is.
type XHCI struct {
	Function *pci.Function
	// Base is the CPU physical address of the xHCI registers (BAR0); the
	// platform maps it as device memory and hands it to xhci.New.
	Base uint64
	// DMAOffset is added to a CPU physical address to get the address the
	// controller must use (the inbound window). The platform's dma.Memory applies
	// it when it fills in Buffer.Bus and Segment.Bus; drivers never do.
	DMAOffset uint64
	// Firmware is the VL805 firmware version from config register 0x50 (0 if it
	// reported none).
	Firmware uint32
}

// BringUp runs the whole Pi 4 sequence: root complex start, PCI enumeration
// behind it (bridge bus numbers and window, VL805 BAR0, memory and bus-master
// enable), then the VideoCore notification that loads the VL805 firmware, and
// a check that the firmware runs. It returns the xHCI's location.
func BringUp(regs reg.Bank, fw Firmware, opt Options) (*XHCI, error) {
	rc := NewRootComplex(regs, opt)
	if err := rc.Start(); err != nil {
		return nil, err
	}
	o := rc.opt
	fs, err := pci.Enumerate(rc, pci.Windows{Mem: o.Outbound}, pci.Options{Log: o.Log, MaxBus: 1, Devices: 1})
	if err != nil {
		return nil, fmt.Errorf("pcie: enumeration: %w", err)
	}
	f := pci.Find(fs, classXHCI)
	if f == nil {
		return nil, fmt.Errorf("pcie: no xHCI controller (class 0c0330) behind the root port; found %d functions", len(fs))
	}
	if f.Vendor != vl805Vendor || f.Device != vl805Device {
		rc.logf("xHCI %04x:%04x is not the VL805 (1106:3483); continuing", f.Vendor, f.Device)
	}
	if len(f.BARs) == 0 || !f.BARs[0].Assigned || f.BARs[0].Index != 0 {
		return nil, fmt.Errorf("pcie: xHCI %v has no memory BAR0", f.Addr)
	}
	x := &XHCI{Function: f, Base: f.BARs[0].CPU, DMAOffset: o.Inbound.Offset}

	// The VideoCore resets the VL805 and loads its firmware (from the bootloader
	// EEPROM on boards without a VL805 EEPROM). It expects the bus to be set up
	// already (Linux and U-Boot call it after enumeration).
	addr := f.Addr.Packed()
	rc.logf("asking the VideoCore to load the VL805 firmware (mailbox tag 0x00030058, device %#08x)", addr)
	if err := fw.NotifyXHCIReset(addr); err != nil {
		return nil, fmt.Errorf("pcie: notify xHCI reset (mailbox tag 0x00030058): %w", err)
	}
	// Linux waits 0.2-1 ms after the call; then the firmware version register
	// should read non-zero (rpi_firmware_init_vl805).
	for waited := 0; ; waited++ {
		v := rc.Read32(f.Addr, vl805FirmwareVersion)
		if v == 0xFFFFFFFF {
			return nil, fmt.Errorf("pcie: xHCI %v stopped answering configuration reads after the firmware load", f.Addr)
		}
		if v != 0 {
			x.Firmware = v
			rc.logf("VL805 firmware %#08x running after %d ms", v, waited)
			break
		}
		if waited == 100 {
			rc.logf("VL805 reports no firmware version (config 0x50 = 0) 100 ms after the call; continuing, but USB may not work")
			break
		}
		o.Sleep(time.Millisecond)
	}
	rc.logf("xHCI registers at CPU %#x (PCI %#x), DMA offset %#x", x.Base, f.BARs[0].Bus, x.DMAOffset)
	return x, nil
}
