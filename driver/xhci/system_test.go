package xhci

import (
	"bytes"
	"errors"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/inferpi/inferpi/driver/usb"
	"github.com/inferpi/inferpi/driver/usb/msc"
	"github.com/inferpi/inferpi/driver/usb/usbfake"
	"github.com/inferpi/inferpi/driver/xhci/xhcifake"
)

// These tests run the whole stack (xHCI driver, USB core, hub driver,
// mass-storage driver) against the fake controller and device models, and
// compare every byte read with the disk image.

type system struct {
	t    *testing.T
	mem  *xhcifake.Memory
	hc   *xhcifake.Controller
	log  *strings.Builder
	opts Options
	msc  msc.Options // the class driver's, bound by disks
}

func newSystem(t *testing.T, cfg xhcifake.Config, busBase uint64) *system {
	mem := xhcifake.NewMemory(busBase)
	log := &strings.Builder{}
	noSleep := func(time.Duration) {}
	return &system{t: t, mem: mem, hc: xhcifake.New(mem, cfg), log: log,
		opts: Options{Log: log, Sleep: noSleep, PortSettle: time.Millisecond},
		msc:  msc.Options{Log: log, Sleep: noSleep, ReadyTimeout: time.Second},
	}
}

func (s *system) start() *Controller {
	s.t.Helper()
	c, err := New(s.hc, s.mem, s.opts)
	if err != nil {
		s.t.Fatalf("New: %v", err)
	}
	if err := c.Start(); err != nil {
		s.t.Fatalf("Start: %v\n%s", err, s.log)
	}
	return c
}

// bind enumerates the bus and binds the mass-storage class driver, as the
// storage platform does.
func (s *system) bind(c *Controller) ([]*msc.Disk, error) {
	devs, err := c.Enumerate()
	storage := &msc.Driver{Options: s.msc}
	err = errors.Join(err, usb.Bind(devs, storage))
	return storage.Disks, err
}

func (s *system) disks(c *Controller, want int) []*msc.Disk {
	s.t.Helper()
	disks, err := s.bind(c)
	if err != nil {
		s.t.Fatalf("Enumerate and bind: %v\n%s", err, s.log)
	}
	if len(disks) != want {
		s.t.Fatalf("%d disks, want %d\n%s", len(disks), want, s.log)
	}
	return disks
}

// clean fails the test if the driver broke a rule the fake checks.
func (s *system) clean() {
	s.t.Helper()
	for _, v := range append(s.hc.Violations, s.mem.Violations...) {
		s.t.Errorf("violation: %s", v)
	}
}

func image(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func (s *system) commands(typ int) int {
	n := 0
	for _, c := range s.hc.Commands {
		if c.Type == typ {
			n++
		}
	}
	return n
}

// QEMU virt with qemu-xhci and a SuperSpeed usb-storage: the CI set-up.
func TestQEMUStickReadsWholeDisk(t *testing.T) {
	s := newSystem(t, xhcifake.QEMU(), 0x1_2340_0000) // above 4 GiB: high address words matter
	img := image(8<<20, 1)
	stick := usbfake.NewMassStorage(usb.SpeedSuper, img, 512)
	s.hc.Attach(1, stick)
	c := s.start()
	d := s.disks(c, 1)[0]
	if d.Blocks() != 16384 || d.BlockSize() != 512 || d.Name() != "usb 1" {
		t.Fatalf("disk %v", d)
	}
	dst := make([]byte, len(img))
	segmentedBefore := s.mem.Segmented
	if err := d.ReadBlocks(0, dst); err != nil {
		t.Fatalf("%v\n%s", err, s.log)
	}
	if !bytes.Equal(dst, img) {
		t.Fatal("data differs from the image")
	}
	reads := 0
	for _, cmd := range stick.Commands {
		if cmd.Op == 0x28 {
			reads++
			if cmd.Blocks != 2048 {
				t.Errorf("READ of %d blocks, want 2048 (1 MiB)", cmd.Blocks)
			}
		}
	}
	if reads != 8 {
		t.Errorf("%d READ commands for 8 MiB, want 8", reads)
	}
	// Zero copy: every byte went through Segments (scatter-gather straight into
	// dst), the cache was cleaned and invalidated over dst.
	if got := s.mem.Segmented - segmentedBefore; got != len(img) {
		t.Errorf("%d bytes mapped with Segments, want %d", got, len(img))
	}
	if s.mem.Invalided < len(img) || s.mem.Cleaned < len(img) {
		t.Errorf("cache maintenance: cleaned %d, invalidated %d bytes", s.mem.Cleaned, s.mem.Invalided)
	}
	big := 0
	for _, x := range s.hc.Transfers {
		if x.Bytes == 1<<20 {
			big++
			// 85 segments of 12 KiB that each cross a 64 KiB boundary (two TRBs
			// each) and a last one of 4 KiB that does not.
			if x.TRBs != 2*85+1 {
				t.Errorf("1 MiB TD of %d TRBs", x.TRBs)
			}
		}
	}
	if big != 8 {
		t.Errorf("%d one-MiB data TDs, want 8", big)
	}
	sl := s.hc.Slots()
	if len(sl) != 1 || sl[0].RootPort != 1 || sl[0].Route != 0 || sl[0].Speed != 4 {
		t.Errorf("slots %+v", sl)
	}
	s.clean()
}

// A read into memory that does not start or end on a 64-byte cache line (the
// FAT reading a file at an odd offset): the partial lines at both ends go
// through the coherent bounce buffer, the rest straight into the buffer, and
// the bytes around it are left alone.
func TestReadIntoPartialCacheLines(t *testing.T) {
	s := newSystem(t, xhcifake.QEMU(), 0x1000_0000)
	img := image(1<<20, 7)
	s.hc.Attach(1, usbfake.NewMassStorage(usb.SpeedSuper, img, 512))
	c := s.start()
	d := s.disks(c, 1)[0]
	mem := make([]byte, 256<<10)
	for _, off := range []int{37, 64, 100} {
		for _, n := range []int{16 << 10, 16<<10 + 512} {
			for i := range mem {
				mem[i] = 0xA5
			}
			dst := mem[off : off+n]
			if err := d.ReadBlocks(8, dst); err != nil {
				t.Fatalf("read at offset %d: %v\n%s", off, err, s.log)
			}
			if !bytes.Equal(dst, img[8*512:8*512+n]) {
				t.Errorf("%d bytes at offset %d differ from the image", n, off)
			}
			for i, b := range append(mem[:off:off], mem[off+n:off+n+64]...) {
				if b != 0xA5 {
					t.Fatalf("a byte around the buffer changed to %#x (%d)", b, i)
				}
			}
		}
	}
	s.clean()
}

// The Pi 4: a high-speed hub on USB 2 root port 1 (the VL805's internal hub)
// with a high-speed and a full-speed stick, and a SuperSpeed stick on a blue
// port. The full-speed stick needs the hub's transaction translator in its
// slot context.
func TestPiTopologyWithHub(t *testing.T) {
	s := newSystem(t, xhcifake.VL805(), 0x1000_0000) // 32-bit DMA
	hub := usbfake.NewHub(usb.SpeedHigh, 4)
	s.hc.Attach(1, hub)
	imgHS, imgFS, imgSS := image(1<<20, 2), image(256<<10, 3), image(2<<20, 4)
	hub.Plug(2, usbfake.NewMassStorage(usb.SpeedHigh, imgHS, 512))
	hub.Plug(3, usbfake.NewMassStorage(usb.SpeedFull, imgFS, 512))
	s.hc.Attach(3, usbfake.NewMassStorage(usb.SpeedSuper, imgSS, 512))
	c := s.start()
	disks := s.disks(c, 3)
	want := map[string][]byte{"usb 1.2": imgHS, "usb 1.3": imgFS, "usb 3": imgSS}
	for _, d := range disks {
		img, ok := want[d.Name()]
		if !ok {
			t.Fatalf("unexpected disk %v", d)
		}
		dst := make([]byte, len(img))
		if err := d.ReadBlocks(0, dst); err != nil {
			t.Fatalf("%s: %v\n%s", d.Name(), err, s.log)
		}
		if !bytes.Equal(dst, img) {
			t.Errorf("%s: data differs", d.Name())
		}
	}
	var hubSlot int
	slots := map[uint32]xhcifake.SlotInfo{}
	for _, si := range s.hc.Slots() {
		if si.RootPort == 1 && si.Route == 0 {
			hubSlot = si.ID
			if !si.Hub || si.Ports != 4 || si.Speed != 3 {
				t.Errorf("hub slot %+v: want Hub, 4 ports, high speed", si)
			}
		}
		if si.RootPort == 1 {
			slots[si.Route] = si
		}
	}
	if hs := slots[2]; hs.Speed != 3 || hs.TTHub != 0 {
		t.Errorf("high-speed stick slot %+v: want route 2, speed 3, no TT", hs)
	}
	if fs := slots[3]; fs.Speed != 1 || fs.TTHub != hubSlot || fs.TTPort != 3 {
		t.Errorf("full-speed stick slot %+v: want route 3, speed 1, TT hub slot %d port 3", fs, hubSlot)
	}
	s.clean()
}

// QEMU's usb-hub is a full-speed hub: a stick behind it runs at full speed and
// needs no transaction translator.
func TestQEMUFullSpeedHub(t *testing.T) {
	s := newSystem(t, xhcifake.QEMU(), 0x8000_0000)
	hub := usbfake.NewHub(usb.SpeedFull, 8)
	s.hc.Attach(6, hub)
	img := image(512<<10, 5)
	hub.Plug(1, usbfake.NewMassStorage(usb.SpeedFull, img, 512))
	c := s.start()
	d := s.disks(c, 1)[0]
	dst := make([]byte, len(img))
	if err := d.ReadBlocks(0, dst); err != nil || !bytes.Equal(dst, img) {
		t.Fatalf("read: %v (equal %v)\n%s", err, bytes.Equal(dst, img), s.log)
	}
	for _, si := range s.hc.Slots() {
		if si.Route == 1 && (si.TTHub != 0 || si.RootPort != 6 || si.Speed != 1) {
			t.Errorf("stick slot %+v", si)
		}
	}
	// Endpoint 0 of a full-speed device starts at 8 bytes and is corrected.
	if s.commands(trbEvaluateCtx) == 0 {
		t.Error("no Evaluate Context for the full-speed max packet size")
	}
	s.clean()
}

// A stall in the data stage: Reset Endpoint, Set TR Dequeue (from our own ring
// position: the VL805 preset reports a wrong DCS), CLEAR_FEATURE(HALT), then the
// CSW, sense and a retry that returns the right data.
func TestStallRecovery(t *testing.T) {
	s := newSystem(t, xhcifake.VL805(), 0x2000_0000)
	img := image(1<<20, 6)
	stick := usbfake.NewMassStorage(usb.SpeedSuper, img, 512)
	n := 0
	stick.Inject = func(c usbfake.Command) usbfake.Fault {
		if c.Op == 0x28 {
			if n++; n == 2 {
				return usbfake.FaultStallData
			}
		}
		return usbfake.FaultNone
	}
	s.hc.Attach(2, stick)
	c := s.start()
	d := s.disks(c, 1)[0]
	for i := 0; i < 4; i++ {
		dst := make([]byte, 128<<10)
		if err := d.ReadBlocks(uint64(i*256), dst); err != nil {
			t.Fatalf("read %d: %v\n%s", i, err, s.log)
		}
		if !bytes.Equal(dst, img[i*128<<10:(i+1)*128<<10]) {
			t.Fatalf("read %d: data differs", i)
		}
	}
	if s.commands(trbResetEP) != 1 || s.commands(trbSetTRDequeue) != 1 {
		t.Errorf("%d Reset Endpoint and %d Set TR Dequeue commands, want 1 and 1", s.commands(trbResetEP), s.commands(trbSetTRDequeue))
	}
	if len(stick.ClearHalt) != 1 || stick.ClearHalt[0] != 0x81 {
		t.Errorf("CLEAR_FEATURE(HALT) for %v, want [0x81]", stick.ClearHalt)
	}
	s.clean()
}

// Many small and large reads, control transfers and endpoint resets wrap every
// ring (command, control, bulk, event) several times, with TDs that straddle
// the link TRB.
func TestRingsWrap(t *testing.T) {
	s := newSystem(t, xhcifake.QEMU(), 0x4000_0000)
	img := image(4<<20, 7)
	s.hc.Attach(2, usbfake.NewMassStorage(usb.SpeedSuper, img, 512))
	c := s.start()
	d := s.disks(c, 1)[0]
	rng := rand.New(rand.NewSource(8))
	for i := 0; i < 1500; i++ {
		blocks := 1 + rng.Intn(8)
		if i%50 == 0 {
			blocks = 1024 + rng.Intn(1024) // large, multi-TRB TDs
		}
		lba := rng.Intn(8192 - blocks)
		dst := make([]byte, blocks*512)
		if err := d.ReadBlocks(uint64(lba), dst); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if !bytes.Equal(dst, img[lba*512:lba*512+len(dst)]) {
			t.Fatalf("read %d (%d blocks at %d): data differs", i, blocks, lba)
		}
	}
	// Control transfers and endpoint resets (Stop Endpoint + Configure
	// Endpoint each) wrap the control and command rings.
	sl := c.slots[1]
	for i := 0; i < 100; i++ {
		st := make([]byte, 2)
		if _, err := sl.Control(usb.Setup{RequestType: usb.DirIn, Request: usb.ReqGetStatus, Length: 2}, st, time.Second); err != nil {
			t.Fatalf("GET_STATUS %d: %v", i, err)
		}
		if err := sl.ResetEndpoint(0x81); err != nil {
			t.Fatalf("reset endpoint %d: %v", i, err)
		}
	}
	if err := d.ReadBlocks(0, make([]byte, 4096)); err != nil {
		t.Fatalf("read after the endpoint resets: %v", err)
	}
	if n := len(s.hc.Commands); n < 2*commandRingTRBs {
		t.Errorf("only %d commands; the command ring should wrap", n)
	}
	// The bulk-in ring holds 1023 TRBs: it must have wrapped.
	trbs := 0
	for _, x := range s.hc.Transfers {
		if x.DCI == 3 {
			trbs += x.TRBs
		}
	}
	if trbs < 3*transferRingTRBs {
		t.Errorf("only %d TRBs on the bulk-in ring; the test should wrap it several times", trbs)
	}
	ctl := 0
	for _, x := range s.hc.Transfers {
		if x.DCI == 1 {
			ctl += x.TRBs
		}
	}
	if ctl < 3*controlRingTRBs {
		t.Errorf("only %d TRBs on the control ring; the test should wrap it", ctl)
	}
	s.clean()
}

// A stick pulled during a read (QEMU device_del): the read fails at once with a
// clear error, and the other stick keeps working.
func TestPulledStickMidRead(t *testing.T) {
	for _, silently := range []bool{true, false} {
		cfg := xhcifake.QEMU()
		cfg.GoneSilently = silently // QEMU drops the transfer; real hardware reports a transaction error
		s := newSystem(t, cfg, 0x4000_0000)
		img := image(4<<20, 9)
		victim := usbfake.NewMassStorage(usb.SpeedSuper, img, 512)
		other := usbfake.NewMassStorage(usb.SpeedSuper, image(1<<20, 10), 512)
		s.hc.Attach(1, victim)
		s.hc.Attach(2, other)
		c := s.start()
		disks := s.disks(c, 2)
		victim.Inject = func(cmd usbfake.Command) usbfake.Fault {
			if cmd.Op == 0x28 {
				return usbfake.FaultUnplug
			}
			return usbfake.FaultNone
		}
		start := time.Now()
		err := disks[0].ReadBlocks(0, make([]byte, 4<<20))
		if !errors.Is(err, usb.ErrDisconnected) || !strings.Contains(err.Error(), "usb 1") || !strings.Contains(err.Error(), "removed") {
			t.Fatalf("silently=%v: err = %v\n%s", silently, err, s.log)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("silently=%v: the error took %v", silently, el)
		}
		dst := make([]byte, 64<<10)
		if err := disks[1].ReadBlocks(0, dst); err != nil || !bytes.Equal(dst, other.Image[:len(dst)]) {
			t.Errorf("silently=%v: other stick after the pull: %v", silently, err)
		}
		if err := disks[0].ReadBlocks(0, dst); !errors.Is(err, usb.ErrDisconnected) {
			t.Errorf("silently=%v: read from the pulled stick: %v", silently, err)
		}
		s.clean()
	}
}

// A stick behind a hub pulled during a read: the hub reports the port empty.
func TestPulledStickBehindHub(t *testing.T) {
	s := newSystem(t, xhcifake.VL805(), 0x1000_0000)
	hub := usbfake.NewHub(usb.SpeedHigh, 4)
	s.hc.Attach(1, hub)
	stick := usbfake.NewMassStorage(usb.SpeedHigh, image(2<<20, 11), 512)
	hub.Plug(4, stick)
	c := s.start()
	d := s.disks(c, 1)[0]
	stick.Inject = func(cmd usbfake.Command) usbfake.Fault {
		if cmd.Op == 0x28 {
			return usbfake.FaultUnplug
		}
		return usbfake.FaultNone
	}
	err := d.ReadBlocks(0, make([]byte, 1<<20))
	if !errors.Is(err, usb.ErrDisconnected) || !strings.Contains(err.Error(), "usb 1.4") {
		t.Fatalf("err = %v\n%s", err, s.log)
	}
	s.clean()
}

// A device that stops answering: the transfer times out, the endpoint is
// stopped and its ring moved past the TD, bulk-only reset recovery runs, and
// the retried read returns the right data.
func TestHungTransferTimesOut(t *testing.T) {
	s := newSystem(t, xhcifake.QEMU(), 0x4000_0000)
	s.msc.ReadTimeout = 50 * time.Millisecond
	img := image(1<<20, 12)
	stick := usbfake.NewMassStorage(usb.SpeedSuper, img, 512)
	hung := false
	stick.Inject = func(cmd usbfake.Command) usbfake.Fault {
		if cmd.Op == 0x28 && !hung {
			hung = true
			return usbfake.FaultHang
		}
		return usbfake.FaultNone
	}
	s.hc.Attach(3, stick)
	c := s.start()
	d := s.disks(c, 1)[0]
	dst := make([]byte, 256<<10)
	if err := d.ReadBlocks(8, dst); err != nil {
		t.Fatalf("%v\n%s", err, s.log)
	}
	if !bytes.Equal(dst, img[8*512:8*512+len(dst)]) {
		t.Fatal("data differs")
	}
	if s.commands(trbStopEP) == 0 || s.commands(trbSetTRDequeue) == 0 || stick.Resets != 1 {
		t.Errorf("stop endpoint %d, set TR dequeue %d, bulk-only resets %d", s.commands(trbStopEP), s.commands(trbSetTRDequeue), stick.Resets)
	}
	if !strings.Contains(s.log.String(), "timed out") {
		t.Errorf("the timeout is not in the log:\n%s", s.log)
	}
	s.clean()
}

// Close and start again on the same registers, as after /exit.
func TestCloseAndRestart(t *testing.T) {
	s := newSystem(t, xhcifake.VL805(), 0x1000_0000)
	img := image(1<<20, 13)
	s.hc.Attach(2, usbfake.NewMassStorage(usb.SpeedSuper, img, 512))
	for round := 0; round < 3; round++ {
		c := s.start()
		d := s.disks(c, 1)[0]
		dst := make([]byte, 64<<10)
		if err := d.ReadBlocks(uint64(round), dst); err != nil || !bytes.Equal(dst, img[round*512:round*512+len(dst)]) {
			t.Fatalf("round %d: %v", round, err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if s.mem.Allocated != 0 {
			t.Fatalf("round %d: %d DMA buffers still allocated after Close", round, s.mem.Allocated)
		}
		if err := d.ReadBlocks(0, dst); err == nil {
			t.Fatal("read after Close succeeded")
		}
	}
	// Stopping a controller we run is not news; finding one running at start is.
	if strings.Contains(s.log.String(), "stopping it") || strings.Count(s.log.String(), "xhci: stopped\n") != 3 {
		t.Errorf("log:\n%s", s.log)
	}
	s.clean()
}

// A controller that is not there (link down, firmware not loaded) or that
// falls off the bus while in use gives errors, not hangs.
func TestDeadController(t *testing.T) {
	s := newSystem(t, xhcifake.QEMU(), 0x4000_0000)
	s.hc.Dead = true
	if _, err := New(s.hc, s.mem, s.opts); err == nil || !strings.Contains(err.Error(), "all-ones") {
		t.Fatalf("New on a dead controller: %v", err)
	}
	s.hc.Dead = false
	s.hc.Attach(1, usbfake.NewMassStorage(usb.SpeedSuper, image(1<<20, 14), 512))
	c := s.start()
	d := s.disks(c, 1)[0]
	s.hc.Dead = true
	start := time.Now()
	err := d.ReadBlocks(0, make([]byte, 64<<10))
	if err == nil || !strings.Contains(err.Error(), "all-ones") {
		t.Fatalf("read from a dead controller: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

// An empty bus: no disks, no errors.
func TestNoDevices(t *testing.T) {
	s := newSystem(t, xhcifake.VL805(), 0x1000_0000)
	c := s.start()
	s.disks(c, 0)
	s.clean()
}

// The Pi 4's PCIe inbound window reaches only the first 3 GiB, and a model
// buffer may lie above it (4 and 8 GB boards): reads into it must go through a
// coherent bounce buffer, byte-exact, and the controller must never be handed
// an address it cannot reach. Rings and contexts stay within reach.
func TestBufferBeyondDMAReach(t *testing.T) {
	const reach = 3 << 30
	for _, c := range []struct {
		name  string
		cfg   xhcifake.Config
		limit uint64 // Options.DMALimit
		high  uint64 // where the caller's buffers lie
	}{
		{"inbound window", xhcifake.QEMU(), reach, 0x1_8000_0000},
		{"32-bit controller", xhcifake.VL805(), 0, 0x1_0000_0000},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSystem(t, c.cfg, 0x1000_0000)
			s.mem.SegmentBase = c.high
			s.mem.Reach = c.limit
			if c.limit == 0 {
				s.mem.Reach = 1 << 32
			}
			s.opts.DMALimit = c.limit
			img := image(3<<20+512, 9) // not a whole number of bounce buffers
			s.hc.Attach(2, usbfake.NewMassStorage(usb.SpeedSuper, img, 512))
			d := s.disks(s.start(), 1)[0]
			dst := make([]byte, len(img))
			if err := d.ReadBlocks(0, dst); err != nil {
				t.Fatalf("%v\n%s", err, s.log)
			}
			if !bytes.Equal(dst, img) {
				t.Fatal("data differs from the image")
			}
			if n := strings.Count(s.log.String(), "bounce buffer (slower)"); n != 1 {
				t.Errorf("bounce logged %d times, want once:\n%s", n, s.log)
			}
			s.clean()
		})
	}
}

// Coherent memory the controller cannot reach is refused with a message
// saying so, instead of being handed to the controller.
func TestRingBeyondDMAReach(t *testing.T) {
	s := newSystem(t, xhcifake.QEMU(), 0x1_0000_0000)
	s.opts.DMALimit = 3 << 30
	c, err := New(s.hc, s.mem, s.opts)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Start()
	if err == nil || !strings.Contains(err.Error(), "beyond what the controller can reach by DMA (below 0xc0000000)") {
		t.Fatalf("Start = %v, want an error about DMA reach", err)
	}
	if s.mem.Allocated != 0 {
		t.Errorf("%d coherent buffers left allocated", s.mem.Allocated)
	}
}
