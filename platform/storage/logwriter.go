package storage

import (
	"bytes"
	"io"
	"sync"

	"github.com/inferpi/inferpi/platform/bootlog"
)

// logWriter turns the plain lines the drivers write ("xhci: running") into
// boot-log lines ("[   1.234567] xhci: running"): the drivers take an io.Writer
// so they stay free of the firmware's log format, and the UART still shows one
// time line. A partial line waits for its newline.
type logWriter struct {
	mu  sync.Mutex
	l   *bootlog.Logger
	buf []byte
}

func newLogWriter(w io.Writer) *logWriter { return &logWriter{l: bootlog.New(w, "")} }

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.l.Printf("%s", bytes.TrimRight(w.buf[:i], "\r"))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}
