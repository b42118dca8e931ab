package part

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// gptDisk builds a protective MBR, a GPT header and a 128-entry array by hand
// (LBA 0..33), with correct CRCs, holding one basic-data partition.
func gptDisk(first, last uint64) []byte {
	d := make([]byte, 34*512)
	copy(d, mbrSector(mbrPart{0xEE, 1, 0xFFFFFFFF}))
	h := d[512:1024]
	copy(h, "EFI PART")
	binary.LittleEndian.PutUint32(h[8:], 0x00010000)
	binary.LittleEndian.PutUint32(h[12:], 92)
	binary.LittleEndian.PutUint64(h[24:], 1)
	binary.LittleEndian.PutUint64(h[72:], 2)
	binary.LittleEndian.PutUint32(h[80:], 128)
	binary.LittleEndian.PutUint32(h[84:], 128)
	e := d[1024:]
	copy(e, []byte{0xA2, 0xA0, 0xD0, 0xEB, 0xE5, 0xB9, 0x33, 0x44, 0x87, 0xC0, 0x68, 0xB6, 0xB7, 0x26, 0x99, 0xC7})
	binary.LittleEndian.PutUint64(e[32:], first)
	binary.LittleEndian.PutUint64(e[40:], last)
	binary.LittleEndian.PutUint32(h[88:], crc32.ChecksumIEEE(d[1024:1024+128*128]))
	binary.LittleEndian.PutUint32(h[16:], crc32.ChecksumIEEE(h[:92]))
	return d
}

// fatBootSector is a plausible FAT32 boot sector for seeds.
func fatBootSector(sectors uint32) []byte {
	s := make([]byte, 512)
	copy(s, []byte{0xEB, 0x58, 0x90})
	binary.LittleEndian.PutUint16(s[11:], 512)
	s[13] = 1
	binary.LittleEndian.PutUint16(s[14:], 32)
	s[16] = 2
	s[21] = 0xF8
	binary.LittleEndian.PutUint32(s[32:], sectors)
	binary.LittleEndian.PutUint32(s[36:], 600)
	binary.LittleEndian.PutUint32(s[44:], 2)
	copy(s[82:], "FAT32   ")
	s[510], s[511] = 0x55, 0xAA
	return s
}

// FuzzFindFAT lays the input out as the first sectors of a 1 GiB disk (LBA 0..33,
// where the MBR, GPT header and entries live) and, past that, at LBA 2048 where a
// partition's boot sector would be. Whatever the bytes, FindFAT must not panic
// or hang, and a volume it returns must lie inside the disk.
func FuzzFindFAT(f *testing.F) {
	f.Add(mbrSector(mbrPart{0x0C, 2048, 100000}))
	f.Add(append(append(mbrSector(mbrPart{0x05, 2048, 200000}), make([]byte, 33*512)...), mbrSector(mbrPart{0x0C, 63, 100000}, mbrPart{0x05, 300, 100})...))
	f.Add(append(gptDisk(2048, 150000), fatBootSector(148000)...))
	f.Add(fatBootSector(100000))
	f.Add(append(mbrSector(mbrPart{0x07, 2048, 100000}), append(make([]byte, 33*512), exfatBootSector(100000)...)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		dev := newMem(1 << 21)
		head := data[:min(len(data), 34*512)]
		dev.write(0, head)
		if len(data) > len(head) {
			dev.write(2048, data[len(head):])
		}
		vol, info, err := FindFAT(dev)
		if err != nil {
			if vol != nil {
				t.Fatal("error with a volume")
			}
			return
		}
		if info.Start+info.Sectors > dev.Blocks() || vol.Blocks() != info.Sectors || !info.FS.IsFAT() {
			t.Fatalf("FindFAT returned %+v (%d sectors) on a %d-sector disk", info, vol.Blocks(), dev.Blocks())
		}
	})
}
