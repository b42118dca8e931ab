package bcm2711

import (
	"strings"
	"testing"
)

// The window for each kind of board, by revision code (the Raspberry Pi
// documentation's table of new-style codes).
func TestInboundFor(t *testing.T) {
	for _, c := range []struct {
		revision     uint32
		offset, size uint64
		reach        uint64
		why          string
	}{
		{0xa03111, 0, 4 << 30, 3 << 30, "board a03111, 1 GB, rev 1.1: BCM2711B0"},
		{0xc03112, 0, 4 << 30, 3 << 30, "board c03112, 4 GB, rev 1.2: BCM2711B0"},
		{0xb03114, 0, 4 << 30, 3 << 30, "board b03114, 2 GB, rev 1.4: BCM2711C0 with less than 4 GB"},
		{0xb03115, 0, 4 << 30, 3 << 30, "BCM2711C0 with less than 4 GB"}, // QEMU raspi4b's
		{0xc03114, 0x4_0000_0000, 4 << 30, 4 << 30, "board c03114, 4 GB, rev 1.4: BCM2711C0 with 4 GB or more, RAM at PCI 0x400000000"},
		{0xd03114, 0x4_0000_0000, 8 << 30, 8 << 30, "board d03114, 8 GB, rev 1.4: BCM2711C0"},
		{0xc03130, 0x4_0000_0000, 4 << 30, 4 << 30, "board c03130, 4 GB, rev 1.0: BCM2711C0"}, // Pi 400
		{0xd03140, 0x4_0000_0000, 8 << 30, 8 << 30, "BCM2711C0"},                              // CM4 8 GB
		{0x0011, 0, 4 << 30, 3 << 30, "not a Pi 4's"},                                         // old style
	} {
		in, reach, why := InboundFor(c.revision)
		if in.Offset != c.offset || in.Size != c.size || reach != c.reach || !strings.Contains(why, c.why) {
			t.Errorf("%06x: window %#x+%#x, reach %#x, %q; want %#x+%#x, %#x, %q", c.revision, in.Offset, in.Size, reach, why, c.offset, c.size, c.reach, c.why)
		}
		if encodeInboundSize(in.Size) == 0 || in.Offset%in.Size != 0 {
			t.Errorf("%06x: window %#x+%#x cannot be programmed", c.revision, in.Offset, in.Size)
		}
	}
}
