// Package xhcifake is a software xHCI controller for host tests: a reg.Bank that
// behaves like an xHCI register file, and a dma.Memory whose bus addresses the
// fake controller reads and writes. It executes commands and transfers the way
// the xHCI specification describes, against usbfake device models, and records
// every rule the driver breaks (Violations) instead of silently coping.
package xhcifake

import (
	"fmt"
	"sort"
	"unsafe"

	"github.com/inferpi/inferpi/driver/dma"
)

// Memory is a dma.Memory for tests. Coherent buffers get bus addresses from
// BusBase upward, with gaps between them; Segments maps a caller's buffer in
// pieces of SegmentSize bytes placed at scattered bus addresses (each starting
// 8 KiB below a 64 KiB boundary), so scatter-gather and 64 KiB splitting are
// exercised on every large transfer.
type Memory struct {
	BusBase     uint64
	SegmentSize int
	// SegmentBase, if not 0, is where Segments places callers' buffers instead
	// of among the coherent ones: a model buffer high in RAM.
	SegmentBase uint64
	// Reach, if not 0, is the first bus address the device cannot reach (the
	// Pi 4's inbound window, a 32-bit controller): any access at or beyond it
	// is a violation and fails.
	Reach uint64

	regions  []*region
	next     uint64
	nextHigh uint64 // next Segments address when SegmentBase is set
	calls    int

	Allocated  int // live coherent buffers
	Cleaned    int // bytes passed to CleanForDevice
	Invalided  int // bytes passed to InvalidateForCPU
	Segmented  int // bytes passed to Segments
	Violations []string
}

type region struct {
	bus      uint64
	mem      []byte
	coherent bool
	call     int // Segments call that made it (0 for coherent buffers)
	// lo and hi bound the whole buffer Segments was given (CPU addresses).
	lo, hi uintptr
}

// NewMemory returns memory whose bus addresses start at busBase.
func NewMemory(busBase uint64) *Memory {
	return &Memory{BusBase: busBase, SegmentSize: 12 << 10, next: busBase}
}

// keepSegmentCalls is how many Segments calls' mappings stay valid.
const keepSegmentCalls = 8

func alignUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }

func (m *Memory) AllocCoherent(size, align int) (dma.Buffer, error) {
	if size <= 0 || align <= 0 || align&(align-1) != 0 {
		return dma.Buffer{}, fmt.Errorf("xhcifake: AllocCoherent(%d, %d)", size, align)
	}
	if m.next == 0 {
		m.next = m.BusBase
	}
	bus := alignUp(m.next, uint64(align))
	m.next = alignUp(bus+uint64(size)+4096, 4096) // leave a hole after each buffer
	// The CPU view is 64-byte aligned so atomic word access works.
	raw := make([]byte, size+64)
	off := int((64 - uintptr(unsafe.Pointer(&raw[0]))%64) % 64)
	mem := raw[off : off+size : off+size]
	m.insert(&region{bus: bus, mem: mem, coherent: true})
	m.Allocated++
	return dma.Buffer{Mem: mem, Bus: bus}, nil
}

func (m *Memory) Free(b dma.Buffer) {
	for i, r := range m.regions {
		if r.coherent && r.bus == b.Bus {
			if len(r.mem) > 0 && len(b.Mem) > 0 && &r.mem[0] != &b.Mem[0] {
				break
			}
			m.regions = append(m.regions[:i], m.regions[i+1:]...)
			m.Allocated--
			return
		}
	}
	m.Violations = append(m.Violations, fmt.Sprintf("Free of unknown buffer at bus %#x", b.Bus))
}

func (m *Memory) Segments(b []byte) ([]dma.Segment, error) {
	m.calls++
	m.Segmented += len(b)
	next := &m.next
	if m.SegmentBase != 0 {
		if m.nextHigh < m.SegmentBase {
			m.nextHigh = m.SegmentBase
		}
		next = &m.nextHigh
	}
	// Forget the mappings of old calls.
	kept := m.regions[:0]
	for _, r := range m.regions {
		if r.coherent || r.call > m.calls-keepSegmentCalls {
			kept = append(kept, r)
		}
	}
	m.regions = kept
	size := m.SegmentSize
	if size <= 0 {
		size = 12 << 10
	}
	var out []dma.Segment
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	for off := 0; off < len(b); off += size {
		n := min(size, len(b)-off)
		bus := alignUp(*next, 1<<16) + (1<<16 - 8<<10)
		*next = alignUp(bus+uint64(n)+4096, 4096)
		m.insert(&region{bus: bus, mem: b[off : off+n : off+n], call: m.calls, lo: lo, hi: lo + uintptr(len(b))})
		out = append(out, dma.Segment{Bus: bus, Len: n})
	}
	return out, nil
}

func (m *Memory) CleanForDevice(b []byte)   { m.Cleaned += len(b) }
func (m *Memory) InvalidateForCPU(b []byte) { m.Invalided += len(b) }

func (m *Memory) insert(r *region) {
	i := sort.Search(len(m.regions), func(i int) bool { return m.regions[i].bus > r.bus })
	m.regions = append(m.regions, nil)
	copy(m.regions[i+1:], m.regions[i:])
	m.regions[i] = r
}

// find returns the region holding bus.
func (m *Memory) find(bus uint64) *region {
	i := sort.Search(len(m.regions), func(i int) bool { return m.regions[i].bus > bus }) - 1
	if i < 0 {
		return nil
	}
	r := m.regions[i]
	if bus >= r.bus+uint64(len(r.mem)) {
		return nil
	}
	return r
}

// View returns the n bytes at bus as a slice aliasing the buffer (so writes
// reach the driver's memory), or an error if they are not all inside one buffer.
func (m *Memory) View(bus uint64, n int) ([]byte, error) {
	if m.Reach != 0 && bus+uint64(n) > m.Reach {
		err := fmt.Errorf("bus range %#x+%d is beyond the device's DMA reach (%#x)", bus, n, m.Reach)
		m.Violations = append(m.Violations, err.Error())
		return nil, err
	}
	r := m.find(bus)
	if r == nil {
		return nil, fmt.Errorf("bus address %#x is not mapped", bus)
	}
	off := int(bus - r.bus)
	if off+n > len(r.mem) {
		return nil, fmt.Errorf("bus range %#x+%d runs past the end of its buffer (%#x+%d)", bus, n, r.bus, len(r.mem))
	}
	return r.mem[off : off+n], nil
}

// cacheLine is the CPU's data cache line (the Cortex-A72's).
const cacheLine = 64

// deviceWrites checks a device write of n bytes at bus into a caller's buffer
// (not coherent memory): every cache line it touches must lie inside the
// buffer the driver mapped. A line shared with other data loses either the
// device's bytes (the CPU writes the neighbour back over them) or the
// neighbour's (the invalidate after the transfer drops them).
func (m *Memory) deviceWrites(bus uint64, n int) {
	r := m.find(bus)
	if r == nil || r.coherent || n == 0 {
		return
	}
	p := uintptr(unsafe.Pointer(&r.mem[bus-r.bus]))
	first, end := p&^(cacheLine-1), (p+uintptr(n)+cacheLine-1)&^(cacheLine-1)
	if first < r.lo || end > r.hi {
		m.Violations = append(m.Violations, fmt.Sprintf(
			"device writes bus %#x+%d, in cache lines %#x-%#x the CPU shares with data outside the transfer buffer %#x-%#x",
			bus, n, first, end, r.lo, r.hi))
	}
}

// sameCoherentBuffer reports whether [a, a+n) lies in one coherent buffer.
func (m *Memory) sameCoherentBuffer(a uint64, n int) bool {
	r := m.find(a)
	return r != nil && r.coherent && a+uint64(n) <= r.bus+uint64(len(r.mem))
}
