package mailbox

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/inferpi/inferpi/platform/bootlog"
	"github.com/inferpi/inferpi/soc/bcm2711"
)

// Each query asks for the temperature and the throttling; a change of what
// holds now is logged once, with the temperature; a failing firmware is
// logged once too.
func TestKeepaliveLogsThrottlingChanges(t *testing.T) {
	vc := newFakeVC()
	c := newClient(vc)
	var out bytes.Buffer
	log := bootlog.New(&out, "vc")
	log.Uptime = func() time.Duration { return time.Second }
	var w throttleWatch
	steps := []struct {
		throttle Throttle
		temp     int32
		fail     error
	}{
		{0, 48_000, nil},
		{FreqCapped | SoftTempLimit | FreqCapped<<sinceBootShift, 81_200, nil},
		{FreqCapped | SoftTempLimit, 81_500, nil}, // no change of what holds now
		{FreqCapped << sinceBootShift, 70_100, nil},
		{0, 0, errors.New("mailbox timeout")},
		{0, 0, errors.New("mailbox timeout")},
		{UnderVoltage, 50_000, nil},
	}
	for _, s := range steps {
		vc.throttle, vc.temp, vc.fail = uint32(s.throttle), s.temp, s.fail
		w.check(c, log)
	}
	want := "[  1.000000] vc: throttling now: ARM frequency capped, soft temperature limit (SoC at 81.2 °C)\n" +
		"[  1.000000] vc: throttling ended (SoC at 70.1 °C)\n" +
		"[  1.000000] vc: keepalive query failed: mailbox: bad mailbox reply: mailbox timeout\n" +
		"[  1.000000] vc: throttling now: under-voltage (SoC at 50.0 °C)\n"
	if out.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", out.String(), want)
	}
	temps := 0
	for _, m := range vc.messages {
		if m[2] == bcm2711.TagTemperature {
			temps++
		}
	}
	if temps != 5 {
		t.Errorf("%d temperature queries, want one per answered check (5)", temps)
	}
}

// Keepalive runs until it is stopped.
func TestKeepaliveStops(t *testing.T) {
	c := newClient(newFakeVC())
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { c.Keepalive(nil, time.Millisecond, stop); close(done) }()
	close(stop)
	<-done
}
