package bcm2711

// The VideoCore's mailbox property interface: tags, ids and the message
// layout (Raspberry Pi firmware wiki, "Mailbox property interface";
// vcmailbox(7); Linux include/soc/bcm2835/raspberrypi-firmware.h for the tags
// those lack). A message, in 32-bit words:
//
//	size in bytes (the whole buffer)
//	code: 0 for a request; 0x80000000 success, 0x80000001 parse error in the reply
//	tags, each: id, value buffer size in bytes, request/response indicator
//	            (0 in a request; bit 31 set + response length in a reply),
//	            the value buffer (request words, overwritten by the response)
//	0 (end tag), padding
const (
	CodeRequest    = 0
	CodeSuccess    = 0x80000000
	CodeParseError = 0x80000001
	ResponseBit    = 0x80000000 // in a tag's indicator: the firmware answered

	HeaderWords    = 2 // size, code
	TagHeaderWords = 3 // id, value size, indicator

	// LineWords is a 64-byte cache line (the Cortex-A72's) in words: messages
	// are whole lines (see Call).
	LineWords = lineBytes / 4
)

// Property tags (vcmailbox(7); Linux enum rpi_firmware_property_tag).
const (
	TagFirmwareRevision = 0x00000001
	TagBoardRevision    = 0x00010002
	TagARMMemory        = 0x00010005
	TagVCMemory         = 0x00010006
	TagPowerState       = 0x00020001
	TagSetPowerState    = 0x00028001
	TagClockRate        = 0x00030002
	TagMaxClockRate     = 0x00030004
	TagTemperature      = 0x00030006
	TagMinClockRate     = 0x00030007
	TagMaxTemperature   = 0x0003000A
	TagThrottled        = 0x00030046
	TagClockMeasured    = 0x00030047
	TagNotifyXHCIReset  = 0x00030058
	TagSetClockRate     = 0x00038002
	TagSetGPIOState     = 0x00038041 // a GPIO of the firmware's expander (RPI_FIRMWARE_SET_GPIO_STATE)
)

// Clock is a firmware clock id (vcmailbox(7), "Unique clock IDs").
type Clock uint32

const (
	ClockEMMC     Clock = 1 // the Arasan SDHCI at EMMC (QEMU raspi4b's SD card)
	ClockUART     Clock = 2
	ClockARM      Clock = 3
	ClockCore     Clock = 4
	ClockV3D      Clock = 5
	ClockH264     Clock = 6
	ClockISP      Clock = 7
	ClockSDRAM    Clock = 8
	ClockPixel    Clock = 9
	ClockPWM      Clock = 10
	ClockHEVC     Clock = 11
	ClockEMMC2    Clock = 12 // EMMC2, the Pi 4's SD slot
	ClockM2MC     Clock = 13
	ClockPixelBVB Clock = 14
)

// Device is a power domain id of the power-state tags (vcmailbox(7), "Unique
// device IDs").
type Device uint32

const (
	DeviceSDCard Device = 0
	DeviceUART0  Device = 1
	DeviceUART1  Device = 2
	DeviceUSBHCD Device = 3
	DeviceI2C0   Device = 4
	DeviceI2C1   Device = 5
	DeviceI2C2   Device = 6
	DeviceSPI    Device = 7
	DeviceCCP2TX Device = 8
)

// Power state bits (vcmailbox(7)): request bit 0 on, bit 1 wait for the
// supply to settle; reply bit 0 on, bit 1 the device does not exist.
const (
	PowerOn       = 1 << 0
	PowerWait     = 1 << 1
	PowerNoDevice = 1 << 1
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

// ValueWords is the size of the tag's value buffer: room for the request and
// for the response.
func (t *Tag) ValueWords() int { return max(len(t.Request), len(t.Response)) }

// MessageWords is the size of the message for tags, rounded up to whole
// 64-byte cache lines: the exchange cleans the message's lines to memory
// before the VideoCore reads them and discards them after it wrote its reply
// (Call), so a line the message shared with other data would lose that data's
// newer stores. The size word then is a multiple of 16 bytes, as the firmware
// wants.
func MessageWords(tags []*Tag) int {
	n := HeaderWords + 1 // + end tag
	for _, t := range tags {
		n += TagHeaderWords + t.ValueWords()
	}
	return (n + LineWords - 1) &^ (LineWords - 1)
}

// Encode lays out a request for tags in buf and returns its length in words,
// or 0 when there are no tags or the message does not fit.
func Encode(buf []uint32, tags []*Tag) int {
	n := MessageWords(tags)
	if len(tags) == 0 || n > len(buf) {
		return 0
	}
	msg := buf[:n]
	clear(msg)
	msg[0] = uint32(4 * n)
	msg[1] = CodeRequest
	p := HeaderWords
	for _, t := range tags {
		vw := t.ValueWords()
		msg[p] = t.ID
		msg[p+1] = uint32(4 * vw)
		copy(msg[p+TagHeaderWords:], t.Request)
		p += TagHeaderWords + vw
	}
	return n // the end tag and the padding are the cleared words after the last tag
}

// Fault is what is wrong with a reply.
type Fault uint8

const (
	ReplyOK          Fault = iota
	ReplyTooShort          // fewer words than the request had
	ReplyParseError        // code 0x80000001: the firmware could not parse the request
	ReplyBadCode           // neither success nor parse error
	ReplyTagMoved          // a tag's id came back changed
	ReplyUnanswered        // a tag without the response bit: the firmware does not know it
	ReplyShortAnswer       // a tag answered fewer words than its Response wants
)

// Decode reads the reply to tags from msg (laid out by Encode) into each
// tag's Response and Answered. The firmware answers in place, so every tag is
// where the request put it; a reply that disagrees is a fault. A response
// longer than the value buffer (the firmware then says how much it needed and
// fills what fits, vcmailbox(7)) yields the words that fit. For the faults of
// one tag, bad is its index.
func Decode(msg []uint32, tags []*Tag) (f Fault, bad int) {
	if len(msg) < HeaderWords+1 || len(msg) < MessageWords(tags) {
		return ReplyTooShort, 0
	}
	switch msg[1] {
	case CodeSuccess:
	case CodeParseError:
		return ReplyParseError, 0
	default:
		return ReplyBadCode, 0
	}
	p := HeaderWords
	for i, t := range tags {
		vw := t.ValueWords()
		if msg[p] != t.ID {
			return ReplyTagMoved, i
		}
		ind := msg[p+2]
		if ind&ResponseBit == 0 {
			return ReplyUnanswered, i
		}
		got := int(ind&^ResponseBit) / 4
		t.Answered = got
		if got < len(t.Response) && !t.ShortOK {
			return ReplyShortAnswer, i
		}
		copy(t.Response, msg[p+TagHeaderWords:p+TagHeaderWords+min(vw, len(t.Response))])
		p += TagHeaderWords + vw
	}
	return ReplyOK, 0
}
