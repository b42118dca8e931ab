package bcm2711

import (
	"reflect"
	"testing"
)

// vcmailbox(7)'s layout: GET CLOCK RATE of EMMC2 is size, code 0, tag
// 0x30002, 8 value bytes, indicator 0, clock id 12, a word for the rate, end
// tag, padded to a 64-byte line; the firmware's reply in place decodes into
// the tag's response.
func TestEncodeDecode(t *testing.T) {
	buf := make([]uint32, 32)
	tag := &Tag{ID: TagClockRate, Request: []uint32{uint32(ClockEMMC2)}, Response: make([]uint32, 2)}
	n := Encode(buf, []*Tag{tag})
	want := []uint32{64, 0, 0x00030002, 8, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if !reflect.DeepEqual(buf[:n], want) {
		t.Fatalf("message %#x, want %#x", buf[:n], want)
	}
	buf[1], buf[4], buf[6] = CodeSuccess, ResponseBit|8, 100_000_000
	if f, _ := Decode(buf[:n], []*Tag{tag}); f != ReplyOK || tag.Response[0] != 12 || tag.Response[1] != 100_000_000 || tag.Answered != 2 {
		t.Errorf("decode: fault %d, response %d, answered %d", f, tag.Response, tag.Answered)
	}
	if Encode(buf[:15], []*Tag{tag}) != 0 || Encode(buf, nil) != 0 {
		t.Error("a message that does not fit, or without tags, was encoded")
	}
}

func TestDecodeFaults(t *testing.T) {
	reply := func(edit func(m []uint32)) []uint32 {
		m := []uint32{64, CodeSuccess, TagFirmwareRevision, 4, ResponseBit | 4, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
		edit(m)
		return m
	}
	cases := []struct {
		msg     []uint32
		shortOK bool
		want    Fault
	}{
		{reply(func(m []uint32) {}), false, ReplyOK},
		{reply(func(m []uint32) {})[:8], false, ReplyTooShort},
		{reply(func(m []uint32) { m[1] = CodeParseError }), false, ReplyParseError},
		{reply(func(m []uint32) { m[1] = 0 }), false, ReplyBadCode},
		{reply(func(m []uint32) { m[2] = 0x1234 }), false, ReplyTagMoved},
		{reply(func(m []uint32) { m[4] = 0 }), false, ReplyUnanswered},
		{reply(func(m []uint32) { m[4] = ResponseBit }), false, ReplyShortAnswer},
		{reply(func(m []uint32) { m[4] = ResponseBit }), true, ReplyOK},
	}
	for i, c := range cases {
		tag := &Tag{ID: TagFirmwareRevision, Response: make([]uint32, 1), ShortOK: c.shortOK}
		if f, _ := Decode(c.msg, []*Tag{tag}); f != c.want {
			t.Errorf("case %d: fault %d, want %d", i, f, c.want)
		}
	}
}

func TestNames(t *testing.T) {
	if ClockEMMC2.String() != "EMMC2" || Clock(99).String() != "clock 99" {
		t.Errorf("clock names: %s, %s", ClockEMMC2, Clock(99))
	}
	if DeviceSDCard.String() != "SD card" || Device(9).String() != "device 9" {
		t.Errorf("device names: %s, %s", DeviceSDCard, Device(9))
	}
	if TagName(TagThrottled) != "throttled" || TagName(7) != "unknown tag" {
		t.Error("tag names")
	}
}
