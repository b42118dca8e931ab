#include "go_asm.h"
#include "textflag.h"

// Boot is the firmware's entry point (the linker's -E): every core arrives here,
// either all at once (QEMU raspi ELF boot, at EL3), or core 0 first and the others
// later when released through the spin table or PSCI (at EL2 or EL1). x0 holds the
// device tree address on core 0 where the loader provides one.
//
// Encodings of the EL2/EL3 system registers the Go assembler does not name
// (MSR <reg>, X1 / MRS X0, <reg>; Arm ARM C5.3):
#define MRS_CURRENTEL_X0  WORD $0xd5384240
#define MSR_SCR_EL3_X1    WORD $0xd51e1101
#define MSR_CPTR_EL3_X1   WORD $0xd51e1141
#define MSR_SPSR_EL3_X1   WORD $0xd51e4001
#define MSR_ELR_EL3_X1    WORD $0xd51e4021
#define MSR_HCR_EL2_X1    WORD $0xd51c1101
#define MRS_CNTHCTL_EL2_X0 WORD $0xd53ce100
#define MSR_CNTHCTL_EL2_X1 WORD $0xd51ce101
#define MSR_CNTVOFF_EL2_X1 WORD $0xd51ce061
#define MSR_VPIDR_EL2_X1  WORD $0xd51c0001
#define MSR_VMPIDR_EL2_X1 WORD $0xd51c00a1
#define MSR_CPTR_EL2_X1   WORD $0xd51c1141
#define MSR_HSTR_EL2_X1   WORD $0xd51c1161
#define MSR_SPSR_EL2_X1   WORD $0xd51c4001
#define MSR_ELR_EL2_X1    WORD $0xd51c4021

// SCTLR_EL1 RES1 bits for ARMv8.0 (29, 28, 23, 22, 20, 11), MMU and caches off.
#define SCTLR_EL1_OFF 0x30D00800

TEXT ·Boot(SB),NOSPLIT|NOFRAME,$0
	MOVD	R0, R20 // device tree (core 0), kept in R20 throughout boot
	MRS	MPIDR_EL1, R19
	AND	$0xff, R19, R19 // core number (Aff0)
	MRS_CURRENTEL_X0
	LSR	$2, R0, R0
	AND	$3, R0, R0
	CMP	$3, R0
	BNE	notEL3
	// EL3 (QEMU raspi ELF boot): non-secure, AArch64 below, HVC on; FP not trapped.
	MOVD	$0x5b1, R1 // RW | HCE | SMD | RES1(5:4) | NS
	MSR_SCR_EL3_X1
	MOVD	$0, R1
	MSR_CPTR_EL3_X1
	MOVD	$0x3c9, R1 // EL2h, DAIF masked
	MSR_SPSR_EL3_X1
	MOVD	$·bootEL2(SB), R1
	MSR_ELR_EL3_X1
	ERET
notEL3:
	CMP	$2, R0
	BNE	el1
	B	·bootEL2(SB)
el1:
	B	·bootEL1(SB)

// bootEL2 hands EL1 the physical timer and counter, makes EL1 AArch64 and drops to EL1.
TEXT ·bootEL2(SB),NOSPLIT|NOFRAME,$0
	MOVD	$(1<<31), R1 // HCR_EL2.RW: EL1 is AArch64; nothing trapped to EL2
	MSR_HCR_EL2_X1
	MRS_CNTHCTL_EL2_X0
	ORR	$3, R0, R1 // EL1PCTEN | EL1PCEN
	MSR_CNTHCTL_EL2_X1
	MOVD	$0, R1
	MSR_CNTVOFF_EL2_X1
	MSR_HSTR_EL2_X1
	MRS	MIDR_EL1, R1
	MSR_VPIDR_EL2_X1
	MRS	MPIDR_EL1, R1
	MSR_VMPIDR_EL2_X1
	MOVD	$0x33ff, R1 // CPTR_EL2: no FP/SIMD traps
	MSR_CPTR_EL2_X1
	MOVD	$SCTLR_EL1_OFF, R1
	MSR	R1, SCTLR_EL1
	MOVD	$0x3c5, R1 // EL1h, DAIF masked
	MSR_SPSR_EL2_X1
	MOVD	$·bootEL1(SB), R1
	MSR_ELR_EL2_X1
	ERET

TEXT ·bootEL1(SB),NOSPLIT|NOFRAME,$0
	MOVD	$(3<<20), R0 // CPACR_EL1.FPEN: Go uses SIMD in memmove/memclr
	MSR	R0, CPACR_EL1
	ISB	$15
	MSR	$3, DAIFSet
	CBZ	R19, core0
	B	·bootSecondary(SB)
core0:

	// Core 0: zero BSS (real hardware does not start with zeroed RAM). No stack yet.
	MOVD	$runtime·edata(SB), R0
	MOVD	$runtime·end(SB), R1
bssbytes:
	TST	$15, R0
	BEQ	bsswords
	CMP	R1, R0
	BHS	bssdone
	MOVB	ZR, (R0)
	ADD	$1, R0
	B	bssbytes
bsswords:
	SUB	$16, R1, R2
bssloop:
	CMP	R2, R0
	BHI	bsstail
	STP.P	(ZR, ZR), 16(R0)
	B	bssloop
bsstail:
	CMP	R1, R0
	BHS	bssdone
	MOVB	ZR, (R0)
	ADD	$1, R0
	B	bsstail
bssdone:

	// Boot-time identity map: an L0 table and an L1 table of 1 GiB blocks, in the two
	// pages after the image (bootTablesAt), as the board's bootBlocks say.
	MOVD	$runtime·end(SB), R21
	ADD	$0xfff, R21, R21
	AND	$~0xfff, R21, R21
	MOVD	R21, R0
	ADD	$(2*4096), R21, R1
zerotables:
	STP.P	(ZR, ZR), 16(R0)
	CMP	R1, R0
	BLO	zerotables
	ADD	$4096, R21, R1 // L1
	ORR	$3, R1, R2     // table descriptor
	MOVD	R2, (R21)      // L0[0] -> L1
	MOVD	$·bootBlocks(SB), R3
	MOVD	$0, R4
blocks:
	MOVD	(R3)(R4<<3), R5
	MOVD	R5, (R1)(R4<<3)
	ADD	$1, R4
	CMP	$const_bootBlockCount, R4
	BLO	blocks
	MOVD	R21, R0
	BL	·mmuOn(SB)

	// Kernel stack, per-core block and fake g for core 0; then Go.
	MOVD	$0, R0
	BL	·enterCore(SB)
	MOVD	R20, 8(RSP)
	BL	·bootMain(SB)
	B	·resumeThread(SB)

// bootSecondary: cores 1..3 wait here (caches off, no stack, touching only
// initialised data, never BSS, which core 0 may be zeroing) until core 0 has built
// the kernel's translation tables and opens the gate.
TEXT ·bootSecondary(SB),NOSPLIT|NOFRAME,$0
	MOVD	$·secondaryGate(SB), R0
wait:
	LDAR	(R0), R1
	CBZ	R1, open
	WFE
	B	wait
open:
	MOVD	$·kernelRoot(SB), R0
	LDAR	(R0), R0
	BL	·mmuOn(SB)
	MOVD	R19, R0
	BL	·enterCore(SB)
	BL	·secondaryMain(SB)
	B	·resumeThread(SB)

// mmuOn enables the MMU and caches with the tables at R0 (a leaf: no stack).
TEXT ·mmuOn(SB),NOSPLIT|NOFRAME,$0
	MOVD	$const_mairValue, R1
	MSR	R1, MAIR_EL1
	// TCR_EL1: T0SZ=16 (48-bit VA), IRGN0/ORGN0 write-back, SH0 inner shareable,
	// TG0 4 KiB, EPD1 (no TTBR1 walks), IPS = the CPU's physical address size.
	MRS	ID_AA64MMFR0_EL1, R2
	AND	$7, R2, R2
	CMP	$5, R2
	BLS	ipsok
	MOVD	$5, R2
ipsok:
	MOVD	$(16 | 1<<8 | 1<<10 | 3<<12 | 1<<23), R1
	ORR	R2<<32, R1, R1
	MSR	R1, TCR_EL1
	MSR	R0, TTBR0_EL1
	ISB	$15
	TLBI	VMALLE1
	DSB	$15
	ISB	$15
	MOVD	$(SCTLR_EL1_OFF | 1 | 4 | 0x1000), R1 // M | C | I
	MSR	R1, SCTLR_EL1
	ISB	$15
	RET

// enterCore(R0 = core) sets SP to the core's kernel stack, TPIDR_EL1 to its percore
// block, fills the fake g's stack bounds, points g (R28) at it and installs the
// vectors. Leaf; returns with RSP ready for Go calls (16 bytes reserved for args).
TEXT ·enterCore(SB),NOSPLIT|NOFRAME,$0
	MOVD	$·cores(SB), R1
	MOVD	$percore__size, R2
	MADD	R0, R1, R2, R1 // R1 = &cores[R0]
	MOVD	$·kstacks(SB), R2
	MOVD	$const_kstackSize, R3
	MADD	R0, R2, R3, R2 // R2 = stack base
	ADD	R3, R2, R3     // R3 = stack top
	MOVD	R3, percore_ksp(R1)
	MOVD	R0, percore_id(R1)
	MOVD	R2, (percore_g+fakeG_stackLo)(R1)
	MOVD	R3, (percore_g+fakeG_stackHi)(R1)
	ADD	$const_stackGuard, R2, R4
	MOVD	R4, (percore_g+fakeG_stackguard0)(R1)
	MOVD	R4, (percore_g+fakeG_stackguard1)(R1)
	MSR	R1, TPIDR_EL1
	ADD	$percore_g, R1, g
	SUB	$16, R3, R3
	MOVD	R3, RSP
	MOVD	$·vectors(SB), R1
	MSR	R1, VBAR_EL1
	ISB	$15
	RET

// psciCall(fn, a1, a2, a3) makes a PSCI call over HVC (QEMU virt's conduit).
TEXT ·psciCall(SB),NOSPLIT,$0-40
	MOVD	fn+0(FP), R0
	MOVD	a1+8(FP), R1
	MOVD	a2+16(FP), R2
	MOVD	a3+24(FP), R3
	HVC	$0
	MOVD	R0, ret+32(FP)
	RET
