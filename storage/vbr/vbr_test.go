package vbr

import (
	"encoding/binary"
	"strings"
	"testing"
)

// bootSector builds a FAT boot sector with the given geometry.
func bootSector(bps, spc, rsvd, fats, rootEnts int, total, fatSize uint32) []byte {
	s := make([]byte, 512)
	copy(s, []byte{0xEB, 0x58, 0x90})
	binary.LittleEndian.PutUint16(s[11:], uint16(bps))
	s[13] = byte(spc)
	binary.LittleEndian.PutUint16(s[14:], uint16(rsvd))
	s[16] = byte(fats)
	binary.LittleEndian.PutUint16(s[17:], uint16(rootEnts))
	s[21] = 0xF8
	binary.LittleEndian.PutUint32(s[32:], total)
	if rootEnts == 0 {
		binary.LittleEndian.PutUint32(s[36:], fatSize)
		binary.LittleEndian.PutUint32(s[44:], 2)
	} else {
		binary.LittleEndian.PutUint16(s[22:], uint16(fatSize))
	}
	s[510], s[511] = 0x55, 0xAA
	return s
}

// TestKindByClusterCount: the FAT type follows the cluster count at the
// specification's limits (4084/4085 and 65524/65525), not the type string.
func TestKindByClusterCount(t *testing.T) {
	for _, tc := range []struct {
		clusters uint32
		fat32    bool
		want     Kind
	}{
		{4084, false, FAT12}, {4085, false, FAT16}, {65524, false, FAT16}, {65525, true, FAT32}, {1 << 24, true, FAT32},
	} {
		var s []byte
		if tc.fat32 {
			s = bootSector(512, 1, 32, 2, 0, 32+2*1000+tc.clusters, 1000)
		} else {
			s = bootSector(512, 1, 1, 2, 512, 1+2*300+32+tc.clusters, 300)
		}
		b, err := ParseBPB(s)
		if err != nil || b.Kind != tc.want || b.Clusters != tc.clusters {
			t.Errorf("%d clusters: %v %d, %v; want %v", tc.clusters, b.Kind, b.Clusters, err, tc.want)
		}
	}
}

func TestIdentify(t *testing.T) {
	exfat := make([]byte, 512)
	copy(exfat, "\xEB\x76\x90EXFAT   ")
	exfat[108], exfat[109] = 9, 8
	exfat[510], exfat[511] = 0x55, 0xAA
	if k, d := Identify(exfat), Describe(exfat); k != ExFAT || d != "exFAT (131072-byte clusters)" {
		t.Errorf("exFAT: %v %q", k, d)
	}
	ntfs := make([]byte, 512)
	copy(ntfs, "\xEB\x52\x90NTFS    ")
	if Identify(ntfs) != NTFS {
		t.Errorf("NTFS not identified")
	}
	if _, err := ParseBPB(exfat); err == nil || !strings.Contains(err.Error(), "exFAT") {
		t.Errorf("ParseBPB(exFAT): %v", err)
	}
	if d := Describe(make([]byte, 512)); d != "no recognisable file system (no boot signature)" {
		t.Errorf("zeros: %q", d)
	}
}

// FuzzParseBPB: no boot sector makes the parser panic, and an accepted BPB is
// self-consistent (its data area lies inside the volume and has clusters).
func FuzzParseBPB(f *testing.F) {
	f.Add(bootSector(512, 8, 32, 2, 0, 1<<21, 2048))
	f.Add(bootSector(4096, 1, 8, 1, 0, 1<<20, 1024))
	f.Add(bootSector(512, 4, 1, 2, 512, 40000, 40))
	f.Fuzz(func(t *testing.T, s []byte) {
		Identify(s)
		Describe(s)
		b, err := ParseBPB(s)
		if err != nil {
			return
		}
		if b.FirstDataSector >= b.TotalSectors || b.Clusters == 0 || !b.Kind.IsFAT() ||
			uint64(b.FirstDataSector)+uint64(b.Clusters)*uint64(b.SectorsPerCluster) > uint64(b.TotalSectors) {
			t.Fatalf("inconsistent BPB accepted: %+v", b)
		}
	})
}
