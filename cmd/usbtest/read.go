//go:build linux && arm64

package main

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

// progressStep is how often a long read reports how far it got: a person sees
// it move, and the QEMU test knows when to pull the stick.
const progressStep = 16 << 20

// list prints a directory the way `inferpi disk ls` does: type, size, name.
func list(fsys *fat32.FS, dir string) ([]fs.DirEntry, error) {
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("USB: %w", err)
	}
	fmt.Printf("usbtest: ls %s\n", display(dir))
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			fmt.Println(fat32.ListLine(fi))
		}
	}
	return entries, nil
}

// readAndHash reads a whole file into a kernel buffer (as the model loader
// does) and prints its size, SHA-256 and the read rate.
func readAndHash(fsys *fat32.FS, name string) error {
	p := fsPath(name)
	st, err := fsys.Stat(p)
	if err != nil {
		return fmt.Errorf("USB: %w", err)
	}
	if st.IsDir() {
		return fmt.Errorf("USB: %s is a directory", display(p))
	}
	var buf []byte
	if st.Size() > 0 {
		if buf, err = sys.AllocBuffer(int(st.Size())); err != nil {
			return fmt.Errorf("buffer for %s: %w", display(p), err)
		}
		defer sys.FreeBuffer(buf)
	}
	fmt.Printf("usbtest: reading %s, %d bytes\n", display(p), st.Size())
	next := int64(progressStep)
	progress := func(done, total int64) {
		for done >= next && next < total {
			fmt.Printf("usbtest: %d MiB\n", next>>20)
			next += progressStep
		}
	}
	start := time.Now()
	n, err := fsys.ReadFileInto(p, buf, progress)
	elapsed := time.Since(start)
	if err != nil {
		return fmt.Errorf("%w (%.1f s into the read)", err, elapsed.Seconds())
	}
	mbps := float64(n) / 1e6 / max(elapsed.Seconds(), 1e-9)
	fmt.Printf("usbtest: read %s: %d bytes in %.3f s, %.2f MB/s\n", display(p), n, elapsed.Seconds(), mbps)
	fmt.Printf("usbtest: sha256 %x\n", sha256.Sum256(buf[:n]))
	return nil
}

// fsPath turns what a person types ("/check/data64.bin", "check\data64.bin")
// into an io/fs path.
func fsPath(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), `\`, "/")
	s = strings.Trim(path.Clean("/"+s), "/")
	if s == "" {
		return "."
	}
	return s
}

func display(p string) string {
	if p == "." {
		return "/"
	}
	return "/" + p
}
