package bcm2711

import (
	"errors"
	"fmt"
	"strings"
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
	// Firmware is the VL805 firmware version from config register 0x50.
	Firmware uint32
	// Link is the PCIe link's speed and width, e.g. "Gen 2 x1".
	Link string
}

// BringUp runs the whole Pi 4 sequence: root complex start, PCI enumeration
// behind it (bridge bus numbers and window, VL805 BAR0, memory and bus-master
// enable), then the VideoCore notification that loads the VL805 firmware, a
// check that the firmware runs and that the VL805 still decodes its BAR0. It
// returns the xHCI's location. When it fails, nothing behind the outbound
// window has been touched: the caller can go on to other storage.
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
	x := &XHCI{Function: f, Base: f.BARs[0].CPU, DMAOffset: o.Inbound.Offset, Link: rc.link}

	// The VideoCore resets the VL805 and loads its firmware (from the bootloader
	// EEPROM on boards without a VL805 EEPROM). It expects the bus to be set up
	// already (Linux and U-Boot call it after enumeration).
	addr := f.Addr.Packed()
	rc.logf("asking the VideoCore to load the VL805 firmware (mailbox tag 0x00030058, device %#08x)", addr)
	if err := fw.NotifyXHCIReset(addr); err != nil {
		return nil, fmt.Errorf("pcie: notify xHCI reset (mailbox tag 0x00030058): %w", err)
	}
	if x.Firmware, err = rc.waitFirmware(f); err != nil {
		return nil, err
	}
	// The xHCI registers are read only once the VL805 is known to decode its
	// BAR0: a read it does not answer is an abort, an SError on the Pi.
	if err := rc.checkDecoding(f); err != nil {
		return nil, err
	}
	rc.logf("xHCI registers at CPU %#x (PCI %#x), DMA offset %#x", x.Base, f.BARs[0].Bus, x.DMAOffset)
	return x, nil
}

// ErrNoFirmware is wrapped when the VL805 reports no firmware after the
// VideoCore was asked to load it: USB cannot work, and its registers must not
// be touched.
var ErrNoFirmware = errors.New("the VL805 reports no firmware")

// Firmware load timing: Linux's reset-raspberrypi.c (rpi_reset_reset) waits
// 200-1000 us after the notify before anything touches the VL805; the first
// read here comes after the upper bound. Then the version register is polled
// for a while longer in case the load is slow on a cold board.
const (
	firmwareSettle = time.Millisecond
	firmwarePoll   = time.Millisecond
	firmwareWait   = 100 * time.Millisecond
)

// waitFirmware reads the VL805's firmware version (config 0x50, which the
// Raspberry Pi kernel's rpi_firmware_init_vl805 reads after the notify: 0
// means no firmware) until it is there.
func (rc *RootComplex) waitFirmware(f *pci.Function) (uint32, error) {
	rc.opt.Sleep(firmwareSettle)
	waited := firmwareSettle
	for {
		v := rc.Read32(f.Addr, vl805FirmwareVersion)
		switch {
		case v == 0xFFFFFFFF:
			return 0, fmt.Errorf("pcie: xHCI %v stopped answering configuration reads after the firmware load", f.Addr)
		case v != 0:
			rc.logf("VL805 firmware %#08x running after %d ms", v, waited.Milliseconds())
			return v, nil
		case waited >= firmwareWait:
			return 0, fmt.Errorf("pcie: %w (config 0x50 = 0) %d ms after the VideoCore was asked to load it; "+
				"its registers are left alone (reading them would abort)", ErrNoFirmware, waited.Milliseconds())
		}
		rc.opt.Sleep(firmwarePoll)
		waited += firmwarePoll
	}
}

// checkDecoding reads back the VL805's COMMAND and BAR0 as enumeration
// programmed them. The firmware load resets the VL805; should that have
// cleared them, they are programmed again (Circle enables the device only
// after the notify, CXHCIDevice::Initialize) and checked once more.
func (rc *RootComplex) checkDecoding(f *pci.Function) error {
	b := f.BARs[0]
	flags := uint32(0) // BAR type bits: 64-bit memory, prefetchable
	if b.Mem64 {
		flags |= 4
	}
	if b.Prefetch {
		flags |= 8
	}
	lo := uint32(b.Bus)&^0xF | flags
	want := [][2]uint32{{0x04, uint32(f.Command)}, {0x10, lo}}
	if b.Mem64 {
		want = append(want, [2]uint32{0x14, uint32(b.Bus >> 32)})
	}
	// Compared: COMMAND's memory space and bus master bits, BAR0's address.
	masks := map[uint32]uint32{0x04: 0x6, 0x10: ^uint32(0xF), 0x14: 0xFFFFFFFF}
	mismatch := func() string {
		var bad []string
		for _, w := range want {
			if got := rc.Read32(f.Addr, int(w[0])); got&masks[w[0]] != w[1]&masks[w[0]] {
				bad = append(bad, fmt.Sprintf("config %#02x = %#08x, want %#08x", w[0], got, w[1]))
			}
		}
		return strings.Join(bad, ", ")
	}
	bad := mismatch()
	if bad == "" {
		return nil
	}
	rc.logf("VL805 configuration lost in the firmware load (%s); programming BAR0 and COMMAND again", bad)
	rc.Write32(f.Addr, 0x10, lo)
	if b.Mem64 {
		rc.Write32(f.Addr, 0x14, uint32(b.Bus>>32))
	}
	rc.Write32(f.Addr, 0x04, uint32(f.Command))
	if bad := mismatch(); bad != "" {
		return fmt.Errorf("pcie: the VL805 does not decode its registers (%s); its registers are left alone", bad)
	}
	return nil
}
