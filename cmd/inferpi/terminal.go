package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

const (
	keyCtrlC = 3 // what a terminal in raw mode sends for Ctrl-C
	// keyDrop marks the line Ctrl-C ends: Terminal hands this key (Ctrl-G),
	// which it does not edit with, to its AutoCompleteCallback.
	keyDrop = 7
)

// termLines is the hosted chat's line editor on a terminal (x/term's Terminal):
// backspace, Ctrl-U, the arrow keys and a history of the lines typed before
// (up and down), as the firmware's console edits over the UART. The terminal is
// raw only while a line is read; a reply runs in the terminal's own mode, in
// which Ctrl-C is SIGINT and stops it. Ctrl-C while a line is being typed drops
// the line and starts a fresh one; Ctrl-D on an empty line ends the input.
type termLines struct {
	t *term.Terminal
	// raw puts the terminal in raw mode and returns what restores it (nil in
	// tests, which type into a pipe).
	raw     func() (restore func(), err error)
	dropped bool // Ctrl-C ended the line being read
}

// newTermLines returns a line editor when in and out are both terminals, else nil.
func newTermLines(in, out *os.File) *termLines {
	fd := int(in.Fd())
	if !term.IsTerminal(fd) || !term.IsTerminal(int(out.Fd())) {
		return nil
	}
	l := newLineEditor(in, out)
	l.raw = func() (func(), error) {
		old, err := term.MakeRaw(fd)
		if err != nil {
			return nil, err
		}
		return func() { term.Restore(fd, old) }, nil
	}
	if w, h, err := term.GetSize(int(out.Fd())); err == nil && w > 0 && h > 0 {
		l.t.SetSize(w, h)
	}
	return l
}

// newLineEditor is the editor over any input and output.
func newLineEditor(in io.Reader, out io.Writer) *termLines {
	l := &termLines{}
	l.t = term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{&ctrlC{r: in}, out}, "")
	l.t.History = keepTyped{l.t.History, l}
	l.t.AutoCompleteCallback = func(line string, pos int, key rune) (string, int, bool) {
		if key == keyDrop {
			l.dropped = true
		}
		return "", 0, false
	}
	return l
}

// SetPrompt implements console.Prompter: the editor redraws the prompt with the line.
func (l *termLines) SetPrompt(p string) { l.t.SetPrompt(p) }

// ReadLine implements console.LineReader.
func (l *termLines) ReadLine() (string, error) {
	for {
		restore := func() {}
		if l.raw != nil {
			r, err := l.raw()
			if err != nil {
				return "", err
			}
			restore = r
		}
		l.dropped = false
		line, err := l.t.ReadLine()
		restore()
		if err == term.ErrPasteIndicator {
			err = nil // a pasted line is a line
		}
		if err != nil || !l.dropped {
			return line, err
		}
	}
}

// ctrlC turns Ctrl-C into keyDrop and Enter. Terminal.ReadLine would end the
// input at a Ctrl-C; this way the line ends, marked, and ReadLine drops it.
type ctrlC struct {
	r       io.Reader
	pending []byte // translated input not yet handed over
	err     error  // the error that came with it
}

func (c *ctrlC) Read(p []byte) (int, error) {
	if len(c.pending) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		buf := make([]byte, len(p))
		n, err := c.r.Read(buf)
		for _, b := range buf[:n] {
			if b == keyCtrlC {
				c.pending = append(c.pending, keyDrop, '\r')
			} else {
				c.pending = append(c.pending, b)
			}
		}
		if len(c.pending) == 0 {
			return 0, err
		}
		c.err = err
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// keepTyped is a history without the lines Ctrl-C dropped.
type keepTyped struct {
	term.History
	l *termLines
}

func (h keepTyped) Add(line string) {
	if !h.l.dropped {
		h.History.Add(line)
	}
}
