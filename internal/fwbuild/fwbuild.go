// Package fwbuild builds InferPi firmware images with the stock Go toolchain:
// `go build` for linux/arm64 with the kernel's entry point and load address, then
// the flat kernel8.img the Raspberry Pi firmware loads. Used by cmd/mkfirmware
// (make firmware) and by the QEMU tests, so both build exactly the same way.
package fwbuild

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Entry is the kernel's entry symbol (metal/kernel's Boot, in assembly).
const Entry = "github.com/inferpi/inferpi/metal/kernel.Boot"

// Board is a firmware target.
type Board struct {
	Name     string
	Tags     string // build tags
	LoadAddr uint64 // where the image is loaded
}

// Boards: the Raspberry Pi 4 (also QEMU raspi4b) and QEMU virt (for USB tests).
var Boards = map[string]Board{
	"rpi4": {Name: "rpi4", LoadAddr: 0x80000},
	"virt": {Name: "virt", Tags: "virt", LoadAddr: 0x40200000},
}

// Options for Build.
type Options struct {
	Board   Board
	Package string // the firmware's main package, e.g. ./cmd/firmware
	OutELF  string // path of the ELF to write
	OutImg  string // path of the flat image (empty: none)
	Dir     string // module root to build in (empty: current directory)
}

// Build compiles the firmware and writes the ELF and the flat image.
func Build(o Options) error {
	// -T is the address of .text, which the linker puts one page after the segment
	// start (Go cmd/link/internal/arm64/obj.go: archinit sets HEADR = ELFRESERVE,
	// 4 KiB): so the image starts exactly at LoadAddr.
	ld := fmt.Sprintf("-T %#x -E %s", o.Board.LoadAddr+0x1000, Entry)
	args := []string{"build", "-trimpath", "-ldflags", ld, "-o", o.OutELF}
	if o.Board.Tags != "" {
		args = append(args, "-tags", o.Board.Tags)
	}
	args = append(args, o.Package)
	cmd := exec.Command("go", args...)
	cmd.Dir = o.Dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", o.Package, err, out)
	}
	if o.OutImg == "" {
		return nil
	}
	elfPath := o.OutELF
	if o.Dir != "" && !filepath.IsAbs(elfPath) {
		elfPath = filepath.Join(o.Dir, elfPath)
	}
	f, err := elf.Open(elfPath)
	if err != nil {
		return err
	}
	defer f.Close()
	img, err := Image(f, o.Board.LoadAddr)
	if err != nil {
		return err
	}
	return os.WriteFile(o.OutImg, img, 0o644)
}

// Image lays out f's loadable segments from base (file data only: BSS is zeroed by
// the boot code) and replaces the first word with "B entry". The Go linker cannot
// place a chosen function first, and the first page holds only the ELF header,
// which nothing needs at run time.
func Image(f *elf.File, base uint64) ([]byte, error) {
	if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 {
		return nil, errors.New("not a 64-bit arm64 ELF file")
	}
	lo, hi := ^uint64(0), uint64(0)
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Filesz == 0 {
			continue
		}
		lo = min(lo, p.Vaddr)
		hi = max(hi, p.Vaddr+p.Filesz)
	}
	if hi == 0 {
		return nil, errors.New("no loadable segments")
	}
	if base > lo {
		return nil, fmt.Errorf("segment at %#x lies below the load address %#x", lo, base)
	}
	if hi-base > 512<<20 {
		return nil, fmt.Errorf("image would be %d MiB", (hi-base)>>20)
	}
	img := make([]byte, hi-base)
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Filesz == 0 {
			continue
		}
		if _, err := p.ReadAt(img[p.Vaddr-base:p.Vaddr-base+p.Filesz], 0); err != nil {
			return nil, fmt.Errorf("segment at %#x: %v", p.Vaddr, err)
		}
	}
	off := f.Entry - base
	if f.Entry < base || off >= uint64(len(img)) || off%4 != 0 || off >= 1<<27 {
		return nil, fmt.Errorf("entry %#x is not reachable with a branch from %#x", f.Entry, base)
	}
	binary.LittleEndian.PutUint32(img, 0x14000000|uint32(off>>2)) // B entry
	return img, nil
}
