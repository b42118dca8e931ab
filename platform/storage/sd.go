package storage

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/inferpi/inferpi/driver/reg"
	"github.com/inferpi/inferpi/driver/sdhci"
	"github.com/inferpi/inferpi/platform/bootlog"
	"github.com/inferpi/inferpi/soc/bcm2711"
)

// SDController is one SD host controller for ProbeSD to try.
type SDController struct {
	Name  string // for messages, e.g. "emmc2"
	Addr  uint64 // physical address of its registers, for messages
	Bank  reg.Bank
	Clock bcm2711.Clock // the firmware clock that feeds it
}

// Clocks reports firmware clock rates: a *mailbox.Client in the firmware.
type Clocks interface {
	ClockRate(bcm2711.Clock) (uint32, error)
}

// An SDHCI base clock lies between 10 and 255 MHz: the capabilities register
// holds it in an 8-bit field of MHz (SD Host Controller Simplified Spec 3.00,
// 2.2.25 "Base Clock Frequency For SD Clock", 10-255 MHz). A firmware answer
// outside that range is not this controller's clock: QEMU 10's firmware model,
// for one, answers 700 MHz for every clock it does not know, EMMC2 included.
const (
	minBaseClock = 10_000_000
	maxBaseClock = 255_000_000

	regCapabilities   = 0x40 // SDHCI spec 2.2.25
	capBaseClockShift = 8
	capBaseClockMask  = 0xFF
)

// BaseClock decides a controller's base clock: the firmware's rate for clk when
// it is one an SDHCI can have, otherwise the capabilities register. from says
// which, for the log.
func BaseClock(bank reg.Bank, clocks Clocks, clk bcm2711.Clock) (hz uint32, from string, err error) {
	var why string
	if clocks != nil {
		rate, err := clocks.ClockRate(clk)
		switch {
		case err != nil:
			why = err.Error()
		case rate < minBaseClock || rate > maxBaseClock:
			why = fmt.Sprintf("firmware says %s runs at %d MHz, outside SDHCI's 10-255 MHz", clk, rate/1e6)
		default:
			return rate, fmt.Sprintf("firmware clock %s", clk), nil
		}
	} else {
		why = "no mailbox"
	}
	caps := bank.Read32(regCapabilities)
	if mhz := caps >> capBaseClockShift & capBaseClockMask; mhz != 0 {
		return mhz * 1_000_000, fmt.Sprintf("capabilities register; %s", why), nil
	}
	return 0, "", fmt.Errorf("base clock unknown: %s, and the capabilities register (0x%08X) does not say", why, caps)
}

// ProbeSD initialises each controller in turn and returns the first one with a
// working card. Every step is one log line; the error, when no controller has a
// card, wraps sdhci.ErrNoCard and says what each controller reported.
func ProbeSD(log *bootlog.Logger, clocks Clocks, ctrls ...SDController) (*sdhci.Host, error) {
	var why []string
	for _, c := range ctrls {
		where := fmt.Sprintf("%s @%#x", c.Name, c.Addr)
		hz, from, err := BaseClock(c.Bank, clocks, c.Clock)
		if err != nil {
			log.Printf("%s: %v", where, err)
			why = append(why, fmt.Sprintf("%s: %v", where, err))
			continue
		}
		log.Printf("%s: base clock %d MHz (%s)", where, hz/1e6, from)
		h := sdhci.New(c.Bank, sdhci.Config{Name: c.Name, BaseClock: hz})
		start := time.Now()
		err = h.Init()
		ms := time.Since(start).Milliseconds()
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), "sdhci "+c.Name+": ")
			if errors.Is(err, sdhci.ErrNoCard) {
				log.Printf("%s: no card (%d ms): %s", c.Name, ms, msg)
			} else {
				log.Printf("%s: card initialisation failed (%d ms): %s", c.Name, ms, msg)
			}
			why = append(why, fmt.Sprintf("%s: %s", where, msg))
			continue
		}
		log.Printf("%s: %s, ready in %d ms", c.Name, h.Card(), ms)
		return h, nil
	}
	return nil, fmt.Errorf("%w found: %s", sdhci.ErrNoCard, strings.Join(why, "; "))
}
