package bcm2711

import "unsafe"

// lineBytes is the Cortex-A72's data cache line.
const lineBytes = 64

// Message is a mailbox buffer for one tag with up to 10 words of value: one
// 64-byte cache line of its own, inside room to align it. Call cleans the
// message's lines before the exchange and invalidates them after it, so the
// message must not share a line with other data, whose newer stores the
// invalidate would discard.
type Message struct{ raw [2 * lineBytes / 4]uint32 }

// line is the message's cache line: the 64-byte aligned 16 words in raw.
func (m *Message) line() []uint32 {
	base := uintptr(unsafe.Pointer(&m.raw[0]))
	off := int((lineBytes-base%lineBytes)%lineBytes) / 4
	return m.raw[off : off+lineBytes/4]
}
