//go:build linux && arm64

// Command firmware is InferPi on the Raspberry Pi 4 (kernel8.img): at boot it
// starts the storage (a USB stick first, then the SD card),
// lists the model directories it finds, loads the one the user picks into a
// kernel buffer and chats over the UART until /exit brings the menu back.
//
// Everything the user sees is package firmware/app, which the host tests run on
// disk images; this file only wires it to the hardware: the UART (os.Stdin and
// os.Stdout, which the kernel connects to the PL011) through the serial line
// editor, the storage drivers, and the kernel's model buffers (metal/sys).
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/inferpi/inferpi/console/serial"
	"github.com/inferpi/inferpi/firmware/app"
	"github.com/inferpi/inferpi/firmware/loader"
	"github.com/inferpi/inferpi/firmware/mount"
	"github.com/inferpi/inferpi/firmware/sysinfo"
	_ "github.com/inferpi/inferpi/metal/kernel"
	"github.com/inferpi/inferpi/metal/sys"
	"github.com/inferpi/inferpi/platform/bootlog"
	"github.com/inferpi/inferpi/platform/mailbox"
	"github.com/inferpi/inferpi/platform/storage"
)

// sources are tried in this order at every start-up of the storage (boot and
// each /exit): the USB stick first (the Pi 4's VL805 behind the BCM2711 PCIe
// root complex; QEMU virt's qemu-xhci), then the SD card. Each only has to
// return a block.Device and log its steps; a device with Close is closed
// before the next start-up.
var sources = []mount.Source{
	{Name: "USB", Open: storage.OpenUSBDisk},
	{Name: "SD card", Open: storage.OpenSD},
}

func main() {
	bootlog.SetStepHook(sys.SetStep)
	// The VideoCore is asked for its temperature and throttling every few
	// seconds for as long as the firmware runs (docs/bare-metal.md: why).
	if mb, err := mailbox.Firmware(); err == nil {
		go mb.Keepalive(bootlog.New(os.Stdout, "vc"), mailbox.KeepalivePeriod, nil)
	}
	editor := serial.New(os.Stdin, os.Stdout)
	a := &app.App{
		Term:     editor,
		Out:      os.Stdout,
		Sources:  sources,
		Alloc:    kernelBuffers{},
		Reserve:  loader.DefaultReserve,
		Banner:   banner() + "\n" + diagHint(),
		Options:  app.DefaultOptions,
		Info:     describeMachine,
		Diag:     runDiag,
		Released: debug.FreeOSMemory, // give the Go heap's free pages (the KV cache) back too
	}
	// The UART never ends, so Run returns only if reading it fails; start over
	// rather than leave the user at a dead console.
	for {
		if err := a.Run(); err != nil {
			fmt.Fprintf(os.Stdout, "console: %v; starting again\r\n", err)
			time.Sleep(time.Second)
		}
	}
}

// diagHint is the boot-log line that tells people about /diag.
func diagHint() string {
	var b strings.Builder
	bootlog.New(&b, "diag").Printf("type /diag at the model menu to test this board (RAM, cores, clocks, UART, SD card, USB, PCIe, decoding speed); please paste what it prints into bug reports")
	return b.String()
}

func banner() string {
	info, err := sys.Info()
	if err != nil {
		return fmt.Sprintf("InferPi firmware (%s); machine information unavailable: %v", runtime.Version(), err)
	}
	mem, _ := sys.MemStats()
	return fmt.Sprintf("InferPi firmware (%s) on %s", runtime.Version(), sysinfo.Summary(&info, &mem))
}

// kernelBuffers is the model memory: virtually contiguous buffers from the
// kernel, backed by whatever pages are free (never the VideoCore's), outside
// the Go heap so the garbage collector never scans or moves 500 MB of weights.
type kernelBuffers struct{}

func (kernelBuffers) Available() int64 {
	st, err := sys.MemStats()
	if err != nil {
		return 0
	}
	return int64(st.FreeBytes)
}

func (kernelBuffers) Alloc(size int) ([]byte, error) { return sys.AllocBuffer(size) }

func (kernelBuffers) Free(buf []byte) error { return sys.FreeBuffer(buf) }
