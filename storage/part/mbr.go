package part

import (
	"encoding/binary"
	"fmt"

	"github.com/inferpi/inferpi/storage/block"
)

// MBR layout: four 16-byte entries at 446 (boot flag +0, type +4, start LBA +8,
// sectors +12), signature 0x55AA at 510. (FatFs MBR_Table/PTE_* defines.)
const (
	mbrTable     = 446
	mbrEntrySize = 16
	maxLogical   = 128 // more extended boot records than this means the chain loops
)

type mbrEntry struct {
	index   int
	typ     byte
	start   uint64
	sectors uint64
}

func le16(b []byte, off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
func le32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func le64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

// parseMBR returns the used entries of an MBR (or extended boot record) sector.
func parseMBR(sec []byte) ([]mbrEntry, error) {
	var out []mbrEntry
	for i := 0; i < 4; i++ {
		e := sec[mbrTable+i*mbrEntrySize : mbrTable+(i+1)*mbrEntrySize]
		if flag := e[0]; flag != 0 && flag != 0x80 {
			// Boot code or a boot sector of something else, not a partition table
			// (the same sanity check Linux's msdos partition parser makes).
			return nil, fmt.Errorf("%w: no partition table and no FAT boot sector (LBA 0 has a 0x55AA signature, but partition entry %d has boot flag 0x%02X)", ErrNoFAT, i+1, flag)
		}
		if e[4] == 0 {
			continue
		}
		out = append(out, mbrEntry{index: i + 1, typ: e[4], start: uint64(le32(e, 8)), sectors: uint64(le32(e, 12))})
	}
	return out, nil
}

func isExtended(t byte) bool { return t == 0x05 || t == 0x0F || t == 0x85 }

func readMBR(dev block.Device, entries []mbrEntry) (Table, error) {
	t := Table{Scheme: SchemeMBR}
	var ext *mbrEntry
	for i, e := range entries {
		if isExtended(e.typ) {
			if ext == nil {
				ext = &entries[i]
			}
			continue
		}
		t.Partitions = append(t.Partitions, mbrPartition(dev, e))
	}
	if ext != nil {
		t.Partitions = append(t.Partitions, readLogical(dev, *ext)...)
	}
	return t, nil
}

func mbrPartition(dev block.Device, e mbrEntry) Partition {
	p := Partition{Index: e.index, Start: e.start, Sectors: e.sectors, Type: mbrTypeName(e.typ), ESP: e.typ == 0xEF}
	identify(dev, &p)
	return p
}

// readLogical walks the chain of extended boot records. Each holds one logical
// partition (start relative to that record) and a link to the next record (start
// relative to the extended partition). A broken link ends the walk with a note.
func readLogical(dev block.Device, ext mbrEntry) []Partition {
	var out []Partition
	sec := make([]byte, dev.BlockSize())
	seen := map[uint64]bool{}
	ebr := ext.start
	for n := 0; n < maxLogical; n++ {
		problem := ""
		switch {
		case seen[ebr]:
			problem = fmt.Sprintf("extended boot record chain loops back to LBA %d", ebr)
		case ebr >= dev.Blocks():
			problem = fmt.Sprintf("extended boot record at LBA %d is past the end of the device", ebr)
		}
		if problem == "" {
			if err := dev.ReadBlocks(ebr, sec); err != nil {
				problem = err.Error()
			} else if le16(sec, 510) != 0xAA55 {
				problem = fmt.Sprintf("extended boot record at LBA %d has no 0x55AA signature", ebr)
			}
		}
		if problem != "" {
			out = append(out, Partition{Index: 5 + n, Start: ebr, Type: "extended", FSDesc: "unreadable", Problem: problem})
			return out
		}
		seen[ebr] = true
		entries, err := parseMBR(sec)
		if err != nil {
			out = append(out, Partition{Index: 5 + n, Start: ebr, Type: "extended", FSDesc: "unreadable", Problem: "extended boot record is invalid"})
			return out
		}
		var next uint64
		for _, e := range entries {
			switch {
			case isExtended(e.typ):
				if next == 0 {
					next = ext.start + e.start
				}
			case e.index == 1:
				e.index = 5 + n
				e.start += ebr
				out = append(out, mbrPartition(dev, e))
			}
		}
		if next == 0 {
			return out
		}
		ebr = next
	}
	return out
}

// mbrTypeName names the common MBR partition type codes.
func mbrTypeName(t byte) string {
	names := map[byte]string{
		0x01: "FAT12", 0x04: "FAT16 <32M", 0x06: "FAT16", 0x07: "exFAT/NTFS",
		0x0B: "FAT32 CHS", 0x0C: "FAT32 LBA", 0x0E: "FAT16 LBA",
		0x82: "Linux swap", 0x83: "Linux", 0x8E: "Linux LVM", 0xA5: "FreeBSD", 0xAF: "HFS+",
		0xEE: "GPT protective", 0xEF: "EFI system", 0xFD: "Linux RAID",
	}
	if n, ok := names[t]; ok {
		return fmt.Sprintf("0x%02X (%s)", t, n)
	}
	return fmt.Sprintf("0x%02X", t)
}
