package mailbox

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/inferpi/inferpi/soc/bcm2711"
)

// fakeVC models the firmware's side of the property interface as vcmailbox(7)
// describes it: it checks the request's framing, walks the tags, answers the
// ones it knows in place (indicator = bit 31 | response length) and leaves the
// others untouched, then sets the code. It also records every message.
type fakeVC struct {
	clocks   map[bcm2711.Clock]uint32 // rate per clock; absent clocks answer 0
	temp     int32
	throttle uint32
	power    map[bcm2711.Device]bool // known power domains
	xhci     []uint32                // addresses notified
	gpio     map[uint32]uint32       // expander GPIO states set, by tag number
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
		clocks: map[bcm2711.Clock]uint32{bcm2711.ClockEMMC: 50_000_000, bcm2711.ClockUART: 48_000_000, bcm2711.ClockARM: 1_500_000_000, bcm2711.ClockEMMC2: 100_000_000},
		temp:   48_312,
		power:  map[bcm2711.Device]bool{bcm2711.DeviceSDCard: false, bcm2711.DeviceUSBHCD: true},
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
		msg[1] = bcm2711.CodeParseError
		return nil
	}
	for p := bcm2711.HeaderWords; msg[p] != 0; {
		id, size := msg[p], int(msg[p+1])/4
		val := msg[p+bcm2711.TagHeaderWords : p+bcm2711.TagHeaderWords+size]
		if resp, ok := f.handle(id, val); ok {
			copy(val, resp)
			msg[p+2] = bcm2711.ResponseBit | uint32(4*len(resp))
		}
		p += bcm2711.TagHeaderWords + size
	}
	msg[1] = bcm2711.CodeSuccess
	if f.mangle != nil {
		f.mangle(msg)
	}
	return nil
}

// check validates framing the way the firmware must: size word, request code,
// tags that fit, an end tag; whole 64-byte lines, as soc/bcm2711.Call needs.
func (f *fakeVC) check(msg []uint32) error {
	if int(msg[0]) != 4*len(msg) || len(msg)%bcm2711.LineWords != 0 {
		return fmt.Errorf("size word %d for %d words", msg[0], len(msg))
	}
	if msg[1] != bcm2711.CodeRequest {
		return errors.New("not a request")
	}
	for p := bcm2711.HeaderWords; ; {
		if p >= len(msg) {
			return errors.New("no end tag")
		}
		if msg[p] == 0 {
			return nil
		}
		if p+bcm2711.TagHeaderWords > len(msg) || msg[p+1]%4 != 0 || msg[p+2] != 0 {
			return errors.New("bad tag header")
		}
		p += bcm2711.TagHeaderWords + int(msg[p+1])/4
	}
}

func (f *fakeVC) handle(id uint32, v []uint32) ([]uint32, bool) {
	if h, ok := f.answer[id]; ok {
		return h(v), true
	}
	switch id {
	case bcm2711.TagFirmwareRevision:
		return []uint32{0x5f3c1e4a}, true
	case bcm2711.TagBoardRevision:
		return []uint32{0xc03115}, true
	case bcm2711.TagClockRate, bcm2711.TagMaxClockRate, bcm2711.TagMinClockRate, bcm2711.TagClockMeasured:
		return []uint32{v[0], f.clocks[bcm2711.Clock(v[0])]}, true
	case bcm2711.TagSetClockRate:
		if _, ok := f.clocks[bcm2711.Clock(v[0])]; ok {
			f.clocks[bcm2711.Clock(v[0])] = v[1]
		}
		return []uint32{v[0], f.clocks[bcm2711.Clock(v[0])]}, true
	case bcm2711.TagTemperature:
		return []uint32{0, uint32(f.temp)}, true
	case bcm2711.TagMaxTemperature:
		return []uint32{0, 85_000}, true
	case bcm2711.TagThrottled:
		t := f.throttle
		f.throttle &^= v[0] << 16 // the request's low bits clear the sticky ones
		return []uint32{t}, true
	case bcm2711.TagPowerState, bcm2711.TagSetPowerState:
		on, ok := f.power[bcm2711.Device(v[0])]
		if !ok {
			return []uint32{v[0], bcm2711.PowerNoDevice}, true
		}
		if id == bcm2711.TagSetPowerState {
			on = v[1]&bcm2711.PowerOn != 0
			f.power[bcm2711.Device(v[0])] = on
		}
		s := uint32(0)
		if on {
			s = bcm2711.PowerOn
		}
		return []uint32{v[0], s}, true
	case bcm2711.TagSetGPIOState:
		if v[0] < ExpanderGPIOBase || v[0] >= ExpanderGPIOBase+8 {
			return []uint32{v[0], v[1]}, true // not an expander pin: the number comes back
		}
		if f.gpio == nil {
			f.gpio = map[uint32]uint32{}
		}
		f.gpio[v[0]] = v[1]
		return []uint32{0, v[1]}, true
	case bcm2711.TagNotifyXHCIReset:
		f.xhci = append(f.xhci, v[0])
		return []uint32{}, true
	}
	return nil, false
}
