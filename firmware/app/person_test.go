package app

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inferpi/inferpi/firmware/mount"
)

// screen is the terminal the app writes to, readable while the app runs. A
// trigger can run an action from inside a write: the way to press Ctrl-C in the
// middle of a reply, whatever the speed of the machine.
type screen struct {
	mu      sync.Mutex
	text    strings.Builder
	changed chan struct{}
	trigger *regexp.Regexp
	action  func()
}

func newScreen() *screen { return &screen{changed: make(chan struct{}, 1)} }

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.text.Write(p)
	var act func()
	if s.trigger != nil && s.trigger.MatchString(s.text.String()) {
		act, s.trigger, s.action = s.action, nil, nil
	}
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
	if act != nil {
		act()
	}
	return len(p), nil
}

// String is the screen so far, without the boot-log times, which differ from
// run to run.
func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return mount.StripStamps(s.text.String())
}

// onOutput runs action (once) inside the write that makes the output match re.
func (s *screen) onOutput(re string, action func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trigger, s.action = regexp.MustCompile(re), action
}

// person types at the terminal and reads the screen, like someone at a serial
// console: it waits for what it expects before typing on.
type person struct {
	t      *testing.T
	keys   *io.PipeWriter
	screen *screen
	cursor int // the screen is read from here on
}

// expect waits until the output after the cursor matches re and returns the
// text up to the end of the match.
func (p *person) expect(re string) string {
	p.t.Helper()
	pattern := regexp.MustCompile(re)
	deadline := time.After(20 * time.Second)
	for {
		text := p.screen.String()
		if loc := pattern.FindStringIndex(text[p.cursor:]); loc != nil {
			got := text[p.cursor : p.cursor+loc[1]]
			p.cursor += loc[1]
			return got
		}
		select {
		case <-p.screen.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			p.t.Fatalf("waited 20 s for %q; the screen shows after the last match:\n%s", re, text[p.cursor:])
		}
	}
}

func (p *person) typ(keys string) {
	p.t.Helper()
	if _, err := io.WriteString(p.keys, keys); err != nil {
		p.t.Fatal(err)
	}
}

// say types a line and waits for the reply's statistics; it returns what the
// model printed (the reply, CRLF line ends as on the wire).
func (p *person) say(line, end string) string {
	p.t.Helper()
	p.typ(line + end)
	p.expect(regexp.QuoteMeta(line) + "\r\n")
	out := p.expect(`\r\n---\r\nGeneration: \d+ tokens in \d+ ms \([\d.]+ tokens/sec\)\r\n`)
	return out[:strings.Index(out, "\r\n---\r\n")]
}

func (p *person) String() string { return fmt.Sprintf("screen:\n%s", p.screen.String()) }
