// Package gic drives an Arm GICv2 interrupt controller (the Pi 4's GIC-400, QEMU
// virt's GICv2). Safe for kernel context.
//
// Register map: Arm GICv2 architecture specification (IHI 0048B), chapter 4 (the
// Distributor and CPU interface register maps); Circle lib/interruptgic.cpp
// uses the same offsets.
package gic

import "github.com/inferpi/inferpi/driver/reg"

const (
	gicdCTLR       = 0x000
	gicdTYPER      = 0x004
	gicdIGROUPR    = 0x080
	gicdISENABLER  = 0x100
	gicdICENABLER  = 0x180
	gicdICPENDR    = 0x280
	gicdICACTIVER  = 0x380
	gicdIPRIORITYR = 0x400
	gicdITARGETSR  = 0x800
	gicdICFGR      = 0xC00
	gicdSGIR       = 0xF00

	giccCTLR = 0x000
	giccPMR  = 0x004
	giccIAR  = 0x00C
	giccEOIR = 0x010

	// Spurious is what IAR returns when nothing is pending.
	Spurious = 1023
)

// GIC is a distributor and this core's CPU interface.
type GIC struct{ d, c reg.MMIO }

// At returns the GIC with its distributor and CPU interface at the given bases.
func At(dist, cpu uintptr) GIC { return GIC{d: reg.At(dist), c: reg.At(cpu)} }

// Lines is the number of interrupt IDs the distributor implements.
func (g GIC) Lines() int { return int(g.d.Read32(gicdTYPER)&0x1f+1) * 32 }

// InitDistributor resets every shared interrupt to disabled, level-triggered,
// priority 0xA0, routed to core 0, and enables the distributor. Core 0 only.
func (g GIC) InitDistributor() {
	g.d.Write32(gicdCTLR, 0)
	n := g.Lines()
	for i := 32; i < n; i += 32 {
		g.d.Write32(gicdICENABLER+uintptr(i/8), 0xFFFFFFFF)
		g.d.Write32(gicdICPENDR+uintptr(i/8), 0xFFFFFFFF)
		g.d.Write32(gicdICACTIVER+uintptr(i/8), 0xFFFFFFFF)
	}
	for i := 32; i < n; i += 4 {
		g.d.Write32(gicdIPRIORITYR+uintptr(i), 0xA0A0A0A0)
		g.d.Write32(gicdITARGETSR+uintptr(i), 0x01010101)
	}
	for i := 32; i < n; i += 16 {
		g.d.Write32(gicdICFGR+uintptr(i/4), 0)
	}
	g.d.Write32(gicdCTLR, 1)
}

// InitCPU sets up the calling core's interface and its banked SGI/PPI lines.
func (g GIC) InitCPU() {
	g.d.Write32(gicdICENABLER, 0xFFFFFFFF)
	g.d.Write32(gicdICPENDR, 0xFFFFFFFF)
	for i := 0; i < 32; i += 4 {
		g.d.Write32(gicdIPRIORITYR+uintptr(i), 0xA0A0A0A0)
	}
	g.c.Write32(giccPMR, 0xF0)
	g.c.Write32(giccCTLR, 1)
}

// Enable unmasks interrupt id. Shared interrupts (>= 32) are routed to core.
func (g GIC) Enable(id int, core int) {
	if id >= 32 {
		off := gicdITARGETSR + uintptr(id)
		word := off &^ 3
		shift := (off & 3) * 8
		v := g.d.Read32(word)
		v = v&^(0xFF<<shift) | uint32(1<<core)<<shift
		g.d.Write32(word, v)
	}
	g.d.Write32(gicdISENABLER+uintptr(id/32)*4, 1<<(id%32))
}

// Disable masks interrupt id.
func (g GIC) Disable(id int) { g.d.Write32(gicdICENABLER+uintptr(id/32)*4, 1<<(id%32)) }

// Ack returns the highest-priority pending interrupt's IAR value (the ID is the
// low 10 bits; Spurious when none); the caller must EOI it.
func (g GIC) Ack() uint32 { return g.c.Read32(giccIAR) }

// EOI ends the interrupt returned by Ack.
func (g GIC) EOI(iar uint32) { g.c.Write32(giccEOIR, iar) }

// SendSGI raises software interrupt id (0..15) on the cores in targets (bit n = core n).
func (g GIC) SendSGI(id int, targets uint32) {
	g.d.Write32(gicdSGIR, (targets&0xFF)<<16|uint32(id&15))
}
