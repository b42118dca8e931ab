package bcm2711

import "fmt"

// DefaultReach is how much RAM the default inbound window lets devices reach:
// the first 3 GiB ("the PCIe wrapper on early BCM2711 cannot reach above the
// first 3 GB", upstream bcm2711.dtsi's dma-ranges).
const DefaultReach = 3 << 30

// InboundFor chooses the inbound window for a board from its revision code (the
// firmware's board revision: bit 23 new style, bits 22:20 memory as 256 MB << n,
// 11:4 the type, 3:0 the PCB revision). It returns the window, how much of RAM
// (from CPU address 0) devices reach through it, and why, for the log.
//
// The choice is Circle's (machineinfo.cpp, CMachineInfo::GetPCIeDMAMemory,
// without a device tree): boards with the BCM2711C0 (every Pi 4B from PCB
// revision 1.4, the Pi 400, the CM4) that have 4 GB or more see RAM at PCI
// 0x4_0000_0000, as the firmware writes into the device tree it hands Linux
// there; all others keep PCI 0 = CPU 0 and the early chip's 3 GiB.
func InboundFor(revision uint32) (Inbound, uint64, string) {
	if revision&(1<<23) == 0 {
		return DefaultInbound, DefaultReach, fmt.Sprintf("board revision %#x is not a Pi 4's: the B0 window", revision)
	}
	ram := uint64(256<<20) << (revision >> 20 & 7)
	typ, pcb := revision>>4&0xFF, revision&0xF
	c0 := typ != 0x11 || pcb >= 4 // not a 4B, or a 4B from rev 1.4
	board := fmt.Sprintf("board %06x, %d GB, rev 1.%d", revision, ram>>30, pcb)
	if !c0 || ram < 4<<30 {
		chip := "BCM2711B0"
		if c0 {
			chip = "BCM2711C0 with less than 4 GB"
		}
		return DefaultInbound, DefaultReach, fmt.Sprintf("%s: %s, PCI 0 = CPU 0, devices reach 3 GiB", board, chip)
	}
	size := uint64(1) << 32
	for size < ram {
		size <<= 1
	}
	in := Inbound{Offset: 0x4_0000_0000, Size: size}
	return in, ram, fmt.Sprintf("%s: BCM2711C0 with 4 GB or more, RAM at PCI %#x (Circle's choice for these boards)", board, in.Offset)
}
