//go:build linux && arm64 && virt

package mailbox

import "errors"

// Firmware fails on QEMU virt, which has no VideoCore.
func Firmware() (*Client, error) {
	return nil, errors.New("mailbox: QEMU virt has no VideoCore mailbox")
}
