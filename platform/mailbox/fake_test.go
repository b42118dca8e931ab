package mailbox

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// fakeVC models the firmware's side of the property interface as vcmailbox(7)
// describes it: it checks the request's framing, walks the tags, answers the
// ones it knows in place (indicator = bit 31 | response length) and leaves the
// others untouched, then sets the code. It also records every message.
type fakeVC struct {
	clocks   map[Clock]uint32 // rate per clock; absent clocks answer 0
	temp     int32
	throttle uint32
	power    map[Device]bool   // known power domains
	xhci     []uint32          // addresses notified
	gpio     map[uint32]uint32 // expander GPIO states set, by tag number
	answer   map[uint32]func(req []uint32) []uint32

	inside   atomic.Int32 // exchanges running now (must stay <= 1)
	overlaps atomic.Int32
	delay    time.Duration
	fail     error // returned instead of answering
	messages [][]uint32
	mangle   func(msg []uint32) // edits the reply
}

func newFakeVC() *fakeVC {
	return &fakeVC{
		clocks: map[Clock]uint32{ClockEMMC: 50_000_000, ClockUART: 48_000_000, ClockARM: 1_500_000_000, ClockEMMC2: 100_000_000},
		temp:   48_312,
		power:  map[Device]bool{DeviceSDCard: false, DeviceUSBHCD: true},
	}
}

func (f *fakeVC) Exchange(msg []uint32) error {
	if f.inside.Add(1) > 1 {
		f.overlaps.Add(1)
	}
	defer f.inside.Add(-1)
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	if f.fail != nil {
		return f.fail
	}
	f.messages = append(f.messages, append([]uint32(nil), msg...))
	if err := f.check(msg); err != nil {
		msg[1] = codeParseError
		return nil
	}
	for p := headerWords; msg[p] != 0; {
		id, size := msg[p], int(msg[p+1])/4
		val := msg[p+tagHeaderWords : p+tagHeaderWords+size]
		if resp, ok := f.handle(id, val); ok {
			copy(val, resp)
			msg[p+2] = respBit | uint32(4*len(resp))
		}
		p += tagHeaderWords + size
	}
	msg[1] = codeSuccess
	if f.mangle != nil {
		f.mangle(msg)
	}
	return nil
}

// check validates framing the way the firmware must: size word, request code,
// tags that fit, an end tag; whole 64-byte lines, as soc/bcm2711.Call needs.
func (f *fakeVC) check(msg []uint32) error {
	if int(msg[0]) != 4*len(msg) || len(msg)%lineWords != 0 {
		return fmt.Errorf("size word %d for %d words", msg[0], len(msg))
	}
	if msg[1] != codeRequest {
		return errors.New("not a request")
	}
	for p := headerWords; ; {
		if p >= len(msg) {
			return errors.New("no end tag")
		}
		if msg[p] == 0 {
			return nil
		}
		if p+tagHeaderWords > len(msg) || msg[p+1]%4 != 0 || msg[p+2] != 0 {
			return errors.New("bad tag header")
		}
		p += tagHeaderWords + int(msg[p+1])/4
	}
}

func (f *fakeVC) handle(id uint32, v []uint32) ([]uint32, bool) {
	if h, ok := f.answer[id]; ok {
		return h(v), true
	}
	switch id {
	case TagFirmwareRevision:
		return []uint32{0x5f3c1e4a}, true
	case TagBoardRevision:
		return []uint32{0xc03115}, true
	case TagClockRate, TagMaxClockRate, TagMinClockRate, TagClockMeasured:
		return []uint32{v[0], f.clocks[Clock(v[0])]}, true
	case TagSetClockRate:
		if _, ok := f.clocks[Clock(v[0])]; ok {
			f.clocks[Clock(v[0])] = v[1]
		}
		return []uint32{v[0], f.clocks[Clock(v[0])]}, true
	case TagTemperature:
		return []uint32{0, uint32(f.temp)}, true
	case TagMaxTemperature:
		return []uint32{0, 85_000}, true
	case TagThrottled:
		t := f.throttle
		f.throttle &^= v[0] << 16 // the request's low bits clear the sticky ones
		return []uint32{t}, true
	case TagPowerState, TagSetPowerState:
		on, ok := f.power[Device(v[0])]
		if !ok {
			return []uint32{v[0], powerNoDevice}, true
		}
		if id == TagSetPowerState {
			on = v[1]&powerOn != 0
			f.power[Device(v[0])] = on
		}
		s := uint32(0)
		if on {
			s = powerOn
		}
		return []uint32{v[0], s}, true
	case TagSetGPIOState:
		if v[0] < ExpanderGPIOBase || v[0] >= ExpanderGPIOBase+8 {
			return []uint32{v[0], v[1]}, true // not an expander pin: the number comes back
		}
		if f.gpio == nil {
			f.gpio = map[uint32]uint32{}
		}
		f.gpio[v[0]] = v[1]
		return []uint32{0, v[1]}, true
	case TagNotifyXHCIReset:
		f.xhci = append(f.xhci, v[0])
		return []uint32{}, true
	}
	return nil, false
}
