// Package part finds the FAT volume on a block device: it reads an MBR (with
// extended partitions), a GPT (behind its protective MBR, with both CRC32 checks),
// or a whole-disk volume without a partition table ("superfloppy"), and picks the
// first FAT partition. When there is none it says what it found instead.
//
// The order of the checks follows FatFs find_volume: a FAT boot sector at LBA 0 is
// a superfloppy (mkfs.fat writes a fake MBR entry into it, so the boot sector test
// must come first); a type 0xEE entry means GPT; anything else is an MBR.
package part

import (
	"errors"
	"fmt"
	"strings"

	"github.com/inferpi/inferpi/storage/block"
	"github.com/inferpi/inferpi/storage/vbr"
)

// Scheme is how a device is divided.
type Scheme string

const (
	SchemeNone Scheme = "none" // a superfloppy: one volume starting at LBA 0
	SchemeMBR  Scheme = "MBR"
	SchemeGPT  Scheme = "GPT"
)

// Partition is one entry of a partition table (or the whole device of a superfloppy).
type Partition struct {
	Index   int    // 1-based number as tools show it (MBR logical partitions start at 5); 0 for a superfloppy
	Start   uint64 // first sector
	Sectors uint64
	Type    string   // the table's type code, e.g. "0x0C (FAT32 LBA)" or "Microsoft basic data"
	Name    string   // GPT partition name, if any
	ESP     bool     // an EFI system partition
	FS      vbr.Kind // what its first sector says it holds
	FSDesc  string   // a short description of that, for messages
	Problem string   // why this entry cannot be used, if it cannot
}

func (p Partition) String() string {
	var sb strings.Builder
	if p.Index == 0 {
		fmt.Fprintf(&sb, "whole-disk volume: %s", p.FSDesc)
	} else {
		fmt.Fprintf(&sb, "partition %d: %s, type %s, sectors %d+%d", p.Index, p.FSDesc, p.Type, p.Start, p.Sectors)
	}
	if p.Name != "" {
		fmt.Fprintf(&sb, " %q", p.Name)
	}
	if p.Problem != "" {
		sb.WriteString(" (" + p.Problem + ")")
	}
	return sb.String()
}

// Table is what Read found on a device.
type Table struct {
	Scheme     Scheme
	Partitions []Partition
}

// Info describes the volume FindFAT chose.
type Info struct {
	Scheme Scheme
	Partition
}

// ErrNoFAT is wrapped by FindFAT's error when the device holds no FAT volume.
var ErrNoFAT = errors.New("no FAT volume")

// FindFAT returns a view of the first FAT volume on dev (reads through it cannot
// leave the partition) and what it is. An EFI system partition is chosen only when
// no other FAT partition exists: on disks partitioned by Windows or macOS it comes
// first but holds boot files, not the user's data.
func FindFAT(dev block.Device) (block.Device, Info, error) {
	t, err := Read(dev)
	if err != nil {
		return nil, Info{}, err
	}
	pick := -1
	for i, p := range t.Partitions {
		if p.FS.IsFAT() && p.Problem == "" && (pick < 0 || t.Partitions[pick].ESP && !p.ESP) {
			pick = i
		}
	}
	if pick < 0 {
		return nil, Info{Scheme: t.Scheme}, noFATError(t)
	}
	p := t.Partitions[pick]
	w, err := block.NewWindow(dev, p.Start, p.Sectors)
	if err != nil {
		return nil, Info{}, err
	}
	return w, Info{Scheme: t.Scheme, Partition: p}, nil
}

func noFATError(t Table) error {
	if len(t.Partitions) == 0 {
		return fmt.Errorf("%w: the %s partition table has no partitions", ErrNoFAT, t.Scheme)
	}
	found := make([]string, len(t.Partitions))
	for i, p := range t.Partitions {
		found[i] = p.String()
	}
	where := "partition table " + string(t.Scheme)
	if t.Scheme == SchemeNone {
		where = "no partition table"
	}
	hint := ""
	for _, p := range t.Partitions {
		if p.FS == vbr.ExFAT || p.FS == vbr.NTFS {
			hint = "; InferPi reads FAT32 only: reformat the disk as FAT32 (files up to 4 GiB - 1 byte)"
		}
	}
	return fmt.Errorf("%w (%s); found: %s%s", ErrNoFAT, where, strings.Join(found, "; "), hint)
}

// Read reads the partition table of dev and identifies what each partition holds.
func Read(dev block.Device) (Table, error) {
	bs := dev.BlockSize()
	if bs < 512 {
		return Table{}, fmt.Errorf("device has %d-byte sectors; need at least 512", bs)
	}
	if dev.Blocks() == 0 {
		return Table{}, fmt.Errorf("device is empty (0 sectors)")
	}
	lba0 := make([]byte, bs)
	if err := dev.ReadBlocks(0, lba0); err != nil {
		return Table{}, fmt.Errorf("reading LBA 0: %w", err)
	}
	if k := vbr.Identify(lba0); k != vbr.Unknown {
		return Table{Scheme: SchemeNone, Partitions: []Partition{{
			Sectors: dev.Blocks(), FS: k, FSDesc: vbr.Describe(lba0),
		}}}, nil
	}
	if looksLikeFATBootSector(lba0) {
		_, err := vbr.ParseBPB(lba0)
		return Table{}, fmt.Errorf("%w: LBA 0 holds a FAT boot sector (no partition table), but it is corrupt: %v", ErrNoFAT, err)
	}
	if le16(lba0, 510) != 0xAA55 {
		// A GPT whose protective MBR was wiped is still worth reading.
		if hasGPTHeader(dev) {
			return readGPT(dev)
		}
		return Table{}, fmt.Errorf("%w: no partition table and no FAT boot sector (LBA 0 has no 0x55AA signature)", ErrNoFAT)
	}
	entries, err := parseMBR(lba0)
	if err != nil {
		return Table{}, err
	}
	for _, e := range entries {
		if e.typ == 0xEE {
			return readGPT(dev)
		}
	}
	return readMBR(dev, entries)
}

// looksLikeFATBootSector is U-Boot's fallback test (test_block_type): a jump
// instruction and a "FAT" type string where FAT12/16 or FAT32 keep it. It tells a
// damaged boot sector apart from an MBR, whose boot code has no such strings.
func looksLikeFATBootSector(s []byte) bool {
	jump := s[0] == 0xEB || s[0] == 0xE9
	return jump && (string(s[54:57]) == "FAT" || string(s[82:87]) == "FAT32")
}

// identify fills in what partition p holds, or why it cannot be read.
func identify(dev block.Device, p *Partition) {
	switch {
	case p.Sectors == 0:
		p.Problem = "empty"
	case p.Start >= dev.Blocks() || p.Sectors > dev.Blocks()-p.Start:
		p.Problem = fmt.Sprintf("extends past the end of the %d-sector device", dev.Blocks())
	}
	if p.Problem != "" {
		p.FSDesc = "unreadable"
		return
	}
	sec := make([]byte, dev.BlockSize())
	if err := dev.ReadBlocks(p.Start, sec); err != nil {
		p.FSDesc, p.Problem = "unreadable", err.Error()
		return
	}
	p.FS, p.FSDesc = vbr.Identify(sec), vbr.Describe(sec)
}
