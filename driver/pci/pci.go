// Package pci enumerates a PCI Express hierarchy through configuration space:
// it scans buses, devices and functions, numbers the buses behind bridges, sizes
// the BARs and assigns them from the memory windows the platform gives, programs
// the bridges' windows and turns on memory decoding and bus mastering.
//
// It is used under QEMU virt (ECAM) and, through the BCM2711 root complex's own
// configuration window, on the Raspberry Pi 4.
//
// References (facts only): PCI Local Bus 3.0 §6; PCI-to-PCI Bridge Architecture
// 1.2 §3.2; PCI Express Base 4.0 §7.2.2 (ECAM); Linux drivers/pci/setup-bus.c and
// probe.c; U-Boot drivers/pci/pci_auto.c.
package pci

import (
	"fmt"

	"github.com/inferpi/inferpi/driver/reg"
)

// Address names a function: bus, device (0-31), function (0-7).
type Address struct {
	Bus      uint8
	Device   uint8
	Function uint8
}

func (a Address) String() string { return fmt.Sprintf("%02x:%02x.%x", a.Bus, a.Device, a.Function) }

// Packed is bus<<20 | device<<15 | function<<12: the ECAM offset of the
// function's configuration space, and the BCM2711's EXT_CFG_INDEX value.
func (a Address) Packed() uint32 {
	return uint32(a.Bus)<<20 | uint32(a.Device&0x1F)<<15 | uint32(a.Function&7)<<12
}

// Config is access to configuration space, 32 bits at a time at 4-byte aligned
// offsets. Reads of absent functions return all-ones.
type Config interface {
	Read32(a Address, off int) uint32
	Write32(a Address, off int, v uint32)
}

// ECAM is configuration space mapped as in PCI Express §7.2.2: 4 KiB per
// function, bus 0 at the start of the bank (QEMU virt: 0x40_1000_0000).
type ECAM struct{ Bank reg.Bank }

func (e ECAM) Read32(a Address, off int) uint32 {
	return e.Bank.Read32(uintptr(a.Packed()) + uintptr(off&0xFFC))
}

func (e ECAM) Write32(a Address, off int, v uint32) {
	e.Bank.Write32(uintptr(a.Packed())+uintptr(off&0xFFC), v)
}

// Configuration space registers (PCI 3.0 §6.1, bridge spec §3.2).
const (
	regID          = 0x00 // vendor 15:0, device 31:16
	regCommand     = 0x04 // command 15:0, status 31:16 (write-1-to-clear)
	regClass       = 0x08 // revision 7:0, class code 31:8
	regHeader      = 0x0C // cache line 7:0, latency 15:8, header type 23:16
	regBAR0        = 0x10
	regBusNumbers  = 0x18 // bridge: primary 7:0, secondary 15:8, subordinate 23:16
	regIOWindow    = 0x1C // bridge: I/O base 7:0, limit 15:8, secondary status 31:16
	regMemWindow   = 0x20 // bridge: memory base 15:0, limit 31:16
	regPrefWindow  = 0x24 // bridge: prefetchable base 15:0, limit 31:16
	regPrefBaseHi  = 0x28
	regPrefLimitHi = 0x2C
	regIOUpper     = 0x30

	cmdIO         = 1 << 0
	cmdMemory     = 1 << 1
	cmdBusMaster  = 1 << 2
	headerMulti   = 0x80
	headerDevice  = 0
	headerBridge  = 1
	barIO         = 1 << 0
	barType64     = 2 << 1
	barPrefetch   = 1 << 3
	bridgeAlign   = 1 << 20 // bridge memory windows have 1 MiB granularity
	ioWindowEmpty = 0x00F0  // I/O base above limit: window closed
	memWindowOff  = 0x0000FFF0
)
