package fat32

import (
	"encoding/binary"
	"io/fs"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/storage/block"
)

// sparseDevice is an in-memory disk of 512-byte sectors where unwritten sectors
// read as zeros, so a fuzzed volume can claim gigabytes at no cost. Reads beyond
// limit (the volume's end) are recorded as violations.
type sparseDevice struct {
	blocks    uint64
	sectors   map[uint64][]byte
	limit     uint64
	violation string
}

func (d *sparseDevice) BlockSize() int { return 512 }
func (d *sparseDevice) Blocks() uint64 { return d.blocks }
func (d *sparseDevice) ReadBlocks(lba uint64, dst []byte) error {
	if err := block.CheckRead(d, lba, len(dst)); err != nil {
		d.violation = err.Error()
		return err
	}
	if d.limit != 0 && lba+uint64(len(dst)/512) > d.limit {
		d.violation = "read past the volume's end"
	}
	for i := 0; i < len(dst)/512; i++ {
		s := dst[i*512 : (i+1)*512]
		clear(s)
		copy(s, d.sectors[lba+uint64(i)])
	}
	return nil
}

func (d *sparseDevice) write(lba uint64, data []byte) {
	for i := 0; i < len(data); i += 512 {
		s := make([]byte, 512)
		copy(s, data[i:])
		d.sectors[lba+uint64(i/512)] = s
	}
}

// seedVolume is a tiny but valid FAT32 volume, made by hand as the fuzzer's
// input layout wants it: boot sector, then the first FAT sector, then the root
// directory cluster and the clusters after it.
func seedVolume() []byte {
	const total = 32 + 2*600 + 70000
	boot := make([]byte, 512)
	copy(boot, []byte{0xEB, 0x58, 0x90})
	binary.LittleEndian.PutUint16(boot[11:], 512)
	boot[13] = 1
	binary.LittleEndian.PutUint16(boot[14:], 32)
	boot[16] = 2
	boot[21] = 0xF8
	binary.LittleEndian.PutUint32(boot[32:], total)
	binary.LittleEndian.PutUint32(boot[36:], 600)
	binary.LittleEndian.PutUint32(boot[44:], 2)
	boot[66] = 0x29
	copy(boot[71:], "SEED       ")
	boot[510], boot[511] = 0x55, 0xAA

	fat := make([]byte, 512)
	for c, v := range []uint32{0x0FFFFFF8, 0x0FFFFFFF, 0x0FFFFFFF, 0x0FFFFFFF, 5, 0x0FFFFFFF, 0x0FFFFFFF} {
		binary.LittleEndian.PutUint32(fat[4*c:], v)
	}
	sfn := "LONGNA~1TXT"
	root := cat(
		sfnEntry("SEED       ", attrVolumeID, 0, 0, 0),
		lfnEntries("Long name.txt", shortNameChecksum([]byte(sfn))),
		sfnEntry(sfn, attrArchive, 0, 3, 11),
		sfnEntry("TWO     BIN", attrArchive, 0x18, 4, 700),
		sfnEntry("SUB        ", attrDirectory, 0, 6, 0),
	)
	root = append(root, make([]byte, 512-len(root))...)
	file1 := append([]byte("hello world"), make([]byte, 501)...)
	file2 := make([]byte, 1024)
	sub := cat(sfnEntry(".          ", attrDirectory, 0, 6, 0), sfnEntry("..         ", attrDirectory, 0, 0, 0), sfnEntry("X          ", 0, 0, 3, 5))
	return cat(boot, fat, root, file1, file2, sub)
}

// FuzzFS mounts fuzzed volumes and walks and reads everything in them. The input
// is laid out where its own boot sector says the pieces go: bytes 0-511 at LBA 0,
// 512-1023 as the first FAT sector, the rest from cluster 2 on. Whatever the
// bytes, nothing may panic or hang, and no read may leave the volume.
func FuzzFS(f *testing.F) {
	f.Add(seedVolume())
	loop := seedVolume()
	binary.LittleEndian.PutUint32(loop[512+4*4:], 4) // two.bin's chain 4 -> 4
	f.Add(loop)
	dirLoop := seedVolume()
	binary.LittleEndian.PutUint16(dirLoop[1024+4*32+26:], 2) // SUB points back at the root
	f.Add(dirLoop)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 512 {
			return
		}
		boot := data[:512]
		total := uint64(binary.LittleEndian.Uint32(boot[32:]))
		if total == 0 || total > 1<<26 {
			total = 1 << 17
		}
		dev := &sparseDevice{blocks: total + 8, sectors: map[uint64][]byte{}}
		dev.write(0, boot)
		rsvd := uint64(binary.LittleEndian.Uint16(boot[14:]))
		if len(data) > 512 {
			dev.write(rsvd, data[512:min(len(data), 1024)])
		}
		firstData := rsvd + uint64(boot[16])*uint64(binary.LittleEndian.Uint32(boot[36:]))
		if len(data) > 1024 && firstData < dev.blocks {
			dev.write(firstData, data[1024:])
		}
		fsys, err := Open(dev)
		if err != nil {
			return
		}
		dev.limit = uint64(fsys.bpb.TotalSectors) * uint64(fsys.bpb.BytesPerSector) / 512
		visited := 0
		fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
			if visited++; err != nil || visited > 200 {
				return fs.SkipDir
			}
			if d.IsDir() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return nil
			}
			if info.Size() <= 1<<20 {
				fsys.ReadFile(path)
			} else if fl, err := fsys.Open(path); err == nil {
				fl.(*file).ReadAt(make([]byte, 4096), info.Size()/2)
				fl.Close()
			}
			return nil
		})
		if dev.violation != "" {
			t.Fatalf("device read out of bounds: %s", dev.violation)
		}
	})
}

func mountSeed(t *testing.T, data []byte) *FS {
	dev := &sparseDevice{blocks: 71232, sectors: map[uint64][]byte{}}
	dev.write(0, data[:512])
	dev.write(32, data[512:1024])
	dev.write(1232, data[1024:])
	fsys, err := Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func TestSeedVolume(t *testing.T) {
	// The fuzz seeds must be what they claim, or the fuzzer starts blind.
	fsys := mountSeed(t, seedVolume())
	got, err := fsys.ReadFile("Long name.txt")
	if err != nil || string(got) != "hello world" {
		t.Fatalf("Long name.txt: %q, %v", got, err)
	}
	if got, err := fsys.ReadFile("two.bin"); err != nil || len(got) != 700 {
		t.Fatalf("two.bin: %d bytes, %v", len(got), err)
	}
	if got, err := fsys.ReadFile("SUB/X"); err != nil || string(got) != "hello" {
		t.Fatalf("SUB/X: %q, %v", got, err)
	}
	if fsys.Info().Label != "SEED" {
		t.Errorf("label %q", fsys.Info().Label)
	}

	// Two names that differ only in case (FAT forbids it, a damaged or foreign
	// volume may have it): the exact spelling wins, then the first match.
	twins := seedVolume()
	copy(twins[1024+5*32:], sfnEntry("TWO     BIN", attrArchive, 0, 3, 11))
	fsys = mountSeed(t, twins)
	for name, size := range map[string]int64{"two.bin": 700, "TWO.BIN": 11, "Two.Bin": 700} {
		if info, err := fsys.Stat(name); err != nil || info.Size() != size {
			t.Errorf("Stat(%q): %v, %v; want the %d-byte entry", name, info, err, size)
		}
	}

	loop := seedVolume()
	binary.LittleEndian.PutUint32(loop[512+4*4:], 4)
	if _, err := mountSeed(t, loop).ReadFile("two.bin"); err == nil || !strings.Contains(err.Error(), "cluster chain loops") {
		t.Errorf("two.bin with a looping chain: %v", err)
	}
	dirLoop := seedVolume()
	binary.LittleEndian.PutUint16(dirLoop[1024+4*32+26:], 2)
	if _, err := mountSeed(t, dirLoop).ReadDir("SUB/SUB"); err == nil || !strings.Contains(err.Error(), "its own ancestor") {
		t.Errorf("directory pointing at the root: %v", err)
	}
}
