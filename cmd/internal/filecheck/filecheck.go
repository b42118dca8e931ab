//go:build linux && arm64

// Package filecheck is what the sdtest and usbtest firmware images share: paths as a
// person types them, directory listings, and whole-file reads into a kernel buffer
// (as the model loader reads model.bin) reported in the lines the QEMU tests parse.
package filecheck

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/inferpi/inferpi/metal/sys"
	"github.com/inferpi/inferpi/storage/fat32"
)

// Checker prints and reads for one program.
type Checker struct {
	Prog   string // the first word of every line: "sdtest"
	Device string // what errors about the volume name: "SD card"
	// ProgressStep, when above 0, makes a read announce itself and print how far it
	// got every ProgressStep bytes (a person sees it move; the USB test knows when to
	// pull the stick). Such a read may end because its device went away, so its
	// error says how long into the read that happened; otherwise a read error names
	// the device.
	ProgressStep int64
}

// List prints a directory the way `inferpi disk ls` does: type, size, name.
func (c Checker) List(fsys *fat32.FS, dir string) ([]fs.DirEntry, error) {
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Device, err)
	}
	fmt.Printf("%s: ls %s\n", c.Prog, Display(dir))
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			fmt.Println(fat32.ListLine(fi))
		}
	}
	return entries, nil
}

// ReadAndHash reads the file name (as typed) whole into a kernel buffer and prints
// its size, read rate and SHA-256.
func (c Checker) ReadAndHash(fsys *fat32.FS, name string) error {
	p := Path(name)
	st, err := fsys.Stat(p)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Device, err)
	}
	if st.IsDir() {
		return fmt.Errorf("%s: %s is a directory", c.Device, Display(p))
	}
	var buf []byte
	if st.Size() > 0 {
		if buf, err = sys.AllocBuffer(int(st.Size())); err != nil {
			return fmt.Errorf("buffer for %s: %w", Display(p), err)
		}
		defer sys.FreeBuffer(buf)
	}
	var progress func(done, total int64)
	if c.ProgressStep > 0 {
		fmt.Printf("%s: reading %s, %d bytes\n", c.Prog, Display(p), st.Size())
		next := c.ProgressStep
		progress = func(done, total int64) {
			for done >= next && next < total {
				fmt.Printf("%s: %d MiB\n", c.Prog, next>>20)
				next += c.ProgressStep
			}
		}
	}
	start := time.Now()
	n, err := fsys.ReadFileInto(p, buf, progress)
	elapsed := time.Since(start)
	switch {
	case err != nil && c.ProgressStep > 0:
		return fmt.Errorf("%w (%.1f s into the read)", err, elapsed.Seconds())
	case err != nil:
		return fmt.Errorf("%s: %w", c.Device, err)
	}
	mbps := float64(n) / 1e6 / max(elapsed.Seconds(), 1e-9)
	fmt.Printf("%s: read %s: %d bytes in %.3f s, %.2f MB/s\n", c.Prog, Display(p), n, elapsed.Seconds(), mbps)
	fmt.Printf("%s: sha256 %x\n", c.Prog, sha256.Sum256(buf[:n]))
	return nil
}

// Path turns what a person types ("/check/data.bin", "check\data.bin") into an
// io/fs path.
func Path(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), `\`, "/")
	s = strings.Trim(path.Clean("/"+s), "/")
	if s == "" {
		return "."
	}
	return s
}

// Display is an io/fs path as a person reads it: "/" for the root, "/" + p otherwise.
func Display(p string) string {
	if p == "." {
		return "/"
	}
	return "/" + p
}
