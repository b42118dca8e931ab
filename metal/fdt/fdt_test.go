package fdt

import (
	"os"
	"testing"
)

func TestMemoryVirt(t *testing.T) {
	// Dumped with: qemu-system-aarch64 -M virt,dumpdtb=virt-2g.dtb -cpu cortex-a72 -smp 4 -m 2G
	blob, err := os.ReadFile("testdata/virt-2g.dtb")
	if err != nil {
		t.Fatal(err)
	}
	var out [4]Range
	n, ok := Memory(blob, out[:])
	if !ok || n != 1 || out[0] != (Range{0x40000000, 2 << 30}) {
		t.Fatalf("Memory = %d %v %#x", n, ok, out[:n])
	}
	if TotalSize(blob) != uint32(len(blob)) && TotalSize(blob) > uint32(len(blob)) {
		t.Errorf("TotalSize %d > file %d", TotalSize(blob), len(blob))
	}
}

func TestMalformed(t *testing.T) {
	blob, _ := os.ReadFile("testdata/virt-2g.dtb")
	var out [4]Range
	for _, cut := range []int{0, 10, 40, 100, len(blob) / 2} {
		if _, ok := Memory(blob[:cut], out[:]); ok {
			t.Errorf("truncated to %d bytes: accepted", cut)
		}
	}
	bad := append([]byte(nil), blob...)
	bad[0] = 0
	if _, ok := Memory(bad, out[:]); ok {
		t.Error("bad magic accepted")
	}
}

func FuzzMemory(f *testing.F) {
	blob, _ := os.ReadFile("testdata/virt-2g.dtb")
	f.Add(blob)
	if b, err := os.ReadFile("testdata/raspi4b.dtb"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var out [8]Range
		n, _ := Memory(b, out[:])
		if n > len(out) {
			t.Fatal("overflow")
		}
	})
}
