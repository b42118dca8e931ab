package usb

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func mustHex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A SuperSpeed flash drive's descriptors as lsusb -v prints them for a
// mass-storage stick (class 8/6/0x50, 1024-byte bulk endpoints, companions with
// bMaxBurst 15), written out by hand.
const (
	stickDevice = "12 01 2003 00 00 00 09 8107 8155 0001 01 02 03 01"
	stickConfig = "09 02 2c00 01 01 00 80 70" +
		"09 04 00 00 02 08 06 50 00" +
		"07 05 81 02 0004 00" + "06 30 0f 00 0000" +
		"07 05 02 02 0004 00" + "06 30 0f 00 0000"
)

func TestParseDeviceDescriptor(t *testing.T) {
	d, err := ParseDeviceDescriptor(mustHex(t, stickDevice), SpeedSuper)
	if err != nil {
		t.Fatal(err)
	}
	want := DeviceDescriptor{USBVersion: 0x0320, MaxPacket0: 512, Vendor: 0x0781, Product: 0x5581, DeviceVersion: 0x0100,
		ManufacturerIndex: 1, ProductIndex: 2, SerialIndex: 3, Configurations: 1}
	if d != want {
		t.Errorf("got %+v\nwant %+v", d, want)
	}
	if _, err := ParseDeviceDescriptor(mustHex(t, stickDevice), SpeedHigh); err == nil {
		t.Error("bMaxPacketSize0 9 accepted at high speed")
	}
	if _, err := ParseDeviceDescriptor(mustHex(t, stickDevice)[:17], SpeedSuper); err == nil {
		t.Error("17-byte descriptor accepted")
	}
	if n, err := ParseMaxPacket0(mustHex(t, "12 01 0002 00 00 00 40"), SpeedFull); n != 64 || err != nil {
		t.Errorf("ParseMaxPacket0 = %d, %v", n, err)
	}
}

func TestParseConfiguration(t *testing.T) {
	c, err := ParseConfiguration(mustHex(t, stickConfig))
	if err != nil {
		t.Fatal(err)
	}
	if c.Value != 1 || len(c.Interfaces) != 1 {
		t.Fatalf("config %+v", c)
	}
	ifc := c.Interfaces[0]
	if ifc.Class != 8 || ifc.SubClass != 6 || ifc.Protocol != 0x50 || len(ifc.Endpoints) != 2 {
		t.Fatalf("interface %+v", ifc)
	}
	in, out := ifc.Endpoints[0], ifc.Endpoints[1]
	if in.Address != 0x81 || !in.In() || in.Type() != Bulk || in.MaxPacket != 1024 || in.MaxBurst != 15 {
		t.Errorf("bulk in %+v", in)
	}
	if out.Address != 0x02 || out.In() || out.MaxPacket != 1024 || out.MaxBurst != 15 {
		t.Errorf("bulk out %+v", out)
	}
	if c.Interface(0, 0) == nil || c.Interface(0, 1) != nil {
		t.Error("Interface lookup")
	}
	bad := []struct{ name, hex, err string }{
		{"truncated", stickConfig[:len(stickConfig)-4], "wTotalLength"},
		{"zero length descriptor", "09 02 0b00 01 01 00 80 70 00 04", "bad length"},
		{"endpoint first", "09 02 1000 01 01 00 80 70 07 05 81 02 0002 00", "before any interface"},
		{"endpoint zero", "09 02 1900 01 01 00 80 70 09 04 00 00 01 08 06 50 00 07 05 80 02 0002 00", "endpoint 0"},
		{"wrong type", "09 04 0900 01 01 00 80 70", "configuration descriptor"},
	}
	for _, b := range bad {
		if _, err := ParseConfiguration(mustHex(t, b.hex)); err == nil || !strings.Contains(err.Error(), b.err) {
			t.Errorf("%s: err = %v, want one mentioning %q", b.name, err, b.err)
		}
	}
}

func TestParseString(t *testing.T) {
	s, err := ParseString(mustHex(t, "10 03 53 00 61 00 6e 00 44 00 69 00 73 00 6b 00"))
	if err != nil || s != "SanDisk" {
		t.Errorf("ParseString = %q, %v", s, err)
	}
}

func TestParseHubDescriptor(t *testing.T) {
	// The VL805's internal hub: 4 ports, individual power switching, 100 ms to
	// power good (bPwrOn2PwrGood 50).
	h, err := ParseHubDescriptor(mustHex(t, "09 29 04 e900 32 64 00 ff"))
	if err != nil {
		t.Fatal(err)
	}
	if h.Ports != 4 || h.PowerOnToGood != 100*time.Millisecond || h.ThinkTime() != 3 || h.ControlCurrent != 100 {
		t.Errorf("hub descriptor %+v, think time %d", h, h.ThinkTime())
	}
	if _, err := ParseHubDescriptor(mustHex(t, "09 29 00 0000 32 64 00 ff")); err == nil {
		t.Error("hub without ports accepted")
	}
	ps, err := ParsePortStatus(mustHex(t, "0305 1100"))
	if err != nil || !ps.Connected() || !ps.Enabled() || ps.Speed() != SpeedHigh || ps.Change != PortChangeConnection|PortChangeReset {
		t.Errorf("port status %v, %v", ps, err)
	}
	ls, _ := ParsePortStatus(mustHex(t, "0303 0000"))
	if ls.Speed() != SpeedLow {
		t.Errorf("low-speed bit: %v", ls.Speed())
	}
}

func TestSetupBytes(t *testing.T) {
	s := Setup{RequestType: 0xA3, Request: 0, Value: 0, Index: 3, Length: 4}
	b := s.Bytes()
	if got := hex.EncodeToString(b[:]); got != "a300000003000400" {
		t.Errorf("setup bytes %s", got)
	}
	back, err := ParseSetup(b[:])
	if err != nil || back != s {
		t.Errorf("ParseSetup = %+v, %v", back, err)
	}
}

func TestChildLocation(t *testing.T) {
	hs := &Device{Loc: Location{RootPort: 1, Speed: SpeedHigh, Path: "1"}, hd: dummyHD{}}
	loc, err := hs.childLocation(3, SpeedFull)
	if err != nil || loc.Route != 0x3 || loc.Depth != 1 || loc.TTHub != (dummyHD{}) || loc.TTPort != 3 || loc.Path != "1.3" {
		t.Errorf("full-speed child of a high-speed hub: %+v, %v", loc, err)
	}
	// A full-speed hub behind that hub: its children inherit the TT.
	fsHub := &Device{Loc: loc}
	loc2, _ := fsHub.childLocation(17, SpeedLow)
	if loc2.Route != 0xF3 || loc2.TTHub != (dummyHD{}) || loc2.TTPort != 3 || loc2.Path != "1.3.17" {
		t.Errorf("grandchild %+v", loc2)
	}
	hsChild, _ := hs.childLocation(2, SpeedHigh)
	if hsChild.TTHub != nil {
		t.Errorf("high-speed child got a TT: %+v", hsChild)
	}
	deep := &Device{Loc: Location{Depth: 5}}
	if _, err := deep.childLocation(1, SpeedHigh); err == nil {
		t.Error("sixth tier accepted")
	}
}

type dummyHD struct{}

func (dummyHD) Control(Setup, []byte, time.Duration) (int, error) { return 0, nil }
func (dummyHD) SetMaxPacket0(int) error                           { return nil }
func (dummyHD) Configure([]EndpointConfig, *HubConfig) error      { return nil }
func (dummyHD) Bulk(uint8, []byte, time.Duration) (int, error)    { return 0, nil }
func (dummyHD) ResetEndpoint(uint8) error                         { return nil }
func (dummyHD) Release() error                                    { return nil }

func FuzzParseConfiguration(f *testing.F) {
	f.Add(mustHex(f, stickConfig))
	f.Add(mustHex(f, "09 02 1900 01 01 00 80 70 09 04 00 00 01 09 00 00 00 07 05 81 03 0100 0c"))
	f.Add([]byte{9, 2, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfiguration(b)
		if err != nil {
			return
		}
		for _, ifc := range c.Interfaces {
			for _, ep := range ifc.Endpoints {
				if ep.Address&0x0F == 0 || ep.MaxPacket > 0x7FF {
					t.Fatalf("bad endpoint %+v", ep)
				}
			}
		}
	})
}

func FuzzParseDeviceDescriptor(f *testing.F) {
	f.Add(mustHex(f, stickDevice), uint8(SpeedSuper))
	f.Add(mustHex(f, "12 01 0002 09 00 01 40 0921 3134 0000 00 01 00 01"), uint8(SpeedHigh))
	f.Fuzz(func(t *testing.T, b []byte, speed uint8) {
		d, err := ParseDeviceDescriptor(b, Speed(speed%6))
		if err == nil && d.MaxPacket0 == 0 {
			t.Fatalf("accepted max packet 0: %+v", d)
		}
	})
}

func FuzzParseHubDescriptor(f *testing.F) {
	f.Add(mustHex(f, "09 29 04 e900 32 64 00 ff"))
	f.Add(mustHex(f, "0303 1100"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, err := ParseHubDescriptor(b); err == nil && (h.Ports < 1 || h.Ports > 255) {
			t.Fatalf("ports %d", h.Ports)
		}
		if ps, err := ParsePortStatus(b); err == nil {
			_ = ps.Speed()
		}
		_, _ = ParseString(b)
	})
}
