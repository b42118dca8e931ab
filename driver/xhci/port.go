package xhci

import (
	"fmt"
	"strings"
	"time"

	"github.com/inferpi/inferpi/driver/reg"
	"github.com/inferpi/inferpi/driver/usb"
)

// portProtocol is what the Supported Protocol capability says about a port.
type portProtocol struct {
	major int // 2 or 3 (0 when no capability names the port)
}

// maxExtCaps bounds the walk of the extended capability list, so a corrupt
// "next" pointer cannot make it loop.
const maxExtCaps = 64

// readProtocols walks the extended capabilities (§7) and records, for each
// root port, which USB major revision it serves (§7.2). A port that no
// capability names is treated as USB 2 (it then gets a port reset, which is
// also right for USB 3 ports that have not trained).
func readProtocols(regs reg.Bank, hccp1 uint32, ports int) ([]portProtocol, error) {
	out := make([]portProtocol, ports)
	off := uintptr(hccp1>>16) << 2
	for i := 0; off != 0; i++ {
		if i == maxExtCaps {
			return nil, fmt.Errorf("xhci: extended capability list longer than %d entries (loop?)", maxExtCaps)
		}
		if off > 1<<16 {
			return nil, fmt.Errorf("xhci: extended capability at offset %#x is outside the register window", off)
		}
		hdr := regs.Read32(off)
		if hdr == 0xFFFFFFFF {
			return nil, fmt.Errorf("xhci: extended capability at %#x reads all-ones", off)
		}
		if hdr&0xFF == extCapSupportedProtocol {
			major := int(hdr >> 24)
			p2 := regs.Read32(off + 8)
			first, count := int(p2&0xFF), int(p2>>8)&0xFF
			for p := first; p < first+count && p <= ports; p++ {
				if p >= 1 {
					out[p-1].major = major
				}
			}
		}
		next := uintptr(hdr>>8) & 0xFF
		if next == 0 {
			break
		}
		off += next << 2
	}
	return out, nil
}

func describeProtocols(ps []portProtocol) string {
	var parts []string
	for i, p := range ps {
		parts = append(parts, fmt.Sprintf("%d:USB%d", i+1, p.major))
	}
	return strings.Join(parts, " ")
}

func describePortsc(v uint32) string {
	var s []string
	if v&portCCS != 0 {
		s = append(s, "connected")
	}
	if v&portPED != 0 {
		s = append(s, "enabled")
	}
	if v&portPP == 0 {
		s = append(s, "unpowered")
	}
	if v&portOCA != 0 {
		s = append(s, "over-current")
	}
	if v&portCCS != 0 {
		s = append(s, fmt.Sprintf("speed %d", (v>>portSpeedSh)&0xF), fmt.Sprintf("link state %d", (v&portPLSMask)>>portPLSShift))
	}
	if len(s) == 0 {
		return ""
	}
	return " (" + strings.Join(s, ", ") + ")"
}

func portOffset(port int) uintptr { return opPortBase + uintptr(port-1)*0x10 }

func (c *Controller) portsc(port int) uint32 { return c.op.Read32(portOffset(port)) }

// writePortsc writes PORTSC. Callers pass v&portPreserve plus the bits they mean
// to set or clear: PED and the change bits are write-1-to-clear, and writing
// PED=1 would disable the port (§5.4.8).
func (c *Controller) writePortsc(port int, v uint32) { c.op.Write32(portOffset(port), v) }

// RootPorts is the number of root-hub ports.
func (c *Controller) RootPorts() int { return c.maxPorts }

// RootPortConnected reports whether something is attached to a root port.
func (c *Controller) RootPortConnected(port int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if port < 1 || port > c.maxPorts {
		return false
	}
	return c.portsc(port)&portCCS != 0
}

// ResetRootPort enables a root port with a device on it (§4.3.1): a USB 2 port
// needs a port reset; a USB 3 port enables itself when its link trains to U0,
// and gets a warm reset if it has not.
func (c *Controller) ResetRootPort(port int) (usb.Speed, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usable(); err != nil {
		return 0, false, err
	}
	if port < 1 || port > c.maxPorts {
		return 0, false, fmt.Errorf("xhci: no root port %d", port)
	}
	v := c.portsc(port)
	if v == 0xFFFFFFFF {
		return 0, false, fmt.Errorf("xhci: PORTSC reads all-ones")
	}
	if v&portCCS == 0 {
		return 0, false, nil
	}
	if v&portOCA != 0 {
		c.writePortsc(port, v&portPreserve&^portPP) // power off the faulty port
		return 0, true, fmt.Errorf("xhci port %d: over-current; port switched off", port)
	}
	c.writePortsc(port, v&portPreserve|v&portChangeBits) // acknowledge old changes
	usb3 := c.protocols[port-1].major == 3
	var ok bool
	if usb3 {
		v, ok = c.waitPort(port, func(v uint32) bool {
			return v&portPED != 0 && (v&portPLSMask)>>portPLSShift == plsU0
		}, 100*time.Millisecond)
		if !ok {
			c.logf("xhci port %d: USB 3 link not in U0 (PORTSC %#08x); warm reset", port, v)
			v, ok = c.resetPort(port, portWPR)
		}
	} else {
		v, ok = c.resetPort(port, portPR)
	}
	if !ok {
		return 0, true, fmt.Errorf("xhci port %d: not enabled after reset (PORTSC %#08x%s)", port, v, describePortsc(v))
	}
	speed := speedFromID((v >> portSpeedSh) & 0xF)
	if speed == usb.SpeedUnknown {
		return 0, true, fmt.Errorf("xhci port %d: unknown port speed %d (PORTSC %#08x)", port, (v>>portSpeedSh)&0xF, v)
	}
	delete(c.portEvent, port)
	return speed, true, nil
}

// resetPort sets PR (or WPR) and waits for the reset to finish with the port
// enabled; it then clears the change bits the reset set.
func (c *Controller) resetPort(port int, bit uint32) (uint32, bool) {
	v := c.portsc(port)
	c.writePortsc(port, v&portPreserve|bit)
	v, ok := c.waitPort(port, func(v uint32) bool {
		return v&(portPR|portWPR) == 0 && v&portPRC != 0 || v&portCCS == 0
	}, c.opt.portResetTimeout())
	c.writePortsc(port, v&portPreserve|v&(portPRC|portWRC|portCSC|portPEC))
	return v, ok && v&portPED != 0 && v&portCCS != 0
}

func (c *Controller) waitPort(port int, cond func(uint32) bool, timeout time.Duration) (uint32, bool) {
	deadline := time.Now().Add(timeout)
	for {
		v := c.portsc(port)
		if cond(v) {
			return v, true
		}
		if v == 0xFFFFFFFF || time.Now().After(deadline) {
			return v, false
		}
		c.sleep(time.Millisecond)
	}
}
