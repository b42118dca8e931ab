//go:build linux && arm64

package sys

import (
	"fmt"
	"unsafe"

	"github.com/inferpi/inferpi/driver/dma"
	"github.com/inferpi/inferpi/metal/abi"
	"github.com/inferpi/inferpi/metal/arm64"
)

// DMA implements dma.Memory for the firmware. BusOffset is added to physical
// addresses to get what a device puts on its bus: 0 on QEMU virt and for the Pi 4's
// PCIe inbound window at PCI address 0 (Linux bcm2711.dtsi: pcie0 dma-ranges); it
// is the one place where CPU and bus addresses differ.
type DMA struct {
	BusOffset uint64
}

var _ dma.Memory = (*DMA)(nil)

// AllocCoherent returns non-cacheable, physically contiguous memory from the
// kernel's DMA pool (in the first GiB on the Pi 4).
func (d *DMA) AllocCoherent(size, align int) (dma.Buffer, error) {
	if align < 1 {
		align = 1
	}
	va, pa, err := call(abi.SysAllocDMA, uintptr(size), uintptr(align))
	if err != nil {
		return dma.Buffer{}, fmt.Errorf("DMA buffer of %d bytes: %w", size, err)
	}
	return dma.Buffer{Mem: unsafe.Slice((*byte)(ptrAt(va)), size), Bus: uint64(pa) + d.BusOffset}, nil
}

// Free returns a coherent buffer.
func (d *DMA) Free(b dma.Buffer) {
	if len(b.Mem) == 0 {
		return
	}
	call(abi.SysFreeDMA, uintptr(unsafe.Pointer(&b.Mem[0])), uintptr(len(b.Mem)))
}

// Segments splits b into physically contiguous pieces with bus addresses.
func (d *DMA) Segments(b []byte) ([]dma.Segment, error) {
	var segs []dma.Segment
	for len(b) > 0 {
		pa, run, err := VirtToPhys(b)
		if err != nil {
			return nil, fmt.Errorf("buffer not mapped: %w", err)
		}
		if n := len(segs); n > 0 && segs[n-1].Bus+uint64(segs[n-1].Len) == pa+d.BusOffset {
			segs[n-1].Len += run
		} else {
			segs = append(segs, dma.Segment{Bus: pa + d.BusOffset, Len: run})
		}
		b = b[run:]
	}
	return segs, nil
}

// CleanForDevice writes b's cache lines back to memory.
func (d *DMA) CleanForDevice(b []byte) {
	if len(b) > 0 {
		arm64.DCCleanRange(uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	}
}

// InvalidateForCPU discards b's cache lines so the CPU reads what the device
// wrote. Clean-and-invalidate rather than plain invalidate: a line b shares with
// neighbouring data must not lose that data (it is clean by now anyway).
func (d *DMA) InvalidateForCPU(b []byte) {
	if len(b) > 0 {
		arm64.DCCleanInvalRange(uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	}
}
