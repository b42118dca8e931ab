package loader

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// progressBar draws one file's loading progress on a serial terminal: one line,
// redrawn in place after a carriage return, with percent, MB done of total and
// the speed so far. Redraws are rate-limited: at 115200 baud a 70-character line
// takes 6 ms to send, and the UART must not slow the load it reports on.
type progressBar struct {
	out   io.Writer
	name  string // of the file, for the totals
	label string // the bar's first column: the name, cut short if long
	now   func() time.Time
	start time.Time
	last  time.Time // last redraw
	pct   int       // percent shown by the last redraw; -1 before the first
}

const (
	barWidth      = 24
	redrawEvery   = 100 * time.Millisecond
	nameColumn    = 14 // "tokenizer.bin" and a space
	maxLabel      = 20 // a longer name (a GGUF file's) is cut, so the line fits 80 columns
	trailingBlank = "  "
)

func newProgressBar(out io.Writer, name string, now func() time.Time) *progressBar {
	t := now()
	label := name
	if r := []rune(label); len(r) > maxLabel {
		label = string(r[:maxLabel-3]) + "..."
	}
	label += strings.Repeat(" ", max(nameColumn-utf8.RuneCountInString(label), 1))
	return &progressBar{out: out, name: name, label: label, now: now, start: t, last: t, pct: -1}
}

// update is the read's progress callback: done of total bytes are in memory.
func (p *progressBar) update(done, total int64) {
	pct := 100
	if total > 0 {
		pct = int(done * 100 / total)
	}
	t := p.now()
	if pct == p.pct || pct < 100 && p.pct >= 0 && t.Sub(p.last) < redrawEvery {
		return
	}
	p.last, p.pct = t, pct
	filled := pct * barWidth / 100
	bar := strings.Repeat("#", filled) + strings.Repeat(".", barWidth-filled)
	speed := Rate(done, t.Sub(p.start))
	fmt.Fprintf(p.out, "\r%s[%s] %3d%%  %s / %s  %s%s", p.label, bar, pct, mbOf(done, total), Size(total), speed, trailingBlank)
}

// finish ends the bar's line and prints the totals, like
// "model.bin: 546 MB in 7122 ms (76 MB/s)". It returns the time taken.
func (p *progressBar) finish(total int64) time.Duration {
	p.update(total, total)
	d := p.now().Sub(p.start)
	fmt.Fprintf(p.out, "\n%s: %s in %d ms", p.name, Size(total), d.Milliseconds())
	if r := Rate(total, d); r != "" {
		fmt.Fprintf(p.out, " (%s)", r)
	}
	fmt.Fprintln(p.out)
	return d
}

// mbOf formats done in the unit Size picks for total, without the unit, so the
// bar reads "2.4 / 5.3 MB" rather than mixing units.
func mbOf(done, total int64) string {
	s := Size(total)
	switch {
	case strings.HasSuffix(s, " KB"):
		return fmt.Sprint((done + 1023) >> 10)
	case total < 10*MB:
		return fmt.Sprintf("%.1f", float64(done)/MB)
	}
	return fmt.Sprintf("%.0f", float64(done)/MB)
}
