package storage

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/storage/block"
	"github.com/inferpi/inferpi/storage/fat32"
	"github.com/inferpi/inferpi/storage/imagetest"
	"github.com/inferpi/inferpi/storage/part"
)

func openImage(t *testing.T, path string) block.Device {
	t.Helper()
	dev, f, err := block.OpenImage(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return dev
}

var stamp = `\[ *\d+\.\d{6}\] `

func TestMountFATOnMBR(t *testing.T) {
	imagetest.NeedTools(t, "sfdisk", "mkfs.fat", "mcopy", "mmd")
	img := filepath.Join(t.TempDir(), "sd.img")
	imagetest.Sparse(t, img, 128<<20)
	imagetest.Partition(t, img, "label: dos\nstart=2048, type=c\n")
	vol := imagetest.Volume{Image: img, Offset: 1 << 20}
	imagetest.Format(t, vol, 32, 1, 127<<20, "-n", "MODELS")
	data := imagetest.Bytes(7, 70000)
	vol.Mkdir(t, "tiny")
	vol.Put(t, "tiny/model.bin", data)

	var log bytes.Buffer
	fsys, info, err := MountFAT(&log, openImage(t, img), "SD card")
	if err != nil {
		t.Fatal(err)
	}
	if info.Scheme != part.SchemeMBR || info.Index != 1 || info.Start != 2048 {
		t.Errorf("chose %s %+v", info.Scheme, info.Partition)
	}
	got, err := fsys.ReadFile("tiny/model.bin")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("reading back the file: %d bytes, %v", len(got), err)
	}
	want := regexp.MustCompile(`^` + stamp + `SD card: MBR partition 1: FAT32, type 0x0C \(FAT32 LBA\), sectors 2048\+260096\n` +
		stamp + `SD card: FAT32 volume MODELS, 127 MiB, \d+ clusters of 512 bytes\n$`)
	if !want.MatchString(log.String()) {
		t.Errorf("log:\n%s\nwant to match %s", log.String(), want)
	}
}

func TestMountFATSuperfloppy(t *testing.T) {
	vol := imagetest.NewSuperfloppy(t, 64<<20, 1)
	var log bytes.Buffer
	if _, info, err := MountFAT(&log, openImage(t, vol.Image), "SD card"); err != nil || info.Scheme != part.SchemeNone {
		t.Fatalf("superfloppy: %v, scheme %s", err, info.Scheme)
	}
	if !regexp.MustCompile(`^` + stamp + `SD card: whole-disk volume: FAT32`).MatchString(log.String()) {
		t.Errorf("log:\n%s", log.String())
	}
}

// Volumes that cannot be used give an error that starts with the device's
// name and says what was found; nothing about them is logged as success.
func TestMountFATUnsupported(t *testing.T) {
	imagetest.NeedTools(t, "sfdisk", "mkfs.fat")
	dir := t.TempDir()

	fat16 := filepath.Join(dir, "fat16.img")
	imagetest.Sparse(t, fat16, 64<<20)
	imagetest.Partition(t, fat16, "start=2048, type=6\n")
	imagetest.Format(t, imagetest.Volume{Image: fat16, Offset: 1 << 20}, 16, 4, 63<<20)

	garbage := filepath.Join(dir, "garbage.img")
	b := imagetest.Bytes(99, 4<<20)
	b[0], b[510], b[511] = 0, 0, 0
	if err := os.WriteFile(garbage, b, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		image string
		is    error
		want  string
	}{
		{fat16, fat32.ErrNotFAT32, "SD card: fat32: not a FAT32 volume: the volume is FAT16 ("},
		{garbage, part.ErrNoFAT, "SD card: no FAT volume: no partition table and no FAT boot sector"},
	} {
		var log bytes.Buffer
		fsys, _, err := MountFAT(&log, openImage(t, c.image), "SD card")
		if fsys != nil || !errors.Is(err, c.is) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: %v, want %v starting %q", filepath.Base(c.image), err, c.is, c.want)
		}
		if strings.Contains(log.String(), "FAT32 volume") {
			t.Errorf("%s: logged a mounted volume:\n%s", filepath.Base(c.image), log.String())
		}
	}
}
