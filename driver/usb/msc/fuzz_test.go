package msc

import (
	"bytes"
	"testing"
)

func FuzzParseCSW(f *testing.F) {
	f.Add([]byte("USBS\x2a\x00\x00\x00\x00\x02\x00\x00\x01"))
	f.Add([]byte("USBS\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCSW(b)
		if err != nil {
			return
		}
		if len(b) != 13 || c.Status != b[12] {
			t.Fatalf("accepted %x as %+v", b, c)
		}
	})
}

func FuzzCBW(f *testing.F) {
	w, _ := CBW{Tag: 1, DataLength: 512, In: true, CDB: cdbRead10(1, 1)}.Marshal()
	f.Add(w[:])
	f.Add(make([]byte, 31))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCBW(b)
		if err != nil {
			return
		}
		back, err := c.Marshal()
		if err != nil {
			t.Fatalf("parsed CBW %+v does not marshal: %v", c, err)
		}
		again, err := ParseCBW(back[:])
		if err != nil || again.Tag != c.Tag || again.DataLength != c.DataLength || !bytes.Equal(again.CDB, c.CDB) {
			t.Fatalf("round trip %+v -> %+v (%v)", c, again, err)
		}
	})
}

func FuzzParseSense(f *testing.F) {
	f.Add([]byte{0x70, 0, 6, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x28, 0, 0, 0, 0, 0})
	f.Add([]byte{0x72, 2, 4, 1})
	f.Add([]byte{0x70, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSense(b)
		if err == nil && s.Key > 15 {
			t.Fatalf("sense key %d", s.Key)
		}
		_ = s.String()
	})
}

func FuzzParseInquiry(f *testing.F) {
	q := make([]byte, 36)
	copy(q[8:], "QEMU    QEMU HARDDISK   2.5+")
	f.Add(q)
	f.Add([]byte{0, 0, 0, 0, 0, 'A', 'B'})
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := ParseInquiry(b)
		if err == nil && (len(q.Vendor) > 8 || len(q.Product) > 16 || len(q.Revision) > 4) {
			t.Fatalf("fields too long: %+v", q)
		}
	})
}

func FuzzParseCapacity(f *testing.F) {
	f.Add([]byte{0, 0, 0xFF, 0xFF, 0, 0, 2, 0})
	f.Add(make([]byte, 32))
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := ParseCapacity10(b); err == nil {
			_ = c.check()
		}
		if c, err := ParseCapacity16(b); err == nil {
			_ = c.check()
		}
	})
}
