package usb_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/inferpi/inferpi/driver/usb"
	"github.com/inferpi/inferpi/driver/usb/usbfake"
)

// host is a minimal usb.Host over device models: it routes by root port and
// route string, as an xHCI does, and records what the core asks of it.
type host struct {
	root       map[int]usbfake.Device
	configured map[string]*usb.HubConfig
	addressed  []usb.Location
}

func (h *host) Name() string   { return "testhc" }
func (h *host) RootPorts() int { return 4 }
func (h *host) RootPortConnected(p int) bool {
	return h.root[p] != nil
}
func (h *host) ResetRootPort(p int) (usb.Speed, bool, error) {
	d := h.root[p]
	if d == nil {
		return 0, false, nil
	}
	return d.Speed(), true, nil
}

func (h *host) NewDevice(loc usb.Location) (usb.HostDevice, error) {
	d := h.root[loc.RootPort]
	for tier := 0; tier < 5 && d != nil; tier++ {
		n := int(loc.Route>>(4*tier)) & 0xF
		if n == 0 {
			break
		}
		hub, ok := d.(*usbfake.Hub)
		if !ok {
			return nil, errors.New("route through a non-hub")
		}
		d = hub.Child(n)
	}
	if d == nil {
		return nil, fmt.Errorf("nothing at %s", loc.Path)
	}
	if d.Speed() != loc.Speed {
		return nil, fmt.Errorf("%s: speed %v, device runs at %v", loc.Path, loc.Speed, d.Speed())
	}
	h.addressed = append(h.addressed, loc)
	return &hostDev{h: h, d: d, path: loc.Path}, nil
}

type hostDev struct {
	h    *host
	d    usbfake.Device
	path string
}

func (x *hostDev) Control(s usb.Setup, data []byte, _ time.Duration) (int, error) {
	var out []byte
	if !s.In() {
		out = data
	}
	in, err := x.d.Control(s, out)
	if err != nil {
		return 0, err
	}
	if s.In() {
		return copy(data, in), nil
	}
	return len(data), nil
}
func (x *hostDev) SetMaxPacket0(int) error { return nil }
func (x *hostDev) Configure(eps []usb.EndpointConfig, hub *usb.HubConfig) error {
	if x.h.configured == nil {
		x.h.configured = map[string]*usb.HubConfig{}
	}
	x.h.configured[x.path] = hub
	return nil
}
func (x *hostDev) Bulk(uint8, []byte, time.Duration) (int, error) {
	return 0, errors.New("no bulk here")
}
func (x *hostDev) ResetEndpoint(uint8) error { return nil }
func (x *hostDev) Release() error            { return nil }

// brokenStick stalls the configuration descriptor.
type brokenStick struct{ *usbfake.MassStorage }

func (b brokenStick) Control(s usb.Setup, out []byte) ([]byte, error) {
	if s.Request == usb.ReqGetDescriptor && s.Value>>8 == usb.DescConfiguration {
		return nil, usb.ErrStall
	}
	return b.MassStorage.Control(s, out)
}

func TestEnumerateHubsAndReportFailures(t *testing.T) {
	top := usbfake.NewHub(usb.SpeedHigh, 4)
	mid := usbfake.NewHub(usb.SpeedHigh, 2)
	top.Plug(1, mid)
	mid.Plug(2, usbfake.NewMassStorage(usb.SpeedHigh, make([]byte, 4096), 512))
	top.Plug(4, brokenStick{usbfake.NewMassStorage(usb.SpeedHigh, make([]byte, 4096), 512)})
	h := &host{root: map[int]usbfake.Device{2: top, 3: usbfake.NewMassStorage(usb.SpeedSuper, make([]byte, 4096), 512)}}
	var log strings.Builder
	devs, err := usb.Enumerate(h, usb.Options{Log: &log, Sleep: func(time.Duration) {}})
	if err == nil || !strings.Contains(err.Error(), "usb 2.4") || !strings.Contains(err.Error(), "configuration descriptor") {
		t.Errorf("err = %v, want the failure of usb 2.4", err)
	}
	var names []string
	for _, d := range devs {
		names = append(names, d.Name())
	}
	if got := strings.Join(names, " "); got != "usb 2 usb 2.1 usb 2.1.2 usb 3" {
		t.Errorf("devices %q\n%s", got, log.String())
	}
	for _, l := range h.addressed {
		if l.Path == "2.1.2" && (l.Route != 0x21 || l.Depth != 2) {
			t.Errorf("usb 2.1.2 at route %#x depth %d, want 0x21 and 2", l.Route, l.Depth)
		}
	}
	if hc := h.configured["2"]; hc == nil || hc.Ports != 4 {
		t.Errorf("top hub configured as %+v", hc)
	}
	if !devs[0].IsHub() || devs[3].IsHub() || devs[3].Product != "QEMU USB HARDDRIVE" {
		t.Errorf("device details: %v / %v", devs[0], devs[3])
	}
	if got := len(devs[2].Interfaces(usb.ClassMassStorage, 6, 0x50)); got != 1 {
		t.Errorf("%d mass-storage interfaces on usb 2.1.2", got)
	}
	if !devs[2].Connected() {
		t.Error("usb 2.1.2 not connected")
	}
	mid.Unplug(2)
	if devs[2].Connected() {
		t.Error("usb 2.1.2 still connected after the unplug")
	}
}
