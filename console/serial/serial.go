// Package serial is the line editor for a serial terminal (the firmware's UART
// console): the kernel hands over raw bytes, and this package echoes them, handles
// backspace (0x08 and 0x7F), Ctrl-U, CR, LF and CRLF line ends, skips terminal
// escape sequences (arrow keys), and turns Ctrl-C into an interrupt while no line
// is being edited, so it can stop a running reply. Bytes that arrive while nobody
// reads a line (type-ahead, a paste during a reply) are kept, never lost.
//
// It implements console.LineReader and provides the console's Interrupt channel.
// It is portable and tested on the host with scripted byte streams.
package serial

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"unicode/utf8"
)

// MaxLine is the longest line accepted; longer input is cut there and reported.
const MaxLine = 16 << 10

// ErrLineTooLong is returned (with the line cut to MaxLine) for over-long input.
var ErrLineTooLong = fmt.Errorf("line longer than %d bytes: cut", MaxLine)

// ErrInterrupted is returned by ReadLine when Ctrl-C is pressed while editing.
var ErrInterrupted = errors.New("interrupted")

const (
	ctrlC   = 0x03
	ctrlD   = 0x04
	bs      = 0x08
	ctrlU   = 0x15
	esc     = 0x1b
	del     = 0x7f
	maxKept = 256 << 10 // type-ahead kept while no line is read
)

// Editor reads lines from a raw byte stream and echoes to a terminal.
type Editor struct {
	out io.Writer

	mu       sync.Mutex
	cond     *sync.Cond
	pending  []byte // received, not yet consumed
	err      error  // the input's end or failure
	editing  bool   // a ReadLine is running: Ctrl-C belongs to it
	intr     chan struct{}
	lastCR   bool // the previous line ended with CR (so a following LF is not a new line)
	escState int  // 0: normal, 1: after ESC, 2: in a CSI sequence
	dropped  int  // bytes lost because type-ahead overflowed
}

// New starts an editor reading from in (in its own goroutine) and echoing to out.
func New(in io.Reader, out io.Writer) *Editor {
	e := &Editor{out: out, intr: make(chan struct{}, 1)}
	e.cond = sync.NewCond(&e.mu)
	go e.pump(in)
	return e
}

// Interrupt delivers Ctrl-C presses made while no line was being edited.
func (e *Editor) Interrupt() <-chan struct{} { return e.intr }

func (e *Editor) pump(in io.Reader) {
	buf := make([]byte, 4096)
	for {
		n, err := in.Read(buf)
		e.mu.Lock()
		for _, b := range buf[:n] {
			if b == ctrlC && !e.editing {
				select {
				case e.intr <- struct{}{}:
				default:
				}
				continue
			}
			if len(e.pending) >= maxKept {
				e.dropped++
				continue
			}
			e.pending = append(e.pending, b)
		}
		if err != nil {
			e.err = err
		}
		e.cond.Broadcast()
		e.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// next returns the next input byte, waiting for it.
func (e *Editor) next() (byte, error) {
	for len(e.pending) == 0 {
		if e.err != nil {
			return 0, e.err
		}
		e.cond.Wait()
	}
	b := e.pending[0]
	e.pending = e.pending[1:]
	return b, nil
}

// ReadLine edits one line and returns it without its line ending. It returns
// io.EOF at the end of input (or Ctrl-D on an empty line), ErrInterrupted for
// Ctrl-C, and ErrLineTooLong with the line cut to MaxLine.
func (e *Editor) ReadLine() (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.editing = true
	defer func() { e.editing = false }()
	if e.dropped > 0 {
		fmt.Fprintf(e.out, "\r\n(%d bytes of input were dropped: too much typed ahead)\r\n", e.dropped)
		e.dropped = 0
	}
	var line []byte
	var partial []byte // bytes of an incomplete UTF-8 character
	tooLong := false
	echo := func(s string) {
		e.mu.Unlock()
		io.WriteString(e.out, s)
		e.mu.Lock()
	}
	for {
		b, err := e.next()
		if err != nil {
			if len(line) > 0 {
				return string(line), nil
			}
			return "", err
		}
		// A LF right after a CR ends nothing: CRLF is one line end.
		if b == '\n' && e.lastCR {
			e.lastCR = false
			continue
		}
		e.lastCR = false
		switch e.escState {
		case 1: // after ESC: '[' or 'O' start a sequence; anything else ends it
			if b == '[' || b == 'O' {
				e.escState = 2
			} else {
				e.escState = 0
			}
			continue
		case 2: // CSI: parameters until a final byte 0x40..0x7e
			if b >= 0x40 && b <= 0x7e {
				e.escState = 0
			}
			continue
		}
		switch {
		case b == '\r' || b == '\n':
			e.lastCR = b == '\r'
			echo("\r\n")
			if tooLong {
				return string(line), ErrLineTooLong
			}
			return string(line), nil
		case b == ctrlC:
			echo("^C\r\n")
			return "", ErrInterrupted
		case b == ctrlD:
			if len(line) == 0 {
				return "", io.EOF
			}
		case b == bs || b == del:
			partial = partial[:0]
			if len(line) > 0 {
				_, size := utf8.DecodeLastRune(line)
				line = line[:len(line)-size]
				echo("\b \b")
			}
		case b == ctrlU:
			partial = partial[:0]
			for range utf8.RuneCount(line) {
				echo("\b \b")
			}
			line = line[:0]
		case b == esc:
			e.escState = 1
		case b == '\t':
			b = ' '
			fallthrough
		case b >= 0x20:
			if len(line) >= MaxLine {
				tooLong = true
				continue
			}
			if b < 0x80 {
				partial = partial[:0]
				line = append(line, b)
				echo(string(rune(b)))
				continue
			}
			// Collect a multi-byte character; echo it when complete. Invalid
			// sequences become U+FFFD, so binary noise cannot upset the terminal.
			partial = append(partial, b)
			r, size := utf8.DecodeRune(partial)
			switch {
			case r != utf8.RuneError:
				line = append(line, partial...)
				echo(string(partial))
				partial = partial[:0]
			case size == 1 && !utf8.FullRune(partial):
				// incomplete: wait for more
			default:
				line = utf8.AppendRune(line, utf8.RuneError)
				echo(string(utf8.RuneError))
				partial = partial[:0]
			}
		default:
			// other control characters: ignored
		}
	}
}
