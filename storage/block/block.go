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
