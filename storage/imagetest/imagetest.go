// Package imagetest builds real FAT disk images for tests with the standard tools
// (truncate for sparse files, sfdisk, mkfs.fat, mtools), so that the partition and
// FAT code is checked against what real formatters write, not against our own
// idea of the format.
//
// A missing tool skips the test with a message, except when INFERPI_REQUIRE_TOOLS=1
// (set by `make test`), where it fails: CI must not pass by skipping.
package imagetest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// NeedTools skips (or fails, under INFERPI_REQUIRE_TOOLS=1) unless every named
// command is installed.
func NeedTools(t testing.TB, names ...string) {
	t.Helper()
	var missing []string
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("needs %s (Debian packages dosfstools, mtools, fdisk; `make deps` installs them)", strings.Join(missing, ", "))
	if os.Getenv("INFERPI_REQUIRE_TOOLS") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Run runs a tool and fails the test with its output if it fails.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	return RunIn(t, nil, name, args...)
}

// RunIn is Run with stdin.
func RunIn(t testing.TB, stdin []byte, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	// mtools: no drive geometry checks on image files; UTF-8 names.
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1", "LC_ALL=C.UTF-8")
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Sparse creates a sparse file of size bytes.
func Sparse(t testing.TB, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
}

// Volume is a FAT volume inside an image file.
type Volume struct {
	Image  string
	Offset int64 // byte offset of the volume in the image
}

// target is the mtools image argument (image@@offset).
func (v Volume) target() string {
	if v.Offset == 0 {
		return v.Image
	}
	return fmt.Sprintf("%s@@%d", v.Image, v.Offset)
}

// Format runs mkfs.fat on the volume: fatBits 12/16/32, sectorsPerCluster,
// sizeBytes the volume size (a multiple of 1 KiB), extra options appended.
func Format(t testing.TB, v Volume, fatBits, sectorsPerCluster int, sizeBytes int64, extra ...string) {
	t.Helper()
	args := []string{"-F", fmt.Sprint(fatBits), "-s", fmt.Sprint(sectorsPerCluster), "-S", "512", "-i", "12345678", "--invariant"}
	if v.Offset != 0 {
		args = append(args, fmt.Sprintf("--offset=%d", v.Offset/512))
	}
	args = append(args, extra...)
	args = append(args, v.Image, fmt.Sprint(sizeBytes/1024))
	Run(t, "mkfs.fat", args...)
}

// NewSuperfloppy makes a sparse image holding one FAT32 volume at LBA 0.
func NewSuperfloppy(t testing.TB, sizeBytes int64, sectorsPerCluster int) Volume {
	t.Helper()
	NeedTools(t, "mkfs.fat", "mcopy", "mmd")
	v := Volume{Image: filepath.Join(t.TempDir(), "disk.img")}
	Sparse(t, v.Image, sizeBytes)
	Format(t, v, 32, sectorsPerCluster, sizeBytes)
	return v
}

// Partition lays out a partition table with sfdisk. script is an sfdisk script
// (e.g. "label: gpt\nstart=2048, size=131072, type=...\n").
func Partition(t testing.TB, image, script string) {
	t.Helper()
	NeedTools(t, "sfdisk")
	RunIn(t, []byte(script), "sfdisk", "--no-reread", "--no-tell-kernel", "-q", image)
}

// Mkdir creates directories (parents first), e.g. "a", "a/b".
func (v Volume) Mkdir(t testing.TB, dirs ...string) {
	t.Helper()
	args := []string{"-i", v.target()}
	for _, d := range dirs {
		args = append(args, "::/"+d)
	}
	Run(t, "mmd", args...)
}

// Put writes data as the file name (a path inside the volume) through mcopy.
func (v Volume) Put(t testing.TB, name string, data []byte) {
	t.Helper()
	local := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(local, data, 0o644); err != nil {
		t.Fatal(err)
	}
	Run(t, "mcopy", "-i", v.target(), "-D", "o", local, "::/"+name)
}

// PutFile copies a local file into the volume as name.
func (v Volume) PutFile(t testing.TB, local, name string) {
	t.Helper()
	Run(t, "mcopy", "-i", v.target(), "-D", "o", local, "::/"+name)
}

// Delete removes files from the volume.
func (v Volume) Delete(t testing.TB, names ...string) {
	t.Helper()
	args := []string{"-i", v.target()}
	for _, n := range names {
		args = append(args, "::/"+n)
	}
	Run(t, "mdel", args...)
}

// Bytes returns n deterministic pseudo-random bytes for seed: every file in a
// test gets distinct content, so a read from the wrong place cannot pass.
func Bytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x9E3779B97F4A7C15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for k := 0; k < 8; k++ {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// ForgetNextFree sets the FSInfo "next free cluster" hint of a FAT32 volume to
// unknown (0xFFFFFFFF). mtools allocates after that hint, so without this a new
// file never fills the holes left by deleted ones; with it, it does (from cluster
// 2 up), which is how tests fragment a file on purpose. FSInfo layout: its sector
// number at BPB offset 48, next free at 492 (Microsoft FAT spec).
func (v Volume) ForgetNextFree(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(v.Image, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [2]byte
	if _, err := f.ReadAt(b[:], v.Offset+48); err != nil {
		t.Fatal(err)
	}
	sector := int64(b[0]) | int64(b[1])<<8
	if _, err := f.WriteAt([]byte{0xFF, 0xFF, 0xFF, 0xFF}, v.Offset+sector*512+492); err != nil {
		t.Fatal(err)
	}
}
