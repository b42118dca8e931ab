//go:build !linux

package bootlog

import "time"

var start = time.Now()

// Uptime is the time since the program started (the boot log only needs
// the order and spacing of events).
func Uptime() time.Duration { return time.Since(start) }
