package usb

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Options tune enumeration. The zero value is what real hardware needs.
type Options struct {
	Log io.Writer // step-by-step log (the UART); nil for none
	// ControlTimeout bounds each control transfer (default 5 s, the longest a
	// device may take to complete a standard request, USB 2.0 §9.2.6.4).
	ControlTimeout time.Duration
	// PortResetTimeout bounds a hub port reset (default 500 ms).
	PortResetTimeout time.Duration
	// Debounce is waited after hub ports are powered, before they are read
	// (default 100 ms, USB 2.0 §7.1.7.3 TATTDB).
	Debounce time.Duration
	// Sleep replaces time.Sleep (tests make it instant).
	Sleep func(time.Duration)
}

func (o *Options) controlTimeout() time.Duration {
	if o.ControlTimeout > 0 {
		return o.ControlTimeout
	}
	return 5 * time.Second
}

func (o *Options) portResetTimeout() time.Duration {
	if o.PortResetTimeout > 0 {
		return o.PortResetTimeout
	}
	return 500 * time.Millisecond
}

func (o *Options) debounce() time.Duration {
	if o.Debounce > 0 {
		return o.Debounce
	}
	return 100 * time.Millisecond
}

func (o *Options) sleep(d time.Duration) {
	if o.Sleep != nil {
		o.Sleep(d)
		return
	}
	time.Sleep(d)
}

// resetRecovery is the time a device gets after its port reset before the first
// request (USB 2.0 §7.1.7.5, TRSTRCY).
const resetRecovery = 10 * time.Millisecond

// setAddressRecovery is waited after a device got its address.
const setAddressRecovery = 10 * time.Millisecond

// Enumerate finds every device on the host's root ports and behind hubs, gives
// each an address, reads its descriptors and selects its first configuration.
// Hubs are driven by the hub class driver. It returns the devices that came up
// (hubs included) and, joined into err, one error per device or port that did
// not: a bad stick must not hide a good one, so callers use the devices even
// when err is not nil.
func Enumerate(h Host, opt Options) ([]*Device, error) {
	o := &opt
	var devs []*Device
	var errs []error
	for port := 1; port <= h.RootPorts(); port++ {
		speed, connected, err := h.ResetRootPort(port)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s root port %d: %w", h.Name(), port, err))
			logf(o.Log, "%s root port %d: %v", h.Name(), port, err)
			continue
		}
		if !connected {
			continue
		}
		logf(o.Log, "%s root port %d: %v device", h.Name(), port, speed)
		o.sleep(resetRecovery)
		loc := Location{RootPort: port, Speed: speed, Path: fmt.Sprint(port)}
		devs, errs = attach(h, o, loc, nil, 0, devs, errs)
	}
	return devs, errors.Join(errs...)
}

// attach addresses and sets up the device at loc and, for a hub, everything
// behind it.
func attach(h Host, o *Options, loc Location, parent *Device, port int, devs []*Device, errs []error) ([]*Device, []error) {
	hd, err := h.NewDevice(loc)
	if err != nil {
		err = fmt.Errorf("usb %s: address device: %w", loc.Path, err)
		logf(o.Log, "%v", err)
		return devs, append(errs, err)
	}
	d := &Device{Loc: loc, host: h, hd: hd, opt: o, parent: parent, port: port}
	// The device may take 2 ms to switch to its new address (USB 2.0 §9.2.6.3,
	// SetAddress recovery); Linux gives it 10.
	o.sleep(setAddressRecovery)
	if err := d.describe(); err != nil {
		hd.Release()
		err = fmt.Errorf("%s: %w", d.Name(), err)
		logf(o.Log, "%v", err)
		return devs, append(errs, err)
	}
	logf(o.Log, "%v, USB %x.%02x, class %02x, %d interfaces", d, d.Descriptor.USBVersion>>8, d.Descriptor.USBVersion&0xFF,
		d.Descriptor.Class, len(d.Config.Interfaces))
	isHub := d.Descriptor.Class == ClassHub || len(d.Interfaces(ClassHub, -1, -1)) > 0
	if !isHub {
		if err := d.configure(); err != nil {
			hd.Release()
			err = fmt.Errorf("%s: %w", d.Name(), err)
			logf(o.Log, "%v", err)
			return devs, append(errs, err)
		}
		return append(devs, d), errs
	}
	if err := d.startHub(); err != nil {
		err = fmt.Errorf("%s: %w", d.Name(), err)
		logf(o.Log, "%v", err)
		return append(devs, d), append(errs, err)
	}
	devs = append(devs, d)
	for p := 1; p <= d.hub.desc.Ports; p++ {
		st, err := d.portStatus(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s port %d: %w", d.Name(), p, err))
			continue
		}
		if !st.Connected() {
			continue
		}
		speed, err := d.resetHubPort(p)
		if err != nil {
			err = fmt.Errorf("%s port %d: %w", d.Name(), p, err)
			logf(o.Log, "%v", err)
			errs = append(errs, err)
			continue
		}
		logf(o.Log, "%s port %d: %v device", d.Name(), p, speed)
		o.sleep(resetRecovery)
		child, err := d.childLocation(p, speed)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s port %d: %w", d.Name(), p, err))
			continue
		}
		devs, errs = attach(h, o, child, d, p, devs, errs)
	}
	return devs, errs
}
