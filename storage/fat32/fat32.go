// Package fat32 reads FAT32 volumes from a block device as an io/fs.FS, with long
// file names, and loads large files fast: contiguous cluster runs become a few
// large device reads straight into the caller's buffer (see ReadFileInto).
//
// It is read-only and careful: the boot sector is validated, cluster chains that
// loop, end early or point outside the volume are errors naming the file, and no
// read ever leaves the volume. The FAT is read lazily in small cached chunks, so
// mounting a 64 GB stick does not read its 32 MB FAT.
//
// Names: long names (VFAT LFN) are used when their checksum matches the short
// entry they precede; otherwise the 8.3 name is shown, lower-cased as the NT case
// flags say. Lookups match exact names first and then ignore case, as FAT does.
package fat32

import (
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/inferpi/inferpi/storage/block"
	"github.com/inferpi/inferpi/storage/vbr"
)

// FS is a mounted FAT32 volume. It is safe for concurrent use.
type FS struct {
	dev         block.Device
	bpb         vbr.BPB
	devBlock    int    // device block size in bytes
	clusterSize int    // bytes
	dataStart   uint64 // byte offset of cluster 2 within the volume
	maxCluster  uint32 // highest valid cluster number (Clusters+1)

	mu  sync.Mutex // guards fat
	fat *fatCache
}

// Info describes a mounted volume.
type Info struct {
	Label          string
	VolumeID       uint32
	BytesPerSector int
	ClusterSize    int
	Clusters       uint32 // data clusters
	TotalSectors   uint32 // the volume's size in its own sectors
	Bytes          int64  // the volume's size in bytes
}

// Errors that callers may want to tell apart (all are wrapped with details).
var (
	ErrNotFAT32     = errors.New("not a FAT32 volume")
	ErrCorrupt      = errors.New("corrupt file system")
	ErrNotDirectory = errors.New("not a directory")
	ErrIsDirectory  = errors.New("is a directory")
)

// Open mounts the FAT32 volume that starts at sector 0 of dev (a partition view
// from part.FindFAT, or a whole superfloppy device).
func Open(dev block.Device) (*FS, error) {
	bs := dev.BlockSize()
	if bs < 512 || dev.Blocks() == 0 {
		return nil, fmt.Errorf("fat32: device of %d %d-byte sectors cannot hold a FAT volume", dev.Blocks(), bs)
	}
	sec := make([]byte, bs)
	if err := dev.ReadBlocks(0, sec); err != nil {
		return nil, fmt.Errorf("fat32: reading the boot sector: %w", err)
	}
	bpb, err := vbr.ParseBPB(sec)
	if err != nil {
		switch vbr.Identify(sec) {
		case vbr.ExFAT:
			return nil, fmt.Errorf("fat32: %w: the volume is exFAT (common on large USB sticks); InferPi reads FAT32 only: reformat it as FAT32 (files up to 4 GiB - 1 byte)", ErrNotFAT32)
		case vbr.NTFS:
			return nil, fmt.Errorf("fat32: %w: the volume is NTFS; InferPi reads FAT32 only: reformat it as FAT32", ErrNotFAT32)
		}
		return nil, fmt.Errorf("fat32: %w: %v", ErrNotFAT32, err)
	}
	if bpb.Kind != vbr.FAT32 {
		return nil, fmt.Errorf("fat32: %w: the volume is %s (%d clusters); %s is not supported: format it as FAT32 (mkfs.fat -F 32)", ErrNotFAT32, bpb.Kind, bpb.Clusters, bpb.Kind)
	}
	return mount(dev, bpb)
}

func mount(dev block.Device, b vbr.BPB) (*FS, error) {
	bs := dev.BlockSize()
	if b.BytesPerSector%bs != 0 {
		return nil, fmt.Errorf("fat32: %w: volume has %d-byte sectors, the device %d-byte ones", ErrNotFAT32, b.BytesPerSector, bs)
	}
	volBytes := uint64(b.TotalSectors) * uint64(b.BytesPerSector)
	devBytes := dev.Blocks() * uint64(bs)
	if volBytes > devBytes {
		return nil, fmt.Errorf("fat32: %w: the boot sector says the volume is %d bytes, but the device or partition holds only %d", ErrCorrupt, volBytes, devBytes)
	}
	if b.FSVersion != 0 {
		return nil, fmt.Errorf("fat32: %w: FAT32 version %d.%d (only 0.0 exists)", ErrNotFAT32, b.FSVersion>>8, b.FSVersion&0xFF)
	}
	maxCluster := b.Clusters + 1
	if b.RootCluster < 2 || b.RootCluster > maxCluster {
		return nil, fmt.Errorf("fat32: %w: root directory cluster %d is outside the volume's clusters 2..%d", ErrCorrupt, b.RootCluster, maxCluster)
	}
	fatBytes := uint64(b.FATSectors) * uint64(b.BytesPerSector)
	if need := (uint64(maxCluster) + 1) * 4; fatBytes < need {
		return nil, fmt.Errorf("fat32: %w: a FAT of %d bytes cannot describe %d clusters (needs %d)", ErrCorrupt, fatBytes, b.Clusters, need)
	}
	active := 0
	if b.ExtFlags&0x80 != 0 { // mirroring off: only the active FAT is current
		active = int(b.ExtFlags & 0x0F)
		if active >= b.NumFATs {
			return nil, fmt.Errorf("fat32: %w: active FAT %d of %d", ErrCorrupt, active, b.NumFATs)
		}
	}
	fatStart := (uint64(b.ReservedSectors) + uint64(active)*uint64(b.FATSectors)) * uint64(b.BytesPerSector)
	f := &FS{
		dev:         dev,
		bpb:         b,
		devBlock:    bs,
		clusterSize: b.ClusterSize(),
		dataStart:   uint64(b.FirstDataSector) * uint64(b.BytesPerSector),
		maxCluster:  maxCluster,
	}
	// Only the part of the FAT that has entries for real clusters is ever read.
	f.fat = newFATCache(f, fatStart, (uint64(maxCluster)+1)*4)
	return f, nil
}

// Info describes the volume.
func (f *FS) Info() Info {
	return Info{
		Label:          f.bpb.VolumeLabel,
		VolumeID:       f.bpb.VolumeID,
		BytesPerSector: f.bpb.BytesPerSector,
		ClusterSize:    f.clusterSize,
		Clusters:       f.bpb.Clusters,
		TotalSectors:   f.bpb.TotalSectors,
		Bytes:          int64(f.bpb.TotalSectors) * int64(f.bpb.BytesPerSector),
	}
}

// clusterOffset is the byte offset of cluster c within the volume.
func (f *FS) clusterOffset(c uint32) uint64 {
	return f.dataStart + uint64(c-2)*uint64(f.clusterSize)
}

// pathError wraps err for name, the way io/fs expects.
func pathError(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// ListLine is one entry of a directory listing as `inferpi disk ls` and the test
// firmwares print it: "d" for a directory or "-", the size, the name, separated by
// tabs.
func ListLine(info fs.FileInfo) string {
	kind := "-"
	if info.IsDir() {
		kind = "d"
	}
	return fmt.Sprintf("%s\t%d\t%s", kind, info.Size(), info.Name())
}
