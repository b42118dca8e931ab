// Package bcm2711 brings up the Raspberry Pi 4's PCIe root complex and the VIA
// VL805 USB 3 controller behind it: reset, SerDes power, inbound and outbound
// windows, link training, bridge and BAR set-up (through package pci), then the
// VideoCore's "notify xHCI reset" mailbox call that loads the VL805's firmware on
// boards without a VL805 EEPROM.
//
// None of this exists in QEMU. Every step is logged with the values read back,
// and every wait is bounded, so that a Pi 4 owner can report where it stops.
//
// Sources: Linux drivers/pci/controller/pcie-brcmstb.c (registers, the
// sequence, windows), U-Boot drivers/pci/pcie_brcmstb.c (brcm_pcie_probe, whose
// order Start follows) and Circle lib/bcmpciehostbridge.cpp; for the VL805,
// Linux drivers/reset/reset-raspberrypi.c and the Raspberry Pi kernel's
// rpi_firmware_init_vl805.
package bcm2711

import (
	"fmt"
	"io"
	"math/bits"
	"time"

	"github.com/inferpi/inferpi/driver/pci"
	"github.com/inferpi/inferpi/driver/reg"
)

// Firmware is the VideoCore mailbox call the bring-up needs; the platform
// implements it (property tag 0x0003_0058, Linux
// include/soc/bcm2835/raspberrypi-firmware.h RPI_FIRMWARE_NOTIFY_XHCI_RESET).
type Firmware interface {
	// NotifyXHCIReset tells the VideoCore that the xHCI controller at the PCI
	// address bus<<20 | device<<15 | function<<12 has been reset, so it loads the
	// VL805 firmware. It returns once the firmware has answered.
	NotifyXHCIReset(pciAddress uint32) error
}

// Inbound is the window through which PCIe devices reach RAM: bus address
// CPU+Offset for CPU addresses below Size.
type Inbound struct {
	Offset uint64 // PCI address of CPU address 0
	Size   uint64 // a power of two
}

// Options describe the windows; the zero value is the upstream device tree's.
type Options struct {
	Log io.Writer
	// Outbound is where the CPU sees PCIe memory (default CPU 0x6_0000_0000 =
	// PCI 0xF800_0000, 64 MiB: bcm2711.dtsi and Circle).
	Outbound pci.Window
	// Inbound is where devices see RAM (default PCI 0 = CPU 0, 4 GiB; C0-stepping
	// firmware describes PCI 0x4_0000_0000, 8 GiB instead).
	Inbound Inbound
	// Sleep replaces time.Sleep (tests record it).
	Sleep func(time.Duration)
}

// DefaultOutbound is the outbound window of the upstream device tree.
var DefaultOutbound = pci.Window{CPU: 0x6_0000_0000, Bus: 0xF800_0000, Size: 64 << 20}

// DefaultInbound is PCI 0 = CPU 0, 4 GiB (the upstream 3 GiB rounded up to a
// power of two, as Linux does).
var DefaultInbound = Inbound{Offset: 0, Size: 4 << 30}

func (o *Options) fill() {
	if o.Outbound.Size == 0 {
		o.Outbound = DefaultOutbound
	}
	if o.Inbound.Size == 0 {
		o.Inbound = DefaultInbound
	}
	if o.Sleep == nil {
		o.Sleep = time.Sleep
	}
}

// RootComplex is the BCM2711 PCIe controller. After Start it is also the
// pci.Config for the hierarchy below it.
type RootComplex struct {
	regs   reg.Bank
	opt    Options
	linkUp bool
	link   string // "Gen 2 x1", once the link is up
}

// NewRootComplex wraps the register block (ARM physical 0xFD50_0000, 0x9310 bytes).
func NewRootComplex(regs reg.Bank, opt Options) *RootComplex {
	opt.fill()
	return &RootComplex{regs: regs, opt: opt}
}

func (rc *RootComplex) logf(format string, args ...any) {
	if rc.opt.Log != nil {
		fmt.Fprintf(rc.opt.Log, "pcie: "+format+"\n", args...)
	}
}

// update is a read-modify-write that logs the value read back.
func (rc *RootComplex) update(off uintptr, clear, set uint32) uint32 {
	rc.regs.Write32(off, rc.regs.Read32(off)&^clear|set)
	return rc.regs.Read32(off)
}

// encodeInboundSize is the SIZE field of an RC_BAR config register for a window
// of size bytes (Linux brcm_pcie_encode_ibar_size): log2 - 15 for 64 KiB to
// 32 GiB, log2 - 12 + 0x1C for 4 to 32 KiB, 0 for anything else.
func encodeInboundSize(size uint64) uint32 {
	if size == 0 || size&(size-1) != 0 {
		return 0
	}
	n := uint32(bits.TrailingZeros64(size))
	switch {
	case n >= 16 && n <= 35:
		return n - 15
	case n >= 12 && n <= 15:
		return n - 12 + 0x1C
	}
	return 0
}

// Start runs the root-complex bring-up (Linux brcm_pcie_setup and
// brcm_pcie_start_link, in U-Boot's
// order) and returns once the link is up and the windows are set.
func (rc *RootComplex) Start() error {
	r := rc.regs
	rc.linkUp = false
	rev := r.Read32(miscRevision)
	if rev == 0xFFFFFFFF {
		return fmt.Errorf("pcie: controller registers read all-ones (MISC_REVISION): wrong address or the block is powered off")
	}
	rc.logf("controller revision %#x", rev&0xFFFF)

	// 1-4: hold the bridge in reset and assert PERST# (a bootloader that booted
	// from USB leaves them released), wait, release the bridge.
	v := rc.update(rgr1SWInit1, 0, rgr1SWInit1Init|rgr1SWInit1Perst)
	rc.logf("bridge reset and PERST# asserted (RGR1_SW_INIT_1 %#08x)", v)
	rc.opt.Sleep(100 * time.Microsecond)
	v = rc.update(rgr1SWInit1, rgr1SWInit1Init, 0)
	rc.logf("bridge out of reset (RGR1_SW_INIT_1 %#08x)", v)

	// 5: power the SerDes.
	v = rc.update(miscHardDebug, hardDebugSerdesIDDQ, 0)
	rc.logf("SerDes powered (HARD_DEBUG %#08x)", v)
	rc.opt.Sleep(100 * time.Microsecond)

	// 6: SCB access, all-ones for unanswered config reads, 128-byte bursts.
	v = rc.update(miscCtrl, ctrlMaxBurstMask, ctrlSCBAccessEn|ctrlCfgReadURMode)
	rc.logf("MISC_CTRL %#08x (SCB access, config UR reads as all-ones, 128-byte bursts)", v)

	// 7: inbound window (RC_BAR2) and the matching SCB0 size; BAR1 and BAR3 off.
	in := rc.opt.Inbound
	code := encodeInboundSize(in.Size)
	if code == 0 {
		return fmt.Errorf("pcie: inbound window of %#x bytes: the size must be a power of two from 4 KiB to 32 GiB", in.Size)
	}
	if in.Offset%in.Size != 0 {
		return fmt.Errorf("pcie: inbound window at PCI %#x is not aligned to its size %#x", in.Offset, in.Size)
	}
	r.Write32(miscRCBar2Lo, uint32(in.Offset)&^0x1F|code)
	r.Write32(miscRCBar2Hi, uint32(in.Offset>>32))
	scb0 := uint32(bits.TrailingZeros64(in.Size)) - 15
	v = rc.update(miscCtrl, ctrlSCB0SizeMask, scb0<<ctrlSCB0SizeShift)
	rc.logf("inbound window PCI %#x = CPU 0, %d MiB (RC_BAR2 %#08x:%08x, MISC_CTRL %#08x)",
		in.Offset, in.Size>>20, r.Read32(miscRCBar2Hi), r.Read32(miscRCBar2Lo), v)
	rc.update(miscRCBar1Lo, 0x1F, 0)
	rc.update(miscRCBar3Lo, 0x1F, 0)

	// 8: no interrupts are used: mask and clear them all.
	r.Write32(msiIntr2MaskSet, 0xFFFFFFFF)
	r.Write32(msiIntr2Clear, 0xFFFFFFFF)
	// Limit the link to Gen 2 (5 GT/s), as the device tree's max-link-speed = 2.
	rc.update(capLinkCap, 0xF, 2)
	rc.update(capLinkControl2, 0xF, 2)

	// 9: release PERST#, give the endpoint the 100 ms of the PCIe CEM spec, then
	// poll for the link for up to 100 ms more.
	v = rc.update(rgr1SWInit1, rgr1SWInit1Perst, 0)
	rc.logf("PERST# released (RGR1_SW_INIT_1 %#08x); waiting for the link", v)
	rc.opt.Sleep(100 * time.Millisecond)
	waited := 100
	st := r.Read32(miscPCIeStatus)
	for st&(statusPhyLinkUp|statusDLActive) != statusPhyLinkUp|statusDLActive && waited < 200 {
		rc.opt.Sleep(5 * time.Millisecond)
		waited += 5
		st = r.Read32(miscPCIeStatus)
	}
	if st&(statusPhyLinkUp|statusDLActive) != statusPhyLinkUp|statusDLActive {
		return fmt.Errorf("pcie: link down %d ms after PERST# was released (MISC_PCIE_STATUS %#08x: PHY link %s, data link %s)",
			waited, st, upDown(st&statusPhyLinkUp), upDown(st&statusDLActive))
	}
	if st&statusRCMode == 0 {
		return fmt.Errorf("pcie: controller is in endpoint mode, not root complex (MISC_PCIE_STATUS %#08x)", st)
	}
	rc.linkUp = true
	lnk := r.Read32(capLinkControl) >> 16
	rc.link = fmt.Sprintf("Gen %d x%d", lnk&0xF, (lnk>>4)&0x3F)
	rc.logf("link up after %d ms (MISC_PCIE_STATUS %#08x): %s", waited, st, rc.link)

	// 10: outbound window 0: CPU base and limit in MiB, PCI base.
	w := rc.opt.Outbound
	cpuMB, limitMB := w.CPU>>20, (w.CPU+w.Size-1)>>20
	r.Write32(miscWin0Lo, uint32(w.Bus))
	r.Write32(miscWin0Hi, uint32(w.Bus>>32))
	rc.update(miscWin0BaseLimit, 0xFFF0FFF0, uint32(cpuMB&0xFFF)<<4|uint32(limitMB&0xFFF)<<20)
	rc.update(miscWin0BaseHi, 0xFF, uint32(cpuMB>>12)&0xFF)
	rc.update(miscWin0LimitHi, 0xFF, uint32(limitMB>>12)&0xFF)
	rc.logf("outbound window CPU %#x = PCI %#x, %d MiB (BASE_LIMIT %#08x, BASE_HI %d, LIMIT_HI %d)", w.CPU, w.Bus, w.Size>>20,
		r.Read32(miscWin0BaseLimit), r.Read32(miscWin0BaseHi), r.Read32(miscWin0LimitHi))

	// The root port presents itself as a PCI-to-PCI bridge.
	v = rc.update(priv1IDVal3, 0xFFFFFF, classPCIBridge)
	rc.logf("root port class %#06x", v&0xFFFFFF)
	// 11: little-endian inbound accesses.
	rc.update(vendorSpecificReg1, endianModeBar2Mask, 0)
	// 12: no ASPM: not every card wires CLKREQ#, and power management has no use
	// here (U-Boot's choice).
	v = rc.update(priv1LinkCap, aspmSupportMask, 0)
	rc.logf("ASPM support withdrawn (PRIV1_LINK_CAPABILITY %#08x)", v)
	return nil
}

func upDown(bit uint32) string {
	if bit != 0 {
		return "up"
	}
	return "down"
}

// Read32 implements pci.Config: bus 0 is the root port itself, bus 1 device 0
// is reached through the EXT_CFG window. Everything else, and anything at all
// while the link is down, reads as absent without touching the hardware: such
// accesses make the BCM2711 raise an SError (pcie-brcmstb.c brcm_pcie_map_bus:
// "An access to our HW w/o link-up will cause a CPU Abort").
func (rc *RootComplex) Read32(a pci.Address, off int) uint32 {
	p, ok := rc.window(a, off)
	if !ok {
		return 0xFFFFFFFF
	}
	return rc.regs.Read32(p)
}

// Write32 implements pci.Config.
func (rc *RootComplex) Write32(a pci.Address, off int, v uint32) {
	if p, ok := rc.window(a, off); ok {
		rc.regs.Write32(p, v)
	}
}

// window maps a configuration access to its register, as Linux's
// brcm_pcie_map_bus (pcie-brcmstb.c) does for every access: the link is
// checked first (an access without it aborts), then EXT_CFG_INDEX is written.
// The index is never assumed to still hold what was last written: the
// VideoCore reaches the VL805 through the same root complex when it loads the
// VL805's firmware.
func (rc *RootComplex) window(a pci.Address, off int) (uintptr, bool) {
	off &= 0xFFC
	switch {
	case a.Bus == 0 && a.Device == 0 && a.Function == 0:
		return uintptr(off), true
	case a.Bus == 1 && a.Device == 0 && rc.linkUp:
		if st := rc.regs.Read32(miscPCIeStatus); st&(statusPhyLinkUp|statusDLActive) != statusPhyLinkUp|statusDLActive {
			rc.linkUp = false
			rc.logf("link lost (MISC_PCIE_STATUS %#08x): configuration accesses to bus 1 stop", st)
			return 0, false
		}
		rc.regs.Write32(extCfgIndex, a.Packed())
		return extCfgData + uintptr(off), true
	}
	return 0, false
}

// Stop asserts PERST#, powers the SerDes down and holds the bridge in reset
// (U-Boot's brcm_pcie_remove), e.g. before handing the board to another program.
func (rc *RootComplex) Stop() {
	rc.linkUp = false
	rc.update(rgr1SWInit1, 0, rgr1SWInit1Perst)
	rc.update(miscHardDebug, 0, hardDebugSerdesIDDQ)
	rc.update(rgr1SWInit1, 0, rgr1SWInit1Init)
	rc.logf("stopped")
}
