package bcm2711

import (
	"encoding/binary"
	"testing"
)

// FuzzDecode feeds arbitrary replies to the decoder: it must never panic or
// read past the message, and a reply it accepts must have answered every tag.
func FuzzDecode(f *testing.F) {
	seed := func(words ...uint32) []byte {
		b := make([]byte, 4*len(words))
		for i, w := range words {
			binary.LittleEndian.PutUint32(b[4*i:], w)
		}
		return b
	}
	f.Add(seed(32, CodeSuccess, TagClockRate, 8, ResponseBit|8, 12, 100_000_000, 0), uint8(1))
	f.Add(seed(32, CodeParseError, TagClockRate, 8, 0, 12, 0, 0), uint8(1))
	f.Add(seed(64, CodeSuccess, TagSetClockRate, 12, ResponseBit|8, 3, 1, 1, TagFirmwareRevision, 4, ResponseBit|4, 7, 0, 0, 0, 0), uint8(2))
	f.Add(seed(16, CodeSuccess, 0, 0), uint8(0))
	f.Add(seed(32, CodeSuccess, TagClockRate, 8, ResponseBit|0x7FFFFFFC, 12, 5, 0), uint8(1))
	f.Fuzz(func(t *testing.T, raw []byte, ntags uint8) {
		msg := make([]uint32, len(raw)/4)
		for i := range msg {
			msg[i] = binary.LittleEndian.Uint32(raw[4*i:])
		}
		all := []*Tag{
			{ID: TagClockRate, Request: []uint32{12}, Response: make([]uint32, 2)},
			{ID: TagFirmwareRevision, Response: make([]uint32, 1)},
			{ID: TagSetClockRate, Request: []uint32{3, 1, 1}, Response: make([]uint32, 2)},
		}
		tags := all[:int(ntags)%(len(all)+1)]
		if len(tags) == 2 { // the layout the set-clock seed uses
			tags = []*Tag{all[2], all[1]}
		}
		if f, _ := Decode(msg, tags); f == ReplyOK {
			p := HeaderWords
			for _, tag := range tags {
				if msg[p] != tag.ID || msg[p+2]&ResponseBit == 0 || int(msg[p+2]&^ResponseBit) < 4*len(tag.Response) {
					t.Fatalf("accepted a reply with tag %#x unanswered: %#x", tag.ID, msg)
				}
				p += TagHeaderWords + tag.ValueWords()
			}
		}
	})
}
