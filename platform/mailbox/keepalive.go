package mailbox

import (
	"time"

	"github.com/inferpi/inferpi/platform/bootlog"
)

// KeepalivePeriod is how often Keepalive talks to the VideoCore.
const KeepalivePeriod = 5 * time.Second

// Keepalive talks to the VideoCore every period until stop is closed: a
// temperature and throttling query, as cheap as property messages get. The
// seed InferPi did this during long runs, with the note that "a periodic
// mailbox keepalive prevents the GPU watchdog from scrubbing DRAM"; no public
// source describes such a watchdog (Linux and Circle talk to the firmware only
// when they need something), but the query costs nothing and reports what does
// matter for speed: every change of the firmware's throttling (under-voltage,
// frequency capped, throttled, soft temperature limit) is logged with the
// temperature.
func (c *Client) Keepalive(log *bootlog.Logger, period time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(period)
	defer t.Stop()
	var w throttleWatch
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			w.check(c, log)
		}
	}
}

// throttleWatch remembers the throttling the firmware reported last.
type throttleWatch struct {
	last   Throttle
	failed bool // the last query failed (logged once)
}

// nowBits are the throttling conditions that hold now (the others say what
// happened since boot).
const nowBits = UnderVoltage | FreqCapped | Throttled | SoftTempLimit

// check queries the VideoCore and logs a change of the current throttling.
func (w *throttleWatch) check(c *Client, log *bootlog.Logger) {
	mc, terr := c.Temperature()
	th, err := c.Throttled(false)
	if err != nil || terr != nil {
		if !w.failed {
			if err == nil {
				err = terr
			}
			log.Printf("keepalive query failed: %v", err)
		}
		w.failed = true
		return
	}
	w.failed = false
	if now := th & nowBits; now != w.last&nowBits {
		what := "ended"
		if now != 0 {
			what = now.String()
		}
		log.Printf("throttling %s (SoC at %.1f °C)", what, float64(mc)/1000)
	}
	w.last = th
}
