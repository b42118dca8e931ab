package xhcifake

import (
	"encoding/binary"

	"github.com/inferpi/inferpi/driver/usb/usbfake"
)

// Completion codes used by the fake (xHCI §6.4.5).
const (
	ccSuccess      = 1
	ccDataBuffer   = 2
	ccTransaction  = 4
	ccTRB          = 5
	ccStall        = 6
	ccNoSlots      = 9
	ccSlotOff      = 11
	ccEPOff        = 12
	ccShort        = 13
	ccParameter    = 17
	ccContextState = 19
	ccStopped      = 26
)

func (c *Controller) runCommands() {
	for {
		t, addr, _, _, ok := c.fetch(&c.cmdDeq, &c.cmdCCS)
		if !ok {
			return
		}
		typ := trbType(t)
		slotID := int(t[3] >> 24)
		dci := int(t[3]>>16) & 0x1F
		cc, outSlot := c.command(typ, t, slotID, dci)
		c.Commands = append(c.Commands, CommandRecord{Type: typ, Slot: outSlot, DCI: dci, Completion: cc})
		c.event(addr, uint32(cc)<<24, 33<<10|uint32(outSlot)<<24)
	}
}

func (c *Controller) command(typ int, t [4]uint32, id, dci int) (cc uint8, slotID int) {
	switch typ {
	case 9: // Enable Slot
		for i := 1; i <= int(c.config&0xFF) && i < len(c.slots); i++ {
			if c.slots[i] == nil {
				c.slots[i] = &slotState{id: i, info: SlotInfo{ID: i}}
				return ccSuccess, i
			}
		}
		return ccNoSlots, 0
	case 10: // Disable Slot
		if c.slot(id) == nil {
			return ccSlotOff, id
		}
		c.slots[id] = nil
		return ccSuccess, id
	case 11:
		return c.addressDevice(t, id), id
	case 12:
		return c.configureEndpoint(t, id), id
	case 13:
		return c.evaluateContext(t, id), id
	case 14: // Reset Endpoint
		ep, cc := c.endpoint(id, dci)
		if ep == nil {
			return cc, id
		}
		if ep.state != 2 {
			return ccContextState, id
		}
		ep.state = 3
		c.writeEPState(c.slots[id], dci)
		return ccSuccess, id
	case 15: // Stop Endpoint
		ep, cc := c.endpoint(id, dci)
		if ep == nil {
			return cc, id
		}
		if ep.state != 1 {
			return ccContextState, id
		}
		ep.state = 3
		if ep.pending != 0 {
			c.event(ep.pending, ccStopped<<24, 32<<10|uint32(id)<<24|uint32(dci)<<16)
			ep.pending = 0
		}
		c.writeEPState(c.slots[id], dci)
		return ccSuccess, id
	case 16: // Set TR Dequeue Pointer
		ep, cc := c.endpoint(id, dci)
		if ep == nil {
			return cc, id
		}
		if ep.state != 3 && ep.state != 4 {
			return ccContextState, id
		}
		p := trbParam(t)
		if p&0xE != 0 {
			c.violate("Set TR Dequeue with stream context type bits %#x", p&0xE)
		}
		ep.deq, ep.ccs, ep.pending = p&^0xF, uint32(p&1), 0
		c.writeEPState(c.slots[id], dci)
		return ccSuccess, id
	case 17, 23: // Reset Device, No Op
		return ccSuccess, id
	}
	c.violate("command TRB type %d", typ)
	return ccTRB, id
}

func (c *Controller) endpoint(id, dci int) (*epState, uint8) {
	s := c.slot(id)
	if s == nil {
		return nil, ccSlotOff
	}
	if dci < 1 || dci > 31 || s.eps[dci] == nil || s.eps[dci].state == 0 {
		return nil, ccEPOff
	}
	return s.eps[dci], 0
}

// inputContext returns the drop and add flags and checks alignment.
func (c *Controller) inputContext(t [4]uint32) (base uint64, drop, add uint32, ok bool) {
	base = trbParam(t)
	if base%64 != 0 {
		c.violate("input context at %#x is not 64-byte aligned", base)
		return 0, 0, 0, false
	}
	b, err := c.mem.View(base, c.cfg.ContextSize*33)
	if err != nil {
		c.violate("input context: %v", err)
		return 0, 0, 0, false
	}
	return base, binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:]), true
}

func (c *Controller) addressDevice(t [4]uint32, id int) uint8 {
	s := c.slot(id)
	if s == nil {
		return ccSlotOff
	}
	base, drop, add, ok := c.inputContext(t)
	if !ok {
		return ccTRB
	}
	if drop != 0 || add != 3 {
		c.violate("Address Device input control context drop %#x add %#x (want 0 and A0|A1)", drop, add)
		return ccTRB
	}
	sc, _ := c.ctxView(base, 1)
	ep0, _ := c.ctxView(base, 2)
	w0, w1, w2 := binary.LittleEndian.Uint32(sc), binary.LittleEndian.Uint32(sc[4:]), binary.LittleEndian.Uint32(sc[8:])
	s.info.Route = w0 & 0xFFFFF
	s.info.Speed = (w0 >> 20) & 0xF
	s.info.RootPort = int(w1>>16) & 0xFF
	s.info.TTHub = int(w2 & 0xFF)
	s.info.TTPort = int(w2>>8) & 0xFF
	if e := int(w0 >> 27); e != 1 {
		c.violate("Address Device slot context entries %d (want 1)", e)
	}
	e1 := binary.LittleEndian.Uint32(ep0[4:])
	if (e1>>3)&7 != 4 {
		c.violate("Address Device endpoint 0 type %d (want 4, control)", (e1>>3)&7)
	}
	if (e1>>1)&3 != 3 {
		c.violate("endpoint 0 CErr %d (want 3)", (e1>>1)&3)
	}
	deq := binary.LittleEndian.Uint64(ep0[8:])
	dev := c.resolve(s)
	if dev == nil {
		return ccTransaction
	}
	if speedID(dev.Speed()) != s.info.Speed {
		c.violate("slot %d speed %d but the device runs at %v", id, s.info.Speed, dev.Speed())
	}
	if s.info.TTHub != 0 {
		hub := c.slot(s.info.TTHub)
		if hub == nil || !hub.info.Hub {
			c.violate("slot %d names TT hub slot %d, which is not a configured hub", id, s.info.TTHub)
		}
	}
	arr, err := c.mem.View(c.dcbaap+uint64(8*id), 8)
	if err != nil {
		c.violate("DCBAA entry %d: %v", id, err)
		return ccParameter
	}
	s.outCtx = binary.LittleEndian.Uint64(arr)
	out, err := c.mem.View(s.outCtx, 32*c.cfg.ContextSize)
	if err != nil || s.outCtx%64 != 0 {
		c.violate("output context of slot %d at %#x: %v", id, s.outCtx, err)
		return ccParameter
	}
	copy(out[:c.cfg.ContextSize], sc)
	s.info.Address = id
	binary.LittleEndian.PutUint32(out[12:], uint32(id)|2<<27) // addressed
	s.eps[1] = &epState{state: 1, typ: 4, mps: int(e1 >> 16), deq: deq &^ 0xF, ccs: uint32(deq & 1)}
	copy(out[c.cfg.ContextSize:2*c.cfg.ContextSize], ep0)
	c.writeEPState(s, 1)
	if a, ok := dev.(interface{ SetAddress(uint8) }); ok {
		a.SetAddress(uint8(id))
	}
	s.addrDone = true
	return ccSuccess
}

func (c *Controller) configureEndpoint(t [4]uint32, id int) uint8 {
	s := c.slot(id)
	if s == nil || !s.addrDone {
		return ccSlotOff
	}
	if t[3]&(1<<9) != 0 { // deconfigure
		for i := 2; i < 32; i++ {
			s.eps[i] = nil
		}
		return ccSuccess
	}
	base, drop, add, ok := c.inputContext(t)
	if !ok {
		return ccTRB
	}
	if add&1 == 0 || add&2 != 0 || drop&3 != 0 {
		c.violate("Configure Endpoint input control context drop %#x add %#x (A0 must be set, A1/D0/D1 clear)", drop, add)
		return ccTRB
	}
	sc, _ := c.ctxView(base, 1)
	w0, w1, w2 := binary.LittleEndian.Uint32(sc), binary.LittleEndian.Uint32(sc[4:]), binary.LittleEndian.Uint32(sc[8:])
	entries := int(w0 >> 27)
	for i := 2; i < 32; i++ {
		if drop&(1<<i) != 0 {
			s.eps[i] = nil
		}
		if add&(1<<i) == 0 {
			continue
		}
		if i > entries {
			c.violate("slot %d adds DCI %d beyond context entries %d", id, i, entries)
		}
		e, _ := c.ctxView(base, i+1)
		e1 := binary.LittleEndian.Uint32(e[4:])
		deq := binary.LittleEndian.Uint64(e[8:])
		typ := (e1 >> 3) & 7
		mps := int(e1 >> 16)
		if mps == 0 || typ == 0 || typ == 4 {
			c.violate("slot %d DCI %d: endpoint type %d, max packet %d", id, i, typ, mps)
			return ccParameter
		}
		if (typ == 2 && i%2 != 0) || (typ == 6 && i%2 != 1) {
			c.violate("slot %d DCI %d: bulk endpoint type %d has the wrong direction", id, i, typ)
		}
		if deq == 0 || deq&0xE != 0 {
			c.violate("slot %d DCI %d: TR dequeue pointer %#x", id, i, deq)
			return ccParameter
		}
		if binary.LittleEndian.Uint32(e[16:])&0xFFFF == 0 {
			c.violate("slot %d DCI %d: average TRB length 0", id, i)
		}
		s.eps[i] = &epState{state: 1, typ: typ, mps: mps, deq: deq &^ 0xF, ccs: uint32(deq & 1)}
		out, _ := c.ctxView(s.outCtx, i)
		copy(out, e)
		c.writeEPState(s, i)
	}
	s.info.Hub = w0&(1<<26) != 0
	s.info.Ports = int(w1 >> 24)
	s.info.TTT = int(w2>>16) & 3
	out, _ := c.ctxView(s.outCtx, 0)
	binary.LittleEndian.PutUint32(out, binary.LittleEndian.Uint32(out)&^(0x1F<<27|1<<26|1<<25)|w0&(0x1F<<27|1<<26|1<<25))
	binary.LittleEndian.PutUint32(out[4:], binary.LittleEndian.Uint32(out[4:])&0xFFFFFF|w1&0xFF000000)
	binary.LittleEndian.PutUint32(out[8:], binary.LittleEndian.Uint32(out[8:])&^(3<<16)|w2&(3<<16))
	binary.LittleEndian.PutUint32(out[12:], uint32(s.info.Address)|3<<27) // configured
	return ccSuccess
}

func (c *Controller) evaluateContext(t [4]uint32, id int) uint8 {
	s := c.slot(id)
	if s == nil || !s.addrDone {
		return ccSlotOff
	}
	base, drop, add, ok := c.inputContext(t)
	if !ok {
		return ccTRB
	}
	if drop != 0 || add&^3 != 0 {
		c.violate("Evaluate Context drop %#x add %#x", drop, add)
		return ccTRB
	}
	if add&2 != 0 {
		e, _ := c.ctxView(base, 2)
		mps := int(binary.LittleEndian.Uint32(e[4:]) >> 16)
		if mps == 0 {
			c.violate("Evaluate Context with endpoint 0 max packet 0")
			return ccParameter
		}
		s.eps[1].mps = mps
		out, _ := c.ctxView(s.outCtx, 1)
		binary.LittleEndian.PutUint32(out[4:], binary.LittleEndian.Uint32(out[4:])&0xFFFF|uint32(mps)<<16)
	}
	return ccSuccess
}

// resolve finds the device a slot talks to: the root port's device, then down
// the route string through hubs (xHCI §8.9).
func (c *Controller) resolve(s *slotState) usbfake.Device {
	rp := s.info.RootPort
	if rp < 1 || rp > len(c.ports) {
		return nil
	}
	p := &c.ports[rp-1]
	if p.dev == nil || !p.enabled || !p.powered {
		return nil
	}
	d := p.dev
	for tier := 0; tier < 5; tier++ {
		n := int(s.info.Route>>(4*tier)) & 0xF
		if n == 0 {
			break
		}
		h, ok := d.(*usbfake.Hub)
		if !ok {
			return nil
		}
		if d = h.Child(n); d == nil {
			return nil
		}
	}
	if g, ok := d.(interface{ Gone() bool }); ok && g.Gone() {
		return nil
	}
	return d
}

// Slots reports the enabled slots, for tests.
func (c *Controller) Slots() []SlotInfo {
	var out []SlotInfo
	for _, s := range c.slots {
		if s != nil {
			out = append(out, s.info)
		}
	}
	return out
}
