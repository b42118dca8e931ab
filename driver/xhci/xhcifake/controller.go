package xhcifake

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/inferpi/inferpi/driver/usb"
	"github.com/inferpi/inferpi/driver/usb/usbfake"
)

// Config describes the controller to imitate.
type Config struct {
	USB2Ports, USB3Ports int // USB 2 ports come first (as on the VL805) unless SuperSpeedFirst
	// SuperSpeedFirst puts the USB 3 ports first instead, as qemu-xhci does
	// (QEMU 10 reports ports 1-4 as USB 3 and 5-8 as USB 2).
	SuperSpeedFirst bool
	MaxSlots        int
	Scratchpads     int
	ContextSize     int // 32 or 64
	Version         uint16
	AC64            bool // 64-bit DMA addresses
	PortPower       bool // port power control: ports start unpowered
	// BrokenDCS makes halted endpoints report the wrong dequeue cycle state in
	// their output context, as the VL805 does (Linux XHCI_EP_CTX_BROKEN_DCS).
	BrokenDCS bool
	// GoneSilently: transfers to an unplugged device never complete (as in QEMU)
	// instead of ending with a USB transaction error (real hardware).
	GoneSilently bool
}

// QEMU is qemu-xhci's default shape: 4 USB 3 ports then 4 USB 2 ports (as
// QEMU 10 reports them under the firmware), 64 slots, no scratchpads, 64-bit DMA.
func QEMU() Config {
	return Config{USB2Ports: 4, USB3Ports: 4, SuperSpeedFirst: true, MaxSlots: 64, ContextSize: 32, Version: 0x100,
		AC64: true, GoneSilently: true}
}

// VL805 is the Pi 4's controller: port 1 USB 2 (with the integrated hub behind
// it), ports 2-5 USB 3, 32-byte contexts (Circle include/circle/usb/xhciconfig.h),
// scratchpads (Circle lib/usb/xhcidevice.cpp asserts some), broken DCS (Linux
// xhci-pci.c: XHCI_EP_CTX_BROKEN_DCS). It is given 32-bit DMA to exercise that path.
func VL805() Config {
	return Config{USB2Ports: 1, USB3Ports: 4, MaxSlots: 32, Scratchpads: 8, ContextSize: 32, Version: 0x100,
		PortPower: true, BrokenDCS: true}
}

// Register layout of the fake.
const (
	capLen   = 0x40
	rtBase   = 0x2000
	dbBase   = 0x3000
	xecpBase = 0x4000
	bankSize = 0x5000
)

// Controller is the fake xHCI.
type Controller struct {
	mem *Memory
	cfg Config

	// Dead makes every register read all-ones (a controller that fell off the bus).
	Dead bool

	usbcmd, usbsts, config uint32
	crcrLo                 uint32
	dcbaapLo, dcbaapHi     uint32
	dcbaap                 uint64
	iman, imod, erstsz     uint32
	erstbaLo, erstbaHi     uint32
	erdpLo, erdpHi         uint32

	ports  []port
	cmdDeq uint64
	cmdCCS uint32
	erBase uint64
	erSize int
	erIdx  int
	erPCS  uint32
	slots  []*slotState

	Violations []string
	Commands   []CommandRecord
	Transfers  []TransferRecord
	Resets     int
}

type port struct {
	dev     usbfake.Device
	usb3    bool
	powered bool
	enabled bool
	change  uint32
}

type slotState struct {
	id       int
	info     SlotInfo
	eps      [32]*epState
	outCtx   uint64
	addrDone bool
}

// SlotInfo is what the driver put in a slot context, for tests to check.
type SlotInfo struct {
	ID       int
	RootPort int
	Route    uint32
	Speed    uint32
	TTHub    int
	TTPort   int
	Hub      bool
	Ports    int
	TTT      int
	Address  int
}

type epState struct {
	state   uint32
	typ     uint32
	mps     int
	deq     uint64
	ccs     uint32
	pending uint64 // first TRB of a TD the device never answered
}

// CommandRecord is one executed command.
type CommandRecord struct {
	Type       int
	Slot, DCI  int
	Completion uint8
}

// TransferRecord is one executed TD.
type TransferRecord struct {
	Slot, DCI  int
	TRBs       int
	Bytes      int
	Buffers    []uint64 // bus addresses of the data TRBs
	Completion uint8
}

// New returns a fake controller using mem for DMA.
func New(mem *Memory, cfg Config) *Controller {
	c := &Controller{mem: mem, cfg: cfg}
	if c.cfg.ContextSize == 0 {
		c.cfg.ContextSize = 32
	}
	if c.cfg.Version == 0 {
		c.cfg.Version = 0x100
	}
	n := cfg.USB2Ports + cfg.USB3Ports
	c.ports = make([]port, n)
	for i := range c.ports {
		c.ports[i].usb3 = i >= cfg.USB2Ports
		if cfg.SuperSpeedFirst {
			c.ports[i].usb3 = i < cfg.USB3Ports
		}
	}
	c.hardReset()
	return c
}

func (c *Controller) violate(format string, args ...any) {
	c.Violations = append(c.Violations, fmt.Sprintf(format, args...))
}

func (c *Controller) hardReset() {
	c.usbcmd, c.usbsts, c.config = 0, 1, 0 // HCH
	c.crcrLo, c.dcbaap, c.dcbaapLo, c.dcbaapHi = 0, 0, 0, 0
	c.iman, c.imod, c.erstsz = 0, 4000, 0
	c.erstbaLo, c.erstbaHi, c.erdpLo, c.erdpHi = 0, 0, 0, 0
	c.erBase, c.erSize, c.erIdx, c.erPCS = 0, 0, 0, 1
	c.cmdDeq, c.cmdCCS = 0, 1
	c.slots = make([]*slotState, c.cfg.MaxSlots+1)
	for i := range c.ports {
		p := &c.ports[i]
		p.powered = !c.cfg.PortPower
		p.enabled = false
		p.change = 0
		if p.dev != nil && p.powered {
			c.connect(i + 1)
		}
	}
}

// Attach plugs a device into a root port (numbered from 1). SuperSpeed devices
// belong on USB 3 ports, others on USB 2 ports.
func (c *Controller) Attach(portNum int, d usbfake.Device) {
	p := &c.ports[portNum-1]
	if (d.Speed() >= usb.SpeedSuper) != p.usb3 {
		panic(fmt.Sprintf("xhcifake: %v device on port %d (USB 3: %v)", d.Speed(), portNum, p.usb3))
	}
	p.dev = d
	if p.powered {
		c.connect(portNum)
	}
}

// Detach unplugs the device on a root port.
func (c *Controller) Detach(portNum int) {
	p := &c.ports[portNum-1]
	if b, ok := p.dev.(interface{ Unplug() }); ok {
		b.Unplug()
	}
	p.dev = nil
	p.enabled = false
	c.setChange(portNum, 1<<17) // CSC
}

// connect is a device appearing on a powered port: USB 3 links train to U0 and
// enable on their own; USB 2 ports wait for a port reset (§4.19.1).
func (c *Controller) connect(portNum int) {
	p := &c.ports[portNum-1]
	p.enabled = p.usb3
	c.setChange(portNum, 1<<17)
}

func (c *Controller) portsc(portNum int) uint32 {
	p := &c.ports[portNum-1]
	var v uint32
	if p.powered {
		v |= 1 << 9
		if p.dev != nil {
			v |= 1 // CCS
			v |= speedID(p.dev.Speed()) << 10
			if p.enabled {
				v |= 1 << 1 // PED, link in U0 (PLS 0)
			} else {
				v |= 7 << 5 // Polling
			}
		} else {
			v |= 5 << 5 // RxDetect
		}
	}
	return v | p.change
}

func speedID(s usb.Speed) uint32 {
	switch s {
	case usb.SpeedFull:
		return 1
	case usb.SpeedLow:
		return 2
	case usb.SpeedHigh:
		return 3
	case usb.SpeedSuper:
		return 4
	}
	return 0
}

func (c *Controller) setChange(portNum int, bits uint32) {
	p := &c.ports[portNum-1]
	newBits := bits &^ p.change
	p.change |= bits
	if newBits != 0 && c.usbsts&1 == 0 {
		c.event(uint64(portNum)<<24, 1<<24, 34<<10)
	}
}

func (c *Controller) writePortsc(portNum int, v uint32) {
	p := &c.ports[portNum-1]
	const changeBits = 0x7F << 17
	p.change &^= v & changeBits
	if v&(1<<1) != 0 {
		c.violate("PORTSC %d written with PED=1, which disables the port", portNum)
		p.enabled = false
	}
	if c.cfg.PortPower {
		on := v&(1<<9) != 0
		if on && !p.powered {
			p.powered = true
			if p.dev != nil {
				c.connect(portNum)
			}
		} else if !on && p.powered {
			p.powered, p.enabled = false, false
		}
	} else if v&(1<<9) == 0 {
		c.violate("PORTSC %d written with PP=0 on a controller without port power control", portNum)
	}
	if v&(1<<4) != 0 && p.powered && p.dev != nil { // PR
		p.enabled = true
		c.setChange(portNum, 1<<21) // PRC
	}
	if v&(1<<31) != 0 && p.powered && p.dev != nil { // WPR
		if !p.usb3 {
			c.violate("warm reset on USB 2 port %d", portNum)
		}
		p.enabled = true
		c.setChange(portNum, 1<<19|1<<21) // WRC, PRC
	}
}

// Read32 implements reg.Bank.
func (c *Controller) Read32(off uintptr) uint32 {
	if c.Dead {
		return 0xFFFFFFFF
	}
	nports := len(c.ports)
	switch {
	case off == 0x00:
		return uint32(c.cfg.Version)<<16 | capLen
	case off == 0x04:
		return uint32(c.cfg.MaxSlots) | 1<<8 | uint32(nports)<<24
	case off == 0x08:
		n := uint32(c.cfg.Scratchpads)
		return 1<<4 | (n&0x1F)<<27 | (n>>5)<<21
	case off == 0x0C:
		return 0
	case off == 0x10:
		v := uint32(xecpBase>>2) << 16
		if c.cfg.AC64 {
			v |= 1
		}
		if c.cfg.ContextSize == 64 {
			v |= 1 << 2
		}
		if c.cfg.PortPower {
			v |= 1 << 3
		}
		return v
	case off == 0x14:
		return dbBase
	case off == 0x18:
		return rtBase
	case off >= capLen && off < capLen+0x400+uintptr(0x10*nports):
		return c.readOp(off - capLen)
	case off >= rtBase && off < rtBase+0x40:
		return c.readRT(off - rtBase)
	case off >= xecpBase && off < xecpBase+0x20:
		return c.readExtCap(off - xecpBase)
	}
	return 0
}

func (c *Controller) readExtCap(off uintptr) uint32 {
	// Two Supported Protocol capabilities (§7.2): USB 2.0 then USB 3.0.
	switch off {
	case 0x00:
		return 2 | 4<<8 | 0x02<<24 // next at +4 dwords
	case 0x04, 0x14:
		return 0x20425355 // "USB "
	case 0x08:
		if c.cfg.SuperSpeedFirst {
			return uint32(c.cfg.USB3Ports+1) | uint32(c.cfg.USB2Ports)<<8
		}
		return 1 | uint32(c.cfg.USB2Ports)<<8
	case 0x10:
		return 2 | 0x03<<24
	case 0x18:
		if c.cfg.SuperSpeedFirst {
			return 1 | uint32(c.cfg.USB3Ports)<<8
		}
		return uint32(c.cfg.USB2Ports+1) | uint32(c.cfg.USB3Ports)<<8
	}
	return 0
}

func (c *Controller) readOp(off uintptr) uint32 {
	switch off {
	case 0x00:
		return c.usbcmd
	case 0x04:
		return c.usbsts
	case 0x08:
		return 1 // 4 KiB pages
	case 0x18:
		return 0 // CRR: the fake runs commands to completion at once
	case 0x1C:
		return 0
	case 0x30:
		return c.dcbaapLo
	case 0x34:
		return c.dcbaapHi
	case 0x38:
		return c.config
	}
	if off >= 0x400 && (off-0x400)%0x10 == 0 {
		return c.portsc(int((off-0x400)/0x10) + 1)
	}
	return 0
}

func (c *Controller) readRT(off uintptr) uint32 {
	switch off {
	case 0x20:
		return c.iman
	case 0x24:
		return c.imod
	case 0x28:
		return c.erstsz
	case 0x30:
		return c.erstbaLo
	case 0x34:
		return c.erstbaHi
	case 0x38:
		return c.erdpLo
	case 0x3C:
		return c.erdpHi
	}
	return 0
}

// Write32 implements reg.Bank.
func (c *Controller) Write32(off uintptr, v uint32) {
	if c.Dead {
		return
	}
	nports := len(c.ports)
	switch {
	case off >= capLen && off < capLen+0x400+uintptr(0x10*nports):
		c.writeOp(off-capLen, v)
	case off >= rtBase && off < rtBase+0x40:
		c.writeRT(off-rtBase, v)
	case off >= dbBase && off < dbBase+4*uintptr(c.cfg.MaxSlots+1):
		c.doorbell(int(off-dbBase)/4, v)
	default:
		c.violate("write %#x to register offset %#x", v, off)
	}
}

func (c *Controller) writeOp(off uintptr, v uint32) {
	switch off {
	case 0x00:
		if v&2 != 0 { // HCRST
			if c.usbsts&1 == 0 {
				c.violate("HCRST while the controller runs")
			}
			c.Resets++
			c.hardReset()
			return
		}
		if v&1 != 0 && c.usbsts&1 != 0 {
			c.start()
		} else if v&1 == 0 {
			c.usbsts |= 1
		}
		c.usbcmd = v
	case 0x04:
		c.usbsts &^= v & (1<<2 | 1<<3 | 1<<4 | 1<<10) // RW1C
	case 0x18:
		c.crcrLo = v
	case 0x1C:
		if c.usbsts&1 == 0 && v != 0 {
			c.violate("CRCR high word written while running")
		}
		c.cmdDeq = uint64(v)<<32 | uint64(c.crcrLo&^0x3F)
		c.cmdCCS = c.crcrLo & 1
	case 0x30:
		c.dcbaapLo = v
	case 0x34:
		c.dcbaapHi = v
		c.dcbaap = uint64(v)<<32 | uint64(c.dcbaapLo&^0x3F)
	case 0x38:
		if c.usbsts&1 == 0 {
			c.violate("CONFIG written while running")
		}
		c.config = v
	default:
		if off >= 0x400 && (off-0x400)%0x10 == 0 {
			c.writePortsc(int((off-0x400)/0x10)+1, v)
		}
	}
}

func (c *Controller) writeRT(off uintptr, v uint32) {
	switch off {
	case 0x20:
		c.iman = c.iman&^(v&1)&^2 | v&2
	case 0x24:
		c.imod = v
	case 0x28:
		c.erstsz = v
	case 0x30:
		c.erstbaLo = v
	case 0x34:
		c.erstbaHi = v
		c.initEventRing()
	case 0x38:
		ehb := c.erdpLo & 8
		if v&8 != 0 {
			ehb = 0
		}
		c.erdpLo = v&^0xF | ehb
	case 0x3C:
		c.erdpHi = v
	}
}

func (c *Controller) initEventRing() {
	if c.erstsz != 1 {
		c.violate("ERSTSZ %d (the fake, like QEMU, takes exactly one segment)", c.erstsz)
		return
	}
	base := uint64(c.erstbaHi)<<32 | uint64(c.erstbaLo&^0x3F)
	e, err := c.mem.View(base, 16)
	if err != nil {
		c.violate("ERSTBA %#x: %v", base, err)
		return
	}
	c.erBase = binary.LittleEndian.Uint64(e) &^ 0x3F
	c.erSize = int(binary.LittleEndian.Uint32(e[8:]) & 0xFFFF)
	if c.erSize < 16 || c.erSize > 4096 {
		c.violate("event ring segment of %d TRBs (QEMU takes 16 to 4096)", c.erSize)
	}
	if _, err := c.mem.View(c.erBase, 16*c.erSize); err != nil {
		c.violate("event ring: %v", err)
	}
	c.erIdx, c.erPCS = 0, 1
}

func (c *Controller) start() {
	c.usbsts &^= 1
	if c.config&0xFF == 0 {
		c.violate("started with CONFIG.MaxSlotsEn = 0")
	}
	if c.dcbaap == 0 {
		c.violate("started without DCBAAP")
	}
	if c.erSize == 0 {
		c.violate("started without an event ring")
	}
	if n := c.cfg.Scratchpads; n > 0 {
		arr, err := c.mem.View(c.dcbaap, 8)
		if err != nil {
			c.violate("DCBAA: %v", err)
			return
		}
		a := binary.LittleEndian.Uint64(arr)
		ptrs, err := c.mem.View(a, 8*n)
		if err != nil {
			c.violate("scratchpad array at %#x: %v", a, err)
			return
		}
		for i := 0; i < n; i++ {
			p := binary.LittleEndian.Uint64(ptrs[8*i:])
			if _, err := c.mem.View(p, 4096); err != nil || p%4096 != 0 {
				c.violate("scratchpad page %d at %#x is not a mapped, page-aligned page", i, p)
			}
		}
	}
	// Connections made while halted get their events now.
	for i := range c.ports {
		if c.ports[i].change != 0 {
			c.event(uint64(i+1)<<24, 1<<24, 34<<10)
		}
	}
}

// InjectEvent writes an arbitrary event on the event ring, as a faulty
// controller might.
func (c *Controller) InjectEvent(param uint64, status, control uint32) {
	c.event(param, status, control)
}

// event writes an event TRB on the event ring (§4.9.4).
func (c *Controller) event(param uint64, status, control uint32) {
	if c.erSize == 0 {
		c.violate("event with no event ring")
		return
	}
	erdp := uint64(c.erdpHi)<<32 | uint64(c.erdpLo&^0xF)
	deq := int((erdp - c.erBase) / 16)
	if erdp < c.erBase || deq >= c.erSize {
		c.violate("ERDP %#x outside the event ring", erdp)
		c.usbsts |= 1 << 12
		return
	}
	if (c.erIdx+1)%c.erSize == deq {
		c.violate("event ring full: the driver does not consume events")
		return
	}
	b, err := c.mem.View(c.erBase+uint64(16*c.erIdx), 16)
	if err != nil {
		c.violate("event ring write: %v", err)
		return
	}
	binary.LittleEndian.PutUint64(b, param)
	binary.LittleEndian.PutUint32(b[8:], status)
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&b[12])), control&^1|c.erPCS)
	c.erIdx++
	if c.erIdx == c.erSize {
		c.erIdx, c.erPCS = 0, c.erPCS^1
	}
	c.iman |= 1
	c.usbsts |= 1 << 3
	c.erdpLo |= 8
}

// fetch reads the TRB at *deq if its cycle bit matches *ccs, following link
// TRBs. ok is false when the ring holds nothing new.
func (c *Controller) fetch(deq *uint64, ccs *uint32) (t [4]uint32, addr uint64, linked bool, linkChain bool, ok bool) {
	for hops := 0; hops < 4; hops++ {
		b, err := c.mem.View(*deq, 16)
		if err != nil {
			c.violate("ring read at %#x: %v", *deq, err)
			c.usbsts |= 1 << 12
			return t, 0, false, false, false
		}
		ctl := atomic.LoadUint32((*uint32)(unsafe.Pointer(&b[12])))
		if ctl&1 != *ccs {
			return t, 0, linked, linkChain, false
		}
		t = [4]uint32{binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:]), ctl}
		if (ctl>>10)&0x3F != 6 {
			addr = *deq
			*deq += 16
			return t, addr, linked, linkChain, true
		}
		// A link TRB. The VL805 reads up to four TRBs past it (TRB over-fetch):
		// the memory after it must be the ring's own padding.
		if !c.mem.sameCoherentBuffer(*deq+16, 64) {
			c.violate("link TRB at %#x has no padding after it (VL805 TRB over-fetch)", *deq)
		}
		linked, linkChain = true, ctl&(1<<4) != 0
		*deq = (uint64(t[1])<<32 | uint64(t[0])) &^ 0xF
		if ctl&2 != 0 {
			*ccs ^= 1
		}
	}
	c.violate("ring at %#x: link TRBs point at link TRBs", *deq)
	return t, 0, false, false, false
}

func trbType(t [4]uint32) int     { return int(t[3]>>10) & 0x3F }
func trbParam(t [4]uint32) uint64 { return uint64(t[1])<<32 | uint64(t[0]) }

func (c *Controller) doorbell(target int, v uint32) {
	if c.usbsts&1 != 0 {
		c.violate("doorbell %d rung while halted", target)
		return
	}
	if target == 0 {
		if v != 0 {
			c.violate("command doorbell written with %#x", v)
		}
		c.runCommands()
		return
	}
	s := c.slot(target)
	if s == nil {
		c.violate("doorbell of disabled slot %d", target)
		return
	}
	dci := int(v & 0xFF)
	ep := s.eps[dci]
	if dci < 1 || dci > 31 || ep == nil || ep.state == 0 {
		c.violate("doorbell for slot %d DCI %d, which is not enabled", target, dci)
		return
	}
	switch ep.state {
	case 2, 4: // halted, error: the doorbell is ignored (§4.8.3)
		return
	case 3:
		ep.state = 1
		c.writeEPState(s, dci)
	}
	c.runTransfers(s, dci)
}

func (c *Controller) slot(id int) *slotState {
	if id < 1 || id >= len(c.slots) {
		return nil
	}
	return c.slots[id]
}

func (c *Controller) ctxView(base uint64, i int) ([]byte, error) {
	return c.mem.View(base+uint64(i*c.cfg.ContextSize), c.cfg.ContextSize)
}

// writeEPState mirrors an endpoint's state (and dequeue pointer) into the output
// context.
func (c *Controller) writeEPState(s *slotState, dci int) {
	b, err := c.ctxView(s.outCtx, dci)
	if err != nil {
		c.violate("output context of slot %d: %v", s.id, err)
		return
	}
	ep := s.eps[dci]
	binary.LittleEndian.PutUint32(b, binary.LittleEndian.Uint32(b)&^7|ep.state)
	dcs := ep.ccs
	if c.cfg.BrokenDCS && ep.state == 2 {
		dcs ^= 1
	}
	binary.LittleEndian.PutUint64(b[8:], ep.deq|uint64(dcs))
}
