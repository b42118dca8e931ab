package part

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/storage/block"
	"github.com/inferpi/inferpi/storage/fat32"
	"github.com/inferpi/inferpi/storage/imagetest"
	"github.com/inferpi/inferpi/storage/vbr"
)

// memDevice is a sparse in-memory disk: unwritten sectors read as zeros.
type memDevice struct {
	blocks  uint64
	sectors map[uint64][]byte
}

func newMem(blocks uint64) *memDevice {
	return &memDevice{blocks: blocks, sectors: map[uint64][]byte{}}
}

func (m *memDevice) BlockSize() int { return 512 }
func (m *memDevice) Blocks() uint64 { return m.blocks }
func (m *memDevice) ReadBlocks(lba uint64, dst []byte) error {
	if err := block.CheckRead(m, lba, len(dst)); err != nil {
		return err
	}
	for i := 0; i < len(dst)/512; i++ {
		s := dst[i*512 : (i+1)*512]
		clear(s)
		copy(s, m.sectors[lba+uint64(i)])
	}
	return nil
}

// write puts data at sector lba (spanning sectors as needed).
func (m *memDevice) write(lba uint64, data []byte) {
	for i := 0; i < len(data); i += 512 {
		s := make([]byte, 512)
		copy(s, data[i:])
		m.sectors[lba+uint64(i/512)] = s
	}
}

type mbrPart struct {
	typ            byte
	start, sectors uint32
}

func mbrSector(parts ...mbrPart) []byte {
	s := make([]byte, 512)
	for i, p := range parts {
		e := s[446+16*i:]
		e[4] = p.typ
		binary.LittleEndian.PutUint32(e[8:], p.start)
		binary.LittleEndian.PutUint32(e[12:], p.sectors)
	}
	s[510], s[511] = 0x55, 0xAA
	return s
}

// exfatBootSector is a minimal exFAT boot sector (FatFs check_fs: "EXFAT   " at 3
// after EB 76 90, zeros in 11..63), made by hand so no mkfs.exfat is needed.
func exfatBootSector(sectors uint64) []byte {
	s := make([]byte, 512)
	copy(s, []byte{0xEB, 0x76, 0x90})
	copy(s[3:], "EXFAT   ")
	binary.LittleEndian.PutUint64(s[72:], sectors) // VolumeLength
	binary.LittleEndian.PutUint32(s[80:], 2048)    // FatOffset
	binary.LittleEndian.PutUint16(s[104:], 0x0100) // revision 1.0
	s[108], s[109], s[110] = 9, 7, 1               // 512-byte sectors, 64 KiB clusters, one FAT
	s[510], s[511] = 0x55, 0xAA
	return s
}

func ntfsBootSector() []byte {
	s := make([]byte, 512)
	copy(s, []byte{0xEB, 0x52, 0x90})
	copy(s[3:], "NTFS    ")
	s[510], s[511] = 0x55, 0xAA
	return s
}

func TestMessages(t *testing.T) {
	exfatMBR := newMem(1 << 20)
	exfatMBR.write(0, mbrSector(mbrPart{0x07, 2048, 1<<20 - 2048}))
	exfatMBR.write(2048, exfatBootSector(1<<20-2048))

	twoKinds := newMem(1 << 20)
	twoKinds.write(0, mbrSector(mbrPart{0x83, 2048, 4096}, mbrPart{0x07, 8192, 8192}))
	twoKinds.write(8192, ntfsBootSector())

	exfatWhole := newMem(1 << 20)
	exfatWhole.write(0, exfatBootSector(1<<20))

	pastEnd := newMem(10000)
	pastEnd.write(0, mbrSector(mbrPart{0x0C, 2048, 20000}))

	corruptBPB := newMem(100000)
	s := make([]byte, 512)
	copy(s, []byte{0xEB, 0x58, 0x90})
	copy(s[82:], "FAT32   ")
	s[510], s[511] = 0x55, 0xAA
	corruptBPB.write(0, s)

	noSig := newMem(100)
	noSig.write(0, []byte("hello, not a disk"))

	bootCode := newMem(100)
	bc := bytes.Repeat([]byte{0x33}, 512)
	bc[510], bc[511] = 0x55, 0xAA
	bootCode.write(0, bc)

	emptyMBR := newMem(100)
	emptyMBR.write(0, mbrSector())

	for _, tc := range []struct {
		name string
		dev  block.Device
		want []string
	}{
		{"exFAT partition", exfatMBR, []string{"no FAT volume", "partition table MBR", "partition 1: exFAT (65536-byte clusters), type 0x07 (exFAT/NTFS), sectors 2048+1046528", "reformat the disk as FAT32"}},
		{"Linux and NTFS", twoKinds, []string{"partition 1: no recognisable file system (no boot signature), type 0x83 (Linux)", "partition 2: NTFS, type 0x07"}},
		{"exFAT superfloppy", exfatWhole, []string{"no partition table", "whole-disk volume: exFAT"}},
		{"partition past the end", pastEnd, []string{"partition 1: unreadable, type 0x0C (FAT32 LBA)", "extends past the end of the 10000-sector device"}},
		{"corrupt BPB", corruptBPB, []string{"LBA 0 holds a FAT boot sector (no partition table), but it is corrupt: BPB: 0 bytes per sector"}},
		{"no signature", noSig, []string{"no partition table and no FAT boot sector (LBA 0 has no 0x55AA signature)"}},
		{"boot code only", bootCode, []string{"no partition table and no FAT boot sector", "boot flag 0x33"}},
		{"empty MBR", emptyMBR, []string{"the MBR partition table has no partitions"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := FindFAT(tc.dev)
			if err == nil {
				t.Fatal("FindFAT succeeded")
			}
			if !errors.Is(err, ErrNoFAT) {
				t.Errorf("error %q does not wrap ErrNoFAT", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n lacks %q", err, w)
				}
			}
		})
	}
}

// fatImage makes a sparse image with a partition table from an sfdisk script and
// a FAT32 volume (with one file) in the partition that starts at sector start.
func fatImage(t *testing.T, size int64, script string, start, sectors int64) (string, []byte) {
	t.Helper()
	imagetest.NeedTools(t, "sfdisk", "mkfs.fat", "mcopy", "mmd")
	img := t.TempDir() + "/disk.img"
	imagetest.Sparse(t, img, size)
	imagetest.Partition(t, img, script)
	v := imagetest.Volume{Image: img, Offset: start * 512}
	imagetest.Format(t, v, 32, 1, sectors*512)
	data := imagetest.Bytes(uint64(start), 12345)
	v.Put(t, "hello.bin", data)
	return img, data
}

// checkFound opens img, finds the FAT volume and reads hello.bin through it.
func checkFound(t *testing.T, img string, data []byte, scheme Scheme, index int, start uint64) {
	t.Helper()
	dev, f, err := block.OpenImage(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vol, info, err := FindFAT(dev)
	if err != nil {
		t.Fatalf("FindFAT: %v", err)
	}
	if info.Scheme != scheme || info.Index != index || info.Start != start || info.FS != vbr.FAT32 {
		t.Fatalf("FindFAT chose %s %+v, want %s partition %d at %d", info.Scheme, info.Partition, scheme, index, start)
	}
	fsys, err := fat32.Open(vol)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fsys.ReadFile("hello.bin")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("hello.bin: %d bytes, %v; want the %d bytes written", len(got), err, len(data))
	}
}

const (
	mib       = 1 << 20
	fatSecs   = 70 * mib / 512 // > 65525 clusters of 512 bytes
	basicData = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"
	espType   = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
	linuxFS   = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
)

func TestMBR(t *testing.T) {
	// A Linux partition first: the FAT32 one (type 0x0C) after it is chosen.
	script := fmt.Sprintf("label: dos\nstart=2048, size=4096, type=83\nstart=8192, size=%d, type=c\n", fatSecs)
	img, data := fatImage(t, 80*mib, script, 8192, fatSecs)
	checkFound(t, img, data, SchemeMBR, 2, 8192)
}

func TestMBRLogical(t *testing.T) {
	// The FAT volume is logical partition 5 inside an extended partition.
	script := fmt.Sprintf("label: dos\nstart=2048, size=4096, type=83\nstart=8192, size=%d, type=5\nstart=10240, size=%d, type=c\n", fatSecs+4096, fatSecs)
	img, data := fatImage(t, 80*mib, script, 10240, fatSecs)
	checkFound(t, img, data, SchemeMBR, 5, 10240)
}

func TestGPT(t *testing.T) {
	script := fmt.Sprintf("label: gpt\nstart=2048, size=4096, type=%s\nstart=8192, size=%d, type=%s, name=models\n", linuxFS, fatSecs, basicData)
	img, data := fatImage(t, 80*mib, script, 8192, fatSecs)
	checkFound(t, img, data, SchemeGPT, 2, 8192)

	// A damaged header and a damaged entry array are named, not guessed around.
	for _, tc := range []struct {
		off  int64
		want string
	}{
		{512 + 40, "GPT: header CRC32 is"},
		{1024 + 128 + 60, "GPT: partition entry array CRC32 is"},
	} {
		bad := t.TempDir() + "/bad.img"
		raw, err := os.ReadFile(img)
		if err != nil {
			t.Fatal(err)
		}
		raw[tc.off] ^= 0xFF
		if err := os.WriteFile(bad, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		dev, f, err := block.OpenImage(bad)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = FindFAT(dev)
		f.Close()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("byte %d flipped: error %v, want one containing %q", tc.off, err, tc.want)
		}
	}
}

func TestGPTPrefersDataOverESP(t *testing.T) {
	imagetest.NeedTools(t, "sfdisk", "mkfs.fat", "mcopy", "mmd")
	script := fmt.Sprintf("label: gpt\nstart=2048, size=%d, type=%s\nstart=%d, size=%d, type=%s\n", fatSecs, espType, 2048+fatSecs, fatSecs, basicData)
	img, data := fatImage(t, 150*mib, script, 2048+fatSecs, fatSecs)
	imagetest.Format(t, imagetest.Volume{Image: img, Offset: 2048 * 512}, 32, 1, fatSecs*512)
	checkFound(t, img, data, SchemeGPT, 2, 2048+fatSecs)
}

func TestSuperfloppy(t *testing.T) {
	v := imagetest.NewSuperfloppy(t, 70*mib, 1)
	data := imagetest.Bytes(9, 5000)
	v.Put(t, "hello.bin", data)
	checkFound(t, v.Image, data, SchemeNone, 0, 0)
}
