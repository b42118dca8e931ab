package xhci

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/inferpi/inferpi/driver/dma"
)

// publish32 stores the word that makes a TRB valid (its control word with the
// cycle bit). The atomic store is a release: the parameter and status words
// written before it are visible to the controller first. Rings live in coherent
// (uncached) DMA memory, so no cache maintenance is needed. TRBs are
// little-endian, as are the hosts this runs on (arm64, amd64).
func publish32(b []byte, off int, v uint32) {
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&b[off])), v)
}

// load32 reads a word the controller writes (an event's control word).
func load32(b []byte, off int) uint32 {
	return atomic.LoadUint32((*uint32)(unsafe.Pointer(&b[off])))
}

// ring is a producer ring (command ring or transfer ring): one segment whose last
// TRB is a Link TRB back to the start with Toggle Cycle set (§4.9.2).
type ring struct {
	buf   dma.Buffer
	size  int    // TRBs in the segment, the link TRB included
	enq   int    // next TRB to write
	cycle uint32 // producer cycle state
}

// newRing allocates a ring of size TRBs. The segment is aligned to its own size
// (a power of two of at most 64 KiB), so it never crosses a 64 KiB boundary
// (§6.1, table 6-1 footnote). It is followed by an equally large zeroed pad: the
// VL805 prefetches up to four TRBs past a link TRB (Linux XHCI_TRB_OVERFETCH,
// raspberrypi/linux issue #4685), and the pad keeps those reads inside memory
// that holds nothing another ring could be fooled by.
func newRing(mem dma.Memory, size int) (*ring, error) {
	if size < 4 || size&(size-1) != 0 || size*trbSize > 1<<16 {
		return nil, fmt.Errorf("xhci: ring of %d TRBs (want a power of two, 4 to 4096)", size)
	}
	seg := size * trbSize
	buf, err := mem.AllocCoherent(2*seg, seg)
	if err != nil {
		return nil, fmt.Errorf("xhci: allocate a %d-TRB ring: %w", size, err)
	}
	if buf.Bus%uint64(seg) != 0 {
		mem.Free(buf)
		return nil, fmt.Errorf("xhci: ring memory at bus %#x is not aligned to %d bytes", buf.Bus, seg)
	}
	r := &ring{buf: buf, size: size, cycle: 1}
	clear(buf.Mem)
	// The link TRB starts with cycle 0, which the controller (expecting 1) reads
	// as "not yet valid"; push hands it over when the ring wraps.
	link := linkTRB(buf.Bus)
	link.encode(buf.Mem[(size-1)*trbSize:])
	publish32(buf.Mem, (size-1)*trbSize+trbControlOffset, link.Control)
	return r, nil
}

// bus is the bus address of TRB i.
func (r *ring) bus(i int) uint64 { return r.buf.Bus + uint64(i*trbSize) }

// dequeue is the pointer and cycle state the controller should continue from
// once everything queued so far is done (or abandoned): the enqueue position.
// It comes from our own bookkeeping, never from the endpoint context's DCS,
// which the VL805 does not keep (Linux XHCI_EP_CTX_BROKEN_DCS).
func (r *ring) dequeue() (uint64, uint32) { return r.bus(r.enq), r.cycle }

// capacity is how many TRBs one TD may use: every TRB but the link TRB.
func (r *ring) capacity() int { return r.size - 1 }

// push writes t with the producer cycle bit and returns its bus address. When
// the segment's end is reached, the link TRB is handed to the controller with
// the chain bit of the TRB before it, so that a TD spanning the link stays one
// TD (§4.11.5.1), and the producer cycle state toggles.
func (r *ring) push(t TRB) uint64 {
	off := r.enq * trbSize
	t.encode(r.buf.Mem[off:])
	publish32(r.buf.Mem, off+trbControlOffset, t.Control&^trbCycle|r.cycle)
	addr := r.bus(r.enq)
	r.enq++
	if r.enq == r.size-1 {
		loff := r.enq * trbSize
		link := linkTRB(r.buf.Bus)
		link.Control |= t.Control & trbChain
		link.encode(r.buf.Mem[loff:])
		publish32(r.buf.Mem, loff+trbControlOffset, link.Control|r.cycle)
		r.enq = 0
		r.cycle ^= 1
	}
	return addr
}

func (r *ring) free(mem dma.Memory) {
	if r != nil && r.buf.Mem != nil {
		mem.Free(r.buf)
		r.buf = dma.Buffer{}
	}
}

// eventRing is the consumer side of interrupter 0's event ring: one segment
// described by a one-entry Event Ring Segment Table (§4.9.4, §6.5).
type eventRing struct {
	buf   dma.Buffer
	erst  dma.Buffer
	size  int
	deq   int
	cycle uint32 // consumer cycle state
}

func newEventRing(mem dma.Memory, size int) (*eventRing, error) {
	seg := size * trbSize
	buf, err := mem.AllocCoherent(seg, seg)
	if err != nil {
		return nil, fmt.Errorf("xhci: allocate the event ring: %w", err)
	}
	erst, err := mem.AllocCoherent(64, 64)
	if err != nil {
		mem.Free(buf)
		return nil, fmt.Errorf("xhci: allocate the event ring segment table: %w", err)
	}
	clear(buf.Mem)
	clear(erst.Mem)
	// ERST entry (§6.5): segment base (64-byte aligned), segment size in TRBs.
	putLE64(erst.Mem[0:], buf.Bus)
	putLE32(erst.Mem[8:], uint32(size))
	return &eventRing{buf: buf, erst: erst, size: size, cycle: 1}, nil
}

// next returns the next event if the controller has written one (its cycle bit
// matches the consumer cycle state, §4.9.4).
func (e *eventRing) next() (TRB, bool) {
	off := e.deq * trbSize
	ctl := load32(e.buf.Mem, off+trbControlOffset)
	if ctl&trbCycle != e.cycle {
		return TRB{}, false
	}
	t := decodeTRB(e.buf.Mem[off:])
	t.Control = ctl
	e.deq++
	if e.deq == e.size {
		e.deq = 0
		e.cycle ^= 1
	}
	return t, true
}

// dequeueBus is the ERDP value after the events consumed so far.
func (e *eventRing) dequeueBus() uint64 { return e.buf.Bus + uint64(e.deq*trbSize) }

func (e *eventRing) free(mem dma.Memory) {
	if e == nil {
		return
	}
	if e.buf.Mem != nil {
		mem.Free(e.buf)
	}
	if e.erst.Mem != nil {
		mem.Free(e.erst)
	}
	e.buf, e.erst = dma.Buffer{}, dma.Buffer{}
}
