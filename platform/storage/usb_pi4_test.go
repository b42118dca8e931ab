package storage

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/console/serial"
	"github.com/inferpi/inferpi/driver/dma"
	"github.com/inferpi/inferpi/driver/pcie/bcm2711"
	"github.com/inferpi/inferpi/driver/pcie/bcm2711/rcfake"
	"github.com/inferpi/inferpi/driver/reg"
	"github.com/inferpi/inferpi/driver/usb"
	"github.com/inferpi/inferpi/driver/usb/usbfake"
	"github.com/inferpi/inferpi/driver/xhci/xhcifake"
	"github.com/inferpi/inferpi/firmware/app"
	"github.com/inferpi/inferpi/firmware/mount"
	"github.com/inferpi/inferpi/firmware/sdimage"
	"github.com/inferpi/inferpi/storage/block"
	"github.com/inferpi/inferpi/storage/imagetest"
)

// modelCard writes a FAT32 disk image holding the Llama demo model.
func modelCard(t *testing.T) string {
	t.Helper()
	imagetest.NeedTools(t, sdimage.Tools...)
	files, err := sdimage.ModelDir("../../models/llama-demo", "llama-demo")
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(t.TempDir(), "card.img")
	if err := sdimage.Build(img, files, sdimage.Options{}); err != nil {
		t.Fatal(err)
	}
	return img
}

// pi4 is a Raspberry Pi 4 made of fakes: the root complex with its VL805, and
// behind the outbound window an xHCI (the VL805's layout) with hc's devices.
type pi4 struct {
	rc     *rcfake.RootComplex
	hc     *xhcifake.Controller
	mem    *xhcifake.Memory
	mapped int // MapXHCI calls
}

func newPi4() *pi4 {
	mem := xhcifake.NewMemory(0x1000_0000)
	return &pi4{rc: rcfake.New(), mem: mem, hc: xhcifake.New(mem, xhcifake.VL805())}
}

// source is the USB source as the Pi 4 firmware has it (OpenUSBDisk), on
// the fakes.
func (p *pi4) source() mount.Source {
	return mount.Source{Name: "USB", Open: func(log io.Writer) (block.Device, error) {
		u, err := StartPi4USB(log, Pi4USB{
			RCAddr:      0xfd500000,
			RootComplex: p.rc,
			Firmware:    p.rc,
			PCIe:        bcm2711.Options{Sleep: p.rc.Sleep},
			MapXHCI: func(pa, size uint64) (reg.Bank, error) {
				p.mapped++
				return p.rc.XHCI(bcm2711.DefaultOutbound.Bus, p.hc), nil
			},
			DMA:      func(uint64) dma.Memory { return p.mem },
			DMAReach: 3 << 30,
			USB:      fakeOptions(),
		})
		if err != nil {
			return nil, err
		}
		return firstDisk(log, u), nil
	}}
}

func (p *pi4) violations() []string {
	return append(append(p.rc.Violations, p.hc.Violations...), p.mem.Violations...)
}

// bootToMenu runs the firmware's flow (firmware/app) with sources until the
// menu, where the input ends, and returns what the UART showed.
func bootToMenu(t *testing.T, sources ...mount.Source) string {
	t.Helper()
	var out bytes.Buffer
	in, ended := app.WatchEnd(strings.NewReader(""))
	a := &app.App{Term: serial.New(in, &out), Out: &out, InputEnded: ended,
		Sources: sources, Alloc: noAlloc{}, Options: app.DefaultOptions}
	if err := a.Run(); err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	return strings.ReplaceAll(out.String(), "\r\n", "\n")
}

// noAlloc is a machine with 1 GB free for models that is never asked for it.
type noAlloc struct{}

func (noAlloc) Available() int64          { return 1 << 30 }
func (noAlloc) Alloc(int) ([]byte, error) { return nil, errors.New("not in this test") }
func (noAlloc) Free([]byte) error         { return nil }

// A Pi 4 whose VideoCore never loads the VL805's firmware: the USB start-up
// says so and gives up without touching the xHCI registers (on the board an
// SError that halts it), and the firmware reaches the menu over the SD card.
func TestVL805WithoutFirmwareFallsBackToSD(t *testing.T) {
	img := modelCard(t)
	p := newPi4()
	p.rc.FirmwarePolls = -1
	p.hc.Attach(2, usbfake.NewMassStorage(usb.SpeedSuper, make([]byte, 1<<20), 512))
	screen := bootToMenu(t, p.source(), mount.ImageSource("SD card", img))
	for _, want := range []string{
		"pcie: asking the VideoCore to load the VL805 firmware",
		"storage: USB: pcie: the VL805 reports no firmware (config 0x50 = 0) 100 ms after the VideoCore was asked to load it",
		"storage: SD card: starting",
		"storage: reading models from the SD card",
		"  1. llama-demo",
		"Select model (1-1): ",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("the UART lacks %q:\n%s", want, screen)
		}
	}
	if p.mapped != 0 {
		t.Errorf("the xHCI registers were mapped %d times", p.mapped)
	}
	if rep, ok := LastPCIe(); !ok || !errors.Is(rep.Err, bcm2711.ErrNoFirmware) {
		t.Errorf("PCIe report %+v, %v", rep, ok)
	}
	for _, v := range p.violations() {
		t.Error(v)
	}
}

// The same board with the firmware loaded: the stick behind the VL805 is
// found and the models come from USB.
func TestPi4USBReachesTheMenu(t *testing.T) {
	img := modelCard(t)
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	p := newPi4()
	p.rc.ResetOnNotify = true // the firmware load also clears BAR0 and COMMAND
	p.hc.Attach(2, usbfake.NewMassStorage(usb.SpeedSuper, raw, 512))
	screen := bootToMenu(t, p.source(), mount.ImageSource("SD card", "/nonexistent"))
	for _, want := range []string{
		"pcie: VL805 firmware 0x000138c0 running after 2 ms",
		"pcie: VL805 configuration lost in the firmware load",
		"storage: reading models from the USB",
		"Select model (1-1): ",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("the UART lacks %q:\n%s", want, screen)
		}
	}
	if rep, ok := LastPCIe(); !ok || rep.Err != nil || rep.Link != "Gen 2 x1" || rep.Firmware != 0x138c0 || rep.Inbound != bcm2711.DefaultInbound {
		t.Errorf("PCIe report %+v, %v", rep, ok)
	}
	for _, v := range p.violations() {
		t.Error(v)
	}
}
