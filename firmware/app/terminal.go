package app

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/inferpi/inferpi/console/serial"
)

// Terminal is the serial line editor (console/serial.Editor): lines in, and
// Ctrl-C presses made while no line is edited (they stop a running reply).
type Terminal interface {
	ReadLine() (string, error)
	Interrupt() <-chan struct{}
}

// lines adapts the editor to console.LineReader for the menu and the chat: a
// Ctrl-C on the line being typed just drops that line, and an over-long line
// is reported and dropped, so neither ends the chat as an error would.
type lines struct {
	term Terminal
	out  io.Writer
}

func (l *lines) ReadLine() (string, error) {
	s, err := l.term.ReadLine()
	switch {
	case errors.Is(err, serial.ErrInterrupted):
		return "", nil
	case errors.Is(err, serial.ErrLineTooLong):
		fmt.Fprintf(l.out, "[that line is longer than %d bytes: ignored]\n", serial.MaxLine)
		return "", nil
	}
	return s, err
}

// crlf turns "\n" into "\r\n" on the way to a serial terminal, which moves
// down a line on LF but back to the first column only on CR. A "\r\n" written
// already is left alone, also when split across writes.
type crlf struct {
	w      io.Writer
	lastCR bool
}

func (c *crlf) Write(p []byte) (int, error) {
	start := 0
	for i, b := range p {
		if b == '\n' && !(i == 0 && c.lastCR || i > 0 && p[i-1] == '\r') {
			if _, err := c.w.Write(p[start:i]); err != nil {
				return start, err
			}
			if _, err := c.w.Write([]byte{'\r'}); err != nil {
				return i, err
			}
			start = i
		}
	}
	if _, err := c.w.Write(p[start:]); err != nil {
		return start, err
	}
	if len(p) > 0 {
		c.lastCR = p[len(p)-1] == '\r'
	}
	return len(p), nil
}

// WatchEnd wraps a terminal's raw input and reports when it has ended. On the
// firmware the UART never ends and a Ctrl-D (which the editor reports as io.EOF)
// must not leave the menu; hosted runs and tests end when their input does.
func WatchEnd(r io.Reader) (io.Reader, func() bool) {
	w := &endWatch{r: r}
	return w, w.ended.Load
}

type endWatch struct {
	r     io.Reader
	ended atomic.Bool
}

func (w *endWatch) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if err != nil {
		w.ended.Store(true) // before the editor sees the error
	}
	return n, err
}
