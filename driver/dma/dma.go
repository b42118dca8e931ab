// Package dma is how drivers get memory that devices can read and write, and how
// they learn the bus addresses devices must use. Bus addresses differ from CPU
// addresses on the Pi 4 (the PCIe inbound window), so drivers never compute them.
package dma

// Buffer is physically contiguous memory shared with a device.
type Buffer struct {
	Mem []byte // CPU view
	Bus uint64 // what a device uses to address Mem[0]
}

// Memory provides DMA memory and address translation.
// Coherent buffers need no cache maintenance; other memory (a model buffer a
// device reads into) needs CleanForDevice before and InvalidateForCPU after a transfer.
type Memory interface {
	// AllocCoherent returns zeroed, physically contiguous memory of size bytes at an
	// alignment of align (a power of two), mapped so that no cache maintenance is needed.
	AllocCoherent(size, align int) (Buffer, error)
	// Free returns a buffer from AllocCoherent.
	Free(Buffer)
	// Segments splits b into physically contiguous pieces with their bus addresses.
	Segments(b []byte) ([]Segment, error)
	// CleanForDevice writes back cached lines of b so a device reads current data.
	CleanForDevice(b []byte)
	// InvalidateForCPU discards cached lines of b so the CPU sees what a device wrote.
	InvalidateForCPU(b []byte)
}

// Segment is a physically contiguous piece of a buffer.
type Segment struct {
	Bus uint64
	Len int
}
