package mount

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferpi/inferpi/firmware/sdimage"
	"github.com/inferpi/inferpi/platform/bootlog"
	"github.com/inferpi/inferpi/storage/block"
	"github.com/inferpi/inferpi/storage/imagetest"
)

// card makes an SD image holding the given files.
func card(t *testing.T, files ...sdimage.File) string {
	t.Helper()
	imagetest.NeedTools(t, sdimage.Tools...)
	img := filepath.Join(t.TempDir(), "sd.img")
	if err := sdimage.Build(img, files, sdimage.Options{}); err != nil {
		t.Fatal(err)
	}
	return img
}

func failing(name string, err error) Source {
	return Source{Name: name, Open: func(io.Writer) (block.Device, error) { return nil, err }}
}

func TestMountsTheCardAndReadsBack(t *testing.T) {
	files, err := sdimage.ModelDir("../../models/llama-demo", "llama-demo")
	if err != nil {
		t.Fatal(err)
	}
	img := card(t, append(files, sdimage.File{Path: "notes/readme.txt", Data: []byte("hello")})...)
	if st, _ := os.Stat(img); st.Size() != sdimage.MinSize {
		t.Fatalf("image is %d bytes, want %d (a power of two)", st.Size(), sdimage.MinSize)
	}
	var log strings.Builder
	v, err := Start([]Source{failing("USB", errors.New("no USB mass-storage device")), ImageSource("SD card", img)}, &log, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	want := "storage: USB: starting\n" +
		"storage: USB: no USB mass-storage device\n" +
		"storage: SD card: starting\n" +
		"storage: SD card: 64 MB device, MBR partition 1: FAT32 volume \"INFERPI\" of 63 MB, 512-byte clusters\n"
	if got := StripStamps(log.String()); got != want {
		t.Errorf("log:\n%s\nwant:\n%s", got, want)
	}
	if v.Source != "SD card" || v.Bytes != sdimage.MinSize {
		t.Errorf("volume %+v", v)
	}
	for _, name := range []string{"model.bin", "tokenizer.bin"} {
		got, err := fs.ReadFile(v.FS, "llama-demo/"+name)
		local, _ := os.ReadFile("../../models/llama-demo/" + name)
		if err != nil || !bytes.Equal(got, local) {
			t.Errorf("%s read back differs (%v)", name, err)
		}
	}
}

func TestPrefersTheSourceWithModels(t *testing.T) {
	empty := card(t, sdimage.File{Path: "photos/a.jpg", Data: []byte("jpeg")})
	full := card(t, sdimage.File{Path: "m/model.bin", Data: []byte("x")})
	hasModel := func(v *Volume) bool { _, err := fs.Stat(v.FS, "m/model.bin"); return err == nil }
	var log strings.Builder
	v, err := Start([]Source{ImageSource("USB", empty), ImageSource("SD card", full)}, &log, hasModel)
	if err != nil || v.Source != "SD card" {
		t.Fatalf("picked %v (%v), want the SD card:\n%s", v, err, log.String())
	}
	v.Close()
	// Neither has models: the first volume found wins.
	v, err = Start([]Source{ImageSource("USB", empty), ImageSource("SD card", empty)}, io.Discard, hasModel)
	if err != nil || v.Source != "USB" {
		t.Fatalf("picked %v (%v), want USB", v, err)
	}
	v.Close()
}

func TestNothingUsable(t *testing.T) {
	imagetest.NeedTools(t, "mkfs.fat")
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.img")
	os.WriteFile(garbage, bytes.Repeat([]byte("garbage!"), 1<<14), 0o644)
	fat16 := imagetest.Volume{Image: filepath.Join(dir, "fat16.img")}
	imagetest.Sparse(t, fat16.Image, 32<<20)
	imagetest.Format(t, fat16, 16, 4, 32<<20)

	slow := Source{Name: "slow", Timeout: 50 * time.Millisecond, Open: func(io.Writer) (block.Device, error) {
		time.Sleep(time.Hour)
		return nil, nil
	}}
	panicky := Source{Name: "buggy", Open: func(io.Writer) (block.Device, error) { panic("index out of range [3] with length 3") }}
	nothing := Source{Name: "silent", Open: func(io.Writer) (block.Device, error) { return nil, nil }}
	var log strings.Builder
	_, err := Start([]Source{
		failing("USB", errors.New("no USB mass-storage device")),
		ImageSource("garbage", garbage), ImageSource("fat16", fat16.Image),
		slow, panicky, nothing, ImageSource("missing", filepath.Join(dir, "none.img")),
	}, &log, nil)
	if !errors.Is(err, ErrNoVolume) {
		t.Fatalf("error %v, want ErrNoVolume", err)
	}
	for _, want := range []string{
		"storage: USB: no USB mass-storage device\n",
		"storage: garbage: no FAT volume: no partition table and no FAT boot sector",
		"storage: fat16: no partition table: fat32: not a FAT32 volume: the volume is FAT16",
		"storage: slow: no answer from the device after 50ms; skipped\n",
		"storage: buggy: driver failed: index out of range [3] with length 3\n",
		"storage: silent: driver returned no device\n",
		"storage: missing: open ",
	} {
		if !strings.Contains(StripStamps(log.String()), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	if !strings.Contains(err.Error(), "USB: no USB mass-storage device; garbage: ") {
		t.Errorf("error does not list the reasons: %v", err)
	}
	if _, err := Start(nil, io.Discard, nil); err == nil || !strings.Contains(err.Error(), "no storage drivers") {
		t.Errorf("no sources: %v", err)
	}
}

// Each source's start-up is a step the kernel's fault report can name.
func TestStartNamesEachSourceAsAStep(t *testing.T) {
	var steps []string
	bootlog.SetStepHook(func(name string) { steps = append(steps, name) })
	defer bootlog.SetStepHook(nil)
	Start([]Source{failing("USB", errors.New("no stick")), failing("SD card", errors.New("no card"))}, io.Discard, nil)
	if strings.Join(steps, ", ") != "storage: USB, storage: SD card" {
		t.Errorf("steps %q", steps)
	}
}
