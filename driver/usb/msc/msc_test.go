package msc

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/inferpi/inferpi/driver/usb"
	"github.com/inferpi/inferpi/driver/usb/usbfake"
)

// pipes connects the transport straight to a device model, the way a host
// controller would: STALL, unplug and no-response become the usb errors.
type pipes struct {
	dev     *usbfake.MassStorage
	bulkLog []string
}

func (p *pipes) Name() string { return "usb 9" }

func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, usbfake.ErrGone):
		return usb.ErrDisconnected
	case errors.Is(err, usbfake.ErrNoResponse):
		return usb.ErrTimeout
	}
	return err
}

func (p *pipes) Control(s usb.Setup, data []byte) (int, error) {
	var out []byte
	if !s.In() {
		out = data
	}
	in, err := p.dev.Control(s, out)
	if err != nil {
		return 0, mapErr(err)
	}
	if s.In() {
		return copy(data, in), nil
	}
	return len(data), nil
}

func (p *pipes) Bulk(ep uint8, buf []byte, timeout time.Duration) (int, error) {
	if ep&usb.DirIn != 0 {
		d, err := p.dev.BulkIn(ep, len(buf))
		if err != nil {
			return 0, mapErr(err)
		}
		return copy(buf, d), nil
	}
	if err := p.dev.BulkOut(ep, buf); err != nil {
		return 0, mapErr(err)
	}
	return len(buf), nil
}

func (p *pipes) ClearHalt(ep uint8) error {
	_, err := p.Control(usb.Setup{RequestType: usb.RecipEndpoint, Request: usb.ReqClearFeature, Index: uint16(ep)}, nil)
	return err
}

var mscInterface = &usb.Interface{Class: 8, SubClass: 6, Protocol: 0x50, Endpoints: []usb.Endpoint{
	{Address: 0x81, Attributes: 2, MaxPacket: 512},
	{Address: 0x02, Attributes: 2, MaxPacket: 512},
}}

func randomImage(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func fastOptions(log *strings.Builder) Options {
	return Options{Log: log, Sleep: func(time.Duration) {}, ReadyTimeout: 2 * time.Second}
}

func open(t *testing.T, dev *usbfake.MassStorage, log *strings.Builder) *Disk {
	t.Helper()
	d, err := Open(&pipes{dev: dev}, mscInterface, fastOptions(log))
	if err != nil {
		t.Fatalf("Open: %v\nlog:\n%s", err, log)
	}
	return d
}

// The CBW layout of BOT §5.1, worked by hand for READ(10) of 8 sectors at LBA
// 0x12345678 with tag 7.
func TestCBWBytes(t *testing.T) {
	b, err := CBW{Tag: 7, DataLength: 4096, In: true, CDB: cdbRead10(0x12345678, 8)}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "55534243" + "07000000" + "00100000" + "80" + "00" + "0a" +
		"28" + "00" + "12345678" + "00" + "0008" + "00" + "000000000000"
	if got := hex.EncodeToString(b[:]); got != want {
		t.Errorf("CBW\n got %s\nwant %s", got, want)
	}
	c, err := ParseCBW(b[:])
	if err != nil || c.Tag != 7 || c.DataLength != 4096 || !c.In || !bytes.Equal(c.CDB, cdbRead10(0x12345678, 8)) {
		t.Errorf("ParseCBW = %+v, %v", c, err)
	}
	if _, err := (CBW{CDB: make([]byte, 17)}).Marshal(); err == nil {
		t.Error("17-byte CDB accepted")
	}
}

func TestReadCDBs(t *testing.T) {
	if got := hex.EncodeToString(cdbRead16(0x0102030405060708, 0x800)); got != "88000102030405060708000008000000" {
		t.Errorf("READ(16) = %s", got)
	}
	if got := hex.EncodeToString(cdbReadCapacity16()); got != "9e100000000000000000000000200000" {
		t.Errorf("READ CAPACITY(16) = %s", got)
	}
}

func TestParseCSW(t *testing.T) {
	good, _ := hex.DecodeString("55534253" + "2a000000" + "00020000" + "01")
	c, err := ParseCSW(good)
	if err != nil || c.Tag != 42 || c.Residue != 512 || c.Status != StatusFailed {
		t.Errorf("ParseCSW = %+v, %v", c, err)
	}
	bad := append([]byte{}, good...)
	bad[3] = 0x54
	if _, err := ParseCSW(bad); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Errorf("bad signature: %v", err)
	}
	if _, err := ParseCSW(good[:12]); err == nil || !strings.Contains(err.Error(), "12 bytes") {
		t.Errorf("short CSW: %v", err)
	}
}

func TestParseSense(t *testing.T) {
	fixed := make([]byte, 18)
	fixed[0], fixed[2], fixed[12], fixed[13] = 0xF0, 0x06, 0x28, 0x00 // valid bit set
	s, err := ParseSense(fixed)
	if err != nil || s != (Sense{Key: 6, ASC: 0x28}) {
		t.Errorf("fixed sense = %v, %v", s, err)
	}
	desc := []byte{0x72, 0x02, 0x04, 0x01, 0, 0, 0, 0}
	s, err = ParseSense(desc)
	if err != nil || s != (Sense{Key: 2, ASC: 4, ASCQ: 1}) {
		t.Errorf("descriptor sense = %v, %v", s, err)
	}
	if _, err := ParseSense([]byte{0x10, 0, 0}); err == nil {
		t.Error("response code 0x10 accepted")
	}
	if got := (Sense{Key: 2, ASC: 0x3a}).String(); got != "NOT READY (ASC 0x3a ASCQ 0x00)" {
		t.Errorf("String = %q", got)
	}
}

func TestParseInquiryAndCapacity(t *testing.T) {
	q := make([]byte, 36)
	q[1] = 0x80
	copy(q[8:], "SanDisk Ultra           1.00")
	inq, err := ParseInquiry(q)
	if err != nil || inq.Vendor != "SanDisk" || inq.Product != "Ultra" || inq.Revision != "1.00" || !inq.Removable {
		t.Errorf("ParseInquiry = %+v, %v", inq, err)
	}
	if _, err := ParseInquiry([]byte{0x7F, 0, 0, 0, 0}); err == nil {
		t.Error("peripheral qualifier 3 accepted")
	}
	c, err := ParseCapacity10([]byte{0x00, 0xEF, 0xFF, 0xFF, 0, 0, 2, 0})
	if err != nil || c.LastLBA != 0xEFFFFF || c.BlockSize != 512 {
		t.Errorf("ParseCapacity10 = %+v, %v", c, err)
	}
	c16 := make([]byte, 32)
	copy(c16, []byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x10, 0})
	c, err = ParseCapacity16(c16)
	if err != nil || c.LastLBA != 1<<32 || c.BlockSize != 4096 {
		t.Errorf("ParseCapacity16 = %+v, %v", c, err)
	}
	if err := (Capacity{LastLBA: 10, BlockSize: 520}).check(); err == nil {
		t.Error("520-byte blocks accepted")
	}
}

func TestOpenWaitsForSlowStickAndReads(t *testing.T) {
	img := randomImage(4<<20, 1)
	dev := usbfake.NewMassStorage(usb.SpeedSuper, img, 512)
	dev.UnitAttention = true
	dev.NotReady = 5
	dev.StallGetMaxLUN = true
	var log strings.Builder
	d := open(t, dev, &log)
	if d.BlockSize() != 512 || d.Blocks() != 8192 {
		t.Fatalf("geometry %d × %d, want 8192 × 512", d.Blocks(), d.BlockSize())
	}
	if d.Inquiry.Vendor != "QEMU" || d.Inquiry.Product != "QEMU HARDDISK" {
		t.Errorf("inquiry %+v", d.Inquiry)
	}
	tur := 0
	for _, c := range dev.Commands {
		if c.Op == opTestUnitReady {
			tur++
		}
	}
	if tur != 7 { // unit attention, 5 × not ready, ready
		t.Errorf("%d TEST UNIT READY commands, want 7\n%s", tur, log.String())
	}

	dst := make([]byte, 3<<20+4096)
	if err := d.ReadBlocks(100, dst); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dst, img[100*512:100*512+len(dst)]) {
		t.Fatal("data differs from the image")
	}
	var reads []uint32
	for _, c := range dev.Commands {
		if c.Op == opRead10 {
			reads = append(reads, c.Blocks)
		}
	}
	if want := []uint32{2048, 2048, 2048, 8}; !equalU32(reads, want) {
		t.Errorf("READ sizes %v, want %v (1 MiB per command)", reads, want)
	}
	if err := d.ReadBlocks(8190, make([]byte, 1024)); err != nil {
		t.Errorf("read of the last two sectors: %v", err)
	}
	if err := d.ReadBlocks(8191, make([]byte, 1024)); err == nil || !strings.Contains(err.Error(), "usb 9") {
		t.Errorf("read past the end: %v", err)
	}
}

func equalU32(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLargeReadsFallBack(t *testing.T) {
	img := randomImage(2<<20, 2)
	dev := usbfake.NewMassStorage(usb.SpeedHigh, img, 512)
	dev.MaxTransfer = 64 << 10
	var log strings.Builder
	d := open(t, dev, &log)
	dst := make([]byte, 2<<20)
	if err := d.ReadBlocks(0, dst); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !bytes.Equal(dst, img) {
		t.Fatal("data differs from the image")
	}
	var sizes []uint32
	for _, c := range dev.Commands {
		if c.Op == opRead10 && len(sizes) < 4 {
			sizes = append(sizes, c.Blocks)
		}
	}
	// 1 MiB, 512 KiB and 120 KiB fail; 32 KiB works.
	if want := []uint32{2048, 1024, 240, 64}; !equalU32(sizes, want) {
		t.Errorf("first READ sizes %v, want %v\n%s", sizes, want, log.String())
	}
	if d.perRead != 64 {
		t.Errorf("transfer size settled at %d blocks, want 64", d.perRead)
	}
}

func TestStalledDataStageIsClearedAndRetried(t *testing.T) {
	img := randomImage(1<<20, 3)
	dev := usbfake.NewMassStorage(usb.SpeedSuper, img, 512)
	reads := 0
	dev.Inject = func(c usbfake.Command) usbfake.Fault {
		if c.Op == opRead10 {
			reads++
			if reads == 1 {
				return usbfake.FaultStallData
			}
		}
		return usbfake.FaultNone
	}
	var log strings.Builder
	d := open(t, dev, &log)
	dst := make([]byte, 64<<10)
	if err := d.ReadBlocks(16, dst); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !bytes.Equal(dst, img[16*512:16*512+len(dst)]) {
		t.Fatal("data differs")
	}
	if len(dev.ClearHalt) != 1 || dev.ClearHalt[0] != 0x81 {
		t.Errorf("CLEAR_FEATURE(HALT) sent for %v, want [0x81]", dev.ClearHalt)
	}
	if dev.Resets != 0 {
		t.Errorf("%d resets for a plain stall, want 0", dev.Resets)
	}
	if !strings.Contains(log.String(), "MEDIUM ERROR") {
		t.Errorf("log does not mention the sense:\n%s", log.String())
	}
}

func TestTransportFaultsRecoverWithReset(t *testing.T) {
	for _, f := range []usbfake.Fault{usbfake.FaultPhaseError, usbfake.FaultBadTag, usbfake.FaultBadSignature,
		usbfake.FaultShortCSW, usbfake.FaultHang} {
		img := randomImage(256<<10, int64(f))
		dev := usbfake.NewMassStorage(usb.SpeedSuper, img, 512)
		injected := false
		dev.Inject = func(c usbfake.Command) usbfake.Fault {
			if c.Op == opRead10 && !injected {
				injected = true
				return f
			}
			return usbfake.FaultNone
		}
		var log strings.Builder
		d := open(t, dev, &log)
		dst := make([]byte, 128<<10)
		if err := d.ReadBlocks(0, dst); err != nil {
			t.Errorf("fault %d: %v\n%s", f, err, log.String())
			continue
		}
		if !bytes.Equal(dst, img[:len(dst)]) {
			t.Errorf("fault %d: data differs", f)
		}
		if dev.Resets != 1 {
			t.Errorf("fault %d: %d Bulk-Only resets, want 1\n%s", f, dev.Resets, log.String())
		}
		if !strings.Contains(log.String(), "reset recovery") {
			t.Errorf("fault %d: recovery not logged", f)
		}
		// Reset recovery clears both halts (BOT §5.3.4).
		if n := len(dev.ClearHalt); n < 2 || dev.ClearHalt[n-2] != 0x81 || dev.ClearHalt[n-1] != 0x02 {
			t.Errorf("fault %d: clear-halt sequence %v", f, dev.ClearHalt)
		}
	}
}

func TestPulledStickFailsAtOnce(t *testing.T) {
	dev := usbfake.NewMassStorage(usb.SpeedSuper, randomImage(4<<20, 4), 512)
	var log strings.Builder
	d := open(t, dev, &log)
	dev.Inject = func(c usbfake.Command) usbfake.Fault {
		if c.Op == opRead10 {
			return usbfake.FaultUnplug
		}
		return usbfake.FaultNone
	}
	err := d.ReadBlocks(0, make([]byte, 2<<20))
	if !errors.Is(err, usb.ErrDisconnected) || !strings.Contains(err.Error(), "removed") ||
		!strings.Contains(err.Error(), "sectors 0-2047") {
		t.Fatalf("err = %v", err)
	}
	if n := len(dev.Commands); dev.Commands[n-1].Op != opRead10 || dev.Resets != 0 {
		t.Errorf("commands after the unplug: last op %#x, %d resets", dev.Commands[n-1].Op, dev.Resets)
	}
}

func TestCapacity16AndRead16(t *testing.T) {
	dev := usbfake.NewMassStorage(usb.SpeedSuper, randomImage(64<<10, 5), 4096)
	dev.Blocks = 1<<32 + 10 // 16 TiB of 4 KiB sectors; only the first 16 exist in the image
	var log strings.Builder
	d := open(t, dev, &log)
	if d.Blocks() != 1<<32+10 || d.BlockSize() != 4096 {
		t.Fatalf("geometry %d × %d", d.Blocks(), d.BlockSize())
	}
	dst := bytes.Repeat([]byte{0xAA}, 8192)
	if err := d.ReadBlocks(1<<32+5, dst); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dst, make([]byte, 8192)) {
		t.Error("sectors beyond the image did not read as zeros")
	}
	last := dev.Commands[len(dev.Commands)-1]
	if last.Op != opRead16 || last.LBA != 1<<32+5 || last.Blocks != 2 {
		t.Errorf("last command %+v, want READ(16) of 2 blocks at 2^32+5", last)
	}
	if err := d.ReadBlocks(1, dst[:4096]); err != nil || dev.Commands[len(dev.Commands)-1].Op != opRead10 {
		t.Errorf("low read: %v, op %#x", err, dev.Commands[len(dev.Commands)-1].Op)
	}
}

func TestNeverReadyGivesClearError(t *testing.T) {
	dev := usbfake.NewMassStorage(usb.SpeedHigh, randomImage(64<<10, 6), 512)
	dev.NotReady = 1 << 30
	var log strings.Builder
	opt := fastOptions(&log)
	opt.ReadyTimeout = 30 * time.Millisecond
	_, err := Open(&pipes{dev: dev}, mscInterface, opt)
	if err == nil || !strings.Contains(err.Error(), "not ready after") || !strings.Contains(err.Error(), "NOT READY") {
		t.Fatalf("err = %v", err)
	}
}

func TestMissingEndpoints(t *testing.T) {
	dev := usbfake.NewMassStorage(usb.SpeedHigh, randomImage(4096, 7), 512)
	_, err := Open(&pipes{dev: dev}, &usb.Interface{Number: 0}, Options{})
	if err == nil || !strings.Contains(err.Error(), "bulk IN/OUT") {
		t.Fatalf("err = %v", err)
	}
}
