// Package block defines the block-device interface that SD cards, USB mass storage
// and host disk images implement, so that partition tables and FAT32 read them all
// through the same code.
package block

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Device is a random-access device of fixed-size blocks (sectors).
type Device interface {
	// BlockSize is the sector size in bytes (512 or 4096).
	BlockSize() int
	// Blocks is the capacity in sectors.
	Blocks() uint64
	// ReadBlocks reads len(dst)/BlockSize() sectors starting at lba straight into
	// dst. len(dst) must be a multiple of BlockSize(); reads past the end fail.
	ReadBlocks(lba uint64, dst []byte) error
}

// ErrOutOfRange is returned for reads beyond the device's capacity.
var ErrOutOfRange = errors.New("block: read beyond the end of the device")

// CheckRead validates a ReadBlocks request against a device's geometry.
func CheckRead(d Device, lba uint64, n int) error {
	bs := d.BlockSize()
	if n%bs != 0 {
		return fmt.Errorf("block: read of %d bytes is not a multiple of the %d-byte sector", n, bs)
	}
	count := uint64(n / bs)
	if lba > d.Blocks() || count > d.Blocks()-lba {
		return fmt.Errorf("%w: sectors %d+%d of %d", ErrOutOfRange, lba, count, d.Blocks())
	}
	return nil
}

// File is a Device backed by a disk image (or any io.ReaderAt of known size).
type File struct {
	r         io.ReaderAt
	size      int64
	blockSize int
}

// NewFile wraps r (size bytes) as a device of blockSize-byte sectors; a trailing
// partial sector is ignored.
func NewFile(r io.ReaderAt, size int64, blockSize int) *File {
	return &File{r: r, size: size, blockSize: blockSize}
}

// OpenImage opens a disk image file as a device with 512-byte sectors.
func OpenImage(path string) (*File, *os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return NewFile(f, st.Size(), 512), f, nil
}

func (f *File) BlockSize() int { return f.blockSize }
func (f *File) Blocks() uint64 { return uint64(f.size) / uint64(f.blockSize) }

func (f *File) ReadBlocks(lba uint64, dst []byte) error {
	if err := CheckRead(f, lba, len(dst)); err != nil {
		return err
	}
	_, err := f.r.ReadAt(dst, int64(lba)*int64(f.blockSize))
	if err == io.EOF {
		err = nil
	}
	return err
}

// Window is a Device that views count sectors of another device starting at
// sector start: a partition. Reads outside the window fail before they reach the
// underlying device, so a corrupt file system inside a partition cannot read
// its neighbours.
type Window struct {
	dev          Device
	start, count uint64
}

// NewWindow returns the view of count sectors of dev starting at start, or an
// error if that range does not lie inside dev.
func NewWindow(dev Device, start, count uint64) (*Window, error) {
	if start > dev.Blocks() || count > dev.Blocks()-start {
		return nil, fmt.Errorf("%w: window of sectors %d+%d on a device of %d", ErrOutOfRange, start, count, dev.Blocks())
	}
	return &Window{dev: dev, start: start, count: count}, nil
}

func (w *Window) BlockSize() int { return w.dev.BlockSize() }
func (w *Window) Blocks() uint64 { return w.count }

// Start is the window's first sector on the underlying device.
func (w *Window) Start() uint64 { return w.start }

func (w *Window) ReadBlocks(lba uint64, dst []byte) error {
	if err := CheckRead(w, lba, len(dst)); err != nil {
		return err
	}
	return w.dev.ReadBlocks(w.start+lba, dst)
}
