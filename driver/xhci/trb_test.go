package xhci

import (
	"encoding/binary"
	"testing"

	"github.com/inferpi/inferpi/driver/dma"
	"github.com/inferpi/inferpi/driver/usb"
	"github.com/inferpi/inferpi/driver/xhci/xhcifake"
)

// Expected words are worked out by hand from the field tables of xHCI §6.4.
func TestTRBEncoding(t *testing.T) {
	getDesc := usb.Setup{RequestType: 0x80, Request: 6, Value: 0x0100, Length: 18}
	cases := []struct {
		name string
		got  TRB
		want TRB
	}{
		// Setup: packet 80 06 00 01 00 00 12 00 as immediate data; length 8;
		// type 2 (bits 15:10), IDT (bit 6), TRT = 3 (IN data stage, bits 17:16).
		{"setup IN", setupTRB(getDesc.Bytes(), 18, true), TRB{0x0012_0000_0100_0680, 8, 0x0003_0840}},
		{"setup no data", setupTRB(usb.Setup{Request: 9, Value: 1}.Bytes(), 0, false), TRB{0x0000_0000_0001_0900, 8, 0x0000_0840}},
		// Data: type 3, DIR IN (bit 16), ISP (bit 2).
		{"data IN", dataTRB(0x1234_5000, 18, true), TRB{0x1234_5000, 18, 0x0001_0C04}},
		{"data OUT", dataTRB(0x1234_5000, 7, false), TRB{0x1234_5000, 7, 0x0000_0C00}},
		// Status after an IN data stage goes OUT: type 4, IOC (bit 5).
		{"status OUT", statusTRB(true, true), TRB{0, 0, 0x0000_1020}},
		{"status IN", statusTRB(false, false), TRB{0, 0, 0x0001_1020}},
		// Normal: TD size in bits 21:17 of the status word.
		{"normal", normalTRB(0x9_0000_0000, 4096, 5, trbChain|trbISP), TRB{0x9_0000_0000, 4096 | 5<<17, 0x0000_0414}},
		{"link", linkTRB(0x4000), TRB{0x4000, 0, 0x0000_1802}},
		{"enable slot", enableSlotTRB(), TRB{0, 0, 0x0000_2400}},
		{"address device", addressDeviceTRB(0x8000, 5), TRB{0x8000, 0, 0x0500_2C00}},
		{"configure endpoint", configureEndpointTRB(0x8000, 2), TRB{0x8000, 0, 0x0200_3000}},
		{"reset endpoint", resetEndpointTRB(3, 4), TRB{0, 0, 0x0304_3800}},
		{"stop endpoint", stopEndpointTRB(3, 5), TRB{0, 0, 0x0305_3C00}},
		{"set TR dequeue", setTRDequeueTRB(3, 4, 0x2040, 1), TRB{0x2041, 0, 0x0304_4000}},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %+x, want %+x", c.name, c.got, c.want)
		}
	}
}

func TestEventFields(t *testing.T) {
	// Transfer event: slot 7, endpoint 3, short packet, 100 bytes not moved.
	ev := TRB{Param: 0x1230, Status: 13<<24 | 100, Control: 7<<24 | 3<<16 | 32<<10 | 1}
	if ev.Type() != trbTransferEvent || ev.Slot() != 7 || ev.Endpoint() != 3 || ev.Completion() != ccShortPacket || ev.Residual() != 100 {
		t.Errorf("decoded %v as type %d slot %d ep %d cc %d residual %d", ev, ev.Type(), ev.Slot(), ev.Endpoint(), ev.Completion(), ev.Residual())
	}
	psc := TRB{Param: 5 << 24, Status: 1 << 24, Control: 34<<10 | 1}
	if psc.Port() != 5 {
		t.Errorf("port %d, want 5", psc.Port())
	}
}

func TestTDSize(t *testing.T) {
	// 3 TRBs of 4096, 4096, 100 bytes on a 1024-byte endpoint: 9 packets. After
	// the first TRB 5 packets remain, after the second 1 (§4.11.2.4); the last is 0.
	total := 4096 + 4096 + 100
	got := []int{tdSize(0x100, total, 4096, 1024, false), tdSize(0x100, total, 8192, 1024, false), tdSize(0x100, total, total, 1024, true)}
	if got[0] != 5 || got[1] != 1 || got[2] != 0 {
		t.Errorf("TD sizes %v, want [5 1 0]", got)
	}
	if n := tdSize(0x100, 4<<20, 4096, 512, false); n != 31 {
		t.Errorf("capped TD size %d, want 31", n)
	}
	if n := tdSize(0x096, 10000, 4096, 512, false); n != (10000-4096)>>10 {
		t.Errorf("0.96 TD size %d", n)
	}
}

func TestDCI(t *testing.T) {
	for ep, want := range map[uint8]int{0x00: 1, 0x80: 1, 0x01: 2, 0x81: 3, 0x02: 4, 0x8F: 31} {
		if got := dci(ep); got != want {
			t.Errorf("dci(%#x) = %d, want %d", ep, got, want)
		}
	}
}

func TestEndpointContext(t *testing.T) {
	b := make([]byte, 32)
	writeEndpoint(b, usb.EndpointConfig{Address: 0x81, Type: usb.Bulk, MaxPacket: 1024, MaxBurst: 15}, usb.SpeedSuper, 0x5000, 1)
	// dword 1: CErr 3 (bits 2:1), type 6 bulk IN (bits 5:3), max burst 15 (15:8), max packet 1024 (31:16).
	if got, want := binary.LittleEndian.Uint32(b[4:]), uint32(3<<1|6<<3|15<<8|1024<<16); got != want {
		t.Errorf("dword 1 = %#x, want %#x", got, want)
	}
	if got := binary.LittleEndian.Uint64(b[8:]); got != 0x5001 {
		t.Errorf("TR dequeue = %#x, want 0x5001", got)
	}
	if got := binary.LittleEndian.Uint32(b[16:]); got != 3072 {
		t.Errorf("average TRB length = %d, want 3072", got)
	}
	writeEndpoint(b, usb.EndpointConfig{Address: 0x02, Type: usb.Bulk, MaxPacket: 512, MaxBurst: 15}, usb.SpeedHigh, 0x6000, 0)
	if got, want := binary.LittleEndian.Uint32(b[4:]), uint32(3<<1|2<<3|512<<16); got != want {
		t.Errorf("high-speed bulk OUT dword 1 = %#x, want %#x (no burst below SuperSpeed)", got, want)
	}
}

func TestSplitAt64KiB(t *testing.T) {
	segs := []dma.Segment{{Bus: 0x1_0000_E000, Len: 0x3000}, {Bus: 0x2_0000_0000, Len: 0x20000}, {Bus: 0x3000, Len: 100}}
	got := split(segs)
	want := []piece{{0x1_0000_E000, 0x2000}, {0x1_0001_0000, 0x1000}, {0x2_0000_0000, 0x10000}, {0x2_0001_0000, 0x10000}, {0x3000, 100}}
	if len(got) != len(want) {
		t.Fatalf("split = %+v, want %+v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("piece %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestRingWrap pushes TRBs through an 8-TRB ring three times over and checks,
// in memory, the cycle bits, the link TRB's cycle, toggle and chain bits.
func TestRingWrap(t *testing.T) {
	mem := xhcifake.NewMemory(0x4000_0000)
	r, err := newRing(mem, 8)
	if err != nil {
		t.Fatal(err)
	}
	if r.buf.Bus%(8*trbSize) != 0 || len(r.buf.Mem) != 2*8*trbSize {
		t.Fatalf("ring at %#x, %d bytes: want aligned to its size and padded to twice it", r.buf.Bus, len(r.buf.Mem))
	}
	word := func(i, w int) uint32 { return binary.LittleEndian.Uint32(r.buf.Mem[i*trbSize+4*w:]) }
	if word(7, 3) != 0x1802 || binary.LittleEndian.Uint64(r.buf.Mem[7*trbSize:]) != r.buf.Bus {
		t.Fatalf("fresh link TRB %#x -> %#x: want type 6, TC, cycle 0, pointing at the segment", word(7, 3), binary.LittleEndian.Uint64(r.buf.Mem[7*trbSize:]))
	}
	cycle := uint32(1)
	for n := 0; n < 3*7; n++ {
		i := n % 7
		flags := uint32(0)
		if n == 6 || n == 13 {
			flags = trbChain // this TD continues past the link TRB on the second lap only
		}
		if n == 13 {
			flags = 0
		}
		addr := r.push(normalTRB(uint64(0x100000+n), n, 0, flags))
		if addr != r.buf.Bus+uint64(i*trbSize) {
			t.Fatalf("push %d went to %#x", n, addr)
		}
		if got := word(i, 3) & 1; got != cycle {
			t.Fatalf("push %d: cycle bit %d, want %d", n, got, cycle)
		}
		if word(i, 0) != uint32(0x100000+n) || word(i, 2) != uint32(n) {
			t.Fatalf("push %d: TRB words %#x %#x", n, word(i, 0), word(i, 2))
		}
		if i == 6 {
			link := word(7, 3)
			if link&1 != cycle || link&trbToggleCycle == 0 || (link&trbChain != 0) != (n == 6) {
				t.Fatalf("after lap %d the link TRB is %#x (cycle %d, chain %v)", n/7, link, cycle, n == 6)
			}
			cycle ^= 1
			if d, c := r.dequeue(); d != r.buf.Bus || c != cycle {
				t.Fatalf("dequeue after wrap %#x/%d", d, c)
			}
		}
	}
	for i := 8 * trbSize; i < len(r.buf.Mem); i++ {
		if r.buf.Mem[i] != 0 {
			t.Fatal("the over-fetch pad was written")
		}
	}
}

// TestEventRingWrap plays the controller's part: it writes events with the
// producer cycle state and checks that the consumer sees each once, across two
// wraps, and never an old one.
func TestEventRingWrap(t *testing.T) {
	mem := xhcifake.NewMemory(0x4000_0000)
	e, err := newEventRing(mem, 16)
	if err != nil {
		t.Fatal(err)
	}
	if got := binary.LittleEndian.Uint64(e.erst.Mem); got != e.buf.Bus || binary.LittleEndian.Uint32(e.erst.Mem[8:]) != 16 {
		t.Fatalf("ERST entry %#x size %d", got, binary.LittleEndian.Uint32(e.erst.Mem[8:]))
	}
	prod, pcs := 0, uint32(1)
	write := func(n uint64) {
		b := e.buf.Mem[prod*trbSize:]
		binary.LittleEndian.PutUint64(b, n)
		binary.LittleEndian.PutUint32(b[12:], 33<<10|pcs)
		prod++
		if prod == 16 {
			prod, pcs = 0, pcs^1
		}
	}
	next := uint64(0)
	for round := 0; round < 5; round++ {
		for i := 0; i < 9; i++ {
			write(next + uint64(i))
		}
		for i := 0; i < 9; i++ {
			ev, ok := e.next()
			if !ok || ev.Param != next {
				t.Fatalf("round %d: event %d = %v, %v; want param %d", round, i, ev, ok, next)
			}
			next++
		}
		if ev, ok := e.next(); ok {
			t.Fatalf("round %d: stale event %v", round, ev)
		}
		if e.dequeueBus() != e.buf.Bus+uint64(prod*trbSize) {
			t.Fatalf("dequeue %#x, producer at %d", e.dequeueBus(), prod)
		}
	}
}
