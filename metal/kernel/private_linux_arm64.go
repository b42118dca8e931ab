package kernel

import (
	"unsafe"

	"github.com/inferpi/inferpi/board"
	"github.com/inferpi/inferpi/metal/abi"
	"github.com/inferpi/inferpi/metal/arm64"
	"github.com/inferpi/inferpi/metal/mm"
)

// InferPi's private system calls: the firmware's narrow window into the kernel
// (used through package metal/sys), listed in metal/abi.

var privateCalls = [abi.SysCount - abi.PrivateBase]sysEntry{
	abi.SysInfo - privateBase:         {name: "info", fn: sysInfo},
	abi.SysMapDevice - privateBase:    {name: "map_device", fn: sysMapDevice},
	abi.SysAllocDMA - privateBase:     {name: "alloc_dma", fn: sysAllocDMA},
	abi.SysFreeDMA - privateBase:      {name: "free_dma", fn: sysFreeDMA},
	abi.SysAllocBuffer - privateBase:  {name: "alloc_buffer", fn: sysAllocBuffer},
	abi.SysFreeBuffer - privateBase:   {name: "free_buffer", fn: sysFreeBuffer},
	abi.SysVirtToPhys - privateBase:   {name: "virt_to_phys", fn: sysVirtToPhys},
	abi.SysWaitIRQ - privateBase:      {name: "wait_irq", fn: sysWaitIRQ},
	abi.SysReboot - privateBase:       {name: "reboot", fn: sysReboot},
	abi.SysCurrentCore - privateBase:  {name: "current_core", fn: sysCurrentCore},
	abi.SysSetRealtime - privateBase:  {name: "set_realtime", fn: sysSetRealtime},
	abi.SysMemStats - privateBase:     {name: "mem_stats", fn: sysMemStats},
	abi.SysWatchdog - privateBase:     {name: "watchdog", fn: sysWatchdog},
	abi.SysSetStep - privateBase:      {name: "set_step", fn: sysSetStep},
	abi.SysCatchSError - privateBase:  {name: "catch_serror", fn: sysCatchSError},
	abi.SysConsoleStats - privateBase: {name: "console_stats", fn: sysConsoleStats},
}

// The optional watchdog: armed on request, re-armed from core 0's timer
// interrupt at half its period. If the kernel stops taking interrupts (a hang),
// the board resets.
var (
	watchdogSecs uint64
	watchdogNext uint64 // counter value of the next re-arm
)

func sysWatchdog(c *percore, t *thread) uint64 {
	secs := t.ctx.x[0]
	if secs > 15 {
		return errno(EINVAL) // the PM watchdog counts at most ~16 s
	}
	if !watchdogSet(secs) {
		return errno(ENODEV)
	}
	watchdogSecs = secs
	watchdogNext = ticksAfter(secs * 1e9 / 2)
	return 0
}

// watchdogService re-arms the watchdog when due (core 0, timer interrupt).
func watchdogService() {
	if watchdogSecs != 0 && counter() >= watchdogNext {
		watchdogSet(watchdogSecs)
		watchdogNext = ticksAfter(watchdogSecs * 1e9 / 2)
	}
}

var bufferBytes uint64

func sysInfo(c *percore, t *thread) uint64 {
	p := uintptr(t.ctx.x[0])
	if !userOK(p, unsafe.Sizeof(abi.Info{})) {
		return errno(EFAULT)
	}
	info := (*abi.Info)(ptrAt(p))
	*info = abi.Info{}
	copy(info.Board[:len(info.Board)-1], board.Name)
	info.Cores = uint32(ncores)
	if platform.isQEMU {
		info.IsQEMU = 1
	}
	info.CounterHz = cntfrq
	fillPlatformInfo(info)
	info.NRAM = uint32(nramRegions)
	for i := 0; i < nramRegions; i++ {
		info.RAM[i] = abi.Region{Base: ramRegions[i].Base, Size: ramRegions[i].Size}
	}
	info.DMAPool = abi.Region{Base: dmaPool.Base, Size: dmaPool.Size}
	info.KernelEnd = bootEnd
	return 0
}

func sysMemStats(c *percore, t *thread) uint64 {
	p := uintptr(t.ctx.x[0])
	if !userOK(p, unsafe.Sizeof(abi.MemStats{})) {
		return errno(EFAULT)
	}
	s := (*abi.MemStats)(ptrAt(p))
	free := 0
	for _, w := range dmaUsed {
		for b := 0; b < 64; b++ {
			if w&(1<<b) == 0 {
				free++
			}
		}
	}
	*s = abi.MemStats{
		TotalBytes:   frames.Total() * mm.PageSize,
		FreeBytes:    frames.Free() * mm.PageSize,
		DMAFreeBytes: uint64(free) * mm.PageSize,
		BufferBytes:  bufferBytes,
		MappedRanges: uint64(vspace.Count()),
	}
	return 0
}

// sysMapDevice maps a device range (identity, device memory). Ranges the board
// already maps are simply returned.
func sysMapDevice(c *percore, t *thread) uint64 {
	pa, size := t.ctx.x[0], t.ctx.x[1]
	if size == 0 || pa+size < pa || pa+size > userBase {
		return errno(EINVAL)
	}
	tb := tables()
	if got, mt, ok := tb.Lookup(pa); ok && got == pa && mt == mm.MemDevice {
		if last, mt2, ok2 := tb.Lookup(pa + size - 1); ok2 && last == pa+size-1 && mt2 == mm.MemDevice {
			return pa
		}
	}
	for i := 0; i < nramRegions; i++ {
		r := ramRegions[i]
		if pa < r.Base+r.Size && r.Base < pa+size {
			return errno(EPERM) // RAM is not a device
		}
	}
	lo, hi := mm.RoundDown(pa, mm.PageSize), mm.RoundUp(pa+size, mm.PageSize)
	if !tb.Map(lo, lo, hi-lo, mm.Attrs{Mem: mm.MemDevice, Block: true}) {
		return errno(ENOMEM)
	}
	arm64.TLBIAll()
	return pa
}

// sysAllocDMA hands out physically contiguous, non-cacheable memory from the DMA
// pool (identity-mapped, so its virtual address is its physical address).
func sysAllocDMA(c *percore, t *thread) uint64 {
	size, align := t.ctx.x[0], t.ctx.x[1]
	if size == 0 || size > dmaPoolSize || align&(align-1) != 0 {
		return errno(EINVAL)
	}
	n := (size + mm.PageSize - 1) / mm.PageSize
	step := uint64(1)
	if align > mm.PageSize {
		step = align / mm.PageSize
	}
	for start := uint64(0); start+n <= dmaPoolPages; start += step {
		free := true
		for i := start; i < start+n && free; i++ {
			free = dmaUsed[i/64]&(1<<(i%64)) == 0
		}
		if !free {
			continue
		}
		for i := start; i < start+n; i++ {
			dmaUsed[i/64] |= 1 << (i % 64)
		}
		pa := dmaPool.Base + start*mm.PageSize
		clear(bytesAt(uintptr(pa), uintptr(n*mm.PageSize)))
		t.ctx.x[1] = pa
		return pa
	}
	return errno(ENOMEM)
}

func sysFreeDMA(c *percore, t *thread) uint64 {
	va, size := t.ctx.x[0], t.ctx.x[1]
	if va < dmaPool.Base || va+size > dmaPool.Base+dmaPool.Size || va%mm.PageSize != 0 {
		return errno(EINVAL)
	}
	first := (va - dmaPool.Base) / mm.PageSize
	for i := first; i < first+(size+mm.PageSize-1)/mm.PageSize; i++ {
		dmaUsed[i/64] &^= 1 << (i % 64)
	}
	return 0
}

// sysAllocBuffer gives a large, virtually contiguous, zeroed buffer backed by any
// free frames (2 MiB blocks where possible): the model buffer.
func sysAllocBuffer(c *percore, t *thread) uint64 {
	size := mm.RoundUp(t.ctx.x[0], block2M)
	if size == 0 || size > userTop {
		return errno(EINVAL)
	}
	if size/mm.PageSize > frames.Free() {
		return errno(ENOMEM)
	}
	va, ok := vspace.FindFree(size, block2M)
	if !ok || !vspace.Reserve(va, size) {
		return errno(ENOMEM)
	}
	if !commit(va, size, mm.MemNormal) {
		decommit(va, size)
		vspace.Release(va, size)
		return errno(ENOMEM)
	}
	bufferBytes += size
	return va
}

func sysFreeBuffer(c *percore, t *thread) uint64 {
	va, size := t.ctx.x[0], mm.RoundUp(t.ctx.x[1], block2M)
	if va%block2M != 0 || !inUserWindow(va, size) || !vspace.Covered(va, size) {
		return errno(EINVAL)
	}
	decommit(va, size)
	vspace.Release(va, size)
	bufferBytes -= size
	return 0
}

// sysVirtToPhys translates va and reports how many bytes from it are physically
// contiguous (up to n): drivers build scatter-gather lists from it.
func sysVirtToPhys(c *percore, t *thread) uint64 {
	va, n := t.ctx.x[0], t.ctx.x[1]
	tb := tables()
	// Pages of the Go heap released with MADV_DONTNEED come back first: a device
	// must get real memory to write into.
	lookup := func(va uint64) (uint64, bool) {
		if pa, _, ok := tb.Lookup(va); ok {
			return pa, true
		}
		if !demandPage(va) {
			return 0, false
		}
		pa, _, ok := tb.Lookup(va)
		return pa, ok
	}
	pa, ok := lookup(va)
	if !ok {
		return errno(EFAULT)
	}
	run := mm.PageSize - va%mm.PageSize
	for run < n {
		next, ok := lookup(va + run)
		if !ok || next != pa+run {
			break
		}
		run += mm.PageSize
	}
	if run > n {
		run = n
	}
	t.ctx.x[1] = run
	return pa
}

// IRQ waits: a thread waits for one shared interrupt; the kernel enables it while
// someone waits and masks it again when it fires (the driver then services the
// device and waits again).
func sysWaitIRQ(c *percore, t *thread) uint64 {
	id, timeout := t.ctx.x[0], t.ctx.x[1]
	if id < 32 || id >= 1020 || id == board.UARTIRQ {
		return errno(EINVAL)
	}
	deadline := uint64(0)
	if timeout != 0 {
		deadline = ticksAfter(timeout)
	}
	t.waitAddr = uintptr(id)
	t.ctx.x[0] = 0
	block(c, waitIRQ, deadline)
	intc().Enable(int(id), 0)
	return keep
}

func deviceIRQ(id int) {
	intc().Disable(id)
	for i := range threads {
		w := &threads[i]
		if w.state == tsBlocked && w.wait == waitIRQ && w.waitAddr == uintptr(id) {
			makeRunnable(int32(i), 0)
		}
	}
}

func cancelIRQWait(i int32) {
	id := threads[i].waitAddr
	for j := range threads {
		w := &threads[j]
		if int32(j) != i && w.state == tsBlocked && w.wait == waitIRQ && w.waitAddr == id {
			return
		}
	}
	intc().Disable(int(id))
}

func sysReboot(c *percore, t *thread) uint64 {
	consoleDrain()
	platformExit(0)
	return keep
}

func sysCurrentCore(c *percore, t *thread) uint64 { return uint64(c.id) }

func sysSetRealtime(c *percore, t *thread) uint64 {
	realtimeOffset = t.ctx.x[0] - nanotime()
	return 0
}
