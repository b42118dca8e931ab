// Package rcfake is a Raspberry Pi 4 PCIe root complex with a VL805 behind it,
// for host tests: a reg.Bank that answers the BCM2711's root-complex registers
// as Linux's pcie-brcmstb.c describes them, the VideoCore's "notify xHCI reset"
// mailbox call, and the VL805's xHCI registers behind the outbound window.
//
// Every access the hardware would answer with an abort (on a Pi 4 an SError,
// which halts the board) is recorded in Violations: configuration accesses to
// bus 1 while the link is down or with the wrong EXT_CFG_INDEX, and any access
// to the xHCI registers while the VL805 has no firmware or does not decode its
// BAR0. Trace records every access, sleep and mailbox call.
package rcfake

import (
	"errors"
	"fmt"
	"time"

	"github.com/inferpi/inferpi/driver/pci/pcifake"
	"github.com/inferpi/inferpi/driver/reg"
)

// Registers the fake answers (offsets from 0xFD50_0000, pcie-brcmstb.c).
const (
	capLinkCap         = 0x00AC + 0x0C
	capLinkControl     = 0x00AC + 0x10
	capLinkControl2    = 0x00AC + 0x30
	vendorSpecificReg1 = 0x0188
	priv1IDVal3        = 0x043C
	priv1LinkCap       = 0x04DC
	miscCtrl           = 0x4008
	miscRCBar1Lo       = 0x402C
	miscPCIeStatus     = 0x4068
	miscRevision       = 0x406C
	miscHardDebug      = 0x4204
	extCfgData         = 0x8000
	extCfgIndex        = 0x9000
	rgr1SWInit1        = 0x9210

	perst       = 1 << 0
	bridgeReset = 1 << 1
	serdesIDDQ  = 1 << 27
	phyLinkUp   = 1 << 4
	dlActive    = 1 << 5
	rcMode      = 1 << 7

	// The VL805's firmware version register (Linux rpi_firmware_init_vl805).
	vl805Version = 0x50
	// Bus 1, device 0, function 0 as EXT_CFG_INDEX and the mailbox take it.
	vl805Index = 1 << 20
)

// RootComplex is the fake. Set its fields before the bring-up runs.
type RootComplex struct {
	Trace      []string
	Violations []string

	Root  *pcifake.Function // the root port's configuration space
	VL805 *pcifake.Function

	// LinkPolls is how many status reads after PERST# is released show the link
	// still training (-1: it never comes up).
	LinkPolls int
	// EndpointMode straps the controller as an endpoint.
	EndpointMode bool
	// FirmwarePolls is how many reads of the VL805's firmware version after the
	// notify still find 0 (-1: the firmware never loads, as on a rev 1.4 board
	// whose VideoCore failed to load it).
	FirmwarePolls int
	// FirmwareVersion is what register 0x50 shows once the firmware runs.
	FirmwareVersion uint32
	// ResetOnNotify makes the firmware load reset the VL805's configuration
	// (BAR0 and COMMAND back to 0), as a function reset does.
	ResetOnNotify bool
	// NotifyErr is what the mailbox call returns (nil: it loads the firmware).
	NotifyErr error

	misc     map[uintptr]uint32
	extIdx   uint32
	notified bool
}

// New returns a root complex as a bootloader that booted from USB leaves it
// (bridge and PERST# released, SerDes off, bursts not 128 bytes, RC_BAR1 on,
// endian and ASPM bits set, link capability Gen 3), with a VL805 whose BAR0 is
// 4 KiB, 64-bit, and whose firmware runs from the second version read on.
func New() *RootComplex {
	f := &RootComplex{
		misc: map[uintptr]uint32{
			miscRevision:   0x304,
			rgr1SWInit1:    0,
			miscHardDebug:  serdesIDDQ,
			miscCtrl:       0x0010_0000,
			miscRCBar1Lo:   1,
			miscPCIeStatus: 0,
		},
		Root:            pcifake.NewBridge(0x14e4, 0x2711),
		VL805:           pcifake.NewEndpoint(0x1106, 0x3483, 0x0C0330),
		LinkPolls:       2,
		FirmwarePolls:   1,
		FirmwareVersion: 0x000138c0,
	}
	f.Root.SetClass(0)
	f.Root.Write32(capLinkCap, 0x13)
	f.Root.Write32(capLinkControl2, 0x3)
	f.Root.Write32(vendorSpecificReg1, 0xC)
	f.Root.Write32(priv1LinkCap, 0xC00)
	f.VL805.AddBAR(0, 4096, true, false)
	return f
}

// SetMisc sets a controller register outside configuration space (e.g.
// MISC_REVISION to all-ones for a dead block).
func (f *RootComplex) SetMisc(off uintptr, v uint32) { f.misc[off] = v }

// Misc reads back a controller register as the bring-up left it.
func (f *RootComplex) Misc(off uintptr) uint32 { return f.misc[off] }

func (f *RootComplex) violate(format string, args ...any) {
	f.Violations = append(f.Violations, fmt.Sprintf(format, args...))
}

func (f *RootComplex) perstReleased() bool { return f.misc[rgr1SWInit1]&perst == 0 }

// LinkUp reports whether the PCIe link to the VL805 is up.
func (f *RootComplex) LinkUp() bool {
	return f.misc[rgr1SWInit1]&(perst|bridgeReset) == 0 && f.LinkPolls == 0
}

// FirmwareRunning reports whether the VL805's firmware runs.
func (f *RootComplex) FirmwareRunning() bool {
	return f.notified && f.FirmwarePolls == 0
}

func (f *RootComplex) read(off uintptr) uint32 {
	switch {
	case off < 0x1000:
		if off == capLinkControl && f.LinkUp() {
			return 0x0012 << 16 // LNKSTA: Gen 2, x1
		}
		return f.Root.Read32(int(off))
	case off >= extCfgData && off < extCfgData+0x1000:
		if !f.LinkUp() || f.extIdx != vl805Index {
			f.violate("config read at %#x with index %#x while the link is %v (SError on hardware)", off, f.extIdx, upDown(f.LinkUp()))
			return 0xFFFFFFFF
		}
		if off-extCfgData == vl805Version {
			if !f.notified || f.FirmwarePolls < 0 {
				return 0
			}
			if f.FirmwarePolls > 0 {
				f.FirmwarePolls--
				return 0
			}
			return f.FirmwareVersion
		}
		return f.VL805.Read32(int(off - extCfgData))
	case off == miscPCIeStatus:
		st := uint32(rcMode)
		if f.EndpointMode {
			st = 0
		}
		if f.perstReleased() && f.misc[rgr1SWInit1]&bridgeReset == 0 {
			switch {
			case f.LinkPolls < 0:
			case f.LinkPolls == 0:
				st |= phyLinkUp | dlActive
			case f.LinkPolls == 1:
				st |= phyLinkUp
				f.LinkPolls--
			default:
				f.LinkPolls--
			}
		}
		return st
	}
	return f.misc[off]
}

// Read32 implements reg.Bank for the root complex's registers.
func (f *RootComplex) Read32(off uintptr) uint32 {
	v := f.read(off)
	f.Trace = append(f.Trace, fmt.Sprintf("R 0x%04x %#08x", off, v))
	return v
}

// Write32 implements reg.Bank.
func (f *RootComplex) Write32(off uintptr, v uint32) {
	f.Trace = append(f.Trace, fmt.Sprintf("W 0x%04x %#08x", off, v))
	switch {
	case off < 0x1000:
		f.Root.Write32(int(off), v)
		if off == priv1IDVal3 {
			f.Root.SetClass(v & 0xFFFFFF)
		}
	case off >= extCfgData && off < extCfgData+0x1000:
		if !f.LinkUp() || f.extIdx != vl805Index {
			f.violate("config write at %#x with index %#x while the link is %v (SError on hardware)", off, f.extIdx, upDown(f.LinkUp()))
			return
		}
		f.VL805.Write32(int(off-extCfgData), v)
	case off == extCfgIndex:
		f.extIdx = v
	default:
		f.misc[off] = v
	}
}

// Sleep records a wait of the bring-up (bcm2711.Options.Sleep).
func (f *RootComplex) Sleep(d time.Duration) { f.Trace = append(f.Trace, "S "+d.String()) }

// NotifyXHCIReset is the VideoCore's mailbox call (bcm2711.Firmware).
func (f *RootComplex) NotifyXHCIReset(addr uint32) error {
	f.Trace = append(f.Trace, fmt.Sprintf("M %#08x", addr))
	if f.NotifyErr != nil {
		return f.NotifyErr
	}
	if !f.LinkUp() {
		return errors.New("no link")
	}
	f.notified = true
	// The VideoCore reaches the VL805 through the same root complex while it
	// loads the firmware, and leaves EXT_CFG_INDEX pointing elsewhere.
	f.extIdx = 0
	if f.ResetOnNotify {
		f.VL805.Write32(0x04, 0)
		f.VL805.Write32(0x10, 0)
		f.VL805.Write32(0x14, 0)
	}
	return nil
}

// XHCI returns the VL805's xHCI registers as the CPU reaches them through the
// outbound window: inner (an xhcifake controller, or nil for registers that
// read as zero) while the link is up, the firmware runs and the VL805 decodes
// its BAR0 at window (the bus address the bring-up assigned); otherwise every
// access is a violation, as it is an SError on a Pi 4.
func (f *RootComplex) XHCI(window uint64, inner reg.Bank) reg.Bank {
	return &outbound{f: f, window: window, inner: inner}
}

type outbound struct {
	f      *RootComplex
	window uint64
	inner  reg.Bank
}

// answers says why the VL805 would not answer an access, or "".
func (o *outbound) answers() string {
	f := o.f
	bar := uint64(f.VL805.Read32(0x14))<<32 | uint64(f.VL805.Read32(0x10)&^0xF)
	switch {
	case !f.LinkUp():
		return "the link is down"
	case !f.FirmwareRunning():
		return "the VL805 has no firmware"
	case f.VL805.Read32(0x04)&2 == 0:
		return "the VL805 does not decode memory (COMMAND.MEM clear)"
	case bar != o.window:
		return fmt.Sprintf("the VL805's BAR0 is %#x, not %#x", bar, o.window)
	}
	return ""
}

func (o *outbound) Read32(off uintptr) uint32 {
	if why := o.answers(); why != "" {
		o.f.violate("xHCI register read at %#x while %s (SError on a Pi 4: the board halts)", off, why)
		return 0xFFFFFFFF
	}
	if o.inner == nil {
		return 0
	}
	return o.inner.Read32(off)
}

func (o *outbound) Write32(off uintptr, v uint32) {
	if why := o.answers(); why != "" {
		o.f.violate("xHCI register write at %#x while %s (SError on a Pi 4: the board halts)", off, why)
		return
	}
	if o.inner != nil {
		o.inner.Write32(off, v)
	}
}

func upDown(up bool) string {
	if up {
		return "up"
	}
	return "down"
}
