package serial

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// script is an input stream whose chunks arrive one Read at a time.
type script struct {
	mu     sync.Mutex
	chunks [][]byte
	more   chan struct{}
}

func newScript(chunks ...string) *script {
	s := &script{more: make(chan struct{}, 100)}
	for _, c := range chunks {
		s.chunks = append(s.chunks, []byte(c))
	}
	return s
}

func (s *script) Read(p []byte) (int, error) {
	for {
		s.mu.Lock()
		if len(s.chunks) > 0 {
			c := s.chunks[0]
			n := copy(p, c)
			if n < len(c) {
				s.chunks[0] = c[n:]
			} else {
				s.chunks = s.chunks[1:]
			}
			s.mu.Unlock()
			return n, nil
		}
		s.mu.Unlock()
		if _, ok := <-s.more; !ok {
			return 0, io.EOF
		}
	}
}

func (s *script) add(c string) {
	s.mu.Lock()
	s.chunks = append(s.chunks, []byte(c))
	s.mu.Unlock()
	s.more <- struct{}{}
}

func (s *script) close() { close(s.more) }

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func lines(t *testing.T, input string) ([]string, []error, string) {
	t.Helper()
	s := newScript(input)
	s.close()
	var out syncBuf
	e := New(s, &out)
	var got []string
	var errs []error
	for {
		l, err := e.ReadLine()
		if err == io.EOF {
			break
		}
		got = append(got, l)
		errs = append(errs, err)
	}
	return got, errs, out.String()
}

func TestLineEndingsAndEditing(t *testing.T) {
	got, _, echo := lines(t, "one\rtwo\r\nthree\nfour\n\nfiz\x7fne\x08\x08ve\nab\x15cd\n")
	want := []string{"one", "two", "three", "four", "", "five", "cd"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines %q, want %q", got, want)
	}
	if !strings.Contains(echo, "fiz\b \bne\b \b\b \bve") {
		t.Errorf("backspace not echoed as erase: %q", echo)
	}
}

func TestEscapeSequencesAndControlsIgnored(t *testing.T) {
	got, _, _ := lines(t, "a\x1b[Ab\x1b[1;5Cc\x1bOd\x01\x02e\tf\n")
	if len(got) != 1 || got[0] != "abce f" {
		t.Errorf("got %q", got)
	}
}

func TestUTF8AndGarbage(t *testing.T) {
	got, _, echo := lines(t, "caf\xc3\xa9 \xf0\x9f\x99\x82\n\xff\xfe\x80ok\ncaf\xc3\xa9\x7f!\n")
	if got[0] != "café 🙂" {
		t.Errorf("utf-8 line %q", got[0])
	}
	if got[1] != "\ufffd\ufffd\ufffdok" {
		t.Errorf("garbage line %q", got[1])
	}
	if got[2] != "caf!" {
		t.Errorf("backspace over a 2-byte character: %q", got[2])
	}
	if strings.IndexByte(echo, 0xff) >= 0 || strings.IndexByte(echo, 0xfe) >= 0 {
		t.Errorf("raw garbage echoed: %q", echo)
	}
}

func TestLongLines(t *testing.T) {
	ten := strings.Repeat("0123456789", 1024)
	got, errs, _ := lines(t, ten+"\r\n"+strings.Repeat("x", MaxLine+100)+"\nafter\n")
	if got[0] != ten || errs[0] != nil {
		t.Errorf("10 KB line: %d bytes, %v", len(got[0]), errs[0])
	}
	if len(got[1]) != MaxLine || !errors.Is(errs[1], ErrLineTooLong) {
		t.Errorf("over-long line: %d bytes, %v", len(got[1]), errs[1])
	}
	if got[2] != "after" {
		t.Errorf("line after the long one: %q", got[2])
	}
}

func TestCtrlCWhileBusyInterruptsAndKeepsTypeAhead(t *testing.T) {
	s := newScript()
	var out syncBuf
	e := New(s, &out)
	// No ReadLine running: a reply is being generated. The user pastes text with
	// a Ctrl-C in the middle.
	s.add("next question\x03 more\n")
	select {
	case <-e.Interrupt():
	case <-time.After(5 * time.Second):
		t.Fatal("no interrupt")
	}
	l, err := e.ReadLine()
	if err != nil || l != "next question more" {
		t.Errorf("type-ahead %q %v", l, err)
	}
	// While editing, Ctrl-C cancels the line instead.
	s.add("half\x03")
	if _, err := e.ReadLine(); !errors.Is(err, ErrInterrupted) {
		t.Errorf("Ctrl-C while editing: %v", err)
	}
	select {
	case <-e.Interrupt():
		t.Error("Ctrl-C while editing also raised an interrupt")
	default:
	}
	s.close()
	if _, err := e.ReadLine(); err != io.EOF {
		t.Errorf("end of input: %v", err)
	}
}

func FuzzEditor(f *testing.F) {
	f.Add([]byte("hello\r\n\x7f\x1b[A\xff"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := newScript(string(in))
		s.close()
		e := New(s, io.Discard)
		for i := 0; i < len(in)+2; i++ {
			l, err := e.ReadLine()
			if len(l) > MaxLine+4 {
				t.Fatalf("line of %d bytes", len(l))
			}
			if err == io.EOF {
				return
			}
		}
		t.Fatal("ReadLine never reached the end of input")
	})
}
