package mailbox

import "strings"

// Throttle is the firmware's throttling report (the Raspberry Pi documentation's
// vcgencmd get_throttled table): bits 0-3 now, bits 16-19 the same since boot.
type Throttle uint32

const (
	UnderVoltage  Throttle = 1 << 0
	FreqCapped    Throttle = 1 << 1
	Throttled     Throttle = 1 << 2
	SoftTempLimit Throttle = 1 << 3

	sinceBootShift = 16
)

// Now reports whether condition c (one of the low bits) holds now.
func (t Throttle) Now(c Throttle) bool { return t&c != 0 }

// SinceBoot reports whether condition c happened since boot (or since the
// sticky bits were last cleared).
func (t Throttle) SinceBoot(c Throttle) bool { return t&(c<<sinceBootShift) != 0 }

var throttleNames = []struct {
	bit  Throttle
	name string
}{{UnderVoltage, "under-voltage"}, {FreqCapped, "ARM frequency capped"}, {Throttled, "throttled"}, {SoftTempLimit, "soft temperature limit"}}

func (t Throttle) String() string {
	var now, past []string
	for _, n := range throttleNames {
		if t.Now(n.bit) {
			now = append(now, n.name)
		} else if t.SinceBoot(n.bit) {
			past = append(past, n.name)
		}
	}
	switch {
	case len(now) == 0 && len(past) == 0:
		return "not throttled"
	case len(past) == 0:
		return "now: " + strings.Join(now, ", ")
	case len(now) == 0:
		return "earlier: " + strings.Join(past, ", ")
	}
	return "now: " + strings.Join(now, ", ") + "; earlier: " + strings.Join(past, ", ")
}
