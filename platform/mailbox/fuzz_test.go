package mailbox

import (
	"encoding/binary"
	"testing"

	"github.com/inferpi/inferpi/soc/bcm2711"
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
	f.Add(seed(32, bcm2711.CodeSuccess, bcm2711.TagClockRate, 8, bcm2711.ResponseBit|8, 12, 100_000_000, 0), uint8(1))
	f.Add(seed(32, bcm2711.CodeParseError, bcm2711.TagClockRate, 8, 0, 12, 0, 0), uint8(1))
	f.Add(seed(64, bcm2711.CodeSuccess, bcm2711.TagSetClockRate, 12, bcm2711.ResponseBit|8, 3, 1, 1, bcm2711.TagFirmwareRevision, 4, bcm2711.ResponseBit|4, 7, 0, 0, 0, 0), uint8(2))
	f.Add(seed(16, bcm2711.CodeSuccess, 0, 0), uint8(0))
	f.Add(seed(32, bcm2711.CodeSuccess, bcm2711.TagClockRate, 8, bcm2711.ResponseBit|0x7FFFFFFC, 12, 5, 0), uint8(1))
	f.Fuzz(func(t *testing.T, raw []byte, ntags uint8) {
		msg := make([]uint32, len(raw)/4)
		for i := range msg {
			msg[i] = binary.LittleEndian.Uint32(raw[4*i:])
		}
		all := []*bcm2711.Tag{
			{ID: bcm2711.TagClockRate, Request: []uint32{12}, Response: make([]uint32, 2)},
			{ID: bcm2711.TagFirmwareRevision, Response: make([]uint32, 1)},
			{ID: bcm2711.TagSetClockRate, Request: []uint32{3, 1, 1}, Response: make([]uint32, 2)},
		}
		tags := all[:int(ntags)%(len(all)+1)]
		if len(tags) == 2 { // the layout the set-clock seed uses
			tags = []*bcm2711.Tag{all[2], all[1]}
		}
		if err := decode(msg, tags); err == nil {
			p := bcm2711.HeaderWords
			for _, tag := range tags {
				if msg[p] != tag.ID || msg[p+2]&bcm2711.ResponseBit == 0 || int(msg[p+2]&^bcm2711.ResponseBit) < 4*len(tag.Response) {
					t.Fatalf("accepted a reply with tag %#x unanswered: %#x", tag.ID, msg)
				}
				p += bcm2711.TagHeaderWords + tag.ValueWords()
			}
		}
	})
}
