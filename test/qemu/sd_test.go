package qemu_test

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/inferpi/inferpi/internal/qemu"
	"github.com/inferpi/inferpi/storage/imagetest"
)

// TestSDRaspi4b boots the SD test firmware (cmd/sdtest) on QEMU raspi4b with SD
// images made here by sfdisk, mkfs.fat and mtools: a card whose listing and
// file checksum must come back byte-exact, no card at all, a FAT16 volume and a
// card of garbage. Each run must end with the firmware's reset (QEMU exits), so
// no case can hang. `make qemu-sd` runs it.
func TestSDRaspi4b(t *testing.T) {
	requireQEMU(t)
	imagetest.NeedTools(t, "sfdisk", "mkfs.fat", "mcopy", "mmd")
	kernel := build(t, "rpi4", "./cmd/sdtest")
	t.Run("card", func(t *testing.T) { testSDCard(t, kernel) })
	t.Run("no card", func(t *testing.T) {
		m := bootSD(t, kernel, "")
		expectAndExit(t, m, `sdtest: error: no SD card found: emmc2 @0xfe340000: no SD card inserted[^\n]*; emmc @0xfe300000: no SD card inserted`)
	})
	t.Run("FAT16 volume", func(t *testing.T) {
		img := filepath.Join(t.TempDir(), "fat16.img")
		imagetest.Sparse(t, img, 64<<20)
		imagetest.Partition(t, img, "start=2048, type=6\n")
		imagetest.Format(t, imagetest.Volume{Image: img, Offset: 1 << 20}, 16, 4, 63<<20)
		m := bootSD(t, kernel, img)
		expectAndExit(t, m, `sdtest: error: SD card: fat32: not a FAT32 volume: the volume is FAT16 \(\d+ clusters\); FAT16 is not supported: format it as FAT32`)
	})
	t.Run("no partition table", func(t *testing.T) {
		garbage := imagetest.Bytes(rand.Uint64(), 16<<20)
		garbage[0], garbage[510], garbage[511] = 0, 0, 0 // neither a boot jump nor the 0x55AA signature
		img := filepath.Join(t.TempDir(), "garbage.img")
		if err := os.WriteFile(img, garbage, 0o644); err != nil {
			t.Fatal(err)
		}
		m := bootSD(t, kernel, img)
		expectAndExit(t, m, `sdtest: error: SD card: no FAT volume: no partition table and no FAT boot sector`)
	})
}

// sdFile is a file put on the test card.
type sdFile struct {
	path string // inside the volume; a trailing "/" makes a directory
	data []byte
}

func testSDCard(t *testing.T, kernel string) {
	seed := rand.Uint64()
	t.Logf("random data seed %#x", seed)
	const bigName = "check/A long name for the random test data.bin"
	big := imagetest.Bytes(seed, 6<<20+1234) // not a whole number of sectors or clusters
	files := []sdFile{
		{path: "hello.txt", data: []byte("Hello from the SD card\n")},
		{path: "empty.txt"},
		{path: "check/"},
		{path: bigName, data: big},
		{path: "check/notes.txt", data: []byte("a small file beside the big one\n")},
		{path: "check/nested/"},
		{path: "check/nested/deep.txt", data: []byte("deeper\n")},
		{path: "Models/"},
		{path: "Models/README.TXT", data: imagetest.Bytes(seed+1, 5000)},
	}
	// 4 GiB (sparse): QEMU makes cards over 1 GiB SDHC, with block addressing,
	// like every card a Pi 4 is likely to meet. The size must be a power of two.
	img := filepath.Join(t.TempDir(), "sd.img")
	imagetest.Sparse(t, img, 4<<30)
	imagetest.Partition(t, img, "label: dos\nstart=2048, type=c\n")
	vol := imagetest.Volume{Image: img, Offset: 1 << 20}
	imagetest.Format(t, vol, 32, 8, 4<<30-1<<20, "-n", "INFERPI")
	for _, f := range files {
		if strings.HasSuffix(f.path, "/") {
			vol.Mkdir(t, strings.TrimSuffix(f.path, "/"))
		} else {
			vol.Put(t, f.path, f.data)
		}
	}

	m := bootSD(t, kernel, img)
	for _, want := range []string{
		`sdtest: mailbox: 100 queries from 4 goroutines agree`,
		`sd: emmc @0xfe300000: base clock \d+ MHz \(firmware clock EMMC\)`,
		`sd: emmc: SDHC/SDXC card "[^"]*", 4294 MB, 4-bit bus`,
		`SD card: MBR partition 1: FAT32, type 0x0C \(FAT32 LBA\), sectors 2048\+8386560`,
		`SD card: FAT32 volume INFERPI`,
		`sdtest: type a path to read`,
	} {
		if _, err := m.Expect(want, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Send("/" + bigName + "\r"); err != nil {
		t.Fatal(err)
	}
	read, err := m.Expect(`sdtest: read [^\n]*MB/s`, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Expect(`sdtest: done`, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := m.Wait(time.Minute); err != nil {
		t.Errorf("firmware did not reset after the test: %v", err)
	}
	log := strings.ReplaceAll(m.Log(), "\r", "")

	// The listing of the root and of each top-level directory, exactly.
	got := listings(log, "sdtest")
	want := expectedListings(files)
	for _, dir := range []string{"/", "/check", "/Models"} {
		if got[dir] != want[dir] {
			t.Errorf("ls %s printed\n%s\nwant\n%s", dir, got[dir], want[dir])
		}
	}
	if len(got) != 3 {
		t.Errorf("listed %d directories, want 3 (the root and its 2 directories)", len(got))
	}

	// The file, byte-exact.
	wantRead := fmt.Sprintf("sdtest: read /%s: %d bytes in ", bigName, len(big))
	if !strings.Contains(read, wantRead) {
		t.Errorf("read line %q, want it to contain %q", lastLine(read), wantRead)
	}
	wantSum := fmt.Sprintf("sdtest: sha256 %x\n", sha256.Sum256(big))
	if !strings.Contains(log, wantSum) {
		t.Errorf("checksum: want %q in the log", strings.TrimSpace(wantSum))
	}
	t.Logf("throughput (not asserted): %s", lastLine(read))
	fmt.Printf("raspi4b SD card: %s\n", strings.TrimPrefix(lastLine(read), "sdtest: "))
}

// bootSD starts the firmware with image as the SD card ("" for none).
func bootSD(t *testing.T, kernel, image string) *qemu.Machine {
	t.Helper()
	m, err := qemu.Start(qemu.Config{Board: "rpi4", Kernel: kernel, SD: image})
	if err != nil {
		t.Fatal(err)
	}
	logOnFailure(t, m)
	if _, err := m.Expect(`sdtest: SD card check on`, time.Minute); err != nil {
		t.Fatal(err)
	}
	return m
}

// expectAndExit waits for an error message and for the firmware's reset.
func expectAndExit(t *testing.T, m *qemu.Machine, pattern string) {
	t.Helper()
	out, err := m.Expect(pattern, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(lastLine(out))
	if _, err := m.Expect(`kernel: program exited with status 1`, 30*time.Second); err != nil {
		t.Error(err)
	}
	if err := m.Wait(30 * time.Second); err != nil {
		t.Errorf("firmware did not reset after the error: %v", err)
	}
}

// listings collects a test firmware's "TAG: ls DIR" blocks (TAG is sdtest or
// usbtest): DIR -> its lines.
func listings(log, tag string) map[string]string {
	header := regexp.MustCompile(`^` + tag + `: ls (.*)$`)
	out := map[string]string{}
	dir := ""
	for _, line := range strings.Split(log, "\n") {
		if m := header.FindStringSubmatch(line); m != nil {
			dir = m[1]
			out[dir] = ""
			continue
		}
		if strings.HasPrefix(line, tag) || strings.HasPrefix(line, "[") {
			dir = ""
		}
		if dir != "" {
			out[dir] += line + "\n"
		}
	}
	return out
}

// expectedListings is what `inferpi disk ls` prints for the root and each
// top-level directory of files: type, size, name, sorted by name.
func expectedListings(files []sdFile) map[string]string {
	entries := map[string][]string{}
	for _, f := range files {
		p := strings.TrimSuffix(f.path, "/")
		dir, name := "/", p
		if i := strings.LastIndex(p, "/"); i >= 0 {
			dir, name = "/"+p[:i], p[i+1:]
		}
		line := fmt.Sprintf("-\t%d\t%s", len(f.data), name)
		if strings.HasSuffix(f.path, "/") {
			line = "d\t0\t" + name
		}
		entries[dir] = append(entries[dir], line)
	}
	out := map[string]string{}
	for dir, lines := range entries {
		sort.Slice(lines, func(i, j int) bool { return lineName(lines[i]) < lineName(lines[j]) })
		out[dir] = strings.Join(lines, "\n") + "\n"
	}
	return out
}

func lineName(l string) string { return l[strings.LastIndex(l, "\t")+1:] }

func lastLine(s string) string {
	s = strings.TrimRight(strings.ReplaceAll(s, "\r", ""), "\n")
	return s[strings.LastIndex(s, "\n")+1:]
}
