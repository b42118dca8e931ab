//go:build linux && arm64

package storage

import (
	"io"

	"github.com/inferpi/inferpi/storage/block"
)

// OpenUSBDisk starts USB (OpenUSB) and returns its first disk as a block
// device; closing the device (io.Closer) stops USB. It has the shape of
// firmware/mount's Source.Open: {Name: "USB", Open: storage.OpenUSBDisk}.
func OpenUSBDisk(log io.Writer) (block.Device, error) {
	u, err := OpenUSB(log)
	if err != nil {
		return nil, err
	}
	return firstDisk(log, u), nil
}
