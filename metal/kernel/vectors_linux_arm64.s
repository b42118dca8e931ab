#include "go_asm.h"
#include "textflag.h"

// CTX_X(n) is the offset of register xn in a context (go_asm.h's context_x).
#define CTX_X(n) (context_x+(n)*8)

// SAVE_X2_X30 stores x2..x30 into the context at R0.
#define SAVE_X2_X30 \
	STP	(R2, R3), CTX_X(2)(R0) \
	STP	(R4, R5), CTX_X(4)(R0) \
	STP	(R6, R7), CTX_X(6)(R0) \
	STP	(R8, R9), CTX_X(8)(R0) \
	STP	(R10, R11), CTX_X(10)(R0) \
	STP	(R12, R13), CTX_X(12)(R0) \
	STP	(R14, R15), CTX_X(14)(R0) \
	STP	(R16, R17), CTX_X(16)(R0) \
	STP	(R18_PLATFORM, R19), CTX_X(18)(R0) \
	STP	(R20, R21), CTX_X(20)(R0) \
	STP	(R22, R23), CTX_X(22)(R0) \
	STP	(R24, R25), CTX_X(24)(R0) \
	STP	(R26, R27), CTX_X(26)(R0) \
	STP	(g, R29), CTX_X(28)(R0) \
	MOVD	R30, CTX_X(30)(R0)

// The EL1 exception vector table (Arm ARM D1.10.2): 16 entries of 128 bytes.
// Go code runs at EL1 on SP_EL0 ("EL1t"), so its system calls, faults and
// interrupts arrive at the "current EL with SP0" entries; exceptions taken while
// the kernel itself runs (on SP_EL1, "EL1h") are kernel faults.

#define ENTRY_THREAD(kind) \
	STP.W	(R0, R1), -16(RSP) \
	MOVD	$kind, R1 \
	B	·threadTrap(SB) \
	PCALIGN	$128

#define ENTRY_KERNEL(kind) \
	MSR	R0, TPIDRRO_EL0 \
	MOVD	$kind, R0 \
	MSR	R0, CONTEXTIDR_EL1 \
	B	·kernelTrap(SB) \
	PCALIGN	$128

TEXT ·vectors(SB),NOSPLIT|NOFRAME,$0
	PCALIGN	$2048
	ENTRY_THREAD(const_vecSync)   // 0x000 current EL, SP0: synchronous (SVC, faults)
	ENTRY_THREAD(const_vecIRQ)    // 0x080 IRQ
	ENTRY_THREAD(const_vecFIQ)    // 0x100 FIQ
	ENTRY_THREAD(const_vecSError) // 0x180 SError
	ENTRY_KERNEL(const_vecSync)   // 0x200 current EL, SPx: the kernel faulted
	ENTRY_KERNEL(const_vecIRQ)    // 0x280 (interrupts are masked in the kernel)
	ENTRY_KERNEL(const_vecFIQ)    // 0x300
	ENTRY_KERNEL(const_vecSError) // 0x380
	ENTRY_KERNEL(const_vecLower)  // 0x400 lower EL (nothing runs at EL0)
	ENTRY_KERNEL(const_vecLower)
	ENTRY_KERNEL(const_vecLower)
	ENTRY_KERNEL(const_vecLower)
	ENTRY_KERNEL(const_vecLower)  // 0x600 lower EL, AArch32
	ENTRY_KERNEL(const_vecLower)
	ENTRY_KERNEL(const_vecLower)
	ENTRY_KERNEL(const_vecLower)

// threadTrap saves the interrupted thread into its context (percore.ctx), calls
// trap(kind) in kernel context, then resumes whichever thread is current after it.
// On entry: SP = SP_EL1 = this core's kernel stack top, original x0/x1 pushed, R1 = kind.
TEXT ·threadTrap(SB),NOSPLIT|NOFRAME,$0
	MRS	TPIDR_EL1, R0
	MOVD	percore_ctx(R0), R0
	SAVE_X2_X30
	LDP.P	16(RSP), (R2, R3)
	STP	(R2, R3), CTX_X(0)(R0)
	MRS	SP_EL0, R2
	MRS	ELR_EL1, R3
	STP	(R2, R3), context_sp(R0) // sp, pc
	MRS	SPSR_EL1, R2
	MOVD	R2, context_pstate(R0)
	ADD	$context_v, R0, R2
	VST1.P	[V0.B16, V1.B16, V2.B16, V3.B16], 64(R2)
	VST1.P	[V4.B16, V5.B16, V6.B16, V7.B16], 64(R2)
	VST1.P	[V8.B16, V9.B16, V10.B16, V11.B16], 64(R2)
	VST1.P	[V12.B16, V13.B16, V14.B16, V15.B16], 64(R2)
	VST1.P	[V16.B16, V17.B16, V18.B16, V19.B16], 64(R2)
	VST1.P	[V20.B16, V21.B16, V22.B16, V23.B16], 64(R2)
	VST1.P	[V24.B16, V25.B16, V26.B16, V27.B16], 64(R2)
	VST1.P	[V28.B16, V29.B16, V30.B16, V31.B16], 64(R2)
	MOVD	FPSR, R3
	MOVD	FPCR, R4
	STP	(R3, R4), (R2) // fpsr, fpcr: right after v

	MRS	TPIDR_EL1, R2
	ADD	$percore_g, R2, g
	SUB	$16, RSP
	MOVD	R1, 8(RSP)
	BL	·trap(SB)
	ADD	$16, RSP
	B	·resumeThread(SB)

// resumeThread loads the current thread's context and returns to it. The kernel
// stack is left empty (SP_EL1 = top), ready for the next exception.
TEXT ·resumeThread(SB),NOSPLIT|NOFRAME,$0
	MRS	TPIDR_EL1, R0
	MOVD	percore_ksp(R0), R1
	MOVD	R1, RSP
	MOVD	percore_ctx(R0), R0
	ADD	$context_v, R0, R2
	VLD1.P	64(R2), [V0.B16, V1.B16, V2.B16, V3.B16]
	VLD1.P	64(R2), [V4.B16, V5.B16, V6.B16, V7.B16]
	VLD1.P	64(R2), [V8.B16, V9.B16, V10.B16, V11.B16]
	VLD1.P	64(R2), [V12.B16, V13.B16, V14.B16, V15.B16]
	VLD1.P	64(R2), [V16.B16, V17.B16, V18.B16, V19.B16]
	VLD1.P	64(R2), [V20.B16, V21.B16, V22.B16, V23.B16]
	VLD1.P	64(R2), [V24.B16, V25.B16, V26.B16, V27.B16]
	VLD1.P	64(R2), [V28.B16, V29.B16, V30.B16, V31.B16]
	LDP	(R2), (R3, R4) // fpsr, fpcr: right after v
	MOVD	R3, FPSR
	MOVD	R4, FPCR
	LDP	context_sp(R0), (R2, R3) // sp, pc
	MSR	R2, SP_EL0
	MSR	R3, ELR_EL1
	MOVD	context_pstate(R0), R2
	MSR	R2, SPSR_EL1
	LDP	CTX_X(2)(R0), (R2, R3)
	LDP	CTX_X(4)(R0), (R4, R5)
	LDP	CTX_X(6)(R0), (R6, R7)
	LDP	CTX_X(8)(R0), (R8, R9)
	LDP	CTX_X(10)(R0), (R10, R11)
	LDP	CTX_X(12)(R0), (R12, R13)
	LDP	CTX_X(14)(R0), (R14, R15)
	LDP	CTX_X(16)(R0), (R16, R17)
	LDP	CTX_X(18)(R0), (R18_PLATFORM, R19)
	LDP	CTX_X(20)(R0), (R20, R21)
	LDP	CTX_X(22)(R0), (R22, R23)
	LDP	CTX_X(24)(R0), (R24, R25)
	LDP	CTX_X(26)(R0), (R26, R27)
	// LDP X28, X29, [X0, #CTX_X(28)], as a WORD: vet takes a restore of g for a
	// clobber. The 64-bit signed-offset encoding (Arm ARM, LDP) holds the offset
	// divided by 8 in bits 21:15.
	WORD	$(0xa940741c | (CTX_X(28)/8)<<15)
	MOVD	CTX_X(30)(R0), R30
	LDP	CTX_X(0)(R0), (R0, R1)
	CLREX	$15
	ERET

// kernelTrap handles an exception taken in kernel context. A fault on the load in
// probeRead32 is expected (probing for a device that may not exist) and resumes
// after the load with the fault flag set. Anything else is a kernel bug: the
// registers go to the core's panic frame and kernelFault reports and stops.
// On entry: original x0 in TPIDRRO_EL0, the kind in CONTEXTIDR_EL1 (unused
// otherwise: no ASIDs); nothing else touched.
TEXT ·kernelTrap(SB),NOSPLIT|NOFRAME,$0
	MSR	R1, TPIDR_EL0 // Go never uses TPIDR_EL0 without cgo: a free scratch register
	MRS	CONTEXTIDR_EL1, R0
	CMP	$const_vecSync, R0
	BNE	fatal
	MRS	ELR_EL1, R1
	MOVD	$·probeRead32+8(SB), R0 // the load in probeRead32
	CMP	R0, R1
	BNE	fatal
	ADD	$4, R1, R1
	MSR	R1, ELR_EL1
	MOVD	$0, R0
	MOVD	$1, R1
	ERET
fatal:
	// R0 = &panicFrames[core] with R0 and R1 alone: x2 is still the context's.
	MRS	TPIDR_EL1, R1
	MOVD	percore_id(R1), R1
	MOVD	$context__size, R0
	MUL	R1, R0, R0
	MOVD	$·panicFrames(SB), R1
	ADD	R1, R0, R0
	SAVE_X2_X30
	MRS	TPIDRRO_EL0, R2
	MRS	TPIDR_EL0, R3
	STP	(R2, R3), CTX_X(0)(R0)
	MOVD	RSP, R2
	MRS	ELR_EL1, R3
	STP	(R2, R3), context_sp(R0) // sp, pc
	MRS	SPSR_EL1, R2
	MOVD	R2, context_pstate(R0)
	// Fresh stack and g for the report: the kernel stack may be what broke.
	MRS	TPIDR_EL1, R1
	MOVD	percore_id(R1), R2
	MOVD	$·panicStacks(SB), R3
	MOVD	$const_panicStackSize, R4
	MADD	R2, R3, R4, R3
	ADD	R4, R3, R4
	MOVD	R3, (percore_g+fakeG_stackLo)(R1)
	MOVD	R4, (percore_g+fakeG_stackHi)(R1)
	ADD	$const_stackGuard, R3, R3
	MOVD	R3, (percore_g+fakeG_stackguard0)(R1)
	MOVD	R3, (percore_g+fakeG_stackguard1)(R1)
	SUB	$16, R4, R4
	MOVD	R4, RSP
	ADD	$percore_g, R1, g
	MRS	CONTEXTIDR_EL1, R0
	MOVD	R0, 8(RSP)
	BL	·kernelFault(SB)
hang:
	WFI
	B	hang

// probeRead32(addr) (v uint32, faulted bool) reads a device register that may not
// exist (QEMU's raspi4b has no RNG200, and touching it aborts). The load must stay
// where it is: kernelTrap recognises a fault there.
TEXT ·probeRead32(SB),NOSPLIT|NOFRAME,$0-13
	MOVD	addr+0(FP), R0
	MOVD	$0, R1
	MOVWU	(R0), R0 // must stay the third instruction (kernelTrap)
	MOVW	R0, v+8(FP)
	MOVB	R1, faulted+12(FP)
	RET

// sigreturnTrampoline is where a signal handler returns to (its x30): arm64 Go
// passes no sa_restorer, and Linux would use the vDSO's __kernel_rt_sigreturn.
TEXT ·sigreturnTrampoline(SB),NOSPLIT|NOFRAME,$0
	MOVD	$const_SYS_RT_SIGRETURN, R8
	SVC
	B	0(PC)

TEXT ·bootAddr(SB),NOSPLIT,$0-8
	MOVD	$·Boot(SB), R0
	MOVD	R0, ret+0(FP)
	RET

TEXT ·sigreturnTrampolineAddr(SB),NOSPLIT,$0-8
	MOVD	$·sigreturnTrampoline(SB), R0
	MOVD	R0, ret+0(FP)
	RET

TEXT ·rt0Addr(SB),NOSPLIT,$0-8
	MOVD	$_rt0_arm64_linux(SB), R0
	MOVD	R0, ret+0(FP)
	RET

TEXT ·textStart(SB),NOSPLIT,$0-8
	MOVD	$runtime·text(SB), R0
	MOVD	R0, ret+0(FP)
	RET

TEXT ·textEnd(SB),NOSPLIT,$0-8
	MOVD	$runtime·etext(SB), R0
	MOVD	R0, ret+0(FP)
	RET

TEXT ·pclntabAddr(SB),NOSPLIT,$0-8
	MOVD	$runtime·pclntab(SB), R0
	MOVD	R0, ret+0(FP)
	RET

TEXT ·imageEnd(SB),NOSPLIT,$0-8
	MOVD	$runtime·end(SB), R0
	MOVD	R0, ret+0(FP)
	RET
