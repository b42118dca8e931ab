package xhci

import (
	"errors"
	"fmt"

	"github.com/inferpi/inferpi/driver/dma"
	"github.com/inferpi/inferpi/driver/usb"
)

// slot is one addressed device: its device slot, contexts and rings. It is the
// usb.HostDevice the USB core drives.
type slot struct {
	c      *Controller
	id     int
	loc    usb.Location
	in     dma.Buffer // input context
	out    dma.Buffer // output (device) context, owned by the controller
	eps    [32]*endpoint
	ctlBuf dma.Buffer // bounce buffer for control data stages
	mps0   int
}

// endpoint is one endpoint's transfer ring and bounce buffer.
type endpoint struct {
	dci    int
	cfg    usb.EndpointConfig
	ring   *ring
	bounce dma.Buffer // small transfers go through here (no cache maintenance)
	// bigBounce carries large transfers to or from memory beyond the
	// controller's DMA reach (allocated when first needed).
	bigBounce dma.Buffer
}

// bounceSize is the largest transfer that is copied through a coherent buffer
// instead of going straight to the caller's memory: CBWs, CSWs, sense and
// capacity data, single sectors. It keeps small buffers that may live on a
// goroutine stack (which can move) away from DMA.
const bounceSize = 4096

// free returns the endpoint's ring and bounce buffers.
func (ep *endpoint) free(m dma.Memory) {
	ep.ring.free(m)
	for _, b := range []*dma.Buffer{&ep.bounce, &ep.bigBounce} {
		if b.Mem != nil {
			m.Free(*b)
			*b = dma.Buffer{}
		}
	}
}

func (s *slot) inCtx() ctxView  { return ctxView{b: s.in.Mem, size: s.c.ctxSize, input: true} }
func (s *slot) outCtx() ctxView { return ctxView{b: s.out.Mem, size: s.c.ctxSize} }

// NewDevice enables a device slot and addresses the device at loc (§4.3.2,
// §4.3.3): Enable Slot, then Address Device with a slot context saying where
// the device is and an endpoint 0 context with a default packet size.
func (c *Controller) NewDevice(loc usb.Location) (usb.HostDevice, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev, err := c.command(enableSlotTRB(), "enable slot")
	if err != nil {
		return nil, err
	}
	s := &slot{c: c, id: ev.Slot(), loc: loc, mps0: loc.Speed.DefaultMaxPacket0()}
	if s.id < 1 || s.id > c.maxSlots {
		return nil, fmt.Errorf("xhci: enable slot returned slot %d", s.id)
	}
	if err := s.address(); err != nil {
		s.disable()
		return nil, fmt.Errorf("xhci: usb %s: %w", loc.Path, err)
	}
	c.slots[s.id] = s
	slotCtx := s.outCtx().slot()
	c.logf("xhci: usb %s: slot %d, address %d, route %#05x, root port %d, %v", loc.Path, s.id,
		le32(slotCtx[12:])&0xFF, loc.Route, loc.RootPort, loc.Speed)
	return s, nil
}

func (s *slot) address() error {
	c := s.c
	var err error
	if s.out, err = c.alloc("device context", 32*c.ctxSize, 64); err != nil {
		return err
	}
	if s.in, err = c.alloc("input context", 33*c.ctxSize, 64); err != nil {
		return err
	}
	ep0 := &endpoint{dci: 1, cfg: usb.EndpointConfig{Type: usb.Control, MaxPacket: s.mps0}}
	if ep0.ring, err = newRing(c.mem, controlRingTRBs); err != nil {
		return err
	}
	if err := c.checkAddress("transfer ring", ep0.ring.buf); err != nil {
		ep0.ring.free(c.mem)
		return err
	}
	s.eps[1] = ep0
	putLE64(c.dcbaa.Mem[8*s.id:], s.out.Bus)

	in := s.inCtx()
	putLE32(in.control()[4:], 1<<0|1<<1) // add slot and endpoint 0
	sc := in.slot()
	loc := s.loc
	putLE32(sc[0:], loc.Route&slotRouteMask|speedID(loc.Speed)<<slotSpeedShift|1<<slotEntriesShift|mttBit(loc))
	putLE32(sc[4:], uint32(loc.RootPort)<<slotRootPortShift)
	if loc.TTHub != nil {
		hub, ok := loc.TTHub.(*slot)
		if !ok {
			return errors.New("transaction translator hub is not on this controller")
		}
		putLE32(sc[8:], uint32(hub.id)|uint32(loc.TTPort)<<slotTTPortShift)
	}
	deq, dcs := ep0.ring.dequeue()
	writeEndpoint(in.endpoint(1), ep0.cfg, loc.Speed, deq, dcs)
	if _, err := c.command(addressDeviceTRB(s.in.Bus, s.id), fmt.Sprintf("address device (slot %d)", s.id)); err != nil {
		return err
	}
	return nil
}

func mttBit(loc usb.Location) uint32 {
	if loc.TTHub != nil && loc.TTMulti {
		return slotMTT
	}
	return 0
}

// disable gives the slot back (Disable Slot) and frees its memory.
func (s *slot) disable() {
	if s.c.started {
		if _, err := s.c.command(disableSlotTRB(s.id), fmt.Sprintf("disable slot %d", s.id)); err != nil {
			s.c.logf("%v", err)
			return // the controller may still own the contexts: keep them
		}
	}
	if s.c.dcbaa.Mem != nil {
		putLE64(s.c.dcbaa.Mem[8*s.id:], 0)
	}
	s.freeMemory()
	delete(s.c.slots, s.id)
}

func (s *slot) freeMemory() {
	m := s.c.mem
	for i, ep := range s.eps {
		if ep == nil {
			continue
		}
		ep.free(m)
		s.eps[i] = nil
	}
	for _, b := range []*dma.Buffer{&s.in, &s.out, &s.ctlBuf} {
		if b.Mem != nil {
			m.Free(*b)
			*b = dma.Buffer{}
		}
	}
}

// Release disables the slot.
func (s *slot) Release() error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if _, ok := s.c.slots[s.id]; !ok {
		return nil
	}
	s.disable()
	return nil
}

// SetMaxPacket0 corrects endpoint 0's packet size with Evaluate Context (§4.6.7).
func (s *slot) SetMaxPacket0(n int) error {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	in := s.inCtx()
	clear(s.in.Mem)
	putLE32(in.control()[4:], 1<<1)
	ep0 := in.endpoint(1)
	copy(ep0, s.outCtx().endpoint(1))
	putLE32(ep0[4:], le32(ep0[4:])&0xFFFF|uint32(n)<<epMPSShift)
	if _, err := c.command(evaluateContextTRB(s.in.Bus, s.id), fmt.Sprintf("evaluate context (slot %d, max packet %d)", s.id, n)); err != nil {
		return err
	}
	s.mps0 = n
	s.eps[1].cfg.MaxPacket = n
	return nil
}

// Configure adds endpoints (Configure Endpoint, §4.6.6) and, for a hub, sets the
// slot context's hub fields (§6.2.2: Hub, Number of Ports, TT Think Time).
func (s *slot) Configure(eps []usb.EndpointConfig, hub *usb.HubConfig) error {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	in := s.inCtx()
	clear(s.in.Mem)
	sc := in.slot()
	copy(sc, s.outCtx().slot())
	putLE32(sc[12:], 0) // device address and slot state are the controller's
	add := uint32(1)    // the slot context
	entries := int(le32(sc[0:]) >> slotEntriesShift)
	var made []*endpoint
	for _, cfg := range eps {
		d := dci(cfg.Address)
		if d < 2 || cfg.MaxPacket == 0 {
			return fmt.Errorf("xhci: usb %s: cannot configure endpoint %#02x (max packet %d)", s.loc.Path, cfg.Address, cfg.MaxPacket)
		}
		size := transferRingTRBs
		if cfg.Type != usb.Bulk {
			size = controlRingTRBs
		}
		r, err := newRing(c.mem, size)
		if err == nil {
			err = c.checkAddress("transfer ring", r.buf)
		}
		if err != nil {
			for _, e := range made {
				e.ring.free(c.mem)
			}
			return err
		}
		ep := &endpoint{dci: d, cfg: cfg, ring: r}
		made = append(made, ep)
		deq, dcs := r.dequeue()
		writeEndpoint(in.endpoint(d), cfg, s.loc.Speed, deq, dcs)
		add |= 1 << d
		if d > entries {
			entries = d
		}
	}
	w0 := le32(sc[0:])&^(0x1F<<slotEntriesShift) | uint32(entries)<<slotEntriesShift
	if hub != nil {
		w0 |= slotHub
		if hub.MultiTT {
			w0 |= slotMTT
		}
		putLE32(sc[4:], le32(sc[4:])&^(0xFF<<slotNumPortsShift)|uint32(hub.Ports)<<slotNumPortsShift)
		putLE32(sc[8:], le32(sc[8:])&^(3<<slotTTTShift)|uint32(hub.ThinkTime&3)<<slotTTTShift)
	}
	putLE32(sc[0:], w0)
	putLE32(in.control()[4:], add)
	if _, err := c.command(configureEndpointTRB(s.in.Bus, s.id), fmt.Sprintf("configure endpoints (slot %d)", s.id)); err != nil {
		for _, e := range made {
			e.ring.free(c.mem)
		}
		return err
	}
	for _, e := range made {
		if old := s.eps[e.dci]; old != nil {
			old.free(c.mem)
		}
		s.eps[e.dci] = e
		c.logf("xhci: usb %s: endpoint %#02x %v, max packet %d, burst %d (DCI %d)", s.loc.Path,
			e.cfg.Address, e.cfg.Type, e.cfg.MaxPacket, e.cfg.MaxBurst, e.dci)
	}
	return nil
}

// epState reads an endpoint's state from the output context.
func (s *slot) epState(d int) uint32 { return le32(s.outCtx().endpoint(d)[0:]) & epStateMask }

// recover brings an endpoint the controller halted or stopped back to work: a
// halted endpoint gets Reset Endpoint (which also resets the data toggle), then
// Set TR Dequeue Pointer moves past whatever was left on the ring, using our own
// enqueue position and cycle state (the VL805 does not keep DCS).
func (s *slot) recover(ep *endpoint) error {
	c := s.c
	st := s.epState(ep.dci)
	if st == epStateRunning {
		if _, err := c.command(stopEndpointTRB(s.id, ep.dci), fmt.Sprintf("stop endpoint (slot %d, DCI %d)", s.id, ep.dci)); err != nil {
			// It may have halted or stopped meanwhile; the state decides below.
			c.logf("%v", err)
		}
		st = s.epState(ep.dci)
	}
	if st == epStateHalted {
		if _, err := c.command(resetEndpointTRB(s.id, ep.dci), fmt.Sprintf("reset endpoint (slot %d, DCI %d)", s.id, ep.dci)); err != nil {
			return err
		}
	}
	deq, dcs := ep.ring.dequeue()
	_, err := c.command(setTRDequeueTRB(s.id, ep.dci, deq, dcs), fmt.Sprintf("set TR dequeue (slot %d, DCI %d)", s.id, ep.dci))
	return err
}

// ResetEndpoint puts an endpoint's host side back to its initial state, data
// toggle / sequence number 0 included, to match a device endpoint that just got
// CLEAR_FEATURE(ENDPOINT_HALT). A halted endpoint takes Reset Endpoint; one that
// is not halted cannot, so it is stopped and re-added with Configure Endpoint
// (drop and add the same context), as Linux's xhci_endpoint_reset does.
func (s *slot) ResetEndpoint(addr uint8) error {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	d := dci(addr)
	ep := s.eps[d]
	if ep == nil {
		return fmt.Errorf("xhci: usb %s: endpoint %#02x is not configured", s.loc.Path, addr)
	}
	switch s.epState(d) {
	case epStateHalted:
		return s.recover(ep)
	case epStateRunning:
		if _, err := c.command(stopEndpointTRB(s.id, d), fmt.Sprintf("stop endpoint (slot %d, DCI %d)", s.id, d)); err != nil {
			return err
		}
	}
	in := s.inCtx()
	clear(s.in.Mem)
	copy(in.slot(), s.outCtx().slot())
	putLE32(in.slot()[12:], 0)
	putLE32(in.control()[0:], 1<<d)
	putLE32(in.control()[4:], 1|1<<d)
	deq, dcs := ep.ring.dequeue()
	writeEndpoint(in.endpoint(d), ep.cfg, s.loc.Speed, deq, dcs)
	_, err := c.command(configureEndpointTRB(s.in.Bus, s.id), fmt.Sprintf("re-add endpoint (slot %d, DCI %d)", s.id, d))
	return err
}
