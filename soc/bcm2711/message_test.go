package bcm2711

import (
	"testing"
	"unsafe"
)

// Wherever a Message lies (any 4-byte alignment), its line is one whole
// 64-byte cache line inside it, so the exchange's invalidate can drop nothing
// but the message.
func TestMessageIsAWholeLine(t *testing.T) {
	mem := make([]uint32, 64)
	for k := 0; k < 16; k++ {
		m := (*Message)(unsafe.Pointer(&mem[k]))
		line := m.line()
		start := uintptr(unsafe.Pointer(&line[0]))
		lo, hi := uintptr(unsafe.Pointer(&m.raw[0])), uintptr(unsafe.Pointer(&m.raw[len(m.raw)-1]))+4
		if start%lineBytes != 0 || len(line)*4 != lineBytes || start < lo || start+lineBytes > hi {
			t.Errorf("message at word %d: line at %#x+%d, message %#x-%#x", k, start, len(line)*4, lo, hi)
		}
	}
}
