package bcm2711

import (
	"unsafe"

	"github.com/inferpi/inferpi/driver/reg"
	"github.com/inferpi/inferpi/metal/arm64"
)

// Mailbox registers (Linux bcm2835-mailbox.c; Circle include/circle/bcm2835.h for
// mailbox 1's status): ARM reads mailbox 0, writes mailbox 1.
const (
	mboxRead    = 0x00
	mboxStatus0 = 0x18
	mboxWrite   = 0x20
	mboxStatus1 = 0x38
	mboxFull    = 1 << 31
	mboxEmpty   = 1 << 30
	chanProp    = 8

	// busAlias is how the VideoCore addresses ARM RAM (the uncached alias).
	busAlias = 0xC0000000
)

func mbox() reg.MMIO { return reg.At(Mailbox) }

// Call sends a property message in buf (whole 64-byte cache lines, in the low
// 1 GiB, laid out as size, code, tags..., 0) and waits for the reply, which
// overwrites buf. It returns false on a timeout or an error code, and refuses a
// buffer that is not whole lines. buf may be cached memory: it is cleaned before
// and invalidated after the exchange, and the invalidate would discard a
// neighbour's newer stores to a line the message shared.
func Call(buf []uint32) bool {
	addr := uintptr(unsafe.Pointer(&buf[0]))
	size := uintptr(len(buf) * 4)
	if addr%lineBytes != 0 || size%lineBytes != 0 || uint64(addr) >= 1<<30 {
		return false
	}
	buf[0] = uint32(size)
	buf[1] = 0
	arm64.DCCleanInvalRange(addr, size)
	// Drain stale replies.
	for i := 0; i < 64 && mbox().Read32(mboxStatus0)&mboxEmpty == 0; i++ {
		mbox().Read32(mboxRead)
	}
	if !waitClear(mboxStatus1, mboxFull) {
		return false
	}
	mbox().Write32(mboxWrite, uint32(addr)|busAlias|chanProp)
	for tries := 0; tries < 16; tries++ {
		if !waitClear(mboxStatus0, mboxEmpty) {
			return false
		}
		v := mbox().Read32(mboxRead)
		if v&0xF == chanProp {
			break
		}
	}
	arm64.DCInvalRange(addr, size)
	return buf[1] == CodeSuccess
}

func waitClear(r uintptr, bit uint32) bool {
	for i := 0; i < 50_000_000; i++ {
		if mbox().Read32(r)&bit == 0 {
			return true
		}
	}
	return false
}

// Query sends one tag with request words req and returns up to len(resp) response
// words (those the firmware did not write keep what the message held). ok is
// false if the firmware does not answer or does not know the tag.
func (m *Message) Query(tag uint32, req []uint32, resp []uint32) bool {
	t := Tag{ID: tag, Request: req, Response: resp, ShortOK: true}
	tags := [1]*Tag{&t}
	buf := m.line()
	if Encode(buf, tags[:]) != len(buf) || !Call(buf) {
		return false
	}
	f, _ := Decode(buf, tags[:])
	return f == ReplyOK
}
