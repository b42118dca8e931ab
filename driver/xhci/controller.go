// Package xhci drives an xHCI USB host controller (the VL805 on the Raspberry Pi 4,
// qemu-xhci under QEMU virt) through a register bank and DMA memory, so that the
// same code runs on bare metal and against a fake controller in host tests.
//
// Use:
//
//	c, err := xhci.New(regs, mem, xhci.Options{Log: uart})
//	err = c.Start()            // reset, rings, run, power ports
//	devs, err := c.Enumerate() // address and configure every device (hubs too)
//	err = usb.Bind(devs, &msc.Driver{}) // class drivers take their interfaces
//	c.Close()                  // before re-initialising (e.g. after /exit)
//
// The driver polls the event ring instead of taking interrupts: every transfer
// is synchronous (one command or TD in flight per controller), so a waiting CPU
// has nothing better to do than look at the ring, and polling needs no interrupt
// routing, which differs between QEMU virt (GICv2m/INTx) and the Pi 4 (PCIe INTA
// through the BCM2711's own controller). Interrupts stay disabled (USBCMD.INTE=0,
// IMAN.IE=0), so no interrupt line is ever asserted.
//
// References (facts only): xHCI specification 1.2; Linux drivers/usb/host/xhci*.c;
// U-Boot drivers/usb/host/xhci*.c; Circle lib/usb/xhci*.cpp; for the VL805,
// Linux xhci-pci.c's quirks (XHCI_TRB_OVERFETCH, XHCI_EP_CTX_BROKEN_DCS).
package xhci

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/inferpi/inferpi/driver/dma"
	"github.com/inferpi/inferpi/driver/reg"
	"github.com/inferpi/inferpi/driver/usb"
)

// Options tune the driver; the zero value suits real hardware.
type Options struct {
	Log io.Writer // step-by-step log (the UART); nil for none
	// CommandTimeout bounds each command (default 5 s, as Linux).
	CommandTimeout time.Duration
	// ResetTimeout bounds controller halt and reset (default 1 s).
	ResetTimeout time.Duration
	// PortSettle is waited after the controller starts, for devices to connect
	// and USB 3 links to train (default 300 ms, as Circle).
	PortSettle time.Duration
	// PortResetTimeout bounds a root-port reset (default 500 ms).
	PortResetTimeout time.Duration
	// MaxSlots caps the device slots enabled (default 32, or fewer if the
	// controller has fewer).
	MaxSlots int
	// DMALimit is the first bus address the controller cannot reach, 0 for no
	// limit beyond its own (4 GiB without 64-bit addressing). The Pi 4's PCIe
	// inbound window reaches only the first 3 GiB of RAM (upstream bcm2711.dtsi's dma-ranges).
	// Rings and contexts beyond it are refused; transfers to or from memory
	// beyond it go through a coherent bounce buffer.
	DMALimit uint64
	// USB is passed to enumeration by Enumerate; its Log and Sleep default to
	// Log and Sleep.
	USB usb.Options
	// Sleep replaces time.Sleep (tests make it instant).
	Sleep func(time.Duration)
}

func (o *Options) commandTimeout() time.Duration { return orDefault(o.CommandTimeout, 5*time.Second) }
func (o *Options) resetTimeout() time.Duration   { return orDefault(o.ResetTimeout, time.Second) }
func (o *Options) portSettle() time.Duration     { return orDefault(o.PortSettle, 300*time.Millisecond) }
func (o *Options) portResetTimeout() time.Duration {
	return orDefault(o.PortResetTimeout, 500*time.Millisecond)
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Ring sizes. The command ring sees one command at a time; transfer rings hold
// one TD at a time, and a 1 MiB read into 4 KiB pages needs 256 TRBs.
const (
	commandRingTRBs  = 64
	eventRingTRBs    = 256 // QEMU accepts 16..4096
	controlRingTRBs  = 64
	transferRingTRBs = 1024
)

// Controller is one xHCI host controller.
type Controller struct {
	regs reg.Bank
	mem  dma.Memory
	opt  Options

	op, rt, db reg.Bank // operational, interrupter 0 and doorbell registers

	version   uint16
	maxSlots  int
	maxPorts  int
	ctxSize   int
	scratchN  int
	ac64      bool
	reach     uint64 // first bus address the controller cannot reach; 0: none
	bounced   bool   // a transfer has been bounced (logged once)
	ppc       bool
	protocols []portProtocol // per port, index port-1

	mu        sync.Mutex
	started   bool
	failed    error // set when the controller stops answering; every later call fails at once
	dcbaa     dma.Buffer
	scratch   []dma.Buffer
	scratchA  dma.Buffer
	cmdRing   *ring
	events    *eventRing
	slots     map[int]*slot
	devices   []*usb.Device // what the last Enumerate found
	cmdDone   map[uint64]TRB
	xferEv    map[epKey][]TRB
	portEvent map[int]bool // ports with a status change since last looked at
}

type epKey struct{ slot, dci int }

// New reads the controller's capabilities. It touches no operational register,
// so it is safe on a controller still running from a bootloader.
func New(regs reg.Bank, mem dma.Memory, opt Options) (*Controller, error) {
	c := &Controller{regs: regs, mem: mem, opt: opt}
	capReg := regs.Read32(capLength)
	if capReg == 0xFFFFFFFF {
		return nil, errors.New("xhci: capability registers read all-ones: the controller is not answering (PCIe link down, BAR not assigned or VL805 firmware not loaded?)")
	}
	capLen := int(capReg & 0xFF)
	c.version = uint16(capReg >> 16)
	if capLen < 0x20 || c.version < 0x0090 || c.version > 0x0200 {
		return nil, fmt.Errorf("xhci: implausible capability registers (CAPLENGTH %#x, HCIVERSION %#x)", capLen, c.version)
	}
	p1, p2, cp1 := regs.Read32(hcsParams1), regs.Read32(hcsParams2), regs.Read32(hccParams1)
	c.maxSlots = int(p1 & 0xFF)
	c.maxPorts = int(p1 >> 24)
	c.scratchN = int((p2>>27)&0x1F | (p2>>21)&0x1F<<5)
	c.ac64 = cp1&hccAC64 != 0
	c.reach = opt.DMALimit
	if !c.ac64 && (c.reach == 0 || c.reach > 1<<32) {
		c.reach = 1 << 32
	}
	c.ppc = cp1&hccPPC != 0
	c.ctxSize = 32
	if cp1&hccCSZ != 0 {
		c.ctxSize = 64
	}
	if c.maxSlots == 0 || c.maxPorts == 0 {
		return nil, fmt.Errorf("xhci: controller reports %d slots and %d ports", c.maxSlots, c.maxPorts)
	}
	if want := opt.MaxSlots; want > 0 && want < c.maxSlots {
		c.maxSlots = want
	} else if want == 0 && c.maxSlots > 32 {
		c.maxSlots = 32
	}
	c.op = reg.Sub{Bank: regs, Off: uintptr(capLen)}
	c.rt = reg.Sub{Bank: regs, Off: uintptr(regs.Read32(rtsOff)&^0x1F) + 0x20}
	c.db = reg.Sub{Bank: regs, Off: uintptr(regs.Read32(dbOff) &^ 0x3)}
	var err error
	if c.protocols, err = readProtocols(regs, cp1, c.maxPorts); err != nil {
		return nil, err
	}
	c.logf("xhci: version %x.%02x, %d ports (%s), %d slots used, %d-byte contexts, %d scratchpad pages, 64-bit DMA %v",
		c.version>>8, c.version&0xFF, c.maxPorts, describeProtocols(c.protocols), c.maxSlots, c.ctxSize, c.scratchN, c.ac64)
	return c, nil
}

func (c *Controller) logf(format string, args ...any) {
	if c.opt.Log != nil {
		fmt.Fprintf(c.opt.Log, format+"\n", args...)
	}
}

func (c *Controller) sleep(d time.Duration) {
	if c.opt.Sleep != nil {
		c.opt.Sleep(d)
		return
	}
	time.Sleep(d)
}

// Name is the host controller's name in logs.
func (c *Controller) Name() string { return "xhci" }

// write64 writes a 64-bit register as two 32-bit writes, low word first (§5.1:
// software writes the low dword first; QEMU latches ERSTBA and CRCR on the high
// write).
func write64(b reg.Bank, off uintptr, v uint64) {
	b.Write32(off, uint32(v))
	b.Write32(off+4, uint32(v>>32))
}

// waitReg polls a register until cond holds or timeout passes.
func (c *Controller) waitReg(b reg.Bank, off uintptr, cond func(uint32) bool, timeout time.Duration) (uint32, bool) {
	deadline := time.Now().Add(timeout)
	for {
		v := b.Read32(off)
		if cond(v) {
			return v, true
		}
		if v == 0xFFFFFFFF || time.Now().After(deadline) {
			return v, false
		}
		c.sleep(100 * time.Microsecond)
	}
}

// reaches reports whether the controller can address n bytes at bus.
func (c *Controller) reaches(bus uint64, n int) bool {
	return c.reach == 0 || bus+uint64(n) <= c.reach
}

// checkAddress rejects DMA memory the controller cannot reach (a 32-bit
// controller above 4 GiB, or beyond Options.DMALimit).
func (c *Controller) checkAddress(what string, b dma.Buffer) error {
	if !c.reaches(b.Bus, len(b.Mem)) {
		return fmt.Errorf("xhci: %s at bus %#x is beyond what the controller can reach by DMA (below %#x)", what, b.Bus, c.reach)
	}
	return nil
}

func (c *Controller) alloc(what string, size, align int) (dma.Buffer, error) {
	b, err := c.mem.AllocCoherent(size, align)
	if err != nil {
		return dma.Buffer{}, fmt.Errorf("xhci: allocate %s (%d bytes): %w", what, size, err)
	}
	if err := c.checkAddress(what, b); err != nil {
		c.mem.Free(b)
		return dma.Buffer{}, err
	}
	clear(b.Mem)
	return b, nil
}

// Start halts and resets the controller, sets up the device context array,
// scratchpad pages, command ring and event ring, starts it, powers the ports
// and waits for devices to settle (§4.2).
func (c *Controller) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return errors.New("xhci: already started")
	}
	c.failed = nil
	if err := c.reset(true); err != nil {
		return err
	}
	if err := c.setup(); err != nil {
		c.release()
		return err
	}
	c.op.Write32(opUSBCmd, cmdRun)
	if v, ok := c.waitReg(c.op, opUSBSts, func(v uint32) bool { return v&stsHalted == 0 }, c.opt.resetTimeout()); !ok {
		c.release()
		return fmt.Errorf("xhci: controller did not start running within %v (USBSTS %#08x)", c.opt.resetTimeout(), v)
	}
	c.started = true
	c.logf("xhci: running (USBSTS %#08x)", c.op.Read32(opUSBSts))
	if c.ppc {
		for p := 1; p <= c.maxPorts; p++ {
			if v := c.portsc(p); v&portPP == 0 {
				c.writePortsc(p, v&portPreserve|portPP)
			}
		}
	}
	c.sleep(c.opt.portSettle())
	for p := 1; p <= c.maxPorts; p++ {
		v := c.portsc(p)
		c.logf("xhci: port %d (USB %d): PORTSC %#08x%s", p, c.protocols[p-1].major, v, describePortsc(v))
	}
	return nil
}

// reset stops a running controller (the Pi's bootloader may leave the VL805
// running after a USB boot: "XHCI-STOP") and resets it (§4.22.1). found says
// whether a running controller is news worth logging (at start, not at Close).
func (c *Controller) reset(found bool) error {
	if v := c.op.Read32(opUSBSts); v == 0xFFFFFFFF {
		return errors.New("xhci: USBSTS reads all-ones: the controller is not answering")
	} else if v&stsHalted == 0 {
		if found {
			c.logf("xhci: controller is running (USBSTS %#08x); stopping it", v)
		}
		c.op.Write32(opUSBCmd, c.op.Read32(opUSBCmd)&^cmdRun)
		if v, ok := c.waitReg(c.op, opUSBSts, func(v uint32) bool { return v&stsHalted != 0 }, c.opt.resetTimeout()); !ok {
			return fmt.Errorf("xhci: controller did not halt within %v (USBSTS %#08x)", c.opt.resetTimeout(), v)
		}
	}
	c.op.Write32(opUSBCmd, cmdReset)
	if v, ok := c.waitReg(c.op, opUSBCmd, func(v uint32) bool { return v&cmdReset == 0 }, c.opt.resetTimeout()); !ok {
		return fmt.Errorf("xhci: reset did not complete within %v (USBCMD %#08x)", c.opt.resetTimeout(), v)
	}
	if v, ok := c.waitReg(c.op, opUSBSts, func(v uint32) bool { return v&stsNotReady == 0 }, c.opt.resetTimeout()); !ok {
		return fmt.Errorf("xhci: controller not ready within %v of reset (USBSTS %#08x)", c.opt.resetTimeout(), v)
	}
	return nil
}

func (c *Controller) setup() error {
	if ps := c.op.Read32(opPageSize); ps&1 == 0 {
		return fmt.Errorf("xhci: controller does not support 4 KiB pages (PAGESIZE %#x)", ps)
	}
	c.op.Write32(opConfig, uint32(c.maxSlots))
	var err error
	// Device context base address array: slot 0 holds the scratchpad array (§6.1).
	if c.dcbaa, err = c.alloc("device context base address array", (c.maxSlots+1)*8, 64); err != nil {
		return err
	}
	if c.scratchN > 0 {
		if c.scratchA, err = c.alloc("scratchpad array", c.scratchN*8, 64); err != nil {
			return err
		}
		for i := 0; i < c.scratchN; i++ {
			p, err := c.alloc("scratchpad page", 4096, 4096)
			if err != nil {
				return err
			}
			c.scratch = append(c.scratch, p)
			putLE64(c.scratchA.Mem[8*i:], p.Bus)
		}
		putLE64(c.dcbaa.Mem[0:], c.scratchA.Bus)
	}
	write64(c.op, opDCBAAPLo, c.dcbaa.Bus)
	if c.cmdRing, err = newRing(c.mem, commandRingTRBs); err != nil {
		return err
	}
	if err := c.checkAddress("command ring", c.cmdRing.buf); err != nil {
		return err
	}
	write64(c.op, opCRCRLo, c.cmdRing.buf.Bus|crcrRCS)
	if c.events, err = newEventRing(c.mem, eventRingTRBs); err != nil {
		return err
	}
	if err := c.checkAddress("event ring", c.events.buf); err != nil {
		return err
	}
	// Interrupter 0 (§4.9.4): ERSTSZ, then ERDP, then ERSTBA, which arms the ring.
	c.rt.Write32(irIMAN, 0)
	c.rt.Write32(irERSTSZ, 1)
	write64(c.rt, irERDPLo, c.events.dequeueBus())
	write64(c.rt, irERSTBALo, c.events.erst.Bus)
	c.slots = map[int]*slot{}
	c.cmdDone = map[uint64]TRB{}
	c.xferEv = map[epKey][]TRB{}
	c.portEvent = map[int]bool{}
	c.logf("xhci: DCBAA at bus %#x, command ring %#x, event ring %#x (%d TRBs), %d scratchpad pages",
		c.dcbaa.Bus, c.cmdRing.buf.Bus, c.events.buf.Bus, eventRingTRBs, len(c.scratch))
	return nil
}

// Devices returns the devices the last Enumerate found, hubs included,
// so that a caller without a disk can say what is plugged in instead.
func (c *Controller) Devices() []*usb.Device {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.devices
}

// release frees every DMA buffer. The controller must be halted or reset.
func (c *Controller) release() {
	c.devices = nil
	for id, s := range c.slots {
		s.freeMemory()
		delete(c.slots, id)
	}
	c.cmdRing.free(c.mem)
	c.cmdRing = nil
	c.events.free(c.mem)
	c.events = nil
	for _, p := range c.scratch {
		c.mem.Free(p)
	}
	c.scratch = nil
	if c.scratchA.Mem != nil {
		c.mem.Free(c.scratchA)
		c.scratchA = dma.Buffer{}
	}
	if c.dcbaa.Mem != nil {
		c.mem.Free(c.dcbaa)
		c.dcbaa = dma.Buffer{}
	}
}

// Close stops and resets the controller, so it no longer touches memory, and
// frees everything. New and Start may then run again on the same registers.
func (c *Controller) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.started {
		return nil
	}
	c.started = false
	err := c.reset(false)
	if err != nil {
		// Freeing memory a running controller may still write would corrupt
		// whatever reuses it: keep it.
		return fmt.Errorf("xhci: close: %w (DMA memory kept)", err)
	}
	c.release()
	c.logf("xhci: stopped")
	return nil
}

// poll consumes every event the controller has written and files it. It also
// reports a dead or failed controller.
func (c *Controller) poll() error {
	n := 0
	for {
		ev, ok := c.events.next()
		if !ok {
			break
		}
		n++
		switch ev.Type() {
		case trbCommandEvent:
			c.cmdDone[ev.Param] = ev
		case trbTransferEvent:
			k := epKey{ev.Slot(), ev.Endpoint()}
			c.xferEv[k] = append(c.xferEv[k], ev)
		case trbPortStatusEv:
			c.portEvent[ev.Port()] = true
		case trbHostCtrlEvent:
			c.logf("xhci: host controller event: %s", completionName(ev.Completion()))
		}
	}
	if n > 0 {
		// Tell the controller how far we have read, clearing Event Handler Busy.
		write64(c.rt, irERDPLo, c.events.dequeueBus()|erdpEHB)
	}
	sts := c.op.Read32(opUSBSts)
	switch {
	case sts == 0xFFFFFFFF:
		c.failed = errors.New("xhci: registers read all-ones: the controller has gone (PCIe link lost?)")
	case sts&stsController != 0:
		c.failed = fmt.Errorf("xhci: host controller error (USBSTS %#08x): the controller stopped", sts)
	case sts&stsHostError != 0:
		c.failed = fmt.Errorf("xhci: host system error (USBSTS %#08x): a DMA access failed", sts)
	}
	return c.failed
}

// usable says why the controller cannot take work, if it cannot.
func (c *Controller) usable() error {
	if !c.started {
		return errors.New("xhci: controller not started")
	}
	return c.failed
}

// pause is the wait between polls: yield at first, then sleep briefly, so short
// waits cost no latency and long ones no CPU.
func (c *Controller) pause(i int) {
	if i < 200 {
		runtime.Gosched()
		return
	}
	c.sleep(20 * time.Microsecond)
}

// command queues a command, rings doorbell 0 and waits for its completion event.
func (c *Controller) command(t TRB, what string) (TRB, error) {
	if err := c.usable(); err != nil {
		return TRB{}, fmt.Errorf("xhci: %s: %w", what, err)
	}
	ptr := c.cmdRing.push(t)
	c.db.Write32(0, 0)
	deadline := time.Now().Add(c.opt.commandTimeout())
	for i := 0; ; i++ {
		if err := c.poll(); err != nil {
			return TRB{}, fmt.Errorf("xhci: %s: %w", what, err)
		}
		if ev, ok := c.cmdDone[ptr]; ok {
			delete(c.cmdDone, ptr)
			if cc := ev.Completion(); cc != ccSuccess {
				return ev, fmt.Errorf("xhci: %s failed: %s", what, completionName(cc))
			}
			return ev, nil
		}
		if time.Now().After(deadline) {
			// Commands complete even for devices that have gone away; a controller
			// that does not complete one is not working, and waiting for it again
			// on every later call would only stretch the failure out.
			c.abortCommand()
			c.failed = fmt.Errorf("xhci: %s: no completion within %v; the controller has stopped answering", what, c.opt.commandTimeout())
			return TRB{}, c.failed
		}
		c.pause(i)
	}
}

// abortCommand stops the command ring after a command timed out (§4.6.1.2), so
// the controller does not act on it later.
func (c *Controller) abortCommand() {
	// Only the low word: CA lives there, and a high-word write would make some
	// controllers (QEMU) reload the ring pointer.
	c.op.Write32(opCRCRLo, crcrCA)
	if _, ok := c.waitReg(c.op, opCRCRLo, func(v uint32) bool { return v&crcrCRR == 0 }, c.opt.resetTimeout()); !ok {
		c.logf("xhci: command ring did not stop after abort")
	}
	c.poll()
}

// Enumerate finds the devices on the bus (root ports and hubs, usb.Enumerate)
// and returns them configured, for the caller to bind class drivers to
// (usb.Bind). Devices that fail are reported in err (one line each) while the
// rest are returned: callers use them even when err is not nil.
func (c *Controller) Enumerate() ([]*usb.Device, error) {
	uo := c.opt.USB
	if uo.Log == nil {
		uo.Log = c.opt.Log
	}
	if uo.Sleep == nil {
		uo.Sleep = c.opt.Sleep
	}
	devs, err := usb.Enumerate(c, uo)
	c.mu.Lock()
	c.devices = devs
	c.mu.Unlock()
	return devs, err
}
