package msc

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// SCSI operation codes (SPC-4, SBC-3).
const (
	opTestUnitReady   = 0x00
	opRequestSense    = 0x03
	opInquiry         = 0x12
	opReadCapacity10  = 0x25
	opRead10          = 0x28
	opServiceActionIn = 0x9E // with service action 0x10: READ CAPACITY(16)
	opRead16          = 0x88
	saReadCapacity16  = 0x10
)

// Sense keys used in decisions (SPC-4 table 27).
const (
	SenseNoSense        = 0x0
	SenseRecovered      = 0x1
	SenseNotReady       = 0x2
	SenseMediumError    = 0x3
	SenseHardwareError  = 0x4
	SenseIllegalRequest = 0x5
	SenseUnitAttention  = 0x6
)

const (
	inquiryLen     = 36
	senseLen       = 18
	capacity10Len  = 8
	capacity16Len  = 32
	ascNoMedium    = 0x3A
	ascInvalidCDB  = 0x24
	ascLBARange    = 0x21
	ascBecomingRdy = 0x04
)

func cdbInquiry() []byte       { return []byte{opInquiry, 0, 0, 0, inquiryLen, 0} }
func cdbTestUnitReady() []byte { return []byte{opTestUnitReady, 0, 0, 0, 0, 0} }
func cdbRequestSense() []byte  { return []byte{opRequestSense, 0, 0, 0, senseLen, 0} }
func cdbReadCapacity10() []byte {
	return []byte{opReadCapacity10, 0, 0, 0, 0, 0, 0, 0, 0, 0}
}

func cdbReadCapacity16() []byte {
	c := make([]byte, 16)
	c[0], c[1] = opServiceActionIn, saReadCapacity16
	binary.BigEndian.PutUint32(c[10:], capacity16Len)
	return c
}

func cdbRead10(lba uint32, blocks uint16) []byte {
	c := make([]byte, 10)
	c[0] = opRead10
	binary.BigEndian.PutUint32(c[2:], lba)
	binary.BigEndian.PutUint16(c[7:], blocks)
	return c
}

func cdbRead16(lba uint64, blocks uint32) []byte {
	c := make([]byte, 16)
	c[0] = opRead16
	binary.BigEndian.PutUint64(c[2:], lba)
	binary.BigEndian.PutUint32(c[10:], blocks)
	return c
}

// Inquiry is the standard INQUIRY data (SPC-4 §6.4.2).
type Inquiry struct {
	DeviceType uint8 // 0 = direct-access block device
	Removable  bool
	Vendor     string
	Product    string
	Revision   string
}

// ParseInquiry decodes standard INQUIRY data; the strings may be cut short.
func ParseInquiry(b []byte) (Inquiry, error) {
	if len(b) < 5 {
		return Inquiry{}, fmt.Errorf("INQUIRY returned %d bytes, need at least 5", len(b))
	}
	q := Inquiry{DeviceType: b[0] & 0x1F, Removable: b[1]&0x80 != 0}
	if b[0]>>5 == 3 {
		return q, fmt.Errorf("INQUIRY: no device on this LUN (peripheral qualifier 3)")
	}
	field := func(from, to int) string {
		if from >= len(b) {
			return ""
		}
		if to > len(b) {
			to = len(b)
		}
		return strings.TrimSpace(strings.Map(func(r rune) rune {
			if r < 0x20 || r > 0x7E {
				return -1
			}
			return r
		}, string(b[from:to])))
	}
	q.Vendor, q.Product, q.Revision = field(8, 16), field(16, 32), field(32, 36)
	return q, nil
}

// Sense is the key information of sense data.
type Sense struct {
	Key  uint8
	ASC  uint8
	ASCQ uint8
}

func (s Sense) String() string {
	names := map[uint8]string{
		SenseNoSense: "NO SENSE", SenseRecovered: "RECOVERED ERROR", SenseNotReady: "NOT READY",
		SenseMediumError: "MEDIUM ERROR", SenseHardwareError: "HARDWARE ERROR",
		SenseIllegalRequest: "ILLEGAL REQUEST", SenseUnitAttention: "UNIT ATTENTION",
	}
	n, ok := names[s.Key]
	if !ok {
		n = fmt.Sprintf("sense key %#x", s.Key)
	}
	return fmt.Sprintf("%s (ASC %#02x ASCQ %#02x)", n, s.ASC, s.ASCQ)
}

// ParseSense decodes fixed-format (0x70/0x71) or descriptor-format (0x72/0x73)
// sense data (SPC-4 §4.5).
func ParseSense(b []byte) (Sense, error) {
	if len(b) < 1 {
		return Sense{}, fmt.Errorf("REQUEST SENSE returned no data")
	}
	switch b[0] & 0x7F {
	case 0x70, 0x71:
		if len(b) < 14 {
			if len(b) >= 3 {
				return Sense{Key: b[2] & 0x0F}, nil
			}
			return Sense{}, fmt.Errorf("fixed-format sense data is %d bytes, need 3", len(b))
		}
		return Sense{Key: b[2] & 0x0F, ASC: b[12], ASCQ: b[13]}, nil
	case 0x72, 0x73:
		if len(b) < 4 {
			return Sense{}, fmt.Errorf("descriptor-format sense data is %d bytes, need 4", len(b))
		}
		return Sense{Key: b[1] & 0x0F, ASC: b[2], ASCQ: b[3]}, nil
	}
	return Sense{}, fmt.Errorf("sense data response code %#02x is not 0x70-0x73", b[0]&0x7F)
}

// Capacity is the answer of READ CAPACITY.
type Capacity struct {
	LastLBA   uint64
	BlockSize uint32
}

// ParseCapacity10 decodes READ CAPACITY(10) data (SBC-3 §5.15.2). LastLBA
// 0xFFFFFFFF means "too large: ask READ CAPACITY(16)".
func ParseCapacity10(b []byte) (Capacity, error) {
	if len(b) < capacity10Len {
		return Capacity{}, fmt.Errorf("READ CAPACITY(10) returned %d bytes, want 8", len(b))
	}
	return Capacity{LastLBA: uint64(binary.BigEndian.Uint32(b)), BlockSize: binary.BigEndian.Uint32(b[4:])}, nil
}

// ParseCapacity16 decodes READ CAPACITY(16) data (SBC-3 §5.16.2).
func ParseCapacity16(b []byte) (Capacity, error) {
	if len(b) < 12 {
		return Capacity{}, fmt.Errorf("READ CAPACITY(16) returned %d bytes, need 12", len(b))
	}
	return Capacity{LastLBA: binary.BigEndian.Uint64(b), BlockSize: binary.BigEndian.Uint32(b[8:])}, nil
}

// check validates a capacity for use as a block device.
func (c Capacity) check() error {
	switch c.BlockSize {
	case 512, 1024, 2048, 4096:
	default:
		return fmt.Errorf("block size %d is not 512, 1024, 2048 or 4096", c.BlockSize)
	}
	if c.LastLBA == ^uint64(0) {
		return fmt.Errorf("capacity says last block %#x", c.LastLBA)
	}
	return nil
}
