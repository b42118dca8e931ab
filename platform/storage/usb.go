package storage

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/inferpi/inferpi/driver/dma"
	"github.com/inferpi/inferpi/driver/pci"
	"github.com/inferpi/inferpi/driver/reg"
	"github.com/inferpi/inferpi/driver/usb"
	"github.com/inferpi/inferpi/driver/usb/msc"
	"github.com/inferpi/inferpi/driver/xhci"
	"github.com/inferpi/inferpi/platform/bootlog"
	"github.com/inferpi/inferpi/storage/block"
)

// ErrNoUSBDisk is returned (wrapped, with the reason) when USB comes up but no
// mass-storage device is found on it.
var ErrNoUSBDisk = errors.New("no USB storage device found")

// ClassXHCI is the PCI class code of an xHCI controller (base class 0x0C serial
// bus, subclass 0x03 USB, programming interface 0x30 xHCI).
const ClassXHCI = 0x0C0330

// USB is a started USB host controller and the mass-storage disks on it.
type USB struct {
	// Disks are the bulk-only mass-storage devices found, in port order.
	Disks []*msc.Disk

	ctrl *xhci.Controller
	log  *bootlog.Logger
	mu   sync.Mutex
	done bool
}

// Close stops the controller, so it no longer reads or writes memory, and
// frees its DMA memory. The disks stop working; OpenUSB may then start USB
// again (the firmware does after /exit). Closing twice does nothing.
func (u *USB) Close() error {
	if u == nil {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return nil
	}
	u.done = true
	if err := u.ctrl.Close(); err != nil {
		u.log.Printf("%v", err)
		return err
	}
	return nil
}

// USBOptions tune a USB start-up: the host controller's driver and the
// mass-storage class driver, whose Log and Sleep default to the controller's.
type USBOptions struct {
	XHCI xhci.Options
	MSC  msc.Options
}

// StartXHCI starts the xHCI controller whose registers are regs, enumerates
// the bus (hubs included) and binds the mass-storage class driver to every
// bulk-only mass-storage interface. Each step is one boot-log line on log.
// With no disk the controller is stopped again and the error wraps
// ErrNoUSBDisk and says why: nothing plugged in, or what failed.
func StartXHCI(log io.Writer, regs reg.Bank, mem dma.Memory, opt USBOptions) (*USB, error) {
	l := bootlog.New(log, "usb")
	if opt.XHCI.Log == nil {
		opt.XHCI.Log = newLogWriter(log)
	}
	c, err := xhci.New(regs, mem, opt.XHCI)
	if err != nil {
		return nil, err
	}
	if err := c.Start(); err != nil {
		return nil, err
	}
	u := &USB{ctrl: c, log: l}
	// Devices that fail are logged by the drivers, one line each, and the
	// disks that work are used all the same.
	devs, enumErr := c.Enumerate()
	storage := &msc.Driver{Options: opt.MSC}
	if storage.Options.Log == nil {
		storage.Options.Log = opt.XHCI.Log
	}
	if storage.Options.Sleep == nil {
		storage.Options.Sleep = opt.XHCI.Sleep
	}
	bindErr := usb.Bind(devs, storage)
	fmt.Fprintf(opt.XHCI.Log, "xhci: %d USB devices, %d disks\n", len(devs), len(storage.Disks))
	u.Disks = storage.Disks
	if len(u.Disks) > 0 {
		return u, nil
	}
	err = errors.Join(enumErr, bindErr)
	why := whyNoDisk(c, err)
	u.Close()
	return nil, fmt.Errorf("%w: %s", ErrNoUSBDisk, why)
}

// whyNoDisk says why a start-up found no disk: what failed, or what is
// plugged in instead. Hubs do not count as something plugged in: a Pi 4
// always has the VL805's internal hub on root port 1.
func whyNoDisk(c *xhci.Controller, err error) string {
	if err != nil {
		return strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	var hubs, others []string
	for _, d := range c.Devices() {
		if d.IsHub() {
			hubs = append(hubs, "the hub "+d.Name())
		} else {
			others = append(others, d.String())
		}
	}
	switch {
	case len(others) > 0:
		return "USB devices are connected, but none is a bulk-only mass-storage device: " + strings.Join(others, "; ")
	case len(hubs) > 0:
		return fmt.Sprintf("nothing is plugged in (%d USB ports, only %s)", c.RootPorts(), strings.Join(hubs, ", "))
	}
	return fmt.Sprintf("nothing is plugged in (%d USB ports, all empty)", c.RootPorts())
}

// FindXHCI enumerates the PCI hierarchy behind cfg, assigning BARs from the
// windows, and returns the first xHCI controller and its register BAR. Every
// function found is logged. Used on QEMU virt, whose BARs nothing has assigned
// when the firmware starts: QEMU leaves that to the guest, and with -kernel no
// boot firmware runs (under QEMU 10, `info pci` shows BAR0 not mapped).
func FindXHCI(log io.Writer, cfg pci.Config, w pci.Windows) (*pci.Function, pci.BAR, error) {
	fs, err := pci.Enumerate(cfg, w, pci.Options{Log: newLogWriter(log)})
	if err != nil {
		return nil, pci.BAR{}, fmt.Errorf("PCI enumeration: %w", err)
	}
	f := pci.Find(fs, ClassXHCI)
	if f == nil {
		var found []string
		for _, f := range fs {
			found = append(found, f.String())
		}
		if len(found) == 0 {
			found = []string{"nothing"}
		}
		return nil, pci.BAR{}, fmt.Errorf("no USB controller: no xHCI (class 0c0330) on the PCI bus (found %s)", strings.Join(found, ", "))
	}
	for _, b := range f.BARs {
		if b.Index == 0 && b.Assigned && !b.IO {
			return f, b, nil
		}
	}
	return nil, pci.BAR{}, fmt.Errorf("xHCI %v: BAR0 (its registers) is missing or was not assigned", f)
}

// usbDisk is the first disk of a USB start-up as a block device whose Close
// stops the controller: what firmware/mount expects of a source.
type usbDisk struct {
	*msc.Disk
	usb *USB
}

func (d usbDisk) Close() error { return d.usb.Close() }

// firstDisk picks the disk a single-device caller uses and says so when there
// is more than one.
func firstDisk(log io.Writer, u *USB) block.Device {
	if n := len(u.Disks); n > 1 {
		var others []string
		for _, d := range u.Disks[1:] {
			others = append(others, d.Name())
		}
		bootlog.New(log, "usb").Printf("using %s; also found %s", u.Disks[0].Name(), strings.Join(others, ", "))
	}
	return usbDisk{u.Disks[0], u}
}

// active is the USB start-up in use. Only one can drive the controller: a new
// OpenUSB stops the old one first, even if its owner lost track of it (a
// start-up that timed out and finished late).
var active struct {
	mu  sync.Mutex
	usb *USB
}

// restart runs open after stopping the previous start-up.
func restart(log io.Writer, open func() (*USB, error)) (*USB, error) {
	active.mu.Lock()
	defer active.mu.Unlock()
	if active.usb != nil {
		active.usb.Close()
		active.usb = nil
	}
	u, err := open()
	if err != nil {
		return nil, err
	}
	active.usb = u
	return u, nil
}

// faultError is a bus fault caught by guardFaults.
type faultError struct {
	what string
	addr uintptr
}

func (e *faultError) Error() string {
	return fmt.Sprintf("%s does not answer: bus fault at %#x", e.what, e.addr)
}

// catchSErrors, where the kernel can turn SErrors into faults (the Pi 4
// firmware sets it to sys.CatchSError), registers the calling thread for
// them while it touches the device at addr, until the returned function runs.
var catchSErrors func(addr uint64) (end func())

// guardFaults runs f with memory faults turned into an error naming what was
// being touched (at addr). A register block that is not there (QEMU raspi4b
// models no PCIe at all and aborts the access synchronously) or a device that
// does not answer (on a Pi 4 the root complex's abort arrives as an SError,
// which the kernel turns into a fault for this thread, see metal/kernel
// step.go) must cost the firmware its USB, not its life. The goroutine keeps
// its thread meanwhile: the kernel knows the thread, not the goroutine. Other
// panics pass through.
func guardFaults(what string, addr uint64, f func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	if catchSErrors != nil {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer catchSErrors(addr)()
	}
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if fault, ok := r.(interface{ Addr() uintptr }); ok {
			err = &faultError{what: what, addr: fault.Addr()}
			return
		}
		panic(r)
	}()
	return f()
}
