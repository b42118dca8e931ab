package xhcifake

import (
	"encoding/binary"
	"errors"

	"github.com/inferpi/inferpi/driver/usb"
	"github.com/inferpi/inferpi/driver/usb/usbfake"
)

type trbAt struct {
	t    [4]uint32
	addr uint64
}

func (x trbAt) length() int { return int(x.t[2] & 0x1FFFF) }

type outcome int

const (
	tdDone outcome = iota
	tdHalted
	tdPending
)

// runTransfers executes the TDs queued on an endpoint's ring.
func (c *Controller) runTransfers(s *slotState, dci int) {
	ep := s.eps[dci]
	for ep.state == 1 && ep.pending == 0 {
		deq, ccs := ep.deq, ep.ccs
		td, ok := c.collectTD(&deq, &ccs, ep.typ == 4)
		if !ok {
			return
		}
		switch c.execute(s, dci, ep, td) {
		case tdDone:
			ep.deq, ep.ccs = deq, ccs
		case tdHalted:
			// The dequeue pointer stays on the failed TD (§4.10.2.1): software
			// must move it with Set TR Dequeue Pointer.
			ep.state = 2
			c.writeEPState(s, dci)
			return
		case tdPending:
			ep.pending = td[0].addr
			return
		}
	}
}

// collectTD reads one TD: chained TRBs up to one without the chain bit, or for
// a control endpoint a Setup stage up to its Status stage.
func (c *Controller) collectTD(deq *uint64, ccs *uint32, control bool) ([]trbAt, bool) {
	var td []trbAt
	prevChain := false
	for {
		t, addr, linked, linkChain, ok := c.fetch(deq, ccs)
		if !ok {
			if len(td) > 0 {
				c.violate("doorbell rung with an incomplete TD (%d TRBs so far)", len(td))
			}
			return nil, false
		}
		if linked && prevChain && !linkChain {
			c.violate("TD continues past the link TRB at the end of the segment, whose chain bit is clear")
		}
		td = append(td, trbAt{t, addr})
		typ := trbType(t)
		if control {
			if len(td) == 1 && typ != 2 {
				c.violate("control TD starts with TRB type %d", typ)
			}
			if typ == 4 {
				return td, true
			}
			if len(td) > 3 {
				c.violate("control TD longer than Setup, Data, Status")
				return td, true
			}
			continue
		}
		prevChain = t[3]&(1<<4) != 0
		if !prevChain {
			return td, true
		}
		if len(td) > 4096 {
			c.violate("TD of more than 4096 TRBs")
			return nil, false
		}
	}
}

func (c *Controller) xferEvent(s *slotState, dci int, ptr uint64, cc uint8, residual int) {
	c.event(ptr, uint32(cc)<<24|uint32(residual)&0xFFFFFF, 32<<10|uint32(s.id)<<24|uint32(dci)<<16)
}

// failed handles an error from a device model.
func (c *Controller) failed(s *slotState, dci int, ptr uint64, err error, rec *TransferRecord) outcome {
	switch {
	case errors.Is(err, usb.ErrStall):
		rec.Completion = ccStall
		c.xferEvent(s, dci, ptr, ccStall, 0)
		return tdHalted
	case errors.Is(err, usbfake.ErrNoResponse):
		return tdPending
	case errors.Is(err, usbfake.ErrGone):
		c.unplugged(s)
		return c.gone(s, dci, ptr, rec)
	}
	c.violate("device model error %v", err)
	rec.Completion = ccTRB
	c.xferEvent(s, dci, ptr, ccTRB, 0)
	return tdHalted
}

// gone is a transfer to a device that is not there.
func (c *Controller) gone(s *slotState, dci int, ptr uint64, rec *TransferRecord) outcome {
	if c.cfg.GoneSilently {
		return tdPending
	}
	rec.Completion = ccTransaction
	c.xferEvent(s, dci, ptr, ccTransaction, 0)
	return tdHalted
}

// unplugged makes the disappearance of a device visible where real hardware
// sees it: on the root port, or on the port of the hub it hangs from.
func (c *Controller) unplugged(s *slotState) {
	route := s.info.Route
	if route == 0 {
		if p := &c.ports[s.info.RootPort-1]; p.dev != nil {
			c.Detach(s.info.RootPort)
		}
		return
	}
	d := c.ports[s.info.RootPort-1].dev
	for tier := 0; tier < 5 && d != nil; tier++ {
		n := int(route>>(4*tier)) & 0xF
		next := int(route>>(4*(tier+1))) & 0xF
		h, ok := d.(*usbfake.Hub)
		if !ok {
			return
		}
		if next == 0 {
			h.Unplug(n)
			return
		}
		d = h.Child(n)
	}
}

func (c *Controller) execute(s *slotState, dci int, ep *epState, td []trbAt) outcome {
	rec := TransferRecord{Slot: s.id, DCI: dci, TRBs: len(td), Completion: ccSuccess}
	defer func() { c.Transfers = append(c.Transfers, rec) }()
	if ep.typ == 4 {
		return c.control(s, dci, td, &rec)
	}
	return c.bulk(s, dci, ep, td, &rec)
}

func (c *Controller) control(s *slotState, dci int, td []trbAt, rec *TransferRecord) outcome {
	st := td[0]
	if st.t[3]&(1<<6) == 0 || st.length() != 8 {
		c.violate("Setup TRB without IDT or with length %d", st.length())
	}
	var raw [8]byte
	binary.LittleEndian.PutUint64(raw[:], trbParam(st.t))
	setup, _ := usb.ParseSetup(raw[:])
	var data *trbAt
	status := td[len(td)-1]
	if len(td) == 3 {
		data = &td[1]
	}
	trt := (st.t[3] >> 16) & 3
	switch {
	case data == nil && trt != 0, data != nil && setup.In() && trt != 3, data != nil && !setup.In() && trt != 2:
		c.violate("Setup TRB transfer type %d for %v", trt, setup)
	}
	if data != nil {
		if trbType(data.t) != 3 || (data.t[3]&(1<<16) != 0) != setup.In() || data.length() != int(setup.Length) {
			c.violate("Data TRB %#x does not match %v", data.t, setup)
		}
		if setup.In() && data.t[3]&(1<<2) == 0 {
			c.violate("IN Data TRB without ISP")
		}
	} else if setup.Length != 0 {
		c.violate("%v without a Data TRB", setup)
	}
	wantIn := data == nil || !setup.In()
	if trbType(status.t) != 4 || (status.t[3]&(1<<16) != 0) != wantIn || status.t[3]&(1<<5) == 0 {
		c.violate("Status TRB %#x for %v (direction IN %v, IOC wanted)", status.t, setup, wantIn)
	}
	errPtr := status.addr
	var buf []byte
	if data != nil {
		errPtr = data.addr
		var err error
		if buf, err = c.mem.View(trbParam(data.t), data.length()); err != nil {
			c.violate("control data buffer: %v", err)
			rec.Completion = ccDataBuffer
			c.xferEvent(s, dci, data.addr, ccDataBuffer, 0)
			return tdHalted
		}
		rec.Buffers = []uint64{trbParam(data.t)}
	}
	dev := c.resolve(s)
	if dev == nil {
		return c.gone(s, dci, errPtr, rec)
	}
	var out []byte
	if data != nil && !setup.In() {
		out = append([]byte(nil), buf...)
	}
	in, err := dev.Control(setup, out)
	if err != nil {
		return c.failed(s, dci, errPtr, err, rec)
	}
	if data != nil && setup.In() {
		n := copy(buf, in)
		rec.Bytes = n
		if n < len(buf) {
			c.xferEvent(s, dci, data.addr, ccShort, len(buf)-n)
		}
	} else {
		rec.Bytes = len(out)
	}
	c.xferEvent(s, dci, status.addr, ccSuccess, 0)
	return tdDone
}

func (c *Controller) bulk(s *slotState, dci int, ep *epState, td []trbAt, rec *TransferRecord) outcome {
	in := dci%2 == 1
	total := 0
	for _, x := range td {
		total += x.length()
	}
	packets := (total + ep.mps - 1) / ep.mps
	views := make([][]byte, len(td))
	sent := 0
	for i, x := range td {
		last := i == len(td)-1
		n := x.length()
		bus := trbParam(x.t)
		if trbType(x.t) != 1 {
			c.violate("TRB type %d on a bulk ring", trbType(x.t))
		}
		if n > 1<<16 || (n > 0 && bus%(1<<16)+uint64(n) > 1<<16) {
			c.violate("Normal TRB buffer %#x+%d crosses a 64 KiB boundary", bus, n)
		}
		if in && x.t[3]&(1<<2) == 0 {
			c.violate("IN Normal TRB without ISP")
		}
		if last && x.t[3]&(1<<5) == 0 {
			c.violate("last TRB of a TD without IOC")
		}
		sent += n
		want := 0
		if !last && c.cfg.Version >= 0x100 {
			want = min(31, packets-sent/ep.mps)
		}
		if got := int(x.t[2]>>17) & 0x1F; got != want {
			c.violate("TRB %d of %d: TD size %d, want %d", i, len(td), got, want)
		}
		if n > 0 {
			v, err := c.mem.View(bus, n)
			if err != nil {
				c.violate("bulk buffer: %v", err)
				rec.Completion = ccDataBuffer
				c.xferEvent(s, dci, x.addr, ccDataBuffer, 0)
				return tdHalted
			}
			views[i] = v
		}
		rec.Buffers = append(rec.Buffers, bus)
	}
	dev := c.resolve(s)
	if dev == nil {
		return c.gone(s, dci, td[0].addr, rec)
	}
	addr := uint8(dci / 2)
	if in {
		addr |= usb.DirIn
		data, err := dev.BulkIn(addr, total)
		if err != nil {
			return c.failed(s, dci, td[0].addr, err, rec)
		}
		for i, v := range views {
			c.mem.deviceWrites(trbParam(td[i].t), min(len(v), len(data)))
			n := copy(v, data)
			data = data[n:]
			rec.Bytes += n
			if n < len(v) {
				// Short packet: an event for this TRB (ISP), and the rest of the
				// TD is skipped (§4.10.1.1).
				c.xferEvent(s, dci, td[i].addr, ccShort, len(v)-n)
				return tdDone
			}
		}
	} else {
		data := make([]byte, 0, total)
		for _, v := range views {
			data = append(data, v...)
		}
		if err := dev.BulkOut(addr, data); err != nil {
			return c.failed(s, dci, td[0].addr, err, rec)
		}
		rec.Bytes = total
	}
	c.xferEvent(s, dci, td[len(td)-1].addr, ccSuccess, 0)
	return tdDone
}
