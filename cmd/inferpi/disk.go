package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/inferpi/inferpi/storage/block"
	"github.com/inferpi/inferpi/storage/fat32"
	"github.com/inferpi/inferpi/storage/part"
)

// The disk command reads disk images (or block devices such as /dev/sdb) through
// the same partition and FAT32 code the firmware uses, so a stick prepared on a
// PC can be checked before it goes into the Pi.
func init() {
	register(command{
		name:    "disk",
		summary: "list and read files on a FAT32 disk image (as the firmware sees it)",
		run:     func(args []string) error { return diskMain(args, os.Stdout, os.Stderr) },
	})
}

const diskUsage = `usage:
  inferpi disk ls IMAGE [PATH]   list a directory (default: the root) or one file
  inferpi disk cat IMAGE PATH    write a file's bytes to standard output
  inferpi disk info IMAGE        show the partition table and the volume chosen

IMAGE is a disk image or a block device (e.g. /dev/sdb). The first FAT partition
is used: MBR (including logical partitions), GPT, or a whole-disk FAT32 volume
without a partition table. PATH uses '/' and matches names ignoring case.

ls prints one line per entry, three fields separated by tabs:
  TYPE  'd' for a directory, '-' for a file
  SIZE  size in bytes (0 for directories)
  NAME  the long file name (or the 8.3 name when there is none)
e.g.
  d	0	tinyllama
  -	60816028	model.bin

Errors go to standard error, and the exit status is 1 (2 for bad usage).
`

func diskMain(args []string, stdout, stderr io.Writer) error {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "help" {
			fmt.Fprint(stdout, diskUsage)
			return nil
		}
	}
	if len(args) < 2 {
		return argsError("disk", stderr, "want a command (ls, cat or info) and an IMAGE", diskUsage)
	}
	sub, image, rest := args[0], args[1], args[2:]
	switch {
	case sub == "ls" && len(rest) <= 1:
		p := "."
		if len(rest) == 1 {
			p = rest[0]
		}
		return diskLs(image, p, stdout)
	case sub == "cat" && len(rest) == 1:
		return diskCat(image, rest[0], stdout)
	case sub == "info" && len(rest) == 0:
		return diskInfo(image, stdout)
	}
	return argsError("disk", stderr, fmt.Sprintf("%q with %d more arguments is not a disk command", sub, len(rest)), diskUsage)
}

// openVolume finds and mounts the FAT32 volume of an image. Errors name the image.
func openVolume(image string) (*fat32.FS, part.Info, io.Closer, error) {
	dev, f, err := block.OpenImage(image)
	if err != nil {
		return nil, part.Info{}, nil, err
	}
	vol, info, err := part.FindFAT(dev)
	if err == nil {
		var fsys *fat32.FS
		if fsys, err = fat32.Open(vol); err == nil {
			return fsys, info, f, nil
		}
	}
	f.Close()
	return nil, info, nil, fmt.Errorf("%s: %w", image, err)
}

// cleanPath turns a user's path ("/models/x/", "models\x") into an io/fs path.
func cleanPath(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	p = strings.Trim(path.Clean("/"+p), "/")
	if p == "" {
		return "."
	}
	return p
}

func diskLs(image, p string, w io.Writer) error {
	fsys, _, c, err := openVolume(image)
	if err != nil {
		return err
	}
	defer c.Close()
	p = cleanPath(p)
	info, err := fsys.Stat(p)
	if err != nil {
		return fmt.Errorf("%s: %w", image, err)
	}
	if !info.IsDir() {
		printEntry(w, info)
		return nil
	}
	entries, err := fsys.ReadDir(p)
	if err != nil {
		return fmt.Errorf("%s: %w", image, err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			return fmt.Errorf("%s: %w", image, err)
		}
		printEntry(w, info)
	}
	return nil
}

func printEntry(w io.Writer, info fs.FileInfo) { fmt.Fprintln(w, fat32.ListLine(info)) }

func diskCat(image, p string, w io.Writer) error {
	fsys, _, c, err := openVolume(image)
	if err != nil {
		return err
	}
	defer c.Close()
	f, err := fsys.Open(cleanPath(p))
	if err != nil {
		return fmt.Errorf("%s: %w", image, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return fmt.Errorf("%s: %s: %w", image, p, fat32.ErrIsDirectory)
	}
	// Large reads: each becomes a few device reads of whole cluster runs. (The
	// wrappers keep io.CopyBuffer from falling back to 32 KiB reads.)
	if _, err := io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{f}, make([]byte, 4<<20)); err != nil {
		return fmt.Errorf("%s: %w", image, err)
	}
	return nil
}

func diskInfo(image string, w io.Writer) error {
	dev, f, err := block.OpenImage(image)
	if err != nil {
		return err
	}
	defer f.Close()
	t, err := part.Read(dev)
	if err != nil {
		return fmt.Errorf("%s: %w", image, err)
	}
	fmt.Fprintf(w, "%s: %d sectors of %d bytes, partition table: %s\n", image, dev.Blocks(), dev.BlockSize(), t.Scheme)
	for _, p := range t.Partitions {
		fmt.Fprintf(w, "  %s\n", p)
	}
	fsys, info, c, err := openVolume(image)
	if err != nil {
		return err
	}
	defer c.Close()
	vi := fsys.Info()
	where := "the whole disk"
	if info.Index != 0 {
		where = fmt.Sprintf("partition %d", info.Index)
	}
	fmt.Fprintf(w, "using %s: FAT32, label %q, %d bytes, %d-byte clusters\n", where, vi.Label, vi.Bytes, vi.ClusterSize)
	return nil
}
