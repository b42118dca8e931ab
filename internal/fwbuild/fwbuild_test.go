package fwbuild

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"path/filepath"
	"testing"
)

func TestImageOfTheRealFirmware(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a firmware image")
	}
	for _, name := range []string{"rpi4", "virt"} {
		b := Boards[name]
		dir := t.TempDir()
		o := Options{Board: b, Package: "./cmd/selftest", OutELF: filepath.Join(dir, "fw.elf"), OutImg: filepath.Join(dir, "fw.img"), Dir: "../.."}
		if err := Build(o); err != nil {
			t.Fatal(err)
		}
		f, err := elf.Open(o.OutELF)
		if err != nil {
			t.Fatal(err)
		}
		img, err := Image(f, b.LoadAddr)
		if err != nil {
			t.Fatal(err)
		}
		// The first word branches to the kernel's entry.
		w := binary.LittleEndian.Uint32(img)
		if w>>26 != 0x05 || b.LoadAddr+uint64(w&0x03ffffff)*4 != f.Entry {
			t.Errorf("%s: first word %#x does not branch to %#x", name, w, f.Entry)
		}
		// Every loadable byte is at its address relative to the load address.
		for _, p := range f.Progs {
			if p.Type != elf.PT_LOAD || p.Filesz == 0 {
				continue
			}
			want := make([]byte, p.Filesz)
			p.ReadAt(want, 0)
			got := img[p.Vaddr-b.LoadAddr : p.Vaddr-b.LoadAddr+p.Filesz]
			if p.Vaddr == b.LoadAddr {
				got, want = got[4:], want[4:] // the patched word
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: segment at %#x misplaced", name, p.Vaddr)
			}
		}
		if _, err := Image(f, b.LoadAddr+0x1000); err == nil {
			t.Errorf("%s: a load address above the first segment was accepted", name)
		}
		f.Close()
	}
}

// FuzzImage feeds arbitrary files to the image builder: it must reject what is
// not a loadable arm64 ELF with an error, never panic or allocate absurdly.
func FuzzImage(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ef, err := elf.NewFile(bytes.NewReader(b))
		if err != nil {
			return
		}
		img, err := Image(ef, 0x80000)
		if err == nil && len(img) > 512<<20 {
			t.Fatalf("image of %d bytes", len(img))
		}
	})
}
