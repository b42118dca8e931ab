// Package storage starts the firmware's storage devices and mounts the model
// volume: it finds the SD card on whichever controller holds it, initialises
// it, picks the FAT32 partition and mounts it, logging each step as one line
// in the kernel's boot-log format, so a person at the UART can see where a
// start-up stops.
//
// The steps are portable (ProbeSD and MountFAT take register banks, a clock
// source and block devices) and host-tested; OpenSD wires them to the Pi 4's
// registers and mailbox in the firmware.
//
// USB sticks come up the same way: OpenUSB brings up the PCIe bus (the
// BCM2711 root complex and the VL805 on a Pi 4, ECAM on QEMU virt), starts the
// xHCI and returns the mass-storage disks found, with a Close for starting
// again after /exit; OpenUSBDisk is the same as a firmware/mount source.
// StartXHCI and FindXHCI are its portable, host-tested steps.
package storage

import (
	"fmt"
	"io"

	"github.com/inferpi/inferpi/platform/bootlog"
	"github.com/inferpi/inferpi/storage/block"
	"github.com/inferpi/inferpi/storage/fat32"
	"github.com/inferpi/inferpi/storage/part"
)

// MountFAT finds the first FAT partition on dev and mounts it as FAT32,
// logging the partition and the volume. name says what dev is ("SD card") and
// starts every error message.
func MountFAT(log io.Writer, dev block.Device, name string) (*fat32.FS, part.Info, error) {
	l := bootlog.New(log, name)
	vol, info, err := part.FindFAT(dev)
	if err != nil {
		return nil, info, fmt.Errorf("%s: %w", name, err)
	}
	if info.Scheme == part.SchemeNone {
		l.Printf("%s", info.Partition)
	} else {
		l.Printf("%s %s", info.Scheme, info.Partition)
	}
	fsys, err := fat32.Open(vol)
	if err != nil {
		return nil, info, fmt.Errorf("%s: %w", name, err)
	}
	fi := fsys.Info()
	label := fi.Label
	if label == "" {
		label = "(no label)"
	}
	l.Printf("FAT32 volume %s, %d MiB, %d clusters of %d bytes", label, fi.Bytes>>20, fi.Clusters, fi.ClusterSize)
	return fsys, info, nil
}
