//go:build linux && arm64 && virt

package storage

import (
	"fmt"
	"io"

	"github.com/inferpi/inferpi/driver/sdhci"
	"github.com/inferpi/inferpi/storage/block"
)

// OpenSD fails on QEMU virt, which has no SD controller (its disks are USB).
func OpenSD(log io.Writer) (block.Device, error) {
	return nil, fmt.Errorf("%w: QEMU virt has no SD controller", sdhci.ErrNoCard)
}
