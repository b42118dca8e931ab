package kernel

import (
	"github.com/inferpi/inferpi/board"
	"github.com/inferpi/inferpi/metal/arm64"
	"github.com/inferpi/inferpi/metal/mm"
)

// Constants the assembly reads through go_asm.h.
const (
	bootBlockCount = 4
	mairValue      = mm.MAIRValue
	stackGuard     = 2048 // fake g's stackguard: how close to the bottom Go code may come
)

// bootBlocks is the boot-time L1 table: 1 GiB identity blocks (board.BootGBn).
var bootBlocks = [bootBlockCount]uint64{
	board.BootGB0 | 0<<30,
	board.BootGB1 | 1<<30,
	board.BootGB2 | 2<<30,
	board.BootGB3 | 3<<30,
}

// secondaryGate is non-zero until core 0 lets the other cores in. It is in
// initialised data (not BSS, which core 0 zeroes while they may already wait).
var secondaryGate uint64 = 1

// kernelRoot is the final translation table, for the secondaries' MMU.
var kernelRoot uint64

// panicFrames hold each core's registers when the kernel itself faults (x0..x30,
// sp, pc and pstate of the context; kernelTrap fills them, kernelFault reports).
var panicFrames [maxCores]context

var (
	dmaPool     board.Region
	dmaUsed     [dmaPoolPages / 64]uint64
	bootEnd     uint64 // end of image + boot tables
	hwcapBits   uint64
	ramRegions  [8]board.Region
	nramRegions int
)

const (
	dmaPoolSize  = 4 << 20
	dmaPoolPages = dmaPoolSize / mm.PageSize
)

// bootMain runs on core 0 in kernel context right after the MMU is on. It finds
// memory, builds the kernel's translation tables, starts the other cores, sets up
// interrupts and the console, and makes the Go runtime's entry the first thread.
func bootMain(dtb uintptr) {
	cntfrq = arm64.CNTFRQ()
	for i := range cores {
		cores[i].cur = -1
	}
	ncores = 1
	platformDTB(dtb)
	platformEarly()
	kputs("\n")
	var l kline
	l.stamp()
	l.s("InferPi kernel: Go linux/arm64 runtime on bare metal (").s(board.Name).s(")").print()

	// Physical memory.
	frames.Init(0)
	nramRegions = platformMemory(&ramRegions)
	for i := 0; i < nramRegions; i++ {
		frames.AddRAM(ramRegions[i].Base, ramRegions[i].Size)
	}
	bootEnd = mm.RoundUp(uint64(imageEnd()), mm.PageSize) + 2*mm.PageSize
	frames.Reserve(0, bootEnd) // page 0, spin table, the image, the boot tables
	var rsv [8]board.Region
	for i, n := 0, platformReserved(&rsv); i < n; i++ {
		frames.Reserve(rsv[i].Base, rsv[i].Size)
	}
	dmaLimit := uint64(1 << 30) // DMA and mailbox buffers stay in the first GiB
	if board.Virt {
		dmaLimit = 4 << 30
	}
	if pa, ok := frames.AllocRange(dmaPoolPages, 2<<20, dmaLimit); ok {
		dmaPool = board.Region{Base: pa, Size: dmaPoolSize}
	}

	// Translation tables: RAM identity-mapped (page 0 left out so nil dereferences
	// fault), the DMA pool non-cacheable, peripherals as device memory.
	root, ok := mm.NewTables(&tableMem)
	if !ok {
		kputs("kernel: out of memory building page tables\n")
		arm64.Halt()
	}
	for i := 0; i < nramRegions; i++ {
		r := ramRegions[i]
		base := r.Base
		if base < mm.PageSize {
			base = mm.PageSize
		}
		root.Map(base, base, mm.RoundDown(r.Base+r.Size, mm.PageSize)-base, mm.Attrs{Mem: mm.MemNormal, Exec: true, Block: true})
	}
	if dmaPool.Size != 0 {
		root.Map(dmaPool.Base, dmaPool.Base, dmaPool.Size, mm.Attrs{Mem: mm.MemNormalNC, Block: true})
	}
	var dev [8]board.Region
	for i, n := 0, platformDevices(&dev); i < n; i++ {
		root.Map(dev[i].Base, dev[i].Base, dev[i].Size, mm.Attrs{Mem: mm.MemDevice, Block: true})
	}

	// Let the other cores run up to their gate (page 0 is still mapped), then
	// switch to the final tables and open the gate.
	startSecondaries(bootAddr())
	arm64.SetTTBR0(root.Root)
	tablesRoot = root.Root
	// The boot tables mapped the DMA pool's RAM cacheable, the final ones map
	// it non-cacheable. Lines the boot mapping put in the caches (speculative
	// fills, dirty ones too) would otherwise be written back over what a device
	// wrote later, or be hit by the non-cacheable accesses (mismatched
	// attributes, Arm ARM B2.8). Linux cleans and invalidates a buffer to the
	// point of coherency before it maps it non-cacheable for DMA, for the same
	// reason (arch/arm64/mm/dma-mapping.c, arch_dma_prep_coherent). The other
	// cores turn their caches on with the final tables, so once suffices.
	if dmaPool.Size != 0 {
		arm64.DCCleanInvalRange(uintptr(dmaPool.Base), uintptr(dmaPool.Size))
	}
	vspace.Init(userBase, userTop)
	usable.Init(userBase, userTop)
	kernelRoot = root.Root
	arm64.DCCleanInvalRange(uintptr(ptrOf64(&kernelRoot)), 8)
	secondaryGate = 0
	arm64.DCCleanInvalRange(uintptr(ptrOf64(&secondaryGate)), 8)
	arm64.DSB()
	arm64.SEV()

	// Interrupts: the timer on every core (each enables its own), the UART on core 0.
	intc().InitDistributor()
	intc().InitCPU()
	intc().Enable(board.TimerIRQ, 0)
	intc().Enable(sgiWake, 0)
	intc().Enable(board.UARTIRQ, 0)
	consoleKick()
	cores[0].started = 1

	platformLate()
	hwcapBits = hwcap()
	seedRandom()
	platformLog()
	l = kline{}
	l.stamp()
	l.s("memory: ").mb(frames.Total() * mm.PageSize).s(" RAM, ").mb(frames.Free() * mm.PageSize).s(" free, kernel image ").x(board.LoadAddr).s("..").x(bootEnd).print()
	l = kline{}
	l.stamp()
	l.s("cpu: MIDR ").x(arm64.MIDR()).s(", HWCAP ").x(hwcapBits).s(", EL1, MMU and caches on").print()

	startInit()
}

func ptrOf64(p *uint64) uintptr { return uintptr(unsafePointer(p)) }

// secondaryMain runs on cores 1..3 once they are through the gate.
func secondaryMain() {
	c := thisCore()
	c.cur = -1
	intc().InitCPU()
	intc().Enable(board.TimerIRQ, int(c.id))
	intc().Enable(sgiWake, int(c.id))
	bkl.lock()
	c.started = 1
	ncores++
	var l kline
	l.stamp()
	l.s("cpu").d(uint64(c.id)).s(": online").print()
	finishTrap(c) // idles until there is a thread to run
}

// startInit makes thread 0: the Go runtime's _rt0_arm64_linux on a Linux-style
// initial stack (argc, argv, envp, auxv; runtime/asm_arm64.s and os_linux.go).
func startInit() {
	const stackSize = 1 << 20 // rt0_go uses the 64 KiB below SP as m0's g0 stack
	base, ok := vspace.FindFree(stackSize, mm.PageSize)
	if !ok || !vspace.Reserve(base, stackSize) || !commit(base, stackSize, mm.MemNormal) {
		kputs("kernel: cannot allocate the initial stack\n")
		arm64.Halt()
	}
	p := uintptr(base + stackSize)
	p -= 16
	argv0 := p
	copy(bytesAt(p, 16), "inferpi\x00")
	p -= 16
	random := p // AT_RANDOM: 16 bytes the runtime reads and overwrites
	fillRandom(bytesAt(random, 16))
	auxv := [...]uint64{
		1,                // argc
		uint64(argv0), 0, // argv
		0,              // envp
		6, mm.PageSize, // AT_PAGESZ (required)
		25, uint64(random), // AT_RANDOM
		16, hwcapBits, // AT_HWCAP
		17, 100, // AT_CLKTCK
		0, 0, // AT_NULL
	}
	sp := (p - uintptr(len(auxv))*8) &^ 15
	for i, v := range auxv {
		*u64At(sp + uintptr(i)*8) = v
	}
	t := &threads[0]
	*t = thread{}
	t.tid = newTID()
	t.ctx.pc = uint64(rt0Addr())
	t.ctx.sp = uint64(sp)
	t.ctx.pstate = pstateEL1t
	t.state = tsRunning
	c := &cores[0]
	c.cur = 0
	c.sliceEnd = ticksAfter(sliceNS)
	c.ctx = uintptr(ptrOf(&t.ctx))
	var l kline
	l.stamp()
	l.s("kernel: starting the Go runtime").print()
	bkl.lock()
	finishTrap(c)
}

// hwcap derives AT_HWCAP from the CPU's ID registers (Linux arch/arm64 hwcap bits),
// so the runtime uses exactly the instructions this CPU has (the Cortex-A72 has no
// LSE atomics; the Pi's BCM2711 has no crypto extensions, QEMU's model does).
func hwcap() uint64 {
	isar0, pfr0 := arm64.IDAA64ISAR0(), arm64.IDAA64PFR0()
	f := func(v uint64, shift uint) uint64 { return v >> shift & 0xf }
	var h uint64
	if fp := f(pfr0, 16); fp != 0xf {
		h |= 1 << 0 // FP
		if fp == 1 {
			h |= 1 << 9 // FPHP
		}
	}
	if simd := f(pfr0, 20); simd != 0xf {
		h |= 1 << 1 // ASIMD
		if simd == 1 {
			h |= 1 << 10 // ASIMDHP
		}
	}
	if aes := f(isar0, 4); aes >= 1 {
		h |= 1 << 3 // AES
		if aes >= 2 {
			h |= 1 << 4 // PMULL
		}
	}
	if f(isar0, 8) >= 1 {
		h |= 1 << 5 // SHA1
	}
	if sha2 := f(isar0, 12); sha2 >= 1 {
		h |= 1 << 6 // SHA2
		if sha2 >= 2 {
			h |= 1 << 21 // SHA512
		}
	}
	if f(isar0, 16) >= 1 {
		h |= 1 << 7 // CRC32
	}
	if f(isar0, 20) >= 2 {
		h |= 1 << 8 // ATOMICS
	}
	h |= 1 << 11 // CPUID: MRS of ID registers works (we run at EL1)
	if f(isar0, 28) >= 1 {
		h |= 1 << 12 // ASIMDRDM
	}
	if f(isar0, 32) >= 1 {
		h |= 1 << 17 // SHA3
	}
	if f(isar0, 44) >= 1 {
		h |= 1 << 20 // ASIMDDP
	}
	return h
}
