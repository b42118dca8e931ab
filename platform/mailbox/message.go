package mailbox

import (
	"errors"
	"fmt"
)

// The property message layout (vcmailbox(7), "Buffer contents" and "Tag format"):
//
//	u32 size in bytes (the whole buffer)
//	u32 code: 0 for a request; 0x80000000 success, 0x80000001 parse error in the reply
//	tags, each: u32 id, u32 value buffer size in bytes, u32 request/response
//	            indicator (0 in a request; bit 31 set + response length in a reply),
//	            the value buffer (request words, overwritten by the response)
//	u32 0 (end tag), padding
const (
	codeRequest    = 0
	codeSuccess    = 0x80000000
	codeParseError = 0x80000001
	respBit        = 0x80000000

	headerWords    = 2 // size, code
	tagHeaderWords = 3 // id, value size, indicator
)

// Tag is one property request and, after the exchange, its answer.
type Tag struct {
	ID       uint32
	Request  []uint32 // the request's value words
	Response []uint32 // filled with the answer; its length is how many words are expected
	// ShortOK accepts an answer shorter than Response (QEMU's model of the GPIO
	// tags answers none); Answered then says how many words came back.
	ShortOK  bool
	Answered int
}

func (t *Tag) valueWords() int { return max(len(t.Request), len(t.Response)) }

// Errors callers may test for with errors.Is.
var (
	// ErrUnsupported: the firmware left a tag unanswered (it does not know it).
	ErrUnsupported = errors.New("the firmware does not answer this tag")
	// ErrNoDevice: a clock, sensor or power domain the firmware says does not exist.
	ErrNoDevice = errors.New("the firmware says it does not exist")
	// ErrReply: the reply is missing, rejected or malformed.
	ErrReply = errors.New("bad mailbox reply")
)

// lineWords is a 64-byte cache line (the Cortex-A72's) in 32-bit words.
const lineWords = 16

// messageWords is the size of the message for tags, in 32-bit words, rounded up
// to whole 64-byte cache lines: the exchange cleans the message's lines to
// memory before the VideoCore reads them and discards them after it wrote its
// reply (soc/bcm2711.Call), so a line the message shared with other data would
// lose that data's newer stores. The size word then is a multiple of 16 bytes,
// as the firmware wants.
func messageWords(tags []*Tag) int {
	n := headerWords + 1 // + end tag
	for _, t := range tags {
		n += tagHeaderWords + t.valueWords()
	}
	return (n + lineWords - 1) &^ (lineWords - 1)
}

// encode lays out a request for tags in buf and returns its length in words.
func encode(buf []uint32, tags []*Tag) (int, error) {
	if len(tags) == 0 {
		return 0, errors.New("mailbox: a message needs at least one tag")
	}
	n := messageWords(tags)
	if n > len(buf) {
		return 0, fmt.Errorf("mailbox: a message of %d bytes does not fit the %d-byte buffer", 4*n, 4*len(buf))
	}
	msg := buf[:n]
	clear(msg)
	msg[0] = uint32(4 * n)
	msg[1] = codeRequest
	p := headerWords
	for _, t := range tags {
		vw := t.valueWords()
		msg[p] = t.ID
		msg[p+1] = uint32(4 * vw)
		msg[p+2] = 0
		copy(msg[p+tagHeaderWords:], t.Request)
		p += tagHeaderWords + vw
	}
	msg[p] = 0 // end tag (and padding, already clear)
	return n, nil
}

// decode reads the reply to tags from msg (laid out by encode) into each
// tag's Response. The firmware answers in place, so every tag is where the
// request put it; a reply that disagrees is treated as garbage.
func decode(msg []uint32, tags []*Tag) error {
	if len(msg) < headerWords+1 || len(msg) < messageWords(tags) {
		return fmt.Errorf("mailbox: %w: %d words, too short for the message", ErrReply, len(msg))
	}
	switch msg[1] {
	case codeSuccess:
	case codeParseError:
		return fmt.Errorf("mailbox: %w: the firmware could not parse the request (code 0x%08X)", ErrReply, msg[1])
	default:
		return fmt.Errorf("mailbox: %w: code 0x%08X, want 0x%08X", ErrReply, msg[1], uint32(codeSuccess))
	}
	p := headerWords
	for _, t := range tags {
		vw := t.valueWords()
		if msg[p] != t.ID {
			return fmt.Errorf("mailbox: %w: tag 0x%08X came back as 0x%08X", ErrReply, t.ID, msg[p])
		}
		ind := msg[p+2]
		if ind&respBit == 0 {
			return fmt.Errorf("mailbox: tag 0x%08X (%s): %w", t.ID, TagName(t.ID), ErrUnsupported)
		}
		// The response length may exceed the value buffer: the firmware then says
		// how much it needed and fills what fits (vcmailbox(7)).
		got := int(ind&^respBit) / 4
		t.Answered = got
		if want := len(t.Response); got < want && !t.ShortOK {
			return fmt.Errorf("mailbox: %w: tag 0x%08X (%s) answered %d bytes, want %d", ErrReply, t.ID, TagName(t.ID), 4*got, 4*want)
		}
		copy(t.Response, msg[p+tagHeaderWords:p+tagHeaderWords+min(vw, len(t.Response))])
		p += tagHeaderWords + vw
	}
	return nil
}
