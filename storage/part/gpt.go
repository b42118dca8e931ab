package part

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"
	"unicode/utf16"

	"github.com/inferpi/inferpi/storage/block"
)

// GPT header fields (UEFI spec 5.3.2; FatFs GPTH_* defines):
// "EFI PART" at 0, revision 8, header size 12, header CRC32 16, my LBA 24,
// first/last usable 40/48, entry array LBA 72, entry count 80, entry size 84,
// entry array CRC32 88. Entries: type GUID 0, first LBA 32, last LBA 40
// (inclusive), name (36 UTF-16 units) 56.
const (
	gptSignature     = "EFI PART"
	gptMinHeaderSize = 92
	gptMinEntrySize  = 128
	gptMaxArrayBytes = 1 << 20 // the usual array is 16 KiB; more than 1 MiB is corruption
)

func hasGPTHeader(dev block.Device) bool {
	if dev.Blocks() < 2 {
		return false
	}
	sec := make([]byte, dev.BlockSize())
	return dev.ReadBlocks(1, sec) == nil && string(sec[:8]) == gptSignature
}

// gptError says what is wrong with the primary GPT. The backup copy at the end of
// the disk is not consulted: a disk whose primary table is damaged should be
// repaired (e.g. with gdisk) rather than silently half-trusted.
func gptError(format string, args ...any) error {
	return fmt.Errorf("GPT: "+format+" (backup GPT not consulted)", args...)
}

func readGPT(dev block.Device) (Table, error) {
	bs := dev.BlockSize()
	if dev.Blocks() < 2 {
		return Table{}, gptError("protective MBR found but the device has no LBA 1")
	}
	hdr := make([]byte, bs)
	if err := dev.ReadBlocks(1, hdr); err != nil {
		return Table{}, gptError("reading the header at LBA 1: %v", err)
	}
	if string(hdr[:8]) != gptSignature {
		return Table{}, gptError("protective MBR (type 0xEE) found, but LBA 1 has no %q signature", gptSignature)
	}
	if rev := le32(hdr, 8); rev>>16 != 1 {
		return Table{}, gptError("header revision 0x%08X, want 1.x", rev)
	}
	size := le32(hdr, 12)
	if size < gptMinHeaderSize || int(size) > bs {
		return Table{}, gptError("header size %d, want %d..%d", size, gptMinHeaderSize, bs)
	}
	stored := le32(hdr, 16)
	h := append([]byte(nil), hdr[:size]...)
	binary.LittleEndian.PutUint32(h[16:], 0) // the CRC covers the header with its own field zeroed
	if got := crc32.ChecksumIEEE(h); got != stored {
		return Table{}, gptError("header CRC32 is 0x%08X, computed 0x%08X: the header is corrupt", stored, got)
	}
	if my := le64(hdr, 24); my != 1 {
		return Table{}, gptError("primary header says it is at LBA %d, not 1", my)
	}
	arrayLBA := le64(hdr, 72)
	count := le32(hdr, 80)
	esize := le32(hdr, 84)
	if esize < gptMinEntrySize || esize%8 != 0 {
		return Table{}, gptError("partition entry size %d, want a multiple of 8 of at least %d", esize, gptMinEntrySize)
	}
	total := uint64(count) * uint64(esize)
	if total > gptMaxArrayBytes {
		return Table{}, gptError("%d entries of %d bytes is more than %d bytes", count, esize, gptMaxArrayBytes)
	}
	sectors := (total + uint64(bs) - 1) / uint64(bs)
	if arrayLBA < 2 || arrayLBA >= dev.Blocks() || sectors > dev.Blocks()-arrayLBA {
		return Table{}, gptError("partition entry array at LBA %d (%d sectors) is outside the %d-sector device", arrayLBA, sectors, dev.Blocks())
	}
	array := make([]byte, sectors*uint64(bs))
	if err := dev.ReadBlocks(arrayLBA, array); err != nil {
		return Table{}, gptError("reading the partition entries at LBA %d: %v", arrayLBA, err)
	}
	array = array[:total]
	if got, want := crc32.ChecksumIEEE(array), le32(hdr, 88); got != want {
		return Table{}, gptError("partition entry array CRC32 is 0x%08X, computed 0x%08X: the entries are corrupt", want, got)
	}

	t := Table{Scheme: SchemeGPT}
	for i := uint32(0); i < count; i++ {
		e := array[uint64(i)*uint64(esize):][:gptMinEntrySize]
		typ := guidString(e[0:16])
		if typ == zeroGUID {
			continue
		}
		first, last := le64(e, 32), le64(e, 40)
		p := Partition{Index: int(i) + 1, Start: first, Type: gptTypeName(typ), Name: utf16Name(e[56:128]), ESP: typ == espGUID}
		if last < first {
			p.Problem = fmt.Sprintf("last LBA %d is before first LBA %d", last, first)
			p.FSDesc = "unreadable"
		} else {
			p.Sectors = last - first + 1
			identify(dev, &p)
		}
		t.Partitions = append(t.Partitions, p)
	}
	return t, nil
}

const (
	zeroGUID = "00000000-0000-0000-0000-000000000000"
	espGUID  = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
)

// guidString formats a GUID stored in the mixed-endian on-disk form (the first
// three fields little-endian, the rest as bytes).
func guidString(b []byte) string {
	return fmt.Sprintf("%08X-%04X-%04X-%X-%X", le32(b, 0), le16(b, 4), le16(b, 6), b[8:10], b[10:16])
}

func gptTypeName(guid string) string {
	names := map[string]string{
		"EBD0A0A2-B9E5-4433-87C0-68B6B72699C7": "Microsoft basic data",
		espGUID:                                "EFI system",
		"E3C9E316-0B5C-4DB8-817D-F92DF00215AE": "Microsoft reserved",
		"0FC63DAF-8483-4772-8E79-3D69D8477DE4": "Linux filesystem",
		"0657FD6D-A4AB-43C4-84E5-0933C84B4F4F": "Linux swap",
		"E6D6D379-F507-44C2-A23C-238F2A3DF928": "Linux LVM",
		"21686148-6449-6E6F-744E-656564454649": "BIOS boot",
		"48465300-0000-11AA-AA11-00306543ECAC": "Apple HFS+",
		"7C3457EF-0000-11AA-AA11-00306543ECAC": "Apple APFS",
	}
	if n, ok := names[guid]; ok {
		return n
	}
	return guid
}

func utf16Name(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := le16(b, i)
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return strings.TrimSpace(string(utf16.Decode(u)))
}
