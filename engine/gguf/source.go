package gguf

import (
	"encoding/binary"
	"fmt"
	"io"
)

// windowSize is how much of the file Read fetches per ReadAt: on the Pi a ReadAt
// is a USB or SD transfer, so the header region is read in large pieces.
const windowSize = 64 << 10

// source hands out the file's bytes in order, either from a buffer holding the
// whole file (Parse) or through a window over an io.ReaderAt (Read). Callers
// check that what they ask for fits in left() first, so that they can say what
// did not fit.
//
// The first read error is kept in err; from then on source reads nothing more and
// hands out zeros, and read reports err in place of whatever the zeros led to.
type source struct {
	name   string      // of the file, for errors
	r      io.ReaderAt // nil when win is the whole file
	size   int64       // of the file
	off    int64       // of the next byte to hand out
	win    []byte      // the file's bytes from winOff on
	winOff int64
	buf    []byte // the window's storage (Read)
	err    error
}

func newBufferSource(data []byte, name string) *source {
	return &source{name: name, size: int64(len(data)), win: data}
}

// newReaderSource reads through r in windows of window bytes (windowSize but in tests).
func newReaderSource(r io.ReaderAt, size int64, name string, window int64) *source {
	return &source{name: name, r: r, size: size, buf: make([]byte, min(window, size))}
}

// chunk is how many bytes to ask for at a time when decoding many values: at
// most a window.
func (s *source) chunk() int {
	if s.r == nil {
		return windowSize
	}
	return max(len(s.buf), 8)
}

// left returns the number of bytes after the current offset.
func (s *source) left() int64 { return s.size - s.off }

// next returns the n bytes at the current offset, which the caller has checked
// against left(), and moves past them. The slice is valid until the next call.
func (s *source) next(n int64) []byte {
	start := s.off - s.winOff
	if start < 0 || start+n > int64(len(s.win)) {
		if s.fill(n); s.err != nil {
			return s.zeros(n)
		}
		start = 0
	}
	s.off += n
	return s.win[start : start+n]
}

// fill makes the window start at the current offset and hold at least n bytes.
func (s *source) fill(n int64) {
	switch {
	case s.err != nil:
		return
	case n > s.left() || s.r == nil:
		s.err = fmt.Errorf("%s: %d bytes at offset %d run past the end of the file (%d bytes)", s.name, n, s.off, s.size)
		return
	}
	b := s.buf
	if n > int64(len(b)) {
		b = make([]byte, n) // one large string or array, checked against the file's size
	} else {
		b = b[:min(int64(len(b)), s.left())]
	}
	if k, err := s.r.ReadAt(b, s.off); k < len(b) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		s.err = fmt.Errorf("%s: reading %d bytes at offset %d: %w", s.name, len(b), s.off, err)
		return
	}
	s.win, s.winOff = b, s.off
}

// zeros stands in for n bytes that could not be read.
func (s *source) zeros(n int64) []byte {
	s.off += n
	if n <= int64(len(s.buf)) {
		clear(s.buf[:n])
		return s.buf[:n]
	}
	return make([]byte, n)
}

func (s *source) u32() uint32 { return binary.LittleEndian.Uint32(s.next(4)) }

func (s *source) u64() uint64 { return binary.LittleEndian.Uint64(s.next(8)) }

// str reads a string of n bytes, checked against left().
func (s *source) str(n uint64) string { return string(s.next(int64(n))) }
