package console

import (
	"bufio"
	"io"
	"strings"
)

// Lines reads lines from an io.Reader (a terminal in cooked mode, a pipe, a file).
type Lines struct{ r *bufio.Reader }

// NewLines returns a LineReader over r.
func NewLines(r io.Reader) *Lines { return &Lines{bufio.NewReader(r)} }

// ReadLine implements LineReader. A last line without a newline still counts.
func (l *Lines) ReadLine() (string, error) {
	s, err := l.r.ReadString('\n')
	if err == io.EOF && s != "" {
		err = nil
	}
	return strings.TrimRight(s, "\r\n"), err
}
