// Package vbr reads volume boot records: the first sector of a volume, which says
// what file system it holds. It tells FAT12/16/32 apart the only reliable way (by
// cluster count), recognises exFAT and NTFS so users get a message naming them,
// and parses the FAT BIOS Parameter Block with the checks a careful reader needs.
//
// Offsets and rules follow the Microsoft FAT specification as restated by FatFs's
// BPB_*/BS_* defines and U-Boot's struct boot_sector; exFAT and NTFS signatures
// as in FatFs check_fs.
package vbr

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Kind is what a boot sector says its volume holds.
type Kind int

const (
	Unknown Kind = iota // no FAT, exFAT or NTFS boot sector
	FAT12
	FAT16
	FAT32
	ExFAT
	NTFS
)

func (k Kind) String() string {
	switch k {
	case FAT12:
		return "FAT12"
	case FAT16:
		return "FAT16"
	case FAT32:
		return "FAT32"
	case ExFAT:
		return "exFAT"
	case NTFS:
		return "NTFS"
	}
	return "unknown"
}

// IsFAT reports whether k is one of the FAT variants.
func (k Kind) IsFAT() bool { return k == FAT12 || k == FAT16 || k == FAT32 }

// Cluster-count limits that decide the FAT type (Microsoft FAT spec; FatFs MAX_FAT12/16).
const (
	maxFAT12Clusters = 4084
	maxFAT16Clusters = 65524
)

// BPB is the parsed BIOS Parameter Block of a FAT volume.
type BPB struct {
	Kind              Kind   // by cluster count
	BytesPerSector    int    // 512..4096, a power of two
	SectorsPerCluster int    // 1..128, a power of two
	ReservedSectors   uint32 // sectors before the first FAT
	NumFATs           int
	RootEntries       int    // FAT12/16 fixed root directory entries; 0 on FAT32
	TotalSectors      uint32 // the volume's size in sectors
	FATSectors        uint32 // sectors per FAT
	Media             byte
	HiddenSectors     uint32 // the partition's start as the formatter saw it (informational)

	// FAT32 only.
	ExtFlags    uint16 // bit 7: mirroring off; bits 3:0 the active FAT
	FSVersion   uint16
	RootCluster uint32
	FSInfo      uint16 // ignored for reading

	VolumeID    uint32
	VolumeLabel string // from the extended boot record, trailing spaces removed

	RootDirSectors  uint32 // FAT12/16 root directory size in sectors
	FirstDataSector uint32 // sector of cluster 2
	Clusters        uint32 // data clusters (valid cluster numbers are 2..Clusters+1)
}

// ClusterSize is the cluster size in bytes.
func (b *BPB) ClusterSize() int { return b.BytesPerSector * b.SectorsPerCluster }

const sigOffset = 510

func le16(b []byte, off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
func le32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }

// Identify says what file system a volume's first sector belongs to. It never
// fails; a sector it cannot place is Unknown.
func Identify(sector []byte) Kind {
	if len(sector) < 512 {
		return Unknown
	}
	switch string(sector[3:11]) {
	case "EXFAT   ":
		return ExFAT
	case "NTFS    ":
		return NTFS
	}
	b, err := ParseBPB(sector)
	if err != nil {
		return Unknown
	}
	return b.Kind
}

// Describe is a short human description of a volume's first sector, for messages
// such as "found: exFAT partition ...".
func Describe(sector []byte) string {
	k := Identify(sector)
	switch k {
	case Unknown:
		if len(sector) >= 512 && le16(sector, sigOffset) != 0xAA55 {
			return "no recognisable file system (no boot signature)"
		}
		if _, err := ParseBPB(sector); err != nil {
			return "no recognisable file system (" + err.Error() + ")"
		}
		return "no recognisable file system"
	case ExFAT:
		// exFAT keeps its geometry as shifts at 108/109 (FatFs BPB_BytsPerSecEx).
		sh := int(sector[108]) + int(sector[109])
		if sh < 40 {
			return fmt.Sprintf("exFAT (%d-byte clusters)", 1<<sh)
		}
		return "exFAT"
	}
	return k.String()
}

// ParseBPB parses and checks the BPB of a FAT volume's boot sector. Errors say
// which field is wrong and why; exFAT and NTFS boot sectors get an error that
// names them.
func ParseBPB(s []byte) (BPB, error) {
	var b BPB
	if len(s) < 512 {
		return b, fmt.Errorf("boot sector is %d bytes, need 512", len(s))
	}
	switch string(s[3:11]) {
	case "EXFAT   ":
		return b, fmt.Errorf("volume is exFAT, not FAT")
	case "NTFS    ":
		return b, fmt.Errorf("volume is NTFS, not FAT")
	}
	if sig := le16(s, sigOffset); sig != 0xAA55 {
		return b, fmt.Errorf("boot sector signature is 0x%04X, want 0xAA55", sig)
	}
	if !(s[0] == 0xEB && s[2] == 0x90) && s[0] != 0xE9 && s[0] != 0xE8 {
		// FatFs accepts these three jump forms; anything else is not a boot sector.
		return b, fmt.Errorf("boot sector does not start with a jump instruction (0x%02X)", s[0])
	}
	b.BytesPerSector = int(le16(s, 11))
	if b.BytesPerSector < 512 || b.BytesPerSector > 4096 || bits.OnesCount(uint(b.BytesPerSector)) != 1 {
		return b, fmt.Errorf("BPB: %d bytes per sector (want 512, 1024, 2048 or 4096)", b.BytesPerSector)
	}
	b.SectorsPerCluster = int(s[13])
	if b.SectorsPerCluster == 0 || bits.OnesCount(uint(b.SectorsPerCluster)) != 1 {
		return b, fmt.Errorf("BPB: %d sectors per cluster (want a power of two 1..128)", b.SectorsPerCluster)
	}
	b.ReservedSectors = uint32(le16(s, 14))
	if b.ReservedSectors == 0 {
		return b, fmt.Errorf("BPB: no reserved sectors (the boot sector itself is one)")
	}
	b.NumFATs = int(s[16])
	if b.NumFATs == 0 || b.NumFATs > 4 {
		return b, fmt.Errorf("BPB: %d FATs (want 1 or 2)", b.NumFATs)
	}
	b.RootEntries = int(le16(s, 17))
	if b.RootEntries*32%b.BytesPerSector != 0 {
		return b, fmt.Errorf("BPB: %d root entries do not fill whole %d-byte sectors", b.RootEntries, b.BytesPerSector)
	}
	b.TotalSectors = uint32(le16(s, 19))
	if b.TotalSectors == 0 {
		b.TotalSectors = le32(s, 32)
	}
	if b.TotalSectors == 0 {
		return b, fmt.Errorf("BPB: volume size is 0 sectors")
	}
	b.Media = s[21]
	if b.Media != 0xF0 && b.Media < 0xF8 {
		return b, fmt.Errorf("BPB: media byte 0x%02X (want 0xF0 or 0xF8..0xFF)", b.Media)
	}
	b.HiddenSectors = le32(s, 28)
	fat16Size := uint32(le16(s, 22))
	b.FATSectors = fat16Size
	if b.FATSectors == 0 {
		b.FATSectors = le32(s, 36)
	}
	if b.FATSectors == 0 {
		return b, fmt.Errorf("BPB: FAT size is 0 sectors")
	}
	b.RootDirSectors = uint32(b.RootEntries * 32 / b.BytesPerSector)
	meta := uint64(b.ReservedSectors) + uint64(b.NumFATs)*uint64(b.FATSectors) + uint64(b.RootDirSectors)
	if meta >= uint64(b.TotalSectors) {
		return b, fmt.Errorf("BPB: reserved sectors, FATs and root directory (%d sectors) fill the whole %d-sector volume", meta, b.TotalSectors)
	}
	b.FirstDataSector = uint32(meta)
	b.Clusters = (b.TotalSectors - b.FirstDataSector) / uint32(b.SectorsPerCluster)
	switch {
	case b.Clusters == 0:
		return b, fmt.Errorf("BPB: volume has no data clusters")
	case b.Clusters <= maxFAT12Clusters:
		b.Kind = FAT12
	case b.Clusters <= maxFAT16Clusters:
		b.Kind = FAT16
	default:
		b.Kind = FAT32
	}

	// The extended boot record sits at 36 (FAT12/16) or 64 (FAT32), flagged by 0x29.
	ebr := 36
	if b.Kind == FAT32 {
		ebr = 64
		if fat16Size != 0 || b.RootEntries != 0 {
			return b, fmt.Errorf("BPB: %d clusters make this FAT32, but the FAT16 fields are set (FATSz16 %d, root entries %d)", b.Clusters, fat16Size, b.RootEntries)
		}
		b.ExtFlags = le16(s, 40)
		b.FSVersion = le16(s, 42)
		b.RootCluster = le32(s, 44)
		b.FSInfo = le16(s, 48)
	}
	if s[ebr+2] == 0x29 {
		b.VolumeID = le32(s, ebr+3)
		label := string(s[ebr+7 : ebr+18])
		for len(label) > 0 && (label[len(label)-1] == ' ' || label[len(label)-1] == 0) {
			label = label[:len(label)-1]
		}
		if label == "NO NAME" {
			label = ""
		}
		b.VolumeLabel = label
	}
	return b, nil
}
