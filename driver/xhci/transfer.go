package xhci

import (
	"fmt"
	"time"
	"unsafe"

	"github.com/inferpi/inferpi/driver/dma"
	"github.com/inferpi/inferpi/driver/usb"
)

// td is a queued transfer descriptor: the bus address and byte count of each of
// its TRBs, to tell which TRB an event is about.
type td struct {
	ptrs    []uint64
	lens    []int
	control bool // a control TD ends with its status stage
}

func (t *td) add(ptr uint64, n int) { t.ptrs = append(t.ptrs, ptr); t.lens = append(t.lens, n) }

func (t *td) index(ptr uint64) int {
	for i, p := range t.ptrs {
		if p == ptr {
			return i
		}
	}
	return -1
}

func (t *td) total() int {
	n := 0
	for _, l := range t.lens {
		n += l
	}
	return n
}

// xferError is a transfer that ended with a completion code other than success
// or short packet.
type xferError struct {
	cc uint8
}

func (e *xferError) Error() string { return "xhci: " + completionName(e.cc) }

func (e *xferError) Unwrap() error {
	switch e.cc {
	case ccStall:
		return usb.ErrStall
	case ccTransaction, ccBabble, ccSplit, ccDataBuffer:
		return usb.ErrTransaction
	}
	return nil
}

// ring rings the endpoint's doorbell.
func (s *slot) ring(ep *endpoint) { s.c.db.Write32(uintptr(4*s.id), uint32(ep.dci)) }

// wait waits for the TD's completion and returns the bytes transferred. On an
// error, timeout or disconnection it leaves the endpoint ready for the next TD
// (see recover).
func (s *slot) wait(ep *endpoint, t *td, timeout time.Duration) (int, error) {
	c := s.c
	key := epKey{s.id, ep.dci}
	deadline := time.Now().Add(timeout)
	n := t.total()
	for i := 0; ; i++ {
		if err := c.poll(); err != nil {
			return 0, err
		}
		evs := c.xferEv[key]
		delete(c.xferEv, key)
		for _, ev := range evs {
			idx := t.index(ev.Param)
			if idx < 0 {
				continue // about an earlier, abandoned TD
			}
			switch cc := ev.Completion(); cc {
			case ccSuccess:
				if idx == len(t.ptrs)-1 {
					return n, nil
				}
			case ccShortPacket:
				done := 0
				for _, l := range t.lens[:idx] {
					done += l
				}
				n = done + t.lens[idx] - ev.Residual()
				if n < 0 {
					n = 0
				}
				if !t.control {
					// The controller has skipped the rest of the TD (§4.10.1.1).
					return n, nil
				}
				// A control transfer still runs its status stage.
			default:
				err := error(&xferError{cc: cc})
				if rerr := s.recover(ep); rerr != nil {
					err = fmt.Errorf("%w; endpoint recovery failed: %v", err, rerr)
				}
				return 0, err
			}
		}
		if c.portEvent[s.loc.RootPort] && c.portsc(s.loc.RootPort)&portCCS == 0 {
			s.abandon(ep)
			return 0, fmt.Errorf("xhci: root port %d: %w", s.loc.RootPort, usb.ErrDisconnected)
		}
		if time.Now().After(deadline) {
			s.abandon(ep)
			if c.portsc(s.loc.RootPort)&portCCS == 0 {
				return 0, fmt.Errorf("xhci: root port %d: %w", s.loc.RootPort, usb.ErrDisconnected)
			}
			return 0, fmt.Errorf("xhci: no completion within %v: %w", timeout, usb.ErrTimeout)
		}
		c.pause(i)
	}
}

// abandon stops an endpoint whose TD will not complete and moves its dequeue
// pointer past it.
func (s *slot) abandon(ep *endpoint) {
	if err := s.recover(ep); err != nil {
		s.c.logf("xhci: usb %s: abandoning a transfer: %v", s.loc.Path, err)
	}
}

// Control runs a control transfer on endpoint 0: Setup, optional Data and Status
// stage TRBs as one TD (§4.11.2.2). Data goes through a coherent bounce buffer.
func (s *slot) Control(setup usb.Setup, data []byte, timeout time.Duration) (int, error) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usable(); err != nil {
		return 0, err
	}
	if len(data) != int(setup.Length) {
		return 0, fmt.Errorf("xhci: %v with %d bytes of data", setup, len(data))
	}
	ep := s.eps[1]
	if len(data) > len(s.ctlBuf.Mem) {
		if s.ctlBuf.Mem != nil {
			c.mem.Free(s.ctlBuf)
			s.ctlBuf = dma.Buffer{}
		}
		var err error
		if s.ctlBuf, err = c.alloc("control buffer", (len(data)+4095)&^4095, 64); err != nil {
			return 0, err
		}
	}
	in := setup.In()
	if !in {
		copy(s.ctlBuf.Mem, data)
	}
	t := &td{control: true}
	t.add(ep.ring.push(setupTRB(setup.Bytes(), len(data), in)), 0)
	if len(data) > 0 {
		t.add(ep.ring.push(dataTRB(s.ctlBuf.Bus, len(data), in)), len(data))
	}
	t.add(ep.ring.push(statusTRB(in, len(data) > 0)), 0)
	s.ring(ep)
	n, err := s.wait(ep, t, timeout)
	if err != nil {
		return 0, err
	}
	if in {
		copy(data, s.ctlBuf.Mem[:n])
	}
	return n, nil
}

// piece is a run of bus addresses one TRB can carry.
type piece struct {
	bus uint64
	n   int
}

// split cuts DMA segments into TRB-sized pieces that do not cross a 64 KiB
// boundary (§6.4.1.1: a TRB's buffer must not span one).
func split(segs []dma.Segment) []piece {
	var out []piece
	for _, sg := range segs {
		bus, left := sg.Bus, sg.Len
		for left > 0 {
			n := trbMaxLength - int(bus%trbMaxLength)
			if n > left {
				n = left
			}
			out = append(out, piece{bus, n})
			bus += uint64(n)
			left -= n
		}
	}
	return out
}

// Bulk moves buf over a bulk endpoint. Small transfers are copied through the
// endpoint's coherent bounce buffer; larger ones go straight to or from buf as
// scatter-gather Normal TRBs over dma.Memory.Segments, with the cache cleaned
// before and (for IN) invalidated after, except for an IN buffer's partial
// cache lines at either end, which the same TD carries through the bounce
// buffer. If buf needs more TRBs than a ring
// holds, it goes as several TDs in a row; a short packet ends the transfer.
func (s *slot) Bulk(addr uint8, buf []byte, timeout time.Duration) (int, error) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usable(); err != nil {
		return 0, err
	}
	ep := s.eps[dci(addr)]
	if ep == nil || ep.cfg.Type != usb.Bulk {
		return 0, fmt.Errorf("xhci: usb %s: endpoint %#02x is not a configured bulk endpoint", s.loc.Path, addr)
	}
	in := addr&usb.DirIn != 0
	if len(buf) <= bounceSize {
		if err := s.needBounce(ep); err != nil {
			return 0, err
		}
		if !in {
			copy(ep.bounce.Mem, buf)
		}
		n, err := s.bulk(ep, []piece{{ep.bounce.Bus, len(buf)}}, len(buf), in, timeout)
		if in {
			copy(buf, ep.bounce.Mem[:n])
		}
		return n, err
	}
	// The device writes (IN) only whole cache lines of buf: the partial lines
	// at its ends, which the CPU shares with other data, go through the
	// bounce buffer (see partialLines).
	head, tail := 0, 0
	if in {
		head, tail = partialLines(buf)
	}
	direct := buf[head : len(buf)-tail]
	segs, err := c.mem.Segments(direct)
	if err != nil {
		return 0, fmt.Errorf("xhci: DMA segments of a %d-byte buffer: %w", len(buf), err)
	}
	for _, sg := range segs {
		if !c.reaches(sg.Bus, sg.Len) {
			if !c.bounced {
				c.bounced = true
				c.logf("xhci: a transfer buffer lies at bus %#x, beyond the controller's DMA reach (below %#x); such transfers go through a bounce buffer (slower)", sg.Bus, c.reach)
			}
			return s.bulkBounced(ep, buf, in, timeout)
		}
	}
	pieces := split(segs)
	if head+tail > 0 {
		if err := s.needBounce(ep); err != nil {
			return 0, err
		}
		if head > 0 {
			pieces = append([]piece{{ep.bounce.Bus, head}}, pieces...)
		}
		if tail > 0 {
			pieces = append(pieces, piece{ep.bounce.Bus + cacheLine, tail})
		}
	}
	// Clean before IN as well: a dirty line written back during the transfer
	// would overwrite what the device put there.
	c.mem.CleanForDevice(direct)
	n, err := s.bulk(ep, pieces, len(buf), in, timeout)
	if in {
		c.mem.InvalidateForCPU(direct)
		copy(buf[:min(head, n)], ep.bounce.Mem)
		if got := n - (len(buf) - tail); got > 0 {
			copy(buf[len(buf)-tail:n], ep.bounce.Mem[cacheLine:cacheLine+got])
		}
	}
	return n, err
}

// cacheLine is the CPU's data cache line (the Cortex-A72's).
const cacheLine = 64

// partialLines returns how many bytes at the start and at the end of buf lie
// in cache lines buf shares with other memory. A device must not write those
// lines directly: a store the CPU makes to the neighbouring data while the
// transfer runs would be written back over the device's bytes, and the
// invalidate after it would drop the neighbour's store (Linux keeps DMA
// buffers in whole cache lines, ARCH_DMA_MINALIGN, and bounces the others).
// buf is longer than two lines (Bulk bounces small transfers whole).
func partialLines(buf []byte) (head, tail int) {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	head = int((cacheLine - p%cacheLine) % cacheLine)
	tail = int((p + uintptr(len(buf))) % cacheLine)
	return head, tail
}

// needBounce allocates the endpoint's small bounce buffer when first needed.
func (s *slot) needBounce(ep *endpoint) error {
	if ep.bounce.Mem != nil {
		return nil
	}
	var err error
	ep.bounce, err = s.c.alloc("bounce buffer", bounceSize, cacheLine)
	return err
}

// bigBounceSize is the coherent buffer that large transfers to or from memory
// the controller cannot reach are copied through, a piece at a time.
const bigBounceSize = 256 << 10

// bulkBounced moves buf through the endpoint's large bounce buffer, for memory
// beyond the controller's DMA reach (Linux does the same with swiotlb). A short
// IN piece ends the transfer, as it does for a direct one.
func (s *slot) bulkBounced(ep *endpoint, buf []byte, in bool, timeout time.Duration) (int, error) {
	c := s.c
	if ep.bigBounce.Mem == nil {
		var err error
		if ep.bigBounce, err = c.alloc("bounce buffer", bigBounceSize, 4096); err != nil {
			return 0, err
		}
	}
	done := 0
	for done < len(buf) {
		n := min(len(buf)-done, bigBounceSize)
		if !in {
			copy(ep.bigBounce.Mem, buf[done:done+n])
		}
		got, err := s.bulk(ep, split([]dma.Segment{{Bus: ep.bigBounce.Bus, Len: n}}), n, in, timeout)
		if in {
			copy(buf[done:], ep.bigBounce.Mem[:got])
		}
		done += got
		if err != nil {
			return done, err
		}
		if got < n {
			break
		}
	}
	return done, nil
}

// bulk queues pieces as TDs of at most one ring's capacity each and waits for
// them one after another.
func (s *slot) bulk(ep *endpoint, pieces []piece, total int, in bool, timeout time.Duration) (int, error) {
	if total == 0 {
		pieces = []piece{{0, 0}} // a zero-length packet
	}
	done := 0
	maxTRBs := ep.ring.capacity() - 1
	for len(pieces) > 0 {
		k := len(pieces)
		if k > maxTRBs {
			k = maxTRBs
		}
		group := pieces[:k]
		pieces = pieces[k:]
		size := 0
		for _, p := range group {
			size += p.n
		}
		t := &td{}
		sent := 0
		for i, p := range group {
			last := i == len(group)-1
			sent += p.n
			flags := uint32(trbChain)
			if last {
				flags = trbIOC
			}
			if in {
				flags |= trbISP
			}
			t.add(ep.ring.push(normalTRB(p.bus, p.n, tdSize(s.c.version, size, sent, ep.cfg.MaxPacket, last), flags)), p.n)
		}
		s.ring(ep)
		n, err := s.wait(ep, t, timeout)
		done += n
		if err != nil {
			return done, err
		}
		if n < size {
			break // short packet: the device has no more
		}
	}
	return done, nil
}
