// Package mount is the firmware's storage start-up: it tries a list of storage
// sources in order (USB first, then the SD card), finds the FAT32 volume on each
// device and logs every step in one line, so a person at the serial console sees
// where the models come from or why there are none.
//
// A source is anything that yields a block.Device: platform/storage.OpenSD on the
// firmware, a USB mass-storage stick once that driver is wired, a disk image file
// in the host tests. Adding one is adding an entry to the list.
package mount

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/inferpi/inferpi/platform/bootlog"
	"github.com/inferpi/inferpi/storage/block"
	"github.com/inferpi/inferpi/storage/fat32"
	"github.com/inferpi/inferpi/storage/part"
)

// Source is one kind of storage the firmware can read models from.
type Source struct {
	Name string // "USB", "SD card": shown in the log and the menu
	// Open brings the device up (again, after /exit), logging its own steps to
	// log, and returns it; an error says why there is none ("no card").
	// A device that implements io.Closer is closed by Volume.Close.
	Open func(log io.Writer) (block.Device, error)
	// Timeout bounds Open, so a driver that never answers cannot hang the
	// firmware; 0 means DefaultTimeout.
	Timeout time.Duration
}

// DefaultTimeout is how long a source's Open may take.
const DefaultTimeout = 60 * time.Second

// Volume is a mounted FAT32 volume.
type Volume struct {
	Source string // the Source's name
	FS     *fat32.FS
	Part   part.Info
	Bytes  int64 // the device's size
	dev    block.Device
}

// Close releases the device (a host image file; the hardware drivers hold no
// resources between start-ups).
func (v *Volume) Close() error {
	if c, ok := v.dev.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Device is the block device the volume is on (to measure its read speed).
func (v *Volume) Device() block.Device { return v.dev }

// ErrNoVolume is returned when no source yields a FAT32 volume.
var ErrNoVolume = errors.New("no storage with a FAT32 volume found")

// Start tries the sources in order and mounts the FAT32 volume of each device it
// finds. It returns the first volume that wanted accepts (e.g. one holding
// models), or, when none does, the first that mounted; the others are closed.
// wanted may be nil (the first volume wins). Each step is logged to log, one
// line in the kernel's boot-log format.
func Start(sources []Source, log io.Writer, wanted func(*Volume) bool) (*Volume, error) {
	l := bootlog.New(log, "storage")
	var first *Volume
	var reasons []string
	for _, s := range sources {
		v, err := mountSource(s, log, l)
		if err != nil {
			l.Printf("%s: %v", s.Name, err)
			reasons = append(reasons, fmt.Sprintf("%s: %v", s.Name, err))
			continue
		}
		if wanted == nil || wanted(v) {
			if first != nil {
				first.Close()
			}
			return v, nil
		}
		if first == nil {
			first = v
		} else {
			v.Close()
		}
	}
	if first != nil {
		return first, nil
	}
	if len(sources) == 0 {
		return nil, fmt.Errorf("%w: this firmware has no storage drivers", ErrNoVolume)
	}
	return nil, fmt.Errorf("%w (%s)", ErrNoVolume, strings.Join(reasons, "; "))
}

// mountSource opens one source and mounts the FAT32 volume on it.
func mountSource(s Source, log io.Writer, l *bootlog.Logger) (*Volume, error) {
	bootlog.Step("storage: " + s.Name)
	l.Printf("%s: starting", s.Name)
	dev, err := open(s, log)
	if err != nil {
		return nil, err
	}
	v := &Volume{Source: s.Name, dev: dev, Bytes: int64(dev.Blocks()) * int64(dev.BlockSize())}
	vol, info, err := part.FindFAT(dev)
	if err != nil {
		v.Close()
		return nil, err
	}
	v.Part = info
	v.FS, err = fat32.Open(vol)
	if err != nil {
		v.Close()
		return nil, fmt.Errorf("%s: %w", where(info), err)
	}
	fi := v.FS.Info()
	label := ""
	if l := strings.TrimSpace(fi.Label); l != "" && l != "NO NAME" {
		label = fmt.Sprintf(" %q", l)
	}
	l.Printf("%s: %s device, %s: FAT32 volume%s of %s, %d-byte clusters",
		s.Name, sizeString(v.Bytes), where(info), label, sizeString(fi.Bytes), fi.ClusterSize)
	return v, nil
}

// open runs the source's Open with a time limit, turning a driver panic into an
// error: a broken card or stick must leave the firmware at its menu.
func open(s Source, log io.Writer) (block.Device, error) {
	type result struct {
		dev block.Device
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- result{nil, fmt.Errorf("driver failed: %v", r)}
			}
		}()
		dev, err := s.Open(log)
		if err == nil && dev == nil {
			err = errors.New("driver returned no device")
		}
		done <- result{dev, err}
	}()
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.dev, r.err
	case <-timer.C:
		return nil, fmt.Errorf("no answer from the device after %v; skipped", timeout)
	}
}

func where(info part.Info) string {
	if info.Scheme == part.SchemeNone {
		return "no partition table"
	}
	return fmt.Sprintf("%s partition %d", info.Scheme, info.Index)
}

func sizeString(n int64) string {
	switch {
	case n >= 10<<30:
		return fmt.Sprintf("%.0f GB", float64(n)/(1<<30))
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%d MB", n>>20)
}

// ImageSource is a Source reading a disk image file on the host: the tests' SD
// card, and a way to run the firmware's flow hosted.
func ImageSource(name, path string) Source {
	return Source{Name: name, Open: func(log io.Writer) (block.Device, error) {
		dev, f, err := block.OpenImage(path)
		if err != nil {
			return nil, err
		}
		return imageDevice{dev, f}, nil
	}}
}

type imageDevice struct {
	*block.File
	io.Closer
}

var stamp = regexp.MustCompile(`(?m)^\[ *\d+\.\d{6}\] `)

// StripStamps removes the boot-log times from the start of each line of s, for
// comparing logs in tests.
func StripStamps(s string) string { return stamp.ReplaceAllString(s, "") }
