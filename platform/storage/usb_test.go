package storage

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inferpi/inferpi/driver/pci"
	"github.com/inferpi/inferpi/driver/pci/pcifake"
	"github.com/inferpi/inferpi/driver/usb"
	"github.com/inferpi/inferpi/driver/usb/msc"
	"github.com/inferpi/inferpi/driver/usb/usbfake"
	"github.com/inferpi/inferpi/driver/xhci"
	"github.com/inferpi/inferpi/driver/xhci/xhcifake"
	"github.com/inferpi/inferpi/storage/imagetest"
)

// fakeOptions make the fake controller's waits instant.
func fakeOptions() USBOptions {
	noSleep := func(time.Duration) {}
	return USBOptions{XHCI: xhci.Options{Sleep: noSleep, PortSettle: time.Millisecond},
		MSC: msc.Options{Sleep: noSleep, ReadyTimeout: time.Second}}
}

// halted reports whether the fake controller is stopped (USBSTS.HCH; the
// fake's operational registers start at 0x40).
func halted(hc *xhcifake.Controller) bool { return hc.Read32(0x44)&1 != 0 }

// A stick with a FAT32 image on QEMU's controller: StartXHCI finds it, the
// volume mounts and a file reads back; every driver line is a boot-log line;
// Close stops the controller and frees its memory, once.
func TestStartXHCIMountsStick(t *testing.T) {
	imagetest.NeedTools(t, "sfdisk", "mkfs.fat", "mcopy", "mmd")
	img := filepath.Join(t.TempDir(), "stick.img")
	imagetest.Sparse(t, img, 64<<20)
	imagetest.Partition(t, img, "label: dos\nstart=2048, type=c\n")
	vol := imagetest.Volume{Image: img, Offset: 1 << 20}
	imagetest.Format(t, vol, 32, 1, 63<<20, "-n", "STICK")
	data := imagetest.Bytes(5, 300000)
	vol.Mkdir(t, "models")
	vol.Put(t, "models/model.bin", data)
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}

	mem := xhcifake.NewMemory(0x4000_0000)
	hc := xhcifake.New(mem, xhcifake.QEMU())
	hc.Attach(1, usbfake.NewMassStorage(usb.SpeedSuper, raw, 512))
	var log bytes.Buffer
	u, err := StartXHCI(&log, hc, mem, fakeOptions())
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if len(u.Disks) != 1 || u.Disks[0].Name() != "usb 1" {
		t.Fatalf("disks %v", u.Disks)
	}
	fsys, _, err := MountFAT(&log, u.Disks[0], u.Disks[0].Name())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := fsys.ReadFile("models/model.bin"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("reading back the file: %d bytes, %v", len(got), err)
	}
	for _, line := range strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n") {
		if !regexp.MustCompile(`^` + stamp).MatchString(line) {
			t.Errorf("log line without a boot-log stamp: %q", line)
		}
	}
	for _, want := range []string{`\] xhci: running`, `\] usb 1: [^\n]*131072 sectors of 512 bytes`, `\] usb 1: FAT32 volume STICK`} {
		if !regexp.MustCompile(want).MatchString(log.String()) {
			t.Errorf("log does not match %s:\n%s", want, log.String())
		}
	}
	if halted(hc) {
		t.Fatal("controller halted while in use")
	}
	if err := u.Close(); err != nil || !halted(hc) || mem.Allocated != 0 {
		t.Errorf("Close: %v, halted %v, %d coherent buffers left", err, halted(hc), mem.Allocated)
	}
	if err := u.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for _, v := range append(hc.Violations, mem.Violations...) {
		t.Errorf("violation: %s", v)
	}
}

// Without a stick the error says why in words a person can act on, wraps
// ErrNoUSBDisk, and the controller is stopped again.
func TestStartXHCIWithoutStick(t *testing.T) {
	for _, c := range []struct {
		name   string
		attach func(*xhcifake.Controller)
		want   string
	}{
		{"nothing plugged in", func(*xhcifake.Controller) {},
			"no USB storage device found: nothing is plugged in (8 USB ports, all empty)"},
		// A Pi 4 without a stick: the VL805's internal hub and nothing behind it.
		{"only a hub", func(hc *xhcifake.Controller) { hc.Attach(5, usbfake.NewHub(usb.SpeedHigh, 4)) },
			"no USB storage device found: nothing is plugged in (8 USB ports, only the hub usb 5)"},
		{"a hub with a hub-class device", func(hc *xhcifake.Controller) {
			hub := usbfake.NewHub(usb.SpeedHigh, 4)
			hub.Plug(3, usbfake.NewHub(usb.SpeedHigh, 2))
			hc.Attach(5, hub)
		}, "no USB storage device found: nothing is plugged in (8 USB ports, only the hub usb 5, the hub usb 5.3)"},
		{"a keyboard", func(hc *xhcifake.Controller) { hc.Attach(6, usbfake.NewKeyboard(usb.SpeedFull)) },
			`no USB storage device found: USB devices are connected, but none is a bulk-only mass-storage device: usb 6: 0627:0001 "QEMU" "QEMU USB Keyboard", full-speed (12 Mb/s)`},
		{"a stick that fails", func(hc *xhcifake.Controller) {
			stick := usbfake.NewMassStorage(usb.SpeedHigh, make([]byte, 4096), 512)
			stick.Inject = func(c usbfake.Command) usbfake.Fault {
				if c.Op == 0x12 { // INQUIRY
					return usbfake.FaultPhaseError
				}
				return usbfake.FaultNone
			}
			hub := usbfake.NewHub(usb.SpeedHigh, 4)
			hub.Plug(1, stick)
			hc.Attach(5, hub)
		}, "no USB storage device found: usb 5.1: INQUIRY: transport error: device reports a phase error"},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := xhcifake.NewMemory(0x4000_0000)
			hc := xhcifake.New(mem, xhcifake.QEMU())
			c.attach(hc)
			var log bytes.Buffer
			u, err := StartXHCI(&log, hc, mem, fakeOptions())
			if u != nil || !errors.Is(err, ErrNoUSBDisk) || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("StartXHCI = %v, %v; want ErrNoUSBDisk starting %q\n%s", u, err, c.want, log.String())
			}
			if !halted(hc) || mem.Allocated != 0 {
				t.Errorf("controller left running (%v) or %d coherent buffers left", !halted(hc), mem.Allocated)
			}
		})
	}
}

// A controller that does not answer fails with the driver's message.
func TestStartXHCIDeadController(t *testing.T) {
	mem := xhcifake.NewMemory(0x4000_0000)
	hc := xhcifake.New(mem, xhcifake.QEMU())
	hc.Dead = true
	_, err := StartXHCI(&bytes.Buffer{}, hc, mem, fakeOptions())
	if err == nil || !strings.Contains(err.Error(), "read all-ones: the controller is not answering") {
		t.Fatalf("StartXHCI = %v", err)
	}
}

// QEMU virt's bus as FindXHCI meets it (QEMU hw/arm/virt.c: VIRT_PCIE_MMIO;
// include/hw/pci/pci_ids.h: host bridge 1b36:0008, qemu-xhci 1b36:000d): the
// xHCI's BAR0 is assigned from the 32-bit window and reported; a bus without an
// xHCI, or an xHCI without BAR0, gives an error naming what was found.
func TestFindXHCI(t *testing.T) {
	w := pci.Windows{Mem: pci.Window{CPU: 0x1000_0000, Bus: 0x1000_0000, Size: 0x2eff_0000}}
	space := func(withXHCI, withBAR bool) *pcifake.Space {
		s := pcifake.NewSpace()
		s.Plug(0, 0, pcifake.NewEndpoint(0x1b36, 0x0008, 0x060000))
		if withXHCI {
			x := pcifake.NewEndpoint(0x1b36, 0x000d, ClassXHCI)
			if withBAR {
				x.AddBAR(0, 16384, true, false)
			}
			s.Plug(1, 0, x)
		}
		return s
	}
	var log bytes.Buffer
	f, bar, err := FindXHCI(&log, space(true, true), w)
	if err != nil {
		t.Fatal(err)
	}
	if f.Addr != (pci.Address{Device: 1}) || bar.CPU != 0x1000_0000 || bar.Size != 16384 {
		t.Errorf("found %v, BAR %+v", f, bar)
	}
	if !regexp.MustCompile(stamp + `pci 00:01.0 1b36:000d class 0c0330: BAR0 64-bit 16 KiB at bus 0x10000000 \(CPU 0x10000000\); command 0x0006\n`).MatchString(log.String()) {
		t.Errorf("log:\n%s", log.String())
	}
	_, _, err = FindXHCI(&log, space(false, false), w)
	if want := "no USB controller: no xHCI (class 0c0330) on the PCI bus (found 00:00.0 1b36:0008 class 060000)"; err == nil || err.Error() != want {
		t.Errorf("no xHCI: %v, want %q", err, want)
	}
	_, _, err = FindXHCI(&log, space(true, false), w)
	if want := "xHCI 00:01.0 1b36:000d class 0c0330: BAR0 (its registers) is missing or was not assigned"; err == nil || err.Error() != want {
		t.Errorf("no BAR: %v, want %q", err, want)
	}
}

// A second start-up stops the first one, even if its owner never closed it
// (firmware/mount gives up on a slow source but the start-up goes on).
func TestRestartStopsPrevious(t *testing.T) {
	start := func() (*xhcifake.Controller, func() (*USB, error)) {
		mem := xhcifake.NewMemory(0x4000_0000)
		hc := xhcifake.New(mem, xhcifake.QEMU())
		hc.Attach(1, usbfake.NewMassStorage(usb.SpeedSuper, make([]byte, 1<<20), 512))
		return hc, func() (*USB, error) { return StartXHCI(&bytes.Buffer{}, hc, mem, fakeOptions()) }
	}
	hc1, open1 := start()
	u1, err := restart(&bytes.Buffer{}, open1)
	if err != nil {
		t.Fatal(err)
	}
	hc2, open2 := start()
	u2, err := restart(&bytes.Buffer{}, open2)
	if err != nil {
		t.Fatal(err)
	}
	if !halted(hc1) || halted(hc2) {
		t.Errorf("after the second start-up: first halted %v, second halted %v", halted(hc1), halted(hc2))
	}
	if err := u1.Disks[0].ReadBlocks(0, make([]byte, 512)); err == nil {
		t.Error("the stopped start-up's disk still reads")
	}
	if err := u2.Disks[0].ReadBlocks(0, make([]byte, 512)); err != nil {
		t.Errorf("the new start-up's disk: %v", err)
	}
	u2.Close()
	// A failed start-up leaves nothing active.
	if _, err := restart(&bytes.Buffer{}, func() (*USB, error) { return nil, ErrNoUSBDisk }); !errors.Is(err, ErrNoUSBDisk) || active.usb != nil {
		t.Errorf("failed start-up: %v, active %v", err, active.usb)
	}
}

// The drivers' plain lines become boot-log lines, however they arrive.
func TestLogWriter(t *testing.T) {
	var out bytes.Buffer
	w := newLogWriter(&out)
	w.l.Uptime = func() time.Duration { return 1500 * time.Millisecond }
	w.Write([]byte("xhci: run"))
	w.Write([]byte("ning\nusb 1: a\r\nusb 1: b\npart"))
	want := "[  1.500000] xhci: running\n[  1.500000] usb 1: a\n[  1.500000] usb 1: b\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}

// The source firmware/mount uses: the first disk, the others named in the
// log, and closing the device stops USB.
func TestFirstDisk(t *testing.T) {
	mem := xhcifake.NewMemory(0x4000_0000)
	hc := xhcifake.New(mem, xhcifake.QEMU())
	hc.Attach(2, usbfake.NewMassStorage(usb.SpeedSuper, make([]byte, 1<<20), 512))
	hc.Attach(3, usbfake.NewMassStorage(usb.SpeedSuper, make([]byte, 2<<20), 512))
	var log bytes.Buffer
	u, err := StartXHCI(&log, hc, mem, fakeOptions())
	if err != nil {
		t.Fatal(err)
	}
	dev := firstDisk(&log, u)
	if dev.Blocks() != 2048 || !strings.Contains(log.String(), "] usb: using usb 2; also found usb 3\n") {
		t.Errorf("%d blocks; log:\n%s", dev.Blocks(), log.String())
	}
	c, ok := dev.(io.Closer)
	if !ok {
		t.Fatal("the device has no Close")
	}
	if err := c.Close(); err != nil || !halted(hc) || mem.Allocated != 0 {
		t.Errorf("Close: %v, halted %v, %d coherent buffers left", err, halted(hc), mem.Allocated)
	}
}
