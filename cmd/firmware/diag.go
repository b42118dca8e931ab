//go:build linux && arm64

package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/inferpi/inferpi/board"
	"github.com/inferpi/inferpi/driver/sdhci"
	"github.com/inferpi/inferpi/firmware/diag"
	"github.com/inferpi/inferpi/firmware/loader"
	"github.com/inferpi/inferpi/firmware/mount"
	"github.com/inferpi/inferpi/firmware/sysinfo"
	"github.com/inferpi/inferpi/metal/sys"
	"github.com/inferpi/inferpi/platform/bootlog"
	"github.com/inferpi/inferpi/platform/mailbox"
	"github.com/inferpi/inferpi/platform/storage"
	"github.com/inferpi/inferpi/soc/bcm2711"
	"github.com/inferpi/inferpi/storage/block"
)

// Under QEMU the diagnostic tests less: emulated RAM, storage and cores say
// nothing about a board, and every instruction is slow.
const (
	ramQuick     = 64 << 20
	readAmount   = 64 << 20
	readQuick    = 1 << 20
	decodeTokens = 32
	decodeQuick  = 8
)

// runDiag is the menu's /diag: the board diagnostic (firmware/diag) on this
// machine. vol is the storage in use, nil when none was found.
func runDiag(w io.Writer, vol *mount.Volume) {
	info, err := sys.Info()
	if err != nil {
		fmt.Fprintf(w, "diag: machine information unavailable: %v\n", err)
		return
	}
	mem, _ := sys.MemStats()
	fmt.Fprintf(w, "diag: InferPi firmware (%s) on %s; board revision %#x, firmware %#x\n",
		runtime.Version(), sysinfo.Summary(&info, &mem), info.BoardRevision, info.FirmwareRevision)
	quick := info.IsQEMU != 0
	diag.Run(w, []diag.Step{
		ramStep(quick),
		{Name: "cores", About: "the same work on every core at once", Run: func(*bootlog.Logger) diag.Result {
			stats, err := diag.Cores(int(info.Cores), 3, 10*time.Second, sys.CurrentCore)
			if err != nil {
				return diag.Failed("%v", err)
			}
			return diag.Passed("%d cores, the same result on each: %s%s", len(stats), diag.DescribeCores(stats), qemuNote(quick, "emulated cores"))
		}},
		{Name: "clocks", About: "clocks, temperature and throttling from the VideoCore", Run: clocks},
		{Name: "uart", About: "what the UART received since boot", Run: uart},
		{Name: "sd", About: "reading the SD card", Run: func(log *bootlog.Logger) diag.Result {
			return sdRead(w, vol, quick)
		}},
		{Name: "usb", About: "USB enumeration and reading a stick", Run: func(log *bootlog.Logger) diag.Result {
			return usbRead(w, vol, quick)
		}},
		{Name: "pcie", About: "the PCIe link and the VL805's firmware", Run: func(*bootlog.Logger) diag.Result {
			return pcie(quick)
		}},
		{Name: "decode", About: "decoding speed of a synthetic model on 1 core and on all", Run: func(*bootlog.Logger) diag.Result {
			tokens := decodeTokens
			if quick {
				tokens = decodeQuick
			}
			r, err := diag.Decode(quick, tokens, runtime.GOMAXPROCS(0))
			if err != nil {
				return diag.Failed("%v", err)
			}
			if !r.SameTokens {
				return diag.Failed("%s", r)
			}
			return diag.Passed("%s%s", r, qemuNote(quick, "emulated cores, a tiny model"))
		}},
	})
}

// ramStep writes and reads back a pattern over all the free memory above the
// firmware image, less what the Go heap needs meanwhile.
func ramStep(quick bool) diag.Step {
	return diag.Step{Name: "ram", About: "a pattern pass over the free RAM above the firmware image", Run: func(log *bootlog.Logger) diag.Result {
		st, err := sys.MemStats()
		if err != nil {
			return diag.Failed("memory statistics: %v", err)
		}
		size := (int64(st.FreeBytes) - loader.DefaultReserve) &^ (2<<20 - 1)
		note := fmt.Sprintf(" (all free RAM but %s kept for the firmware)", loader.Size(loader.DefaultReserve))
		if quick && size > ramQuick {
			size, note = ramQuick, " (QEMU: 64 MB of the free RAM)"
		}
		if size <= 0 {
			return diag.Failed("no free memory to test (%s free)", loader.Size(int64(st.FreeBytes)))
		}
		log.Printf("%s of %s", loader.Size(size), loader.Size(int64(st.TotalBytes)))
		buf, err := sys.AllocBuffer(int(size))
		if err != nil {
			return diag.Failed("%v", err)
		}
		defer sys.FreeBuffer(buf)
		r := diag.PatternPass(buf, runtime.GOMAXPROCS(0), nil)
		if r.Bad > 0 {
			pa, _, _ := sys.VirtToPhys(buf[r.FirstBad : r.FirstBad+8])
			return diag.Failed("%s (physical address %#x)", r, pa)
		}
		return diag.Passed("%s%s", r, note)
	}}
}

// clocks asks the VideoCore for the ARM and core clocks, the temperature and
// throttling: fails on under-voltage or throttling now.
func clocks(*bootlog.Logger) diag.Result {
	mb, err := mailbox.Firmware()
	if err != nil {
		return diag.Unavailable("no VideoCore mailbox: %v", err)
	}
	var facts []string
	arm, err := mb.ClockRate(bcm2711.ClockARM)
	if err != nil {
		return diag.Failed("ARM clock: %v", err)
	}
	s := fmt.Sprintf("ARM %d MHz", arm/1_000_000)
	if max, err := mb.MaxClockRate(bcm2711.ClockARM); err == nil {
		s += fmt.Sprintf(" (max %d", max/1_000_000)
		if m, err := mb.MeasuredClockRate(bcm2711.ClockARM); err == nil {
			s += fmt.Sprintf(", measured %d", m/1_000_000)
		}
		s += ")"
	}
	facts = append(facts, s)
	if core, err := mb.ClockRate(bcm2711.ClockCore); err == nil {
		facts = append(facts, fmt.Sprintf("core %d MHz", core/1_000_000))
	}
	if mc, err := mb.Temperature(); err == nil {
		t := fmt.Sprintf("SoC %.1f °C", float64(mc)/1000)
		if max, err := mb.MaxTemperature(); err == nil {
			t += fmt.Sprintf(" (throttles at %.0f °C)", float64(max)/1000)
		}
		facts = append(facts, t)
	}
	th, err := mb.Throttled(false)
	if err != nil {
		return diag.Failed("%s; throttling: %v", strings.Join(facts, ", "), err)
	}
	facts = append(facts, "throttling: "+th.String())
	if th.Now(mailbox.UnderVoltage) || th.Now(mailbox.Throttled) {
		return diag.Failed("%s: the supply or the cooling is not enough", strings.Join(facts, ", "))
	}
	return diag.Passed("%s", strings.Join(facts, ", "))
}

// uart reports what the console received: this /diag came in through it, so
// receive works; bytes lost to line errors or a full buffer fail the step.
func uart(*bootlog.Logger) diag.Result {
	st, err := sys.ConsoleStats()
	if err != nil {
		return diag.Failed("%v", err)
	}
	s := fmt.Sprintf("%d bytes received since boot, UART interrupts %d, bytes with line errors (framing, parity, break, overrun) %d, lost to a full buffer %d",
		st.RxBytes, st.RxIRQs, st.RxErrors, st.RxDropped)
	if st.RxErrors > 0 || st.RxDropped > 0 {
		return diag.Failed("%s: check the wiring, the ground and the baud rate (115200)", s)
	}
	return diag.Passed("%s", s)
}

// readBuffer is a kernel buffer for the read tests, as the loader reads into.
func readBuffer() ([]byte, error) { return sys.AllocBuffer(2 << 20) }

// sdRead measures the SD card: the one in use, or one started for the test.
func sdRead(w io.Writer, vol *mount.Volume, quick bool) diag.Result {
	var dev block.Device
	what := "the card in use"
	if vol != nil && vol.Source == "SD card" {
		dev = vol.Device()
	} else {
		d, err := storage.OpenSD(w)
		if errors.Is(err, sdhci.ErrNoCard) {
			return diag.Unavailable("%v", err)
		}
		if err != nil {
			return diag.Failed("%v", err)
		}
		dev, what = d, "the card"
	}
	if h, ok := dev.(*sdhci.Host); ok {
		what += ", " + h.Card().String()
	}
	return readStep(dev, what, quick)
}

// usbRead brings USB up unless it is in use, and measures the first stick.
func usbRead(w io.Writer, vol *mount.Volume, quick bool) diag.Result {
	if vol != nil && vol.Source == "USB" {
		return readStep(vol.Device(), "the stick in use", quick)
	}
	u, err := storage.OpenUSB(w)
	switch {
	case errors.Is(err, storage.ErrNoUSBDisk):
		return diag.Passed("the bus enumerates, but %v: read speed not measured", err)
	case err != nil && quick:
		return diag.Unavailable("%v", err) // what QEMU was started without
	case err != nil:
		return diag.Failed("%v", err)
	}
	defer u.Close()
	return readStep(u.Disks[0], u.Disks[0].Name(), quick)
}

func readStep(dev block.Device, what string, quick bool) diag.Result {
	buf, err := readBuffer()
	if err != nil {
		return diag.Failed("read buffer: %v", err)
	}
	defer sys.FreeBuffer(buf)
	amount := int64(readAmount)
	if quick {
		amount = readQuick
	}
	r, err := diag.ReadSpeed(dev, buf, amount)
	if err != nil {
		return diag.Failed("%s: %v after %s", what, err, r)
	}
	return diag.Passed("%s: %s%s", what, r, qemuNote(quick, "an emulated device"))
}

// qemuNote says why a measurement means nothing under QEMU.
func qemuNote(quick bool, why string) string {
	if !quick {
		return ""
	}
	return " (QEMU: " + why + ")"
}

// pcie reports the link and the VL805 firmware that the last USB start-up found.
func pcie(quick bool) diag.Result {
	switch {
	case board.Virt:
		return diag.Unavailable("QEMU virt has a generic PCIe bus (ECAM), no BCM2711 root complex or VL805")
	case quick:
		return diag.Unavailable("QEMU raspi4b models no PCIe")
	}
	r, ok := storage.LastPCIe()
	if !ok {
		return diag.Failed("USB was never started")
	}
	if r.Err != nil {
		return diag.Failed("%v", r.Err)
	}
	return diag.Passed("link up, %s; VL805 firmware %#08x; devices see RAM at PCI %#x (%s window)",
		r.Link, r.Firmware, r.Inbound.Offset, loader.Size(int64(r.Inbound.Size)))
}
