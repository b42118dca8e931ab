// Command mkimage turns the firmware ELF into kernel8.img, the flat image the
// Raspberry Pi firmware (and QEMU's -kernel with a raw image) loads at the load
// address and enters at its first byte.
//
// The Go linker cannot put a chosen function first (platform-facts A4), so the
// image's first word is replaced by a branch to the ELF entry point: it overwrites
// the ELF header that the linker puts there, which nothing needs at run time.
package main

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: mkimage [-base ADDR] IN.elf OUT.img")
		fmt.Fprintln(os.Stderr, "Writes the PT_LOAD segments of IN.elf as a flat image starting at ADDR (default: the")
		fmt.Fprintln(os.Stderr, "lowest segment), with a branch to the entry point in the first word.")
		flag.PrintDefaults()
	}
	base := flag.Uint64("base", 0, "load address of the image (0: lowest PT_LOAD address)")
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	img, err := build(flag.Arg(0), *base)
	if err == nil {
		err = os.WriteFile(flag.Arg(1), img, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func build(path string, base uint64) ([]byte, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Image(f, base)
}

// Image lays out f's loadable segments from base (file data only: BSS is zeroed by
// the boot code) and patches the first word with "B entry".
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
	if base == 0 {
		base = lo
	}
	if base > lo {
		return nil, fmt.Errorf("segment at %#x lies below the base %#x", lo, base)
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
