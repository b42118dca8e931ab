package fat32

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/storage/block"
	"github.com/inferpi/inferpi/storage/imagetest"
)

// corruptImage is a small real volume (512-byte clusters) with a 10-cluster file
// and a directory, plus where its FAT and entries are.
type corruptImage struct {
	v         imagetest.Volume
	raw       []byte
	fatOff    int    // byte offset of the first FAT
	fileClus  uint32 // first cluster of chain.bin
	rootClus  uint32
	entryOff  int // byte offset of chain.bin's 8.3 entry
	firstData int // byte offset of cluster 2
}

func newCorruptImage(t *testing.T) corruptImage {
	v := imagetest.NewSuperfloppy(t, 40<<20, 1)
	v.Mkdir(t, "d")
	v.Put(t, "d/inner.txt", []byte("inner"))
	v.Put(t, "chain.bin", imagetest.Bytes(1, 10*512))
	raw, err := os.ReadFile(v.Image)
	if err != nil {
		t.Fatal(err)
	}
	fsys, _ := mountImage(t, v)
	e, err := fsys.lookup("stat", "chain.bin")
	if err != nil {
		t.Fatal(err)
	}
	c := corruptImage{v: v, raw: raw, fileClus: e.cluster, rootClus: fsys.bpb.RootCluster,
		fatOff: int(fsys.bpb.ReservedSectors) * 512, firstData: int(fsys.dataStart)}
	// Find the 8.3 entry of chain.bin in the root directory's first cluster.
	root := raw[c.firstData+int(c.rootClus-2)*512:][:512]
	for off := 0; off < 512; off += 32 {
		if string(root[off:off+11]) == "CHAIN   BIN" {
			c.entryOff = c.firstData + int(c.rootClus-2)*512 + off
		}
	}
	if c.entryOff == 0 {
		t.Fatal("chain.bin's entry not found in the root directory")
	}
	return c
}

// with returns a mounted copy of the image after patch changed its bytes.
func (c corruptImage) with(t *testing.T, patch func(raw []byte)) (*FS, error) {
	raw := append([]byte(nil), c.raw...)
	patch(raw)
	path := t.TempDir() + "/bad.img"
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	dev, f, err := block.OpenImage(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return Open(&countingDevice{Device: dev, t: t})
}

func (c corruptImage) setFAT(raw []byte, cluster, value uint32) {
	binary.LittleEndian.PutUint32(raw[c.fatOff+4*int(cluster):], value)
}

func TestCorruptChains(t *testing.T) {
	c := newCorruptImage(t)
	f := c.fileClus
	for _, tc := range []struct {
		name  string
		patch func(raw []byte)
		path  string
		want  string
	}{
		{"loop", func(r []byte) { c.setFAT(r, f+5, f+2) }, "chain.bin", "cluster chain loops"},
		{"self loop", func(r []byte) { c.setFAT(r, f, f) }, "chain.bin", "cluster chain loops"},
		{"leaves the volume", func(r []byte) { c.setFAT(r, f+3, 0x0FFFFFF0) }, "chain.bin", "cluster chain leaves the volume: cluster"},
		{"free cluster", func(r []byte) { c.setFAT(r, f+3, 0) }, "chain.bin", "reaches a free cluster"},
		{"bad cluster", func(r []byte) { c.setFAT(r, f+3, 0x0FFFFFF7) }, "chain.bin", "marked bad"},
		{"ends early", func(r []byte) { c.setFAT(r, f+3, 0x0FFFFFFF) }, "chain.bin", "ends after 4 clusters, the size needs 10"},
		{"first cluster outside", func(r []byte) { binary.LittleEndian.PutUint16(r[c.entryOff+20:], 0x0FFF) }, "chain.bin", fmt.Sprintf("first cluster %d is outside", 0x0FFF<<16|f)},
		{"size larger than volume", func(r []byte) { binary.LittleEndian.PutUint32(r[c.entryOff+28:], 0xFFFFFFFF) }, "chain.bin", "the volume has only"},
		{"directory loops", func(r []byte) { c.setFAT(r, c.rootClus, c.rootClus) }, ".", "cluster chain loops"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys, err := c.with(t, tc.patch)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			var rerr error
			if tc.path == "." {
				_, rerr = fsys.ReadDir(".")
			} else {
				_, rerr = fsys.ReadFile(tc.path)
			}
			if rerr == nil || !errors.Is(rerr, ErrCorrupt) || !strings.Contains(rerr.Error(), tc.want) || !strings.Contains(rerr.Error(), tc.path) {
				t.Fatalf("error %v; want ErrCorrupt naming %q and saying %q", rerr, tc.path, tc.want)
			}
		})
	}
	// The intact image still reads, so the failures above are the patches' doing.
	fsys, err := c.with(t, func([]byte) {})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.ReadFile("chain.bin"); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptBootSector(t *testing.T) {
	c := newCorruptImage(t)
	for _, tc := range []struct {
		name  string
		patch func(raw []byte)
		want  string
	}{
		{"bytes per sector", func(r []byte) { binary.LittleEndian.PutUint16(r[11:], 1000) }, "1000 bytes per sector"},
		{"sectors per cluster", func(r []byte) { r[13] = 3 }, "3 sectors per cluster"},
		{"no FATs", func(r []byte) { r[16] = 0 }, "0 FATs"},
		{"volume larger than device", func(r []byte) { binary.LittleEndian.PutUint32(r[32:], 1<<30) }, "the device or partition holds only"},
		{"root cluster", func(r []byte) { binary.LittleEndian.PutUint32(r[44:], 1) }, "root directory cluster 1 is outside"},
		{"signature", func(r []byte) { r[510] = 0 }, "signature is 0xAA00"},
		{"FAT too small", func(r []byte) { binary.LittleEndian.PutUint32(r[36:], 10) }, "cannot describe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.with(t, tc.patch)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open: %v; want an error saying %q", err, tc.want)
			}
		})
	}
}

// TestOtherFileSystems: FAT12, FAT16 (made by mkfs.fat) and exFAT (a boot sector
// made by hand, so no mkfs.exfat is needed) get messages that name them.
func TestOtherFileSystems(t *testing.T) {
	imagetest.NeedTools(t, "mkfs.fat")
	for _, tc := range []struct {
		bits int
		size int64
		want string
	}{
		{12, 2 << 20, "the volume is FAT12"},
		{16, 64 << 20, "the volume is FAT16"},
	} {
		v := imagetest.Volume{Image: t.TempDir() + "/fat.img"}
		imagetest.Sparse(t, v.Image, tc.size)
		imagetest.Format(t, v, tc.bits, 4, tc.size)
		dev, f, err := block.OpenImage(v.Image)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Open(dev)
		f.Close()
		if err == nil || !errors.Is(err, ErrNotFAT32) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "not supported") {
			t.Errorf("FAT%d: %v; want ErrNotFAT32 saying %q ... not supported", tc.bits, err, tc.want)
		}
	}

	exfat := make([]byte, 1<<20)
	copy(exfat, []byte{0xEB, 0x76, 0x90})
	copy(exfat[3:], "EXFAT   ")
	binary.LittleEndian.PutUint64(exfat[72:], 2048)
	exfat[108], exfat[109], exfat[110] = 9, 3, 1
	exfat[510], exfat[511] = 0x55, 0xAA
	_, err := Open(block.NewFile(bytesReaderAt(exfat), int64(len(exfat)), 512))
	if err == nil || !errors.Is(err, ErrNotFAT32) || !strings.Contains(err.Error(), "exFAT") {
		t.Errorf("exFAT: %v; want ErrNotFAT32 naming exFAT", err)
	}
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	return copy(p, b[off:]), nil
}
