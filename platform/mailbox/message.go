package mailbox

import (
	"errors"
	"fmt"

	"github.com/inferpi/inferpi/soc/bcm2711"
)

// Errors callers may test for with errors.Is.
var (
	// ErrUnsupported: the firmware left a tag unanswered (it does not know it).
	ErrUnsupported = errors.New("the firmware does not answer this tag")
	// ErrNoDevice: a clock, sensor or power domain the firmware says does not exist.
	ErrNoDevice = errors.New("the firmware says it does not exist")
	// ErrReply: the reply is missing, rejected or malformed.
	ErrReply = errors.New("bad mailbox reply")
)

// encode lays out a request for tags in buf (bcm2711.Encode) and returns its
// length in words.
func encode(buf []uint32, tags []*bcm2711.Tag) (int, error) {
	if len(tags) == 0 {
		return 0, errors.New("mailbox: a message needs at least one tag")
	}
	n := bcm2711.Encode(buf, tags)
	if n == 0 {
		return 0, fmt.Errorf("mailbox: a message of %d bytes does not fit the %d-byte buffer", 4*bcm2711.MessageWords(tags), 4*len(buf))
	}
	return n, nil
}

// decode reads the reply to tags from msg (bcm2711.Decode) and says what is
// wrong with a reply that does not answer them.
func decode(msg []uint32, tags []*bcm2711.Tag) error {
	f, i := bcm2711.Decode(msg, tags)
	var t *bcm2711.Tag
	if i < len(tags) {
		t = tags[i]
	}
	switch f {
	case bcm2711.ReplyOK:
		return nil
	case bcm2711.ReplyTooShort:
		return fmt.Errorf("mailbox: %w: %d words, too short for the message", ErrReply, len(msg))
	case bcm2711.ReplyParseError:
		return fmt.Errorf("mailbox: %w: the firmware could not parse the request (code 0x%08X)", ErrReply, msg[1])
	case bcm2711.ReplyBadCode:
		return fmt.Errorf("mailbox: %w: code 0x%08X, want 0x%08X", ErrReply, msg[1], uint32(bcm2711.CodeSuccess))
	case bcm2711.ReplyTagMoved:
		return fmt.Errorf("mailbox: %w: tag 0x%08X came back as 0x%08X", ErrReply, t.ID, tagAt(msg, tags, i))
	case bcm2711.ReplyUnanswered:
		return fmt.Errorf("mailbox: tag 0x%08X (%s): %w", t.ID, bcm2711.TagName(t.ID), ErrUnsupported)
	case bcm2711.ReplyShortAnswer:
		return fmt.Errorf("mailbox: %w: tag 0x%08X (%s) answered %d bytes, want %d", ErrReply, t.ID, bcm2711.TagName(t.ID), 4*t.Answered, 4*len(t.Response))
	}
	return fmt.Errorf("mailbox: %w: fault %d", ErrReply, f)
}

// tagAt is the id word of tag i in msg, as the firmware left it.
func tagAt(msg []uint32, tags []*bcm2711.Tag, i int) uint32 {
	p := bcm2711.HeaderWords
	for _, t := range tags[:i] {
		p += bcm2711.TagHeaderWords + t.ValueWords()
	}
	return msg[p]
}
