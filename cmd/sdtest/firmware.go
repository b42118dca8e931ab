//go:build linux && arm64

package main

import (
	"fmt"
	"strings"
	"sync"

	"github.com/inferpi/inferpi/platform/mailbox"
	"github.com/inferpi/inferpi/soc/bcm2711"
)

// reportFirmware prints what the VideoCore says about the board through
// platform/mailbox, and checks that goroutines can share the client: 100
// queries from 4 goroutines at once must all get the same answer.
func reportFirmware() {
	mb, err := mailbox.Firmware()
	if err != nil {
		fmt.Println("sdtest: firmware:", err)
		return
	}
	var facts []string
	if rev, err := mb.FirmwareRevision(); err == nil {
		facts = append(facts, fmt.Sprintf("revision %#x", rev))
	} else {
		facts = append(facts, "revision: "+short(err))
	}
	if hz, err := mb.ClockRate(bcm2711.ClockARM); err == nil {
		facts = append(facts, fmt.Sprintf("ARM %d MHz", hz/1e6))
	} else {
		facts = append(facts, "ARM clock: "+short(err))
	}
	if mc, err := mb.Temperature(); err == nil {
		facts = append(facts, fmt.Sprintf("%.1f °C", float64(mc)/1000))
	} else {
		facts = append(facts, "temperature: "+short(err))
	}
	if th, err := mb.Throttled(false); err == nil {
		facts = append(facts, th.String())
	} else {
		facts = append(facts, "throttled: "+short(err))
	}
	fmt.Println("sdtest: firmware:", strings.Join(facts, ", "))

	want, err := mb.ClockRate(bcm2711.ClockEMMC)
	if err != nil {
		fmt.Println("sdtest: mailbox: EMMC clock:", err)
		return
	}
	const goroutines, each = 4, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad []string
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if got, err := mb.ClockRate(bcm2711.ClockEMMC); err != nil || got != want {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("%d (%v)", got, err))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(bad) > 0 {
		fmt.Printf("sdtest: mailbox: %d of %d concurrent queries disagree: %s\n", len(bad), goroutines*each, strings.Join(bad, "; "))
		return
	}
	fmt.Printf("sdtest: mailbox: %d queries from %d goroutines agree (EMMC clock %d Hz)\n", goroutines*each, goroutines, want)
}

// short drops the package prefix from a mailbox error.
func short(err error) string { return strings.TrimPrefix(err.Error(), "mailbox: ") }
