// Package bootlog writes the firmware's start-up messages in the kernel's boot-log
// format, "[   1.234567] sd: what happened", so that a person reading the UART
// (or a bug report) sees one time line from the kernel's first message to the
// drivers' last. Times are seconds since boot: on bare metal the kernel's
// CLOCK_MONOTONIC starts at zero when the board comes up.
package bootlog

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Logger prefixes each line with the time since boot and a subsystem name.
// It is safe for concurrent use; a nil *Logger or one with a nil writer
// discards everything.
type Logger struct {
	w      io.Writer
	prefix string
	mu     sync.Mutex
	// Uptime is where times come from (tests replace it).
	Uptime func() time.Duration
}

// New returns a logger writing to w with lines prefixed "subsystem: ".
func New(w io.Writer, subsystem string) *Logger {
	p := ""
	if subsystem != "" {
		p = subsystem + ": "
	}
	return &Logger{w: w, prefix: p, Uptime: Uptime}
}

// Printf writes one line. A trailing newline in format is not needed; line
// breaks inside the message are replaced by spaces so each call stays one line.
func (l *Logger) Printf(format string, args ...any) {
	if l == nil || l.w == nil {
		return
	}
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\r\n")
	msg = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(msg)
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s%s%s\n", Stamp(l.Uptime()), l.prefix, msg)
}

// Stamp formats d like the kernel's boot log: "[  0.008920] " (metal/kernel
// console.go: seconds right-aligned in three places, microseconds in six).
func Stamp(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	us := d.Microseconds()
	return fmt.Sprintf("[%3d.%06d] ", us/1e6, us%1e6)
}
