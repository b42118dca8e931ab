package sdhci

import (
	"encoding/binary"
	"testing"
)

func TestCapacity(t *testing.T) {
	var v2, v1 [4]uint32
	setBits(&v2, 127, 126, 1)
	setBits(&v2, 69, 48, 30436) // a "32 GB" card: (30436+1) * 512 KiB
	if got, err := capacity(v2); err != nil || got != 30437*1024 {
		t.Errorf("CSD 2.0: %d blocks, %v", got, err)
	}
	setBits(&v1, 83, 80, 10) // 1024-byte read blocks
	setBits(&v1, 49, 47, 7)  // x512
	setBits(&v1, 73, 62, 4095)
	if got, err := capacity(v1); err != nil || got != 4096*512*1024/512 { // the 2 GB SDSC maximum
		t.Errorf("CSD 1.0: %d blocks, %v", got, err)
	}
	var v3 [4]uint32
	setBits(&v3, 127, 126, 2)
	if _, err := capacity(v3); err == nil {
		t.Error("SDUC CSD accepted")
	}
}

// FuzzCapacity: any CSD the card sends decodes to a size or an error.
func FuzzCapacity(f *testing.F) {
	f.Add(make([]byte, 16))
	f.Add([]byte{0, 0, 0, 0x40, 0xFF, 0xFF, 0x3F, 0, 0, 0, 0, 0, 0, 0, 0, 0x40})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 16 {
			return
		}
		var r [4]uint32
		for i := range r {
			r[i] = binary.LittleEndian.Uint32(b[4*i:])
		}
		if n, err := capacity(r); err == nil && (n == 0 || n > 1<<32) {
			t.Fatalf("capacity %d blocks from CSD %08X", n, r)
		}
	})
}
